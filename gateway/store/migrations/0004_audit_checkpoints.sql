-- Signed checkpoints: Ed25519 over the RFC 6962 Merkle root of events 1..size. Also
-- written as files outside the database; the table is the gateway's own index of them.
CREATE TABLE audit_checkpoints (
    size            bigint PRIMARY KEY,
    root_hash       text NOT NULL,
    last_event_hash text NOT NULL,
    created_at      text NOT NULL,          -- exactly as signed
    key_id          text NOT NULL,
    signature       text NOT NULL,
    written_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
GRANT SELECT, INSERT ON audit_checkpoints TO gateway_app;
