-- PostgreSQL twin of migrations/sqlite/20261205000016_scim.sql.
CREATE TABLE scim_resources (
    id            TEXT PRIMARY KEY,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    body          TEXT NOT NULL,
    user_name     TEXT,
    display_name  TEXT,
    external_id   TEXT,
    version       BIGINT NOT NULL,
    created       BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    CHECK ((resource_type = 'User') = (user_name IS NOT NULL))
);

CREATE UNIQUE INDEX scim_resources_user_name ON scim_resources (user_name);
CREATE INDEX scim_resources_listing ON scim_resources (resource_type, created, id);

CREATE TABLE scim_group_members (
    group_id  TEXT NOT NULL REFERENCES scim_resources (id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    member_id TEXT NOT NULL,
    member    TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);

CREATE INDEX scim_group_members_member ON scim_group_members (member_id);
