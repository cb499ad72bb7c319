-- A SCIM User's chosen e-mail address (#8 follow-up), lowercased: the one its identity events
-- carry (the primary one, else the `work` one, else the first, trimmed; NULL when it has none
-- or for a Group). ClickUp knows people by e-mail, so two Users may not share one: the router
-- refuses the write (409) and looks the holder up by this column. Not UNIQUE: rows written
-- before this migration may already share one, and the check belongs to the write.
ALTER TABLE scim_resources ADD COLUMN email TEXT;

UPDATE scim_resources SET email = (
    SELECT NULLIF(lower(trim(json_extract(e.value, '$.value'))), '')
    FROM json_each(scim_resources.body, '$.emails') AS e
    WHERE e.type = 'object'
    ORDER BY CASE
        WHEN json_extract(e.value, '$.primary') = 1 THEN 0
        WHEN json_extract(e.value, '$.type') = 'work' THEN 1
        ELSE 2
    END, e.key
    LIMIT 1
)
WHERE resource_type = 'User';

CREATE INDEX scim_resources_email ON scim_resources (email);
