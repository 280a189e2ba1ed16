-- The revocation mirror asks every few seconds for sessions ended since its last pass.
CREATE INDEX IF NOT EXISTS sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
