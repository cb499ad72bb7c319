-- A held removal that came through SCIM (#8) keeps the bus message it was held from, so that
-- `brake release` deprovisions the person exactly as the deprovision lane would, without the
-- broker. NULL for holds of rule removals (re-planned against the record on release) and of
-- drift repairs (repaired again from what ClickUp shows).
ALTER TABLE held_removals ADD COLUMN envelope TEXT;
