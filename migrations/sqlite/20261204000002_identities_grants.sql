-- Identities: the last known IAM state of each person the router manages.
CREATE TABLE identities (
    iam_id          TEXT PRIMARY KEY NOT NULL,
    email           TEXT,
    status          TEXT NOT NULL,
    attributes      TEXT NOT NULL,
    clickup_user_id INTEGER,
    event_time      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX identities_email ON identities (email);

-- Grants: who has which ClickUp access, why (rule and event), since when, until when, and how
-- it ended. A change of level closes one row and opens another, so history is kept.
CREATE TABLE grants (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    iam_id         TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('role', 'group', 'share')),
    object         TEXT NOT NULL,
    level          TEXT NOT NULL,
    custom_role_id INTEGER,
    rule           TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    since          INTEGER NOT NULL,
    until          INTEGER,
    ended_at       INTEGER,
    ended_by       TEXT,
    end_reason     TEXT
);
CREATE UNIQUE INDEX grants_open ON grants (iam_id, kind, object) WHERE ended_at IS NULL;
CREATE INDEX grants_due ON grants (until) WHERE ended_at IS NULL AND until IS NOT NULL;
CREATE INDEX grants_person ON grants (iam_id);

-- Reminders sent before a grant's end, one per person and end time.
CREATE TABLE reminders (
    iam_id  TEXT NOT NULL,
    until   INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (iam_id, until)
);

-- Removals held by the mass-removal brake until someone releases them.
CREATE TABLE held_removals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    iam_id      TEXT NOT NULL,
    actions     TEXT NOT NULL,
    cause       TEXT NOT NULL,
    held_at     INTEGER NOT NULL,
    released_at INTEGER,
    released_by TEXT
);
CREATE INDEX held_removals_open ON held_removals (released_at);

-- Small named values the router keeps between runs (the fingerprint of the applied rules).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
