-- Customers as audit subjects: a pseudonymous id that appears in audit payloads, and the
-- per-customer key that encrypts their personal fields there. Erasing a customer destroys
-- the key (and the channel/handle link): their events stay verifiable and countable, their
-- content is unrecoverable.
CREATE TABLE subjects (
    id         uuid PRIMARY KEY,
    channel    text NOT NULL,
    handle     text,                   -- lower-cased; NULL once erased
    key        bytea,                  -- AES-256-GCM key; NULL once erased
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz,
    erased_by  text,
    CHECK ((erased_at IS NULL) = (key IS NOT NULL))
);
CREATE UNIQUE INDEX subjects_active_key ON subjects (channel, handle) WHERE erased_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON subjects TO gateway_app;
