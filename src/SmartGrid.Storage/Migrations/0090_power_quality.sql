-- Power quality (issue 17, EN 50160 / ANSI C84.1).
--
-- The meter windows keep their voltage extremes, so the 10-minute windows can be rebuilt from
-- aggregates_1m. NULL in rows written before: their extremes were never kept.
ALTER TABLE aggregates_1m ADD COLUMN voltage_min double precision;
ALTER TABLE aggregates_1m ADD COLUMN voltage_max double precision;
ALTER TABLE aggregates_15m ADD COLUMN voltage_min double precision;
ALTER TABLE aggregates_15m ADD COLUMN voltage_max double precision;

-- 10-minute voltage windows per meter (floor to 10 minutes, UTC). Never written from a message: the
-- window projection recomputes a row from the meter's aggregates_1m rows of the bucket in the same
-- transaction that writes them, so replays and late revisions replace it instead of adding to it.
-- Partitioned and retained like aggregates_15m (see 0001, 0002 and TimeSeriesTable).
DO $$
DECLARE
    native boolean := (SELECT value = 'native' FROM storage_settings WHERE key = 'time_series_mode');
BEGIN
    EXECUTE '
    CREATE TABLE voltage_10m (
        meter_id     text             NOT NULL,
        region       text             NOT NULL,
        window_start timestamptz      NOT NULL,
        window_end   timestamptz      NOT NULL,
        sample_count integer          NOT NULL,
        voltage_sum  double precision NOT NULL,
        voltage_mean double precision NOT NULL,
        voltage_min  double precision,
        voltage_max  double precision,
        updated_at   timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT voltage_10m_pkey PRIMARY KEY (meter_id, window_start),
        CONSTRAINT voltage_10m_window_check CHECK (window_end > window_start),
        CONSTRAINT voltage_10m_count_check CHECK (sample_count > 0)
    )' || CASE WHEN native THEN ' PARTITION BY RANGE (window_start)' ELSE '' END;

    IF NOT native THEN
        PERFORM create_hypertable('voltage_10m', 'window_start', chunk_time_interval => INTERVAL '1 day');
        ALTER TABLE voltage_10m SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_id');
        PERFORM add_compression_policy('voltage_10m', INTERVAL '14 days');
        PERFORM add_retention_policy('voltage_10m', INTERVAL '90 days');
    END IF;
END
$$;

CREATE INDEX voltage_10m_region_window_idx ON voltage_10m (region, window_start);

-- Sags, swells and interruptions as the meters decide them from their newest readings: a run is
-- written when it starts (end_at NULL) and again when it ends. (meter_id, start_at) is its identity,
-- so a replayed event replaces itself; an ended run is final and a replayed start cannot reopen it.
CREATE TABLE voltage_events (
    meter_id        text             NOT NULL,
    start_at        timestamptz      NOT NULL,
    region          text             NOT NULL,
    kind            text             NOT NULL CHECK (kind IN ('sag', 'swell', 'interruption')),
    end_at          timestamptz,
    extreme_voltage double precision NOT NULL,
    nominal_voltage double precision NOT NULL CHECK (nominal_voltage > 0),
    updated_at      timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT voltage_events_pkey PRIMARY KEY (meter_id, start_at),
    CONSTRAINT voltage_events_end_check CHECK (end_at IS NULL OR end_at > start_at)
);
CREATE INDEX voltage_events_region_start_idx ON voltage_events (region, start_at);
