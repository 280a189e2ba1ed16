-- Power-quality alerts (issue 17): POWER_QUALITY for a meter's sustained EN 50160 non-compliance,
-- SWELL for its swells. Both are about a meter, in its region.
ALTER TABLE alerts DROP CONSTRAINT alerts_type_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_type_check CHECK (type IN ('ANOMALY', 'THRESHOLD', 'OUTAGE', 'INCIDENT', 'POWER_QUALITY', 'SWELL'));
