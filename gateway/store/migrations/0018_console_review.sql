-- The compliance console (issue 12): an opt-out is lifted with a reason, kept beside who
-- lifted it and when; the review queue and its badge read the replies waiting for review
-- without scanning every proposal; opt-outs are searched by channel and identity.
ALTER TABLE opt_outs ADD COLUMN IF NOT EXISTS removed_reason text;
CREATE INDEX IF NOT EXISTS proposals_pending_review_idx ON proposals (id)
    WHERE status = 'pending_review';
CREATE INDEX IF NOT EXISTS opt_outs_customer_idx ON opt_outs (channel, handle, id);
