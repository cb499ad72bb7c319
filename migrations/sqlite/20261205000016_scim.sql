-- SCIM 2.0 resources (#8). `body` is the canonical stored JSON without `id`, `meta`, a User's
-- `groups` (computed from scim_group_members at read time) and a Group's `members` (their
-- rows below, in order). `user_name` is the User's userName lowercased: unique whatever the
-- case. Times are ms since the epoch.
CREATE TABLE scim_resources (
    id            TEXT PRIMARY KEY,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    body          TEXT NOT NULL,
    user_name     TEXT,
    display_name  TEXT,
    external_id   TEXT,
    version       INTEGER NOT NULL,
    created       INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    CHECK ((resource_type = 'User') = (user_name IS NOT NULL))
);

CREATE UNIQUE INDEX scim_resources_user_name ON scim_resources (user_name);
CREATE INDEX scim_resources_listing ON scim_resources (resource_type, created, id);

-- A Group's members as the client gave them (`member`: the value's JSON), in order.
CREATE TABLE scim_group_members (
    group_id  TEXT NOT NULL REFERENCES scim_resources (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    member_id TEXT NOT NULL,
    member    TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);

CREATE INDEX scim_group_members_member ON scim_group_members (member_id);
