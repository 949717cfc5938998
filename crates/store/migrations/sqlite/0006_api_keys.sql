-- Secret keys created at runtime through the vouch extension API (`/v1/vouch/api_keys`).
-- Same shape as migrations/postgres/0006_api_keys.sql.
--
-- Keys from the configuration are not stored here. A created key belongs to the account of
-- the key that created it (key rotation); only its SHA-256 (hex) is kept, never the secret.
-- mode: test | live. revoked: unix seconds, NULL while the key works.
CREATE TABLE api_keys (
    seq     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    mode    TEXT NOT NULL,
    name    TEXT,
    hash    TEXT NOT NULL UNIQUE,
    last4   TEXT NOT NULL,
    created INTEGER NOT NULL,
    revoked INTEGER
);
CREATE INDEX api_keys_by_account ON api_keys (account, seq);
