-- Failures of bus messages, kept by the worker (one row per message and lane, counting its
-- attempts) so that a dead letter can say why it died. `error` holds a short reason and a
-- message without emails.
CREATE TABLE message_failures (
    message_key     TEXT NOT NULL,
    lane            TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL,
    last_failed_at  INTEGER NOT NULL,
    error_code      TEXT NOT NULL,
    error           TEXT NOT NULL,
    PRIMARY KEY (message_key, lane)
);

-- Dead letters: each message the broker dead-lettered, once (`fingerprint` identifies one
-- death of one message, so a redelivered dead letter is not recorded twice), with the
-- envelope exactly as it was queued for a later replay (#7).
CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint     TEXT NOT NULL UNIQUE,
    message_id      TEXT,
    lane            TEXT,
    source_queue    TEXT,
    routing_key     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    error_code      TEXT,
    error           TEXT,
    attempts        INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL,
    last_failed_at  INTEGER NOT NULL,
    envelope        BLOB NOT NULL,
    recorded_at     INTEGER NOT NULL
);
CREATE INDEX dead_letters_message ON dead_letters (message_id);
