-- One canonical customer identity per channel (gateway/domain/identity.py), and the
-- suppression records that keep a do-not-contact state after erasure.
-- Idempotent: every statement may run again. The rows themselves are normalised by the
-- Python step gateway/store/identity_backfill.py, run right after this file (PostgreSQL's
-- lower() depends on the database's locale; the canonical form is defined in Python once).

-- The canonical identity of a mention's author (NULL once erased), and the suppression
-- key (HMAC) written at erasure, so an erased mention stays closed.
ALTER TABLE mentions
    ADD COLUMN IF NOT EXISTS customer_id  text,
    ADD COLUMN IF NOT EXISTS customer_key text;
CREATE INDEX IF NOT EXISTS mentions_customer_idx ON mentions (channel, customer_id, created_at);

-- Two spellings of one customer that had become two subjects: the later one is an alias
-- of the first (it keeps its own key for the events sealed under it; erasure destroys both).
ALTER TABLE subjects ADD COLUMN IF NOT EXISTS alias_of uuid REFERENCES subjects (id);
DROP INDEX IF EXISTS subjects_active_key;
CREATE UNIQUE INDEX subjects_active_key ON subjects (channel, handle)
    WHERE erased_at IS NULL AND alias_of IS NULL;

-- Do-not-contact that survives erasure and reveals nothing: the HMAC-SHA256 of
-- (channel, canonical identity) under a server key, a reason category and times.
-- Never changed or removed (GDPR Art. 17(3)(b), 21(3); docs/audit.md).
CREATE TABLE IF NOT EXISTS suppressions (
    channel      text NOT NULL,
    customer_key text NOT NULL CHECK (customer_key ~ '^[0-9a-f]{64}$'),
    key_id       text NOT NULL,           -- which server key made the HMAC
    reason       text NOT NULL CHECK (reason IN ('opt_out', 'erasure')),
    opted_out_at timestamptz,             -- when the customer withdrew consent, if they had
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, customer_key)
);
DROP TRIGGER IF EXISTS suppressions_no_change ON suppressions;
CREATE TRIGGER suppressions_no_change BEFORE UPDATE OR DELETE ON suppressions
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
DROP TRIGGER IF EXISTS suppressions_no_truncate ON suppressions;
CREATE TRIGGER suppressions_no_truncate BEFORE TRUNCATE ON suppressions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
GRANT SELECT, INSERT ON suppressions TO gateway_app;
