-- One worker at a time acts on a person: the provision and deprovision lanes (and any number
-- of worker processes) take this lease before reading a person's record and hold it until
-- their ClickUp calls and rows are done. A holder that dies loses it at `expires_at` (epoch ms).
CREATE TABLE person_locks (
    iam_id     TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
