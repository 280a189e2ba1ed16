-- Meter registry: a meter is auto-provisioned the first time one of its readings is seen
-- (auto_provisioned = true) or registered by an operator. user_id is text because the users
-- table belongs to the gateway; the assignment is looked up, not enforced by a foreign key.
CREATE TABLE meters (
    meter_id         text        PRIMARY KEY,
    region           text        NOT NULL,
    user_id          text,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    auto_provisioned boolean     NOT NULL DEFAULT false
);
CREATE INDEX meters_region_idx ON meters (region);
CREATE INDEX meters_user_id_idx ON meters (user_id) WHERE user_id IS NOT NULL;

-- Stored offset of each projection (Akka.Persistence.Query ordering), written in the same
-- transaction as the rows the projection produced: exactly-once effect into the tables.
CREATE TABLE projection_offsets (
    projection_id text        PRIMARY KEY,
    ordering      bigint      NOT NULL CHECK (ordering >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
