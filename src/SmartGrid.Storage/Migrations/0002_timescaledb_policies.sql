-- TimescaleDB mode only (see 0001): hypertables with daily chunks, and the seed's policies.
--   raw_readings            retention 7 days,  compressed after 24 hours
--   aggregates_1m           retention 30 days, compressed after 7 days
--   aggregates_15m          retention 90 days, compressed after 14 days
--   regional_aggregates_*   retention 90 days, compressed after 14 days (not in the seed; same as 15m)
-- Keep these retentions in step with TimeSeriesTable in the code, which enforces them in native mode.
-- In native mode this script does nothing: PartitionMaintenance owns partitions and retention.
DO $$
BEGIN
    IF (SELECT value FROM storage_settings WHERE key = 'time_series_mode') <> 'timescaledb' THEN
        RAISE NOTICE 'timescaledb not available: native daily range partitions, retention by the application';
        RETURN;
    END IF;

    CREATE EXTENSION IF NOT EXISTS timescaledb;

    PERFORM create_hypertable('raw_readings', 'ts', chunk_time_interval => INTERVAL '1 day');
    PERFORM create_hypertable('aggregates_1m', 'window_start', chunk_time_interval => INTERVAL '1 day');
    PERFORM create_hypertable('aggregates_15m', 'window_start', chunk_time_interval => INTERVAL '1 day');
    PERFORM create_hypertable('regional_aggregates_15m', 'window_start', chunk_time_interval => INTERVAL '1 day');
    PERFORM create_hypertable('regional_aggregates_1m', 'window_start', chunk_time_interval => INTERVAL '1 day');

    ALTER TABLE raw_readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_id');
    ALTER TABLE aggregates_1m SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_id');
    ALTER TABLE aggregates_15m SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_id');
    ALTER TABLE regional_aggregates_15m SET (timescaledb.compress, timescaledb.compress_segmentby = 'region');
    ALTER TABLE regional_aggregates_1m SET (timescaledb.compress, timescaledb.compress_segmentby = 'region');

    PERFORM add_compression_policy('raw_readings', INTERVAL '1 day');
    PERFORM add_compression_policy('aggregates_1m', INTERVAL '7 days');
    PERFORM add_compression_policy('aggregates_15m', INTERVAL '14 days');
    PERFORM add_compression_policy('regional_aggregates_15m', INTERVAL '14 days');
    PERFORM add_compression_policy('regional_aggregates_1m', INTERVAL '14 days');

    PERFORM add_retention_policy('raw_readings', INTERVAL '7 days');
    PERFORM add_retention_policy('aggregates_1m', INTERVAL '30 days');
    PERFORM add_retention_policy('aggregates_15m', INTERVAL '90 days');
    PERFORM add_retention_policy('regional_aggregates_15m', INTERVAL '90 days');
    PERFORM add_retention_policy('regional_aggregates_1m', INTERVAL '90 days');
END
$$;
