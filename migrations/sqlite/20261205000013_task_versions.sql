-- The task versions the router has seen (#7): for each task, the newest change the task lane
-- processed (a webhook's history item time, or a reconciled event's `date_updated`, in ms)
-- and the List it was on. A reconcile pass publishes a task only when ClickUp shows a newer
-- `date_updated` than this; rows at or before a List's reconcile cursor are pruned by the
-- pass, as no later read can be decided by them.
CREATE TABLE task_versions (
    task_id TEXT PRIMARY KEY NOT NULL,
    list_id TEXT NOT NULL,
    seen_at INTEGER NOT NULL
);
CREATE INDEX task_versions_list ON task_versions (list_id, seen_at);
