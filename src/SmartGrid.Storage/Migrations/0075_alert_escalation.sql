-- Escalation, reminders, digests and per-type preferences of the NotificationManager (issue 14 items 4-6).

-- ADMIN-managed escalation policies. Deliberately small: a policy applies to alerts matching its
-- optional severity, type and region (null = any; the most specific match wins, then the oldest),
-- and is an ordered list of tiers, each naming users and/or roles and how long the alert may stay
-- unacknowledged at that tier before the next one is paged:
--   tiers = [{"users": ["<uuid>"], "roles": ["OPERATOR"], "wait_minutes": 15}, ...]
-- Tier 1 is paged with the alert's first notification.
CREATE TABLE escalation_policies (
    policy_id  uuid        PRIMARY KEY,
    name       text        NOT NULL,
    severity   text        CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    alert_type text        CHECK (alert_type IN ('ANOMALY', 'THRESHOLD', 'OUTAGE')),
    region     text,
    tiers      jsonb       NOT NULL CHECK (jsonb_typeof(tiers) = 'array' AND jsonb_array_length(tiers) >= 1),
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX escalation_policies_name_key ON escalation_policies (lower(name));

-- Where each unacknowledged alert stands: the NotificationManager's timer works over these rows,
-- so a singleton handover or restart resumes exactly where the previous owner was. step counts
-- every change (optimistic concurrency); a reminder or page is sent before its step is recorded,
-- under an idempotency key derived from the step, so a repeat after a crash finds it sent.
CREATE TABLE alert_escalations (
    alert_id         uuid        PRIMARY KEY,
    region           text        NOT NULL,
    alert_type       text        NOT NULL,
    severity         text        NOT NULL,
    policy_id        uuid,
    tier             integer     NOT NULL DEFAULT 1 CHECK (tier >= 1),
    tier_since       timestamptz NOT NULL,
    reminders        integer     NOT NULL DEFAULT 0 CHECK (reminders >= 0),
    last_notified_at timestamptz NOT NULL,
    step             integer     NOT NULL DEFAULT 0,
    stopped_at       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_escalations_running_idx ON alert_escalations (alert_id) WHERE stopped_at IS NULL;

-- Escalation changes for the alert's timeline (the pages themselves are notification_log rows).
CREATE TABLE alert_escalation_events (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id uuid        NOT NULL,
    step     integer     NOT NULL,
    action   text        NOT NULL CHECK (action IN ('escalated', 'de-escalated')),
    tier     integer     NOT NULL,
    at       timestamptz NOT NULL,
    note     text,
    CONSTRAINT alert_escalation_events_step_key UNIQUE (alert_id, step)
);

-- Notifications belong to an alert (the timeline reads them here) and say why they were sent.
-- Below the digest severity a person's notification waits as 'queued_digest' and goes out in one
-- digest email (a row of its own, template alert_digest); the items then point at it as 'digested'.
ALTER TABLE notification_log
    ADD COLUMN alert_id  uuid,
    ADD COLUMN kind      text NOT NULL DEFAULT 'notified',
    ADD COLUMN summary   text,
    ADD COLUMN digest_id bigint;
ALTER TABLE notification_log ADD CONSTRAINT notification_log_kind_check
    CHECK (kind IN ('notified', 'reminded', 'escalated', 'digest'));
ALTER TABLE notification_log DROP CONSTRAINT notification_log_status_check;
ALTER TABLE notification_log ADD CONSTRAINT notification_log_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'suppressed_quiet_hours', 'rate_limited', 'queued_digest', 'digested'));
CREATE INDEX notification_log_alert_idx ON notification_log (alert_id, id) WHERE alert_id IS NOT NULL;
CREATE INDEX notification_log_digest_queue_idx ON notification_log (user_id, id) WHERE status = 'queued_digest';

-- Per-user channel choices by alert type and severity: [{"types": [...], "severities": [...], "channels": [...]}],
-- first match wins (an empty list of types or severities matches any; empty channels mutes); no match: channels
-- and min_severity as before.
ALTER TABLE notification_preferences ADD COLUMN alert_rules jsonb NOT NULL DEFAULT '[]'::jsonb;
