-- PostgreSQL twin of migrations/sqlite/20261204000010_ui_sessions.sql.
CREATE TABLE ui_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);
