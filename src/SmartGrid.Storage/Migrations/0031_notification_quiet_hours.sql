-- The NotificationManager honours quiet hours (notification_preferences.quiet_hours_start / _end,
-- UTC): an SMS or push below critical severity due inside them is not sent but logged with the
-- final status 'suppressed_quiet_hours', so the audit shows why nothing arrived and a redelivered
-- event does not send it later or count it as a failure.
ALTER TABLE notification_log DROP CONSTRAINT notification_log_status_check;
ALTER TABLE notification_log ADD CONSTRAINT notification_log_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'suppressed_quiet_hours'));
