-- The snapshot store's table, created here rather than by the plugin at start: its start-up
-- check fails while PostgreSQL is away and restarts the store again and again, losing the
-- meters' snapshot requests (each then waited out its recovery timeout after the database came
-- back). Same layout as Akka.Persistence.Sql's PostgreSQL table, so a table it made is kept.
CREATE TABLE IF NOT EXISTS snapshot (
    persistence_id  text    NOT NULL,
    sequence_number bigint  NOT NULL,
    created         bigint  NOT NULL,
    snapshot        bytea,
    manifest        text,
    serializer_id   integer,
    CONSTRAINT "PK_snapshot" PRIMARY KEY (persistence_id, sequence_number)
);
CREATE INDEX IF NOT EXISTS snapshot_sequence_number_idx ON snapshot (sequence_number);
CREATE INDEX IF NOT EXISTS snapshot_created_idx ON snapshot (created);
