-- Who viewed which uploaded image, and when (the dashboard's image views). Same shape as
-- migrations/postgres/0008_file_views.sql. Independent of every other table, so it applies
-- whichever migrations a database has already had (0007 may come later on some branches).
--
-- No personal data: ids only. viewer is the dashboard principal, a key id (`key_…`) or
-- `operator`. Redaction deletes the files but keeps these rows: the audit trail says that a
-- file was viewed, by whom and when, and nothing about what it showed.
CREATE TABLE file_views (
    seq        INTEGER PRIMARY KEY,
    account    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    viewer     TEXT NOT NULL,
    viewed_ms  INTEGER NOT NULL
);
CREATE INDEX file_views_by_session ON file_views (account, session_id, seq);
