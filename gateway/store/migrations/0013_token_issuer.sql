-- Who issued each user's current token: the admin who created or rotated it through the
-- API, or 'cli' for the operator's CLI. Whoever issued a token could have kept a copy, so
-- a token issued by the first person of a two-person action cannot be the second person's
-- (an admin drafting a policy, then rotating a colleague's token to activate it alone).
-- NULL: issued before this was recorded.
ALTER TABLE users ADD COLUMN token_issued_by text;
