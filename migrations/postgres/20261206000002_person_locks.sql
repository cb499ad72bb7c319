-- PostgreSQL twin of migrations/sqlite/20261206000002_person_locks.sql: one worker at a time
-- acts on a person; a dead holder's lease lapses at `expires_at` (epoch ms).
CREATE TABLE person_locks (
    iam_id     TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
