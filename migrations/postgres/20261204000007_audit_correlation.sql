-- PostgreSQL twin of migrations/sqlite/20261204000007_audit_correlation.sql.
ALTER TABLE leaver_tasks ADD COLUMN correlation_id TEXT;

CREATE INDEX audit_object_at ON audit (object, at);
CREATE INDEX audit_subject_at ON audit (subject, at);
