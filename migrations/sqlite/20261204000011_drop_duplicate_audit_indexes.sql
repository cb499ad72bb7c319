-- Two audit indexes were created twice under different names (audit_subject in 3 and
-- audit_subject_at in 7 on (subject, at); audit_object_at in 7 and audit_object in 8 on
-- (object, at)). Every audit insert paid for both copies; keep one of each.
DROP INDEX IF EXISTS audit_subject_at;
DROP INDEX IF EXISTS audit_object_at;
