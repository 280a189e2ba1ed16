-- Logout, refresh-token reuse and role or password changes now end the whole session (sessions
-- rows revoked for another reason than 'rotated'), which every access token names in its sid: the
-- per-token blacklist has nothing left to hold.
DROP TABLE token_blacklist;

-- A new notification address is only used once its owner confirmed it with a code sent there:
-- email and phone stay the confirmed ones (what the NotificationManager reads), the new one waits
-- in pending_*. Codes for it are one-time codes of their own purposes.
ALTER TABLE notification_preferences ADD COLUMN pending_email text, ADD COLUMN pending_phone text;
ALTER TABLE otp_verifications DROP CONSTRAINT otp_verifications_purpose_check;
ALTER TABLE otp_verifications ADD CONSTRAINT otp_verifications_purpose_check
    CHECK (purpose IN ('EMAIL_VERIFICATION', 'EMAIL_CONFIRMATION', 'PHONE_CONFIRMATION'));

