-- The agents' inbox (gateway/store/inbox.py) reads newest first, often by status ("new"),
-- and filters on live claims: index both so a page stays a short index range scan.
CREATE INDEX IF NOT EXISTS mentions_inbox_status_idx ON mentions (status, id DESC);
CREATE INDEX IF NOT EXISTS mentions_claimed_idx ON mentions (claimed_by, claim_expires_at)
    WHERE claimed_by IS NOT NULL;
