-- The ingest ledger: each batch ingestion acknowledged, as one row, from the acknowledgement until
-- the processor group has committed the Kafka offsets past every record of it. Kafka is fed from
-- here, so an acknowledged reading survives the loss of the broker's log (the embedded broker keeps
-- it in memory and drops old data silently). A queue table: rows are inserted, read back by id and
-- deleted in batches, never updated.
CREATE TABLE ingest_ledger (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The ingest node that answered the request; on restart it publishes its own rows again.
    owner         text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    reading_count integer     NOT NULL CHECK (reading_count > 0),
    -- The batch's Kafka records (key and value of each), length-prefixed; lz4 because pglz burns
    -- several times the CPU for a similar ratio on JSON, on the ingest path's own commit.
    payload       bytea       COMPRESSION lz4 NOT NULL
) WITH (
    -- Rows live seconds: vacuum often so the heap and its index stay small.
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.02
);

CREATE INDEX ingest_ledger_owner_idx ON ingest_ledger (owner, id);
