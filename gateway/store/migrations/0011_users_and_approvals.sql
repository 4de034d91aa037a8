-- Users can be listed, disabled and given a new token (the old one stops working at once).
-- Changes to what is enforced that are not the activation of a fresh draft (a rollback to
-- an earlier revision, starting a shadow policy) are requests: proposed by one compliance
-- officer, carried out only when another confirms (two-person rule).
ALTER TABLE users ADD COLUMN token_rotated_at timestamptz;

CREATE TABLE policy_requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action        text NOT NULL CHECK (action IN ('rollback', 'shadow')),
    revision      text NOT NULL REFERENCES policy_versions (revision),
    -- the active revision when it was proposed: confirming after it changed is refused
    base_revision text REFERENCES policy_versions (revision),
    proposed_by   text NOT NULL,
    proposed_at   timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'confirmed', 'withdrawn')),
    decided_by    text,
    decided_at    timestamptz,
    CHECK ((status = 'pending') = (decided_by IS NULL))
);
CREATE INDEX policy_requests_pending ON policy_requests (id) WHERE status = 'pending';

GRANT SELECT, INSERT, UPDATE ON policy_requests TO gateway_app;
