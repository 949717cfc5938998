-- vouch schema, version 1 (PostgreSQL). Same shape as migrations/sqlite/0001_init.sql.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sessions (
    seq                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    account                  TEXT NOT NULL,
    created                  BIGINT NOT NULL,
    status                   TEXT NOT NULL,
    client_reference_id      TEXT,
    related_customer         TEXT,
    related_customer_account TEXT,
    redaction_due_ms         BIGINT,
    version                  BIGINT NOT NULL,
    data                     TEXT NOT NULL
);
CREATE INDEX sessions_by_created ON sessions (account, created, seq);
CREATE INDEX sessions_by_status ON sessions (account, status, created, seq);
CREATE INDEX sessions_by_client_reference_id ON sessions (account, client_reference_id, created, seq)
    WHERE client_reference_id IS NOT NULL;
CREATE INDEX sessions_by_related_customer ON sessions (account, related_customer, created, seq)
    WHERE related_customer IS NOT NULL;
CREATE INDEX sessions_by_related_customer_account ON sessions (account, related_customer_account, created, seq)
    WHERE related_customer_account IS NOT NULL;
CREATE INDEX sessions_redaction_due ON sessions (redaction_due_ms)
    WHERE redaction_due_ms IS NOT NULL;

CREATE TABLE reports (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    account             TEXT NOT NULL,
    created             BIGINT NOT NULL,
    session_id          TEXT,
    client_reference_id TEXT,
    type                TEXT NOT NULL,
    data                TEXT NOT NULL
);
CREATE INDEX reports_by_created ON reports (account, created, seq);
CREATE INDEX reports_by_session ON reports (session_id);

CREATE TABLE events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account    TEXT NOT NULL,
    created    BIGINT NOT NULL,
    type       TEXT NOT NULL,
    session_id TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX events_by_created ON events (account, created, seq);
CREATE INDEX events_by_session ON events (session_id);
