-- When the IAM last re-enabled (or rehired) the person: a disable or leaver event older than
-- that is stale and must not remove the access the re-enable gave back.
ALTER TABLE identities ADD COLUMN enabled_at INTEGER;
CREATE INDEX audit_subject ON audit (subject, at);
