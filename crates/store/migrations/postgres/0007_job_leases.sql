-- Background jobs are claimed (PostgreSQL). Same shape as
-- migrations/sqlite/0007_job_leases.sql, which explains the columns.
ALTER TABLE sessions ADD COLUMN due_owner TEXT;
ALTER TABLE sessions ADD COLUMN due_lease_until_ms BIGINT;

CREATE TABLE job_leases (
    kind           TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    lease_until_ms BIGINT NOT NULL
);
