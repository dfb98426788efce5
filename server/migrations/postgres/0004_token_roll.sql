-- A rolled token's earlier secret, honoured until `previous_expires_at`
-- so that its holders can move to the new one without downtime. A hash,
-- never the secret; a later roll replaces it.
ALTER TABLE api_tokens ADD COLUMN previous_token_hash TEXT;
ALTER TABLE api_tokens ADD COLUMN previous_expires_at TIMESTAMPTZ;

-- Authentication finds a token by either hash; each is unique like `token_hash`.
CREATE UNIQUE INDEX api_tokens_previous_token_hash ON api_tokens (previous_token_hash);
