-- Dead letters get a state (#7): `open` until an operator replays it (republished, after the
-- broker's confirm: when, by whom, the message's how-manieth replay) or drops it (kept for the
-- audit trail, never deleted). `claimed_until` is the lease of a replay in progress, so two
-- operators cannot publish the same letter twice.
ALTER TABLE dead_letters ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'replayed', 'dropped'));
ALTER TABLE dead_letters ADD COLUMN replayed_at INTEGER;
ALTER TABLE dead_letters ADD COLUMN replayed_by TEXT;
ALTER TABLE dead_letters ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dead_letters ADD COLUMN dropped_at INTEGER;
ALTER TABLE dead_letters ADD COLUMN dropped_by TEXT;
ALTER TABLE dead_letters ADD COLUMN claimed_until INTEGER;
CREATE INDEX dead_letters_state ON dead_letters (state, id);
