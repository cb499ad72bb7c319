-- PostgreSQL twin of migrations/sqlite/20261205000012_dead_letter_states.sql.
ALTER TABLE dead_letters ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'replayed', 'dropped'));
ALTER TABLE dead_letters ADD COLUMN replayed_at BIGINT;
ALTER TABLE dead_letters ADD COLUMN replayed_by TEXT;
ALTER TABLE dead_letters ADD COLUMN replays BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dead_letters ADD COLUMN dropped_at BIGINT;
ALTER TABLE dead_letters ADD COLUMN dropped_by TEXT;
ALTER TABLE dead_letters ADD COLUMN claimed_until BIGINT;
CREATE INDEX dead_letters_state ON dead_letters (state, id);
