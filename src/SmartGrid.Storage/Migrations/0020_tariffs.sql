-- Stage 4 (dynamic tariffs), owned by the TariffManager singleton (SmartGrid.Services).
--
-- tariffs is the price history: every change is a new row, never an update of an old price.
-- The price in force for a region is its row with the highest seq. reason 'base' rows carry
-- the region's base rate (the load tiers and percentage overrides apply to it); they are not
-- changes of the price in force and are never published.
CREATE TABLE tariffs (
    tariff_id           uuid          PRIMARY KEY,
    seq                 bigint        GENERATED ALWAYS AS IDENTITY UNIQUE,
    region              text          NOT NULL,
    price_per_kwh       numeric(12,4) NOT NULL CHECK (price_per_kwh >= 0),
    old_price           numeric(12,4),
    effective_from      timestamptz   NOT NULL,
    reason              text          NOT NULL CHECK (reason IN ('base', 'load-based', 'admin-override')),
    -- 'system' or the admin user's id
    triggered_by        text          NOT NULL,
    -- what caused the row: the 15-minute regional window (load-based) or the override
    source_window_start timestamptz,
    source_revision     integer,
    load_percent        double precision,
    override_id         uuid,
    created_at          timestamptz   NOT NULL DEFAULT now(),
    -- outbox: set once the tariff_updates message is acknowledged by Kafka
    published_at        timestamptz
);
CREATE INDEX tariffs_region_seq_idx ON tariffs (region, seq DESC);
CREATE INDEX tariffs_unpublished_idx ON tariffs (seq) WHERE published_at IS NULL AND reason <> 'base';

-- Admin overrides: a fixed price or a percentage on the base rate, within [valid_from, valid_to).
-- Written by the gateway and (idempotently, by override_id) by the TariffManager from the topic.
CREATE TABLE tariff_overrides (
    override_id   uuid          PRIMARY KEY,
    region        text          NOT NULL,
    price_per_kwh numeric(12,4) CHECK (price_per_kwh >= 0),
    percentage    numeric(8,3),
    valid_from    timestamptz   NOT NULL,
    valid_to      timestamptz   NOT NULL,
    reason        text,
    created_by    text          NOT NULL,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    lifted_at     timestamptz,
    lifted_by     text,
    CONSTRAINT tariff_overrides_value_check CHECK ((price_per_kwh IS NULL) <> (percentage IS NULL)),
    CONSTRAINT tariff_overrides_validity_check CHECK (valid_to > valid_from)
);
CREATE INDEX tariff_overrides_region_idx ON tariff_overrides (region, valid_from, valid_to);

-- The TariffManager's per-region progress: the newest 15-minute window applied (by window_start,
-- then revision), written in the same transaction as any tariff row it caused, so a replayed or
-- redelivered aggregate changes nothing.
CREATE TABLE tariff_region_state (
    region            text             PRIMARY KEY,
    last_window_start timestamptz,
    last_revision     integer,
    load_percent      double precision,
    updated_at        timestamptz      NOT NULL DEFAULT now()
);

-- Base rate of the default regions (keep in step with SmartGrid.Domain.Grid.Regions.Defaults);
-- a region seen without a base row gets the configured default base rate on first use.
INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, published_at)
VALUES ('00000000-0000-0000-0000-000000000001', 'Mumbai-Central', 8.00, '2024-01-01T00:00:00Z', 'base', 'system', '2024-01-01T00:00:00Z'),
       ('00000000-0000-0000-0000-000000000002', 'Mumbai-North',   8.00, '2024-01-01T00:00:00Z', 'base', 'system', '2024-01-01T00:00:00Z'),
       ('00000000-0000-0000-0000-000000000003', 'Pune-West',      8.00, '2024-01-01T00:00:00Z', 'base', 'system', '2024-01-01T00:00:00Z'),
       ('00000000-0000-0000-0000-000000000004', 'Nashik',         8.00, '2024-01-01T00:00:00Z', 'base', 'system', '2024-01-01T00:00:00Z');
