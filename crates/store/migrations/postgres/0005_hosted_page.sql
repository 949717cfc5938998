-- The hosted verification page (PostgreSQL). Same shape as migrations/sqlite/0005_hosted_page.sql.
--
-- page_links: every hosted-page link token ever minted, with its session, so the page can
-- tell a live link from one that was used, expired or replaced by a fresher one (the
-- session row only holds the current token). Tokens are random and hold no personal data.
CREATE TABLE page_links (
    token      TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    session_id TEXT NOT NULL
);
INSERT INTO page_links (token, account, session_id)
    SELECT (data::jsonb) ->> 'url_token', account, id FROM sessions
    WHERE (data::jsonb) ->> 'url_token' IS NOT NULL;

-- files: the images users upload on the hosted page (File objects, `file_…`). Deleted with
-- the session's personal data at redaction.
CREATE TABLE files (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    created    BIGINT NOT NULL,
    bytes      BYTEA NOT NULL
);
CREATE INDEX files_by_session ON files (session_id);
