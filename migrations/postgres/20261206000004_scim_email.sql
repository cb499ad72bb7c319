-- PostgreSQL twin of migrations/sqlite/20261206000004_scim_email.sql.
ALTER TABLE scim_resources ADD COLUMN email TEXT;

UPDATE scim_resources SET email = (
    SELECT NULLIF(lower(btrim(e.item ->> 'value')), '')
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(scim_resources.body::jsonb -> 'emails') = 'array'
             THEN scim_resources.body::jsonb -> 'emails' ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS e(item, n)
    WHERE jsonb_typeof(e.item) = 'object'
    ORDER BY CASE
        WHEN e.item -> 'primary' = 'true'::jsonb THEN 0
        WHEN e.item ->> 'type' = 'work' THEN 1
        ELSE 2
    END, e.n
    LIMIT 1
)
WHERE resource_type = 'User';

CREATE INDEX scim_resources_email ON scim_resources (email);
