-- PostgreSQL twin of migrations/sqlite/20261204000011_drop_duplicate_audit_indexes.sql.
DROP INDEX IF EXISTS audit_subject_at;
DROP INDEX IF EXISTS audit_object_at;
