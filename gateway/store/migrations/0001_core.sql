-- Core schema: users, mentions, opt-outs, proposals, outbox, audit chain.
-- The service runs as role gateway_app (SET ROLE on every connection): it may INSERT and
-- SELECT audit events but never UPDATE, DELETE or TRUNCATE them; triggers refuse those
-- for everyone, superusers included.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_app') THEN
        CREATE ROLE gateway_app NOLOGIN;
    END IF;
END
$$;

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('agent', 'compliance', 'auditor', 'admin')),
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE mentions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel             text NOT NULL,
    external_id         text NOT NULL,
    url                 text,
    author_handle       text NOT NULL,
    author_display_name text NOT NULL DEFAULT '',
    text                text NOT NULL,
    created_at          timestamptz NOT NULL,
    in_reply_to         text,
    thread_id           text NOT NULL,
    addressed_hint      boolean,
    ingested_at         timestamptz NOT NULL DEFAULT now(),
    intent              text NOT NULL,
    intent_features     jsonb NOT NULL DEFAULT '[]',
    sentiment_compound  double precision NOT NULL,
    sentiment_pos       double precision NOT NULL,
    sentiment_neu       double precision NOT NULL,
    sentiment_neg       double precision NOT NULL,
    addressed           boolean NOT NULL,
    addressed_via       text,
    optout_requested    boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'proposed', 'replied')),
    claimed_by          text,
    claim_expires_at    timestamptz,
    UNIQUE (channel, external_id)
);
CREATE UNIQUE INDEX mentions_url_key ON mentions (url) WHERE url IS NOT NULL;
CREATE INDEX mentions_author_idx ON mentions (channel, lower(author_handle), created_at);
CREATE INDEX mentions_thread_idx ON mentions (channel, thread_id);

CREATE TABLE opt_outs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     text NOT NULL,
    handle      text NOT NULL,          -- lower-cased
    reason      text NOT NULL DEFAULT '',
    source      text NOT NULL CHECK (source IN ('api', 'mention')),
    mention_id  bigint REFERENCES mentions (id),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    removed_at  timestamptz,
    removed_by  text
);
CREATE UNIQUE INDEX opt_outs_active_key ON opt_outs (channel, handle) WHERE removed_at IS NULL;

CREATE TABLE proposals (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mention_id      bigint NOT NULL REFERENCES mentions (id),
    channel         text NOT NULL,
    customer_handle text NOT NULL,       -- lower-cased author handle of the mention
    thread_id       text NOT NULL,
    agent           text NOT NULL,
    text            text NOT NULL,
    ai_generated    boolean NOT NULL DEFAULT false,
    status          text NOT NULL CHECK (status IN
                      ('approved', 'pending_review', 'denied', 'rejected',
                       'released', 'failed', 'withdrawn')),
    outcome         text NOT NULL CHECK (outcome IN ('allow', 'review', 'deny')),
    reasons         jsonb NOT NULL,
    policy_revision text NOT NULL,
    audit_seq       bigint,              -- the decision event
    approved_at     timestamptz,         -- when it became a contact (allowed or approved)
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    reviewed_by     text,
    review_note     text,
    receipt         jsonb,
    idempotency_key text NOT NULL UNIQUE
);
CREATE INDEX proposals_status_idx ON proposals (status, id);
CREATE INDEX proposals_customer_idx ON proposals (channel, customer_handle, approved_at)
    WHERE status IN ('approved', 'released');
CREATE INDEX proposals_thread_idx ON proposals (channel, thread_id)
    WHERE status IN ('approved', 'released');
CREATE INDEX proposals_agent_idx ON proposals (agent, id);

-- One row per reply queued for release. Claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    proposal_id     bigint NOT NULL UNIQUE REFERENCES proposals (id),
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'releasing', 'done')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state <> 'done';

-- The audit chain. seq is gap-free: appends take the chain head row lock.
CREATE TABLE audit_events (
    seq             bigint PRIMARY KEY,
    occurred_at     timestamptz NOT NULL,
    kind            text NOT NULL,
    actor           text NOT NULL,
    subject         text NOT NULL,
    payload         jsonb NOT NULL,
    policy_revision text,
    prev_hash       text NOT NULL,
    hash            text NOT NULL UNIQUE
);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_subject_idx ON audit_events (subject, seq);
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);

CREATE TABLE audit_chain_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- The chain head only moves forward, one step at a time.
CREATE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> OLD.seq + 1 AND NEW.seq <> OLD.seq THEN
        RAISE EXCEPTION 'audit chain head must advance by one (% -> %)', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq AND hash = NEW.hash)
       AND NEW.seq <> 0 THEN
        RAISE EXCEPTION 'audit chain head must point at an existing event'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward();
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE OR TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

CREATE TABLE source_cursors (
    source     text PRIMARY KEY,
    cursor     text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON audit_events TO gateway_app;
GRANT SELECT, UPDATE ON audit_chain_head TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON users, mentions, opt_outs, proposals, outbox, source_cursors
    TO gateway_app;
