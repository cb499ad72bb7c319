-- Receipts: the receiver's deduplication of accepted deliveries.
-- A row is 'pending' while its publish is in flight (lease until locked_until) and becomes
-- 'accepted' only after the broker confirmed; a failed publish deletes the row.
CREATE TABLE receipts (
    dedup_key    TEXT PRIMARY KEY NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    locked_until INTEGER NOT NULL,
    accepted_at  INTEGER
);
CREATE INDEX receipts_accepted_at ON receipts (accepted_at);

-- Processed: one row per handled bus message, written in the same transaction as its audit row.
CREATE TABLE processed (
    message_key TEXT PRIMARY KEY NOT NULL,
    lane        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    handled_at  INTEGER NOT NULL
);

-- Audit: append-only; who did what to whom, when, why, with the correlation id.
CREATE TABLE audit (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    subject        TEXT,
    object         TEXT,
    outcome        TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX audit_correlation ON audit (correlation_id);
CREATE INDEX audit_event ON audit (event_id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
