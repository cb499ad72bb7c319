-- Task assignments the router made by its assignment rules: one open row per task (the
-- current choice), closed when the task is reassigned, closed or deleted, so "who got which
-- task, by which rule, when" stays answerable and least-loaded can count open tasks.
CREATE TABLE task_assignments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    user_id     INTEGER,
    group_id    TEXT,
    iam_id      TEXT,
    event_id    TEXT NOT NULL,
    assigned_at INTEGER NOT NULL,
    ended_at    INTEGER,
    end_reason  TEXT
);
CREATE UNIQUE INDEX task_assignments_open ON task_assignments (task_id) WHERE ended_at IS NULL;
CREATE INDEX task_assignments_user ON task_assignments (user_id) WHERE ended_at IS NULL;

-- Round-robin position per assignment rule.
CREATE TABLE rule_cursors (
    rule TEXT PRIMARY KEY NOT NULL,
    next INTEGER NOT NULL
);

-- Leavers whose ClickUp tasks still have to be reassigned or reported; written by the
-- deprovisioner before it acks, worked through by the assignment scheduler.
CREATE TABLE leaver_tasks (
    iam_id    TEXT NOT NULL,
    user_id   INTEGER NOT NULL,
    noted_at  INTEGER NOT NULL,
    done_at   INTEGER,
    PRIMARY KEY (iam_id, user_id)
);
