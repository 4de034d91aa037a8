-- An activation can be requested like a rollback or a shadow: one compliance officer asks,
-- another (never the draft's author, never the one who asked) confirms. The console lists
-- the request for the second officer; POST /v1/policies/{revision}/activate still works.
ALTER TABLE policy_requests DROP CONSTRAINT policy_requests_action_check;
ALTER TABLE policy_requests ADD CONSTRAINT policy_requests_action_check
    CHECK (action IN ('rollback', 'shadow', 'activate'));
