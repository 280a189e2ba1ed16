-- The journal's table, created here as well as by the plugin at start (its AutoInitialize stays on, and creates
-- nothing that exists): the meter buckets read their meters straight from it (MeterBucket), and the first bucket
-- of a fresh database may read before the journal plugin has started and made it. Same layout as
-- Akka.Persistence.Sql's PostgreSQL table with tags in the row (0040), so a table it made is kept.
CREATE TABLE IF NOT EXISTS journal (
    ordering        bigint  GENERATED ALWAYS AS IDENTITY,
    created         bigint  NOT NULL,
    deleted         boolean NOT NULL,
    persistence_id  text    NOT NULL,
    sequence_number bigint  NOT NULL,
    message         bytea   NOT NULL,
    tags            text,
    manifest        text,
    identifier      integer,
    writer_uuid     text,
    CONSTRAINT "PK_journal" PRIMARY KEY (ordering),
    CONSTRAINT journal_uq UNIQUE (persistence_id, sequence_number)
);
CREATE INDEX IF NOT EXISTS journal_created_idx ON journal (created);
CREATE INDEX IF NOT EXISTS journal_sequence_number_idx ON journal (sequence_number);
