-- Page sessions (`/ui`): one row per sign-in, named by the SHA-256 (hex) of the random id
-- the session cookie carries. A page is shown only while its row is current (not ended, not expired), so
-- signing out ends the session on the server whatever copies of the cookie exist. The
-- subject is the IAM id (no email); rows are pruned once expired. Times in ms since the epoch.
CREATE TABLE ui_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    subject    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at   INTEGER
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);
