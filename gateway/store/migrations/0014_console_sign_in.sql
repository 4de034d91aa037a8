-- The web console (issue 12): people sign in with a name and password (argon2 hash, never
-- the password) or with their API token, and get a server-side session.
ALTER TABLE users ADD COLUMN password_hash text;
ALTER TABLE users ADD COLUMN password_set_at timestamptz;

-- One row per signed-in browser. The cookie holds a random id; only its SHA-256 is stored,
-- so a copy of this table signs no one in. A session ends at sign-out (row deleted), when
-- idle too long (last_seen_at), at expires_at (absolute), and when its user is disabled or
-- their token or password is replaced (rows deleted in the same transaction).
CREATE TABLE console_sessions (
    id_hash      text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    method       text NOT NULL CHECK (method IN ('password', 'token')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Failed sign-ins, counted per name and per client address over a window to slow down
-- guessing (shared by every instance). Old rows are deleted as new ones are written.
CREATE TABLE sign_in_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    name       text,
    address    text NOT NULL
);
CREATE INDEX sign_in_failures_name ON sign_in_failures (name, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);

GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions, sign_in_failures TO gateway_app;
