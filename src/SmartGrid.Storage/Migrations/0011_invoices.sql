-- Invoices of the REST gateway (POST /api/v1/billing/admin/run?period=YYYY-MM): per user and
-- calendar month (UTC), energy per 15-minute window of the user's meters (aggregates_15m) times
-- the price in force at the window's start. One invoice per (user, period): a re-run replaces
-- the figures of the same row (same invoice_id, revision + 1), it never adds a second one.
CREATE TABLE invoices (
    invoice_id        uuid          PRIMARY KEY,
    user_id           uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    period            text          NOT NULL,
    period_start      timestamptz   NOT NULL,
    period_end        timestamptz   NOT NULL,
    -- 'provisional' while the period is not over when generated, 'final' after
    status            text          NOT NULL,
    currency          text          NOT NULL,
    windows           integer       NOT NULL,
    energy_kwh        numeric(18,6) NOT NULL,
    amount            numeric(14,2) NOT NULL,
    unpriced_windows  integer       NOT NULL DEFAULT 0,
    -- per meter and price: [{meter_id, region, price_per_kwh, override_id, windows, energy_kwh, amount, first_window_start, last_window_start}]
    lines             jsonb         NOT NULL,
    revision          integer       NOT NULL DEFAULT 1,
    generated_at      timestamptz   NOT NULL,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT invoices_user_period_key UNIQUE (user_id, period),
    CONSTRAINT invoices_period_check CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' AND period_end > period_start),
    CONSTRAINT invoices_status_check CHECK (status IN ('provisional', 'final')),
    CONSTRAINT invoices_figures_check CHECK (windows >= 0 AND unpriced_windows >= 0 AND energy_kwh >= 0 AND amount >= 0)
);
CREATE INDEX invoices_user_idx ON invoices (user_id, period DESC);
