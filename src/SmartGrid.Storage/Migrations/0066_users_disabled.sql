-- An admin can disable an account: it cannot log in or refresh, and its sessions end at once
-- (their access tokens are refused on the next request). NULL: enabled.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
