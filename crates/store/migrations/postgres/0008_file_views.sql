-- Who viewed which uploaded image, and when (PostgreSQL). Same shape as
-- migrations/sqlite/0008_file_views.sql.
CREATE TABLE file_views (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    viewer     TEXT NOT NULL,
    viewed_ms  BIGINT NOT NULL
);
CREATE INDEX file_views_by_session ON file_views (account, session_id, seq);
