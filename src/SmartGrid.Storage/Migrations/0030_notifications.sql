-- Delivery tracking of the NotificationManager (role `services`). One row per (event, recipient,
-- channel): the idempotency key is unique, so a redelivered alerts / tariff_updates record finds
-- its rows and sends nothing again. Recipients and their channels come from users and
-- notification_preferences (0010).
CREATE TABLE notification_log (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text        NOT NULL,
    event_key       text        NOT NULL,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel         text        NOT NULL,
    template        text        NOT NULL,
    destination     text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CONSTRAINT notification_log_idempotency_key UNIQUE (idempotency_key),
    CONSTRAINT notification_log_status_check CHECK (status IN ('pending', 'sent', 'failed')),
    CONSTRAINT notification_log_channel_check CHECK (channel IN ('email', 'sms', 'push', 'webhook')),
    CONSTRAINT notification_log_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX notification_log_user_idx ON notification_log (user_id, created_at DESC);
CREATE INDEX notification_log_pending_idx ON notification_log (created_at) WHERE status = 'pending';

-- The device token of the push channel (FCM-style registration token), set by the user's app.
-- Added after this script first ran on some databases: the NotificationManager reads it as
-- to_jsonb(p) ->> 'push_token', so where the column is missing push simply finds no token.
ALTER TABLE notification_preferences ADD COLUMN IF NOT EXISTS push_token text;
