-- Accounts, sessions and one-time codes of the REST gateway (role `gateway`).
-- Secrets are never stored in clear: password_hash is BCrypt, refresh tokens and OTP codes are
-- SHA-256 digests (they are random and short-lived, so a slow hash buys nothing).

CREATE TABLE users (
    id               uuid        PRIMARY KEY,
    email            text        NOT NULL,
    phone            text,
    password_hash    text        NOT NULL,
    role             text        NOT NULL DEFAULT 'USER',
    operator_regions text[]      NOT NULL DEFAULT '{}',
    email_verified   boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check CHECK (role IN ('USER', 'OPERATOR', 'ADMIN'))
);
-- Addresses are compared case-insensitively; the application stores them lower-cased.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- One row per refresh token. A login starts a family (family_id = the first row's id, also the
-- access token's sid); each refresh revokes its row (revoked_reason 'rotated') and inserts the
-- next one with rotated_from pointing back. Presenting a rotated token again revokes the family.
CREATE TABLE sessions (
    id                 uuid        PRIMARY KEY,
    family_id          uuid        NOT NULL,
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_hash bytea       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    revoked_reason     text,
    rotated_from       uuid        REFERENCES sessions (id) ON DELETE SET NULL,
    user_agent         text,
    ip_address         text,
    CONSTRAINT sessions_refresh_token_hash_key UNIQUE (refresh_token_hash)
);
CREATE INDEX sessions_family_idx ON sessions (family_id);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Access tokens revoked before their expiry (logout). Redis holds the same set with a TTL for
-- the per-request check; this table is the durable copy and the fallback when Redis is down.
CREATE TABLE token_blacklist (
    jti        text        PRIMARY KEY,
    user_id    uuid,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_blacklist_expires_idx ON token_blacklist (expires_at);

CREATE TABLE otp_verifications (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text        NOT NULL,
    code_hash   bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    consumed_at timestamptz,
    CONSTRAINT otp_verifications_purpose_check CHECK (purpose IN ('EMAIL_VERIFICATION')),
    CONSTRAINT otp_verifications_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX otp_verifications_user_idx ON otp_verifications (user_id, purpose, created_at DESC);

-- Who owns a meter, over time. The open row (unassigned_at IS NULL) is the current owner; at most
-- one per meter. meters.user_id mirrors it for the pipeline's readers.
CREATE TABLE meter_user_assignments (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meter_id      text        NOT NULL REFERENCES meters (meter_id),
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at   timestamptz NOT NULL DEFAULT now(),
    unassigned_at timestamptz,
    CONSTRAINT meter_user_assignments_period_check CHECK (unassigned_at IS NULL OR unassigned_at >= assigned_at)
);
CREATE UNIQUE INDEX meter_user_assignments_current_key ON meter_user_assignments (meter_id) WHERE unassigned_at IS NULL;
CREATE INDEX meter_user_assignments_user_idx ON meter_user_assignments (user_id) WHERE unassigned_at IS NULL;

CREATE TABLE notification_preferences (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    channels     text[]      NOT NULL DEFAULT '{email}',
    -- Same levels as SmartGrid.Domain.Severity, by wire name.
    min_severity text        NOT NULL DEFAULT 'medium',
    webhook_url  text,
    email        text,
    phone        text,
    quiet_hours_start time,
    quiet_hours_end   time,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_preferences_channels_check CHECK (channels <@ ARRAY['email', 'sms', 'push', 'webhook']::text[]),
    CONSTRAINT notification_preferences_severity_check CHECK (min_severity IN ('low', 'medium', 'high', 'critical'))
);
