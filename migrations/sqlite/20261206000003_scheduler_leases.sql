-- The scheduler's lease (#9): the periodic duties (expiries, reminders, rules reload, brake
-- releases asked for through the API, request timeouts, leavers' tasks, ClickUp's audit log,
-- reconciliation) run on one worker at a time across processes. A row names the holder (a
-- per-process id) and when its lease ends (ms since the epoch); the holder renews it well
-- before then, another worker takes it only once it has ended. Portable SQL: the same
-- statements run on PostgreSQL.
CREATE TABLE scheduler_leases (
    name          TEXT PRIMARY KEY NOT NULL,
    holder        TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
