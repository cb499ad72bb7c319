-- Task assignment choices as units of work (the doubled assignment seen in the chaos suite):
-- a choice is written before its ClickUp call, so an attempt interrupted after the call (a
-- crash, a lost answer) is carried on by the next one with the same person, never chosen
-- again; `applied_at` is set with the `task_assignments` row and the audit row (one
-- transaction), `settled_at` once its comment is posted, found on the task (posted by the
-- interrupted attempt) or given up (`comment_id` NULL). One unsettled choice per task.
CREATE TABLE assignment_choices (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id        TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    rule           TEXT NOT NULL,
    strategy       TEXT NOT NULL,
    user_id        INTEGER,
    group_id       TEXT,
    iam_id         TEXT,
    previous       INTEGER,
    why            TEXT,
    comment        TEXT NOT NULL,
    chosen_at      INTEGER NOT NULL,
    applied_at     INTEGER,
    settled_at     INTEGER,
    comment_id     TEXT
);
CREATE UNIQUE INDEX assignment_choices_unsettled ON assignment_choices (task_id)
    WHERE settled_at IS NULL;
CREATE INDEX assignment_choices_event ON assignment_choices (task_id, event_id);
