-- Access requests: one row per ClickUp task in the intake list, from intake to the end of the
-- access it granted. `state` moves incomplete -> pending -> approved -> granted -> ended, or to
-- denied, ineligible, expired (no decision in time) or cancelled (task deleted). The effect
-- columns record which of the ClickUp and IAM side effects of the current state are done, so a
-- redelivered message or the scheduler finishes them without repeating the others.
CREATE TABLE access_requests (
    task_id          TEXT PRIMARY KEY NOT NULL,
    list_id          TEXT NOT NULL,
    requester_user   INTEGER NOT NULL,
    iam_id           TEXT,
    area             TEXT,
    object           TEXT,
    level            TEXT,
    duration_ms      INTEGER,
    state            TEXT NOT NULL,
    step             INTEGER NOT NULL DEFAULT 0,
    approvers        TEXT NOT NULL DEFAULT '[]',
    approver_iam_ids TEXT NOT NULL DEFAULT '[]',
    iam_request_id   TEXT,
    decided_by       TEXT,
    decided_at       INTEGER,
    reason           TEXT,
    until            INTEGER,
    step_started_at  INTEGER NOT NULL,
    reminded_at      INTEGER,
    escalated        INTEGER NOT NULL DEFAULT 0,
    announced_step   INTEGER NOT NULL DEFAULT -1,
    outcome_done     INTEGER NOT NULL DEFAULT 0,
    granted_at       INTEGER,
    reported_at      INTEGER,
    correlation_id   TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX access_requests_state ON access_requests (state);
CREATE INDEX access_requests_person ON access_requests (iam_id, state);
CREATE UNIQUE INDEX access_requests_iam ON access_requests (iam_request_id) WHERE iam_request_id IS NOT NULL;

-- One decision per request and step: a second "approved" (a companion webhook, another
-- webhook on the same list, the IAM event and the poll) finds the row and changes nothing.
CREATE TABLE request_decisions (
    task_id    TEXT NOT NULL,
    step       INTEGER NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('approved', 'denied')),
    decided_by TEXT NOT NULL,
    via        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (task_id, step)
);
