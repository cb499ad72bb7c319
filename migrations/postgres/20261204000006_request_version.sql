-- PostgreSQL twin of migrations/sqlite/20261204000006_request_version.sql.
-- Optimistic concurrency for access requests: every write names the version it read.
ALTER TABLE access_requests ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
