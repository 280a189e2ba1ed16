-- Customer interruptions (issue 17, IEEE 1366), as the meters decide them from their newest readings:
-- one starts at a last gasp (a reading below 5 % of nominal) or, for a meter that fell silent, at its
-- last reading plus its reporting interval (seen when it reports again), and ends at its first reading
-- above 90 % of nominal. Written by the window projection in the transaction of its offset, when an
-- interruption starts (end_at NULL) and when it ends; (meter_id, start_at) is its identity, so a replay
-- replaces itself, and an ended interruption is final: a replayed start cannot reopen it.
CREATE TABLE customer_interruptions (
    meter_id   text        NOT NULL,
    start_at   timestamptz NOT NULL,
    region     text        NOT NULL,
    started_by text        NOT NULL CHECK (started_by IN ('last-gasp', 'silence')),
    end_at     timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_interruptions_pkey PRIMARY KEY (meter_id, start_at),
    CONSTRAINT customer_interruptions_end_check CHECK (end_at IS NULL OR end_at > start_at)
);
CREATE INDEX customer_interruptions_region_start_idx ON customer_interruptions (region, start_at);
