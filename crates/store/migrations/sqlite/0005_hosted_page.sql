-- The hosted verification page.
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
    SELECT json_extract(data, '$.url_token'), account, id FROM sessions
    WHERE json_extract(data, '$.url_token') IS NOT NULL;

-- files: the images users upload on the hosted page (File objects, `file_…`). Deleted with
-- the session's personal data at redaction.
CREATE TABLE files (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    bytes      BLOB NOT NULL
);
CREATE INDEX files_by_session ON files (session_id);
