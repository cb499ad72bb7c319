-- Audit correlation (#6): the correlation id of the leaver event whose tasks the scheduler
-- reassigns later, and indexes for finding the router's row that caused a ClickUp echo or a
-- change in ClickUp's own audit log (same task or person, close in time).
ALTER TABLE leaver_tasks ADD COLUMN correlation_id TEXT;

CREATE INDEX audit_object_at ON audit (object, at);
CREATE INDEX audit_subject_at ON audit (subject, at);
