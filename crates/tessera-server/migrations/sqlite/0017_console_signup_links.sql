-- One-time sign-up links for the console's first admin: made at start-up while no enabled user
-- holds the console role admin, printed only to the terminal (or log), valid 15 minutes, used
-- once. Stored only as the keyed hash of the link's token; used_at is set when it is used.

CREATE TABLE console_signup_links (
    hash       BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX console_signup_links_expires ON console_signup_links (expires_at);
