-- Idempotency keys: per account; a row without status is a request still running (its lease
-- ends at locked_until_ms). session_id names the session a stored response shows, so that
-- redaction can erase it.
CREATE TABLE idempotency (
    account         TEXT NOT NULL,
    key             TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    fingerprint     TEXT NOT NULL,
    status          INTEGER,
    body            TEXT,
    session_id      TEXT,
    locked_until_ms INTEGER NOT NULL,
    PRIMARY KEY (account, key)
);
CREATE INDEX idempotency_by_created ON idempotency (created_ms);
CREATE INDEX idempotency_by_session ON idempotency (session_id) WHERE session_id IS NOT NULL;
