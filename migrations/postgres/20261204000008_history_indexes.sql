-- PostgreSQL twin of migrations/sqlite/20261204000008_history_indexes.sql.
CREATE INDEX grants_object ON grants (object, since);
CREATE INDEX grants_since ON grants (since);
CREATE INDEX audit_object ON audit (object, at);
CREATE INDEX audit_action ON audit (action, at);
CREATE INDEX audit_actor ON audit (actor, at);
CREATE INDEX audit_at ON audit (at);
