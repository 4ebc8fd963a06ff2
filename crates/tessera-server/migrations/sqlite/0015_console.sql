-- The console at /admin/: each user's console role (viewer, operator, admin; NULL for none),
-- and the console's own sessions, kept apart from the sign-in sessions of the pages because
-- they are shorter (an idle and an absolute limit). Session ids are stored only as keyed
-- hashes.

ALTER TABLE users ADD COLUMN role TEXT;

CREATE TABLE console_sessions (
    hash         BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
