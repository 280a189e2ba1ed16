-- Time-series tables of the seed (raw_readings, aggregates_1m, aggregates_15m,
-- regional_aggregates_15m) plus regional_aggregates_1m, which the overload rule needs.
--
-- How they are partitioned is decided ONCE, here, and recorded in storage_settings:
--  * 'timescaledb' when the extension is installable AND preloaded (create_hypertable needs
--    shared_preload_libraries): plain tables that 0002 turns into hypertables with the seed's
--    compression and retention policies;
--  * 'native' otherwise: PostgreSQL RANGE partitioning on the time column; the application's
--    PartitionMaintenance creates the daily partitions and drops expired ones.
-- Recording the choice keeps a database on one scheme even if the extension appears later.

CREATE TABLE storage_settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

INSERT INTO storage_settings (key, value)
SELECT 'time_series_mode',
       CASE WHEN EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
                 AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'
            THEN 'timescaledb' ELSE 'native' END;

DO $$
DECLARE
    native    boolean := (SELECT value = 'native' FROM storage_settings WHERE key = 'time_series_mode');
    by_ts     text := CASE WHEN native THEN ' PARTITION BY RANGE (ts)' ELSE '' END;
    by_window text := CASE WHEN native THEN ' PARTITION BY RANGE (window_start)' ELSE '' END;
BEGIN
    -- One row per reading; (meter_id, ts) identifies a reading, so a re-sent one is stored once.
    EXECUTE '
    CREATE TABLE raw_readings (
        meter_id     text             NOT NULL,
        ts           timestamptz      NOT NULL,
        voltage      double precision NOT NULL,
        current      double precision NOT NULL,
        power_kw     double precision NOT NULL,
        energy_kwh   double precision NOT NULL,
        power_factor double precision,
        frequency    double precision,
        region       text,
        ingested_at  timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT raw_readings_pkey PRIMARY KEY (meter_id, ts)
    )' || by_ts;

    -- Per-meter windows. Besides the seed''s averages the row keeps the raw sums and counts
    -- (also of frequency, which the seed does not average), so a stored window is the domain''s
    -- WindowAggregate exactly and partial states merge exactly (avg = sum / count).
    EXECUTE '
    CREATE TABLE aggregates_1m (
        meter_id           text             NOT NULL,
        region             text             NOT NULL,
        window_start       timestamptz      NOT NULL,
        window_end         timestamptz      NOT NULL,
        reading_count      integer          NOT NULL,
        energy_kwh_sum     double precision NOT NULL,
        power_kw_avg       double precision NOT NULL,
        power_kw_min       double precision NOT NULL,
        power_kw_max       double precision NOT NULL,
        voltage_avg        double precision NOT NULL,
        current_avg        double precision NOT NULL,
        power_factor_avg   double precision,
        power_kw_sum       double precision NOT NULL,
        voltage_sum        double precision NOT NULL,
        current_sum        double precision NOT NULL,
        power_factor_sum   double precision NOT NULL,
        power_factor_count integer          NOT NULL,
        frequency_sum      double precision NOT NULL,
        frequency_count    integer          NOT NULL,
        updated_at         timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT aggregates_1m_pkey PRIMARY KEY (meter_id, window_start),
        CONSTRAINT aggregates_1m_window_check CHECK (window_end > window_start),
        CONSTRAINT aggregates_1m_count_check CHECK (reading_count > 0
            AND power_factor_count BETWEEN 0 AND reading_count
            AND frequency_count BETWEEN 0 AND reading_count),
        CONSTRAINT aggregates_1m_power_check CHECK (power_kw_min <= power_kw_max)
    )' || by_window;

    EXECUTE '
    CREATE TABLE aggregates_15m (
        meter_id           text             NOT NULL,
        region             text             NOT NULL,
        window_start       timestamptz      NOT NULL,
        window_end         timestamptz      NOT NULL,
        reading_count      integer          NOT NULL,
        energy_kwh_sum     double precision NOT NULL,
        power_kw_avg       double precision NOT NULL,
        power_kw_min       double precision NOT NULL,
        power_kw_max       double precision NOT NULL,
        voltage_avg        double precision NOT NULL,
        current_avg        double precision NOT NULL,
        power_factor_avg   double precision,
        power_kw_sum       double precision NOT NULL,
        voltage_sum        double precision NOT NULL,
        current_sum        double precision NOT NULL,
        power_factor_sum   double precision NOT NULL,
        power_factor_count integer          NOT NULL,
        frequency_sum      double precision NOT NULL,
        frequency_count    integer          NOT NULL,
        updated_at         timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT aggregates_15m_pkey PRIMARY KEY (meter_id, window_start),
        CONSTRAINT aggregates_15m_window_check CHECK (window_end > window_start),
        CONSTRAINT aggregates_15m_count_check CHECK (reading_count > 0
            AND power_factor_count BETWEEN 0 AND reading_count
            AND frequency_count BETWEEN 0 AND reading_count),
        CONSTRAINT aggregates_15m_power_check CHECK (power_kw_min <= power_kw_max)
    )' || by_window;

    -- Per-region load. 15-minute rows are the seed''s table (storage, tariffs); 1-minute rows
    -- feed the overload rule (3+ windows over the threshold within 30 minutes). capacity_kw is
    -- the capacity load_percent was computed against, kept so the row explains itself.
    EXECUTE '
    CREATE TABLE regional_aggregates_15m (
        region         text             NOT NULL,
        window_start   timestamptz      NOT NULL,
        window_end     timestamptz      NOT NULL,
        meter_count    integer          NOT NULL,
        total_power_kw double precision NOT NULL,
        avg_power_kw   double precision NOT NULL,
        energy_kwh_sum double precision NOT NULL,
        reading_count  integer          NOT NULL,
        capacity_kw    double precision NOT NULL,
        load_percent   double precision NOT NULL,
        updated_at     timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT regional_aggregates_15m_pkey PRIMARY KEY (region, window_start),
        CONSTRAINT regional_aggregates_15m_window_check CHECK (window_end > window_start),
        CONSTRAINT regional_aggregates_15m_count_check CHECK (meter_count >= 0 AND reading_count >= 0),
        CONSTRAINT regional_aggregates_15m_capacity_check CHECK (capacity_kw > 0)
    )' || by_window;

    EXECUTE '
    CREATE TABLE regional_aggregates_1m (
        region         text             NOT NULL,
        window_start   timestamptz      NOT NULL,
        window_end     timestamptz      NOT NULL,
        meter_count    integer          NOT NULL,
        total_power_kw double precision NOT NULL,
        avg_power_kw   double precision NOT NULL,
        energy_kwh_sum double precision NOT NULL,
        reading_count  integer          NOT NULL,
        capacity_kw    double precision NOT NULL,
        load_percent   double precision NOT NULL,
        updated_at     timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT regional_aggregates_1m_pkey PRIMARY KEY (region, window_start),
        CONSTRAINT regional_aggregates_1m_window_check CHECK (window_end > window_start),
        CONSTRAINT regional_aggregates_1m_count_check CHECK (meter_count >= 0 AND reading_count >= 0),
        CONSTRAINT regional_aggregates_1m_capacity_check CHECK (capacity_kw > 0)
    )' || by_window;
END
$$;

-- Region-wide time scans (operator dashboards, ground-truth checks); per-meter scans use the keys.
CREATE INDEX aggregates_1m_region_window_idx ON aggregates_1m (region, window_start);
CREATE INDEX aggregates_15m_region_window_idx ON aggregates_15m (region, window_start);
