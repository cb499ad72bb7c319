-- Reads of the access history: grants by object and by time (timelines, "who had access to X
-- at T", exports of a range), and the audit search by object, action, actor and time.
CREATE INDEX grants_object ON grants (object, since);
CREATE INDEX grants_since ON grants (since);
CREATE INDEX audit_object ON audit (object, at);
CREATE INDEX audit_action ON audit (action, at);
CREATE INDEX audit_actor ON audit (actor, at);
CREATE INDEX audit_at ON audit (at);
