-- PostgreSQL twin of migrations/sqlite/20261205000013_task_versions.sql.
CREATE TABLE task_versions (
    task_id TEXT PRIMARY KEY NOT NULL,
    list_id TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE INDEX task_versions_list ON task_versions (list_id, seen_at);
