-- One "next visit" time per session for the background worker: a pending verification
-- outcome or a pending redaction, whichever comes first (Session::next_due_ms).
ALTER TABLE sessions ADD COLUMN due_ms INTEGER;
UPDATE sessions SET due_ms = redaction_due_ms;
DROP INDEX sessions_redaction_due;
CREATE INDEX sessions_due ON sessions (due_ms) WHERE due_ms IS NOT NULL;

-- Report lists filtered by client_reference_id, type or verification_session walk an index.
CREATE INDEX reports_by_client_reference_id ON reports (account, client_reference_id, created, seq)
    WHERE client_reference_id IS NOT NULL;
CREATE INDEX reports_by_type ON reports (account, type, created, seq);
CREATE INDEX reports_by_session_created ON reports (account, session_id, created, seq)
    WHERE session_id IS NOT NULL;
