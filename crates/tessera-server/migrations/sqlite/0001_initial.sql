CREATE TABLE scopes (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id    TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    enabled      BOOLEAN NOT NULL,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE client_secrets (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,
    encrypted  BLOB,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX client_secrets_client ON client_secrets (client_id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    alg             TEXT NOT NULL,
    encrypted_pkcs8 BLOB NOT NULL,
    public_jwk      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    activates_at    INTEGER NOT NULL,
    retired_at      INTEGER,
    remove_at       INTEGER
);

CREATE TABLE opaque_tokens (
    hash      BLOB PRIMARY KEY,
    jti       TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    sub       TEXT NOT NULL,
    scope     TEXT NOT NULL,
    aud       TEXT NOT NULL,
    iat       INTEGER NOT NULL,
    exp       INTEGER NOT NULL,
    revoked   BOOLEAN NOT NULL DEFAULT FALSE,
    extra     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX opaque_tokens_exp ON opaque_tokens (exp);
CREATE INDEX opaque_tokens_client ON opaque_tokens (client_id);

CREATE TABLE revoked_jwts (
    jti       TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    exp       INTEGER NOT NULL
);

CREATE TABLE used_assertions (
    client_id TEXT NOT NULL,
    jti       TEXT NOT NULL,
    exp       INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    remote_addr TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
