-- Regions are operator data: a reading or a meter may only name one of these. Names keep the
-- operator's spelling and are unique case-insensitively, so "nashik" finds "Nashik" and no second
-- "NASHIK" can be created. A retired region keeps its row (history, invoices, aggregates name it)
-- but takes no readings and no new meters.
CREATE TABLE regions (
    name            text             PRIMARY KEY,
    capacity_kw     double precision NOT NULL CHECK (capacity_kw > 0),
    nominal_voltage double precision NOT NULL CHECK (nominal_voltage > 0),
    time_zone       text             NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    updated_at      timestamptz      NOT NULL DEFAULT now(),
    retired_at      timestamptz
);
CREATE UNIQUE INDEX regions_name_ci_idx ON regions (lower(name));

-- Every change of a region: who (an admin's user id, or "seed:configuration"), when, before and after.
CREATE TABLE region_audit (
    id        bigserial   PRIMARY KEY,
    region    text        NOT NULL,
    action    text        NOT NULL CHECK (action IN ('seeded', 'created', 'updated', 'retired')),
    actor     text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    old_value jsonb,
    new_value jsonb
);
CREATE INDEX region_audit_region_idx ON region_audit (lower(region), at);

-- Credentials of head-end systems and simulators for POST /telemetry/batch. Only the SHA-256 of
-- the secret is kept (the secret is 256 random bits, so no slow hash is needed); the prefix is the
-- secret's public start, shown in lists and used to find the row. regions NULL = every region.
CREATE TABLE ingestion_api_keys (
    id            uuid        PRIMARY KEY,
    name          text        NOT NULL,
    prefix        text        NOT NULL,
    secret_sha256 bytea       NOT NULL UNIQUE,
    regions       text[],
    can_provision boolean     NOT NULL DEFAULT false,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    text
);
CREATE INDEX ingestion_api_keys_active_idx ON ingestion_api_keys (prefix) WHERE revoked_at IS NULL;
