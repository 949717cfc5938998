-- Background jobs are claimed, so that on several nodes none runs twice (docs/scaling.md,
-- "Background jobs"). Same shape as migrations/postgres/0007_job_leases.sql.
--
-- A session whose due work (a pending verification outcome, a redaction) a worker has claimed:
-- due_owner is that node, due_lease_until_ms (unix ms) the end of its lease; both NULL when
-- no worker holds it. A claim whose lease has run out is taken over by another worker.
ALTER TABLE sessions ADD COLUMN due_owner TEXT;
ALTER TABLE sessions ADD COLUMN due_lease_until_ms INTEGER;

-- Jobs that one node at a time runs (pruning): one row per kind while a node holds it.
CREATE TABLE job_leases (
    kind           TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    lease_until_ms INTEGER NOT NULL
);
