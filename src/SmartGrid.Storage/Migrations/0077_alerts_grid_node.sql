-- Overload alerts per transformer and feeder (issue 17): an alert may name the grid node it is about.
-- A node's alert keeps the node's region (operators see it with their regions) and no meter, so the
-- node joins the open-alert identity: at most one open alert per (type, region, meter, node).
ALTER TABLE alerts ADD COLUMN node_id text;
DROP INDEX alerts_open_dedup_idx;
CREATE UNIQUE INDEX alerts_open_dedup_idx ON alerts (type, region, (COALESCE(meter_id, '')), (COALESCE(node_id, ''))) WHERE status <> 'resolved';
