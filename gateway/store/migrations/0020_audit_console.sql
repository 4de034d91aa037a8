-- The auditors' console: indexes for the audit-log filters, and the record of each
-- verification of the chain and its checkpoints ("last verified" on the badge).

-- Filters on fields inside decision payloads. Partial indexes keep them to the events
-- that carry a decision; (expression, seq) serves "newest first, one page" directly.
CREATE INDEX IF NOT EXISTS audit_events_outcome_idx
    ON audit_events ((payload -> 'decision' ->> 'outcome'), seq)
    WHERE payload ? 'decision';
CREATE INDEX IF NOT EXISTS audit_events_channel_idx
    ON audit_events ((payload -> 'input' -> 'mention' ->> 'channel'), seq)
    WHERE payload ? 'input';
CREATE INDEX IF NOT EXISTS audit_events_reasons_idx
    ON audit_events USING gin ((payload -> 'decision' -> 'reasons') jsonb_path_ops)
    WHERE payload ? 'decision';
CREATE INDEX IF NOT EXISTS audit_events_subject_id_idx
    ON audit_events ((payload ->> 'subject_id'), seq)
    WHERE payload ? 'subject_id';
CREATE INDEX IF NOT EXISTS audit_events_revision_idx
    ON audit_events (policy_revision, seq)
    WHERE policy_revision IS NOT NULL;
-- Opt-out and erasure events name the channel at the top level.
CREATE INDEX IF NOT EXISTS audit_events_top_channel_idx
    ON audit_events ((payload ->> 'channel'), seq)
    WHERE payload ? 'channel';

-- Dashboard and reports: released replies by time, what waits for review.
CREATE INDEX IF NOT EXISTS proposals_released_idx
    ON proposals (updated_at) WHERE status = 'released';
CREATE INDEX IF NOT EXISTS mentions_created_idx ON mentions (created_at);

-- One row per verification: who ran it, when, and what it found. Append-only, like the
-- log it describes.
CREATE TABLE IF NOT EXISTS audit_verifications (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verified_at          timestamptz NOT NULL DEFAULT now(),
    verified_by          text NOT NULL,
    ok                   boolean NOT NULL,
    events               bigint NOT NULL,
    checkpoints_verified integer NOT NULL,
    anchored             bigint NOT NULL,
    unanchored           bigint NOT NULL,
    first_bad_seq        bigint,
    problems             jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS audit_verifications_time_idx ON audit_verifications (id DESC);
CREATE TRIGGER audit_verifications_no_change BEFORE UPDATE OR DELETE ON audit_verifications
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_verifications_no_truncate BEFORE TRUNCATE ON audit_verifications
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
GRANT SELECT, INSERT ON audit_verifications TO gateway_app;
