-- Idempotency keys (PostgreSQL). Same shape as migrations/sqlite/0002_idempotency.sql.
CREATE TABLE idempotency (
    account         TEXT NOT NULL,
    key             TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    fingerprint     TEXT NOT NULL,
    status          INTEGER,
    body            TEXT,
    session_id      TEXT,
    locked_until_ms BIGINT NOT NULL,
    PRIMARY KEY (account, key)
);
CREATE INDEX idempotency_by_created ON idempotency (created_ms);
CREATE INDEX idempotency_by_session ON idempotency (session_id) WHERE session_id IS NOT NULL;
