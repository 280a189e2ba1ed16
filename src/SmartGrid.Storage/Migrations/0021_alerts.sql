-- Stage 5 (alerts), owned by the AlertManager singleton (SmartGrid.Services).
CREATE TABLE alerts (
    alert_id         uuid        PRIMARY KEY,
    type             text        NOT NULL CHECK (type IN ('ANOMALY', 'THRESHOLD', 'OUTAGE')),
    severity         text        NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    region           text        NOT NULL,
    meter_id         text,
    message          text        NOT NULL,
    metadata         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status           text        NOT NULL CHECK (status IN ('active', 'acknowledged', 'resolved')),
    occurrence_count integer     NOT NULL DEFAULT 1 CHECK (occurrence_count >= 1),
    first_seen_at    timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    resolved_by      text,
    resolved_at      timestamptz
);
-- De-duplication: at most one open (not resolved) alert per (type, region, meter); a repeat
-- updates it (INSERT ... ON CONFLICT on this index), even when two arrive milliseconds apart.
CREATE UNIQUE INDEX alerts_open_dedup_idx ON alerts (type, region, (COALESCE(meter_id, ''))) WHERE status <> 'resolved';
CREATE INDEX alerts_region_status_idx ON alerts (region, status);
CREATE INDEX alerts_created_at_idx ON alerts (created_at);

-- Audit trail: one row per lifecycle event (created, acknowledged, resolved) with the alert as it
-- was right after it. Also the outbox of the Kafka alerts topic: published_at is set once Kafka
-- acknowledged the event, and unpublished rows are (re)sent in event_id order.
CREATE TABLE alert_acknowledgments (
    event_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id     uuid        NOT NULL REFERENCES alerts (alert_id),
    action       text        NOT NULL CHECK (action IN ('created', 'acknowledged', 'resolved')),
    actor        text        NOT NULL,
    at           timestamptz NOT NULL,
    alert        jsonb       NOT NULL,
    published_at timestamptz
);
CREATE INDEX alert_acknowledgments_alert_idx ON alert_acknowledgments (alert_id, event_id);
CREATE INDEX alert_acknowledgments_unpublished_idx ON alert_acknowledgments (event_id) WHERE published_at IS NULL;

-- The AlertManager's overload state per region (the windows of the OverloadRule, revisions seen,
-- since when the load is back under the threshold), so a singleton handover loses nothing.
-- Redis region:overload:{region} mirrors the windows for other readers.
CREATE TABLE alert_region_state (
    region     text        PRIMARY KEY,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Source events already applied (an anomaly by meter, time and kind): a redelivered anomaly
-- neither creates an alert nor counts again. Rows older than the retention are purged.
CREATE TABLE alert_source_events (
    source_key   text        PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_source_events_processed_idx ON alert_source_events (processed_at);
