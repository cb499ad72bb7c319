-- PostgreSQL twin of migrations/sqlite/20261204000004_access_requests.sql. SQLite gives every
-- row an implicit `rowid` (insertion order) that the admin API pages by; here it is an
-- identity column of that name, so the query is the same on both.
CREATE TABLE access_requests (
    task_id          TEXT PRIMARY KEY NOT NULL,
    list_id          TEXT NOT NULL,
    requester_user   BIGINT NOT NULL,
    iam_id           TEXT,
    area             TEXT,
    object           TEXT,
    level            TEXT,
    duration_ms      BIGINT,
    state            TEXT NOT NULL,
    step             BIGINT NOT NULL DEFAULT 0,
    approvers        TEXT NOT NULL DEFAULT '[]',
    approver_iam_ids TEXT NOT NULL DEFAULT '[]',
    iam_request_id   TEXT,
    decided_by       TEXT,
    decided_at       BIGINT,
    reason           TEXT,
    until            BIGINT,
    step_started_at  BIGINT NOT NULL,
    reminded_at      BIGINT,
    escalated        BIGINT NOT NULL DEFAULT 0,
    announced_step   BIGINT NOT NULL DEFAULT -1,
    outcome_done     BIGINT NOT NULL DEFAULT 0,
    granted_at       BIGINT,
    reported_at      BIGINT,
    correlation_id   TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    rowid            BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX access_requests_state ON access_requests (state);
CREATE INDEX access_requests_person ON access_requests (iam_id, state);
CREATE UNIQUE INDEX access_requests_iam ON access_requests (iam_request_id) WHERE iam_request_id IS NOT NULL;

-- One decision per request and step: a second "approved" (a companion webhook, another
-- webhook on the same list, the IAM event and the poll) finds the row and changes nothing.
CREATE TABLE request_decisions (
    task_id    TEXT NOT NULL,
    step       BIGINT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('approved', 'denied')),
    decided_by TEXT NOT NULL,
    via        TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (task_id, step)
);
