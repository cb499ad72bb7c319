-- Optimistic concurrency for access requests: every write names the version it read, so a
-- scheduler pass and a handler (or two workers) can never overwrite each other's state.
ALTER TABLE access_requests ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
