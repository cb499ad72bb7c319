-- PostgreSQL twin of migrations/sqlite/20261205000014_held_envelope.sql.
ALTER TABLE held_removals ADD COLUMN envelope TEXT;
