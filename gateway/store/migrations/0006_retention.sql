-- Retention: mention texts older than the configured age are purged; the row stays
-- (dedupe, history, audit references) with its text gone.
ALTER TABLE mentions ADD COLUMN text_purged_at timestamptz;
CREATE INDEX mentions_retention_idx ON mentions (ingested_at) WHERE text_purged_at IS NULL;
