-- Load per transformer and feeder (issue 17), 1-minute and 15-minute, as the region actors publish
-- it: per node and window, the summed average power of the meters placed under the node at the
-- window's start that reported into it, how many did, how many were placed there, and the load
-- against the node's rating when the window was published. Written by the regional projection in
-- the transaction of its offset, from the persisted emission (a replay writes the same rows), and
-- replaced by a later revision. Partitioned and retained like the regional windows (see 0001, 0002
-- and TimeSeriesTable). Independent of 0090+ (topology): node ids are not foreign keys here, since a
-- published window outlives a deleted node.
DO $$
DECLARE
    native boolean := (SELECT value = 'native' FROM storage_settings WHERE key = 'time_series_mode');
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['grid_node_aggregates_1m', 'grid_node_aggregates_15m'] LOOP
        EXECUTE format('
        CREATE TABLE %1$I (
            node_id         text             NOT NULL,
            kind            text             NOT NULL CHECK (kind IN (''feeder'', ''transformer'')),
            region          text             NOT NULL,
            window_start    timestamptz      NOT NULL,
            window_end      timestamptz      NOT NULL,
            meter_count     integer          NOT NULL,
            expected_meters integer          NOT NULL,
            total_power_kw  double precision NOT NULL,
            rated_kw        double precision NOT NULL,
            load_percent    double precision NOT NULL,
            revision        integer          NOT NULL,
            updated_at      timestamptz      NOT NULL DEFAULT now(),
            CONSTRAINT %1$s_pkey PRIMARY KEY (node_id, window_start),
            CONSTRAINT %1$s_window_check CHECK (window_end > window_start),
            CONSTRAINT %1$s_count_check CHECK (meter_count >= 0 AND expected_meters >= 0),
            CONSTRAINT %1$s_rating_check CHECK (rated_kw > 0)
        )', t) || CASE WHEN native THEN ' PARTITION BY RANGE (window_start)' ELSE '' END;
        EXECUTE format('CREATE INDEX %1$s_region_window_idx ON %1$I (region, window_start)', t);
        IF NOT native THEN
            PERFORM create_hypertable(t, 'window_start', chunk_time_interval => INTERVAL '1 day');
            PERFORM add_retention_policy(t, INTERVAL '90 days');
        END IF;
    END LOOP;
END
$$;
