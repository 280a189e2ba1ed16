-- The grid below a region (issue 17): feeders hang on a region's substation, transformers on a
-- feeder, meters on a transformer. A region is the substation level and stays in `regions`; the
-- nodes below it share one table so a node id names one node whatever its kind (the routes take
-- /nodes/{id} without a kind), unique regardless of case, and never equal to a region's name (the
-- store checks that, since regions live in another table).
--
-- rated_kw is the real-power rating the load percentage is measured against, in kW like a region's
-- capacity_kw: a kVA nameplate is converted by the operator with the power factor they plan for.
CREATE TABLE grid_nodes (
    node_id    text             PRIMARY KEY,
    kind       text             NOT NULL CHECK (kind IN ('feeder', 'transformer')),
    parent_id  text             NOT NULL,
    region     text             NOT NULL REFERENCES regions (name),
    rated_kw   double precision NOT NULL CHECK (rated_kw > 0),
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX grid_nodes_id_ci_idx ON grid_nodes (lower(node_id));
CREATE INDEX grid_nodes_parent_idx ON grid_nodes (parent_id);
CREATE INDEX grid_nodes_region_idx ON grid_nodes (region, kind);

-- Where a meter hangs, over time: [valid_from, valid_to), valid_to NULL while it is still there.
-- A move closes the old row and opens a new one, so what was under a transformer last month stays
-- answerable. The database refuses two placements of one meter that overlap.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE meter_placements (
    meter_id       text        NOT NULL,
    transformer_id text        NOT NULL REFERENCES grid_nodes (node_id),
    valid_from     timestamptz NOT NULL,
    valid_to       timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT meter_placements_pkey PRIMARY KEY (meter_id, valid_from),
    CONSTRAINT meter_placements_period_check CHECK (valid_to IS NULL OR valid_to > valid_from),
    CONSTRAINT meter_placements_no_overlap EXCLUDE USING gist (meter_id WITH =, tstzrange(valid_from, valid_to) WITH &&)
);
CREATE INDEX meter_placements_transformer_idx ON meter_placements (transformer_id, valid_from);
