-- Configured sources (feeds, Mastodon and Bluesky accounts, inbound webhooks), their
-- health, and the signatures of recent inbound webhook deliveries (replay protection).
-- A source's cursor stays in source_cursors, keyed by the source's name.

CREATE TABLE sources (
    name                 text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    kind                 text NOT NULL CHECK (kind IN ('rss', 'mastodon', 'bluesky', 'webhook')),
    channel              text NOT NULL,
    config               jsonb NOT NULL,      -- kind-specific, never a secret
    -- The secret (token, app password, webhook secret): either the name of an environment
    -- variable read at use, or AES-256-GCM ciphertext under the key with secret_key_id.
    secret_env           text,
    secret_ciphertext    bytea,
    secret_key_id        text,
    allow_private        boolean NOT NULL DEFAULT false,
    interval_s           double precision NOT NULL CHECK (interval_s > 0),
    enabled              boolean NOT NULL DEFAULT true,
    version              integer NOT NULL DEFAULT 1,    -- bumped by every admin change
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Health, written after every poll (or inbound delivery).
    last_success_at      timestamptz,
    last_error_at        timestamptz,
    last_error           text,
    items_last           integer NOT NULL DEFAULT 0,
    items_total          bigint NOT NULL DEFAULT 0,
    consecutive_failures integer NOT NULL DEFAULT 0,
    next_poll_at         timestamptz,                   -- null: as soon as possible
    -- The poll lease: one gateway instance polls a source at a time.
    lease_owner          text,
    lease_until          timestamptz,
    CHECK (secret_env IS NULL OR secret_ciphertext IS NULL),
    CHECK ((secret_ciphertext IS NULL) = (secret_key_id IS NULL))
);

CREATE TABLE webhook_deliveries (
    source       text NOT NULL,
    signature    text NOT NULL,             -- sha256 of the X-Gateway-Signature value
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, signature)
);
CREATE INDEX webhook_deliveries_time_idx ON webhook_deliveries (received_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON sources, webhook_deliveries TO gateway_app;
-- Removing a source removes its cursor, so a new source of the same name starts afresh.
GRANT DELETE ON source_cursors TO gateway_app;
