-- The NotificationManager limits notifications per recipient and channel per hour (Redis, sliding
-- window) so a flapping alert cannot flood a user: a delivery over the limit is not sent but logged
-- with the final status 'rate_limited', so the audit shows why nothing arrived and a redelivered
-- event does not send it later.
ALTER TABLE notification_log DROP CONSTRAINT notification_log_status_check;
ALTER TABLE notification_log ADD CONSTRAINT notification_log_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'suppressed_quiet_hours', 'rate_limited'));
