-- Secret keys created at runtime (PostgreSQL). Same shape as
-- migrations/sqlite/0006_api_keys.sql.
CREATE TABLE api_keys (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    mode    TEXT NOT NULL,
    name    TEXT,
    hash    TEXT NOT NULL UNIQUE,
    last4   TEXT NOT NULL,
    created BIGINT NOT NULL,
    revoked BIGINT
);
CREATE INDEX api_keys_by_account ON api_keys (account, seq);
