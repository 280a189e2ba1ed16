-- An operator's note on acknowledge and resolve, and the 'noted' event: a resolve asked for while the
-- condition continues keeps the alert open and records why, instead of resolving and re-raising it.
ALTER TABLE alert_acknowledgments ADD COLUMN note text;
ALTER TABLE alert_acknowledgments DROP CONSTRAINT alert_acknowledgments_action_check;
ALTER TABLE alert_acknowledgments ADD CONSTRAINT alert_acknowledgments_action_check
    CHECK (action IN ('created', 'acknowledged', 'resolved', 'noted'));
