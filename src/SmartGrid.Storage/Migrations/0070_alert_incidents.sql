-- Issue 14, storm mode: one regional INCIDENT alert when many of a region's meters go silent or drop
-- together. The per-meter alerts that belong to it point at it (incident_id) and are not notified:
-- the incident is, once. incident_id also rides on every lifecycle event (the alert's JSON), so the
-- NotificationManager needs no lookup.
ALTER TABLE alerts DROP CONSTRAINT alerts_type_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_type_check CHECK (type IN ('ANOMALY', 'THRESHOLD', 'OUTAGE', 'INCIDENT'));
ALTER TABLE alerts ADD COLUMN incident_id uuid REFERENCES alerts (alert_id);
CREATE INDEX alerts_incident_idx ON alerts (incident_id) WHERE incident_id IS NOT NULL;

-- The outage check looks for the open ANOMALY alerts whose meter is back in band every minute.
CREATE INDEX alerts_open_type_idx ON alerts (type) WHERE status <> 'resolved';
