-- The embedded bus engine (#9), used when no AMQP_URL is configured: the queues live here.
-- One row per message and queue: a lane's queue (`<prefix>.<lane>`) or the dead letters
-- (`<prefix>.dead-letters`). A publish inserts a row per lane its routing key binds to, in one
-- transaction; a consumer claims the oldest available row of its queue with a lease, and
-- settles it after its handler: deleted (ack), moved on in time (retry tier) or to the dead
-- letters. A lease that runs out (the consumer died) makes the row available again.
CREATE TABLE bus_messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    queue            TEXT NOT NULL,
    routing_key      TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    correlation_id   TEXT NOT NULL,
    body             BLOB NOT NULL,
    -- Headers: retries so far (RabbitMQ's `x-cir-retry`) and the replay mark (`x-cir-replay`).
    retries          INTEGER NOT NULL DEFAULT 0,
    replay           TEXT,
    -- The retry tier it waits in (its delay queue's name), until `available_at`.
    tier             TEXT,
    -- Not delivered before this (ms since the epoch).
    available_at     INTEGER NOT NULL,
    -- Deliveries of this copy so far; one that ended unsettled (its consumer died) counts
    -- against the delivery limit.
    deliveries       INTEGER NOT NULL DEFAULT 0,
    -- The delivery in hand: its lease token and when the lease ends.
    lease_owner      TEXT,
    lease_until      INTEGER,
    first_failed_at  INTEGER,
    last_failed_at   INTEGER,
    created_at       INTEGER NOT NULL,
    -- A dead letter's death: the lane queue, why, when, and deliveries or retries before it.
    death_queue      TEXT,
    death_reason     TEXT,
    death_at         INTEGER,
    death_deliveries INTEGER
);
CREATE INDEX bus_messages_next ON bus_messages (queue, available_at, id);
CREATE INDEX bus_messages_tier ON bus_messages (tier) WHERE tier IS NOT NULL;
