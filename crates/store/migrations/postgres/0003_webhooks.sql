-- Events API, webhook endpoints and the delivery outbox (PostgreSQL). Same shape as
-- migrations/sqlite/0003_webhooks.sql.
--
-- A state change inserts its events and, in the same transaction, one pending delivery per
-- enabled endpoint of the account that accepts the event's type (the transactional outbox).
-- events.pending_webhooks counts the event's deliveries that have neither succeeded nor been
-- canceled; it changes in the same transaction as the delivery that changes it.

ALTER TABLE events ADD COLUMN pending_webhooks BIGINT NOT NULL DEFAULT 0;
CREATE INDEX events_by_type ON events (account, type, created, seq);
CREATE INDEX events_undelivered ON events (account, created, seq) WHERE pending_webhooks > 0;
CREATE INDEX events_by_age ON events (created);

CREATE TABLE webhook_endpoints (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       TEXT NOT NULL UNIQUE,
    account  TEXT NOT NULL,
    created  BIGINT NOT NULL,
    disabled BIGINT NOT NULL,
    data     TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_created ON webhook_endpoints (account, created, seq);

-- state: pending | succeeded | failed | canceled. A worker leases a due pending row by
-- setting lease_until_ms; settling it needs the same lease, so a worker whose lease ran out
-- (it died mid-attempt) cannot settle what another worker took over.
CREATE TABLE webhook_deliveries (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    account         TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_ms BIGINT,
    lease_until_ms  BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (account, created_ms, seq);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (account, endpoint_id, created_ms, seq);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, created_ms, seq);

CREATE TABLE webhook_attempts (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   TEXT NOT NULL,
    at_ms         BIGINT NOT NULL,
    status        BIGINT,
    latency_ms    BIGINT NOT NULL,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, seq);
