-- The response each create answered under an `Idempotency-Key`, so that a
-- retry is answered the same without writing again. Written in the same
-- transaction as the write it records. Never the key itself: its SHA-256;
-- and the response body only sealed with a key derived from the raw key
-- (ChaCha20-Poly1305), because a token's response holds its secret.
CREATE TABLE idempotency_keys (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key_hash BLOB NOT NULL,
    -- SHA-256 of the operation and the canonical request body.
    fingerprint BLOB NOT NULL,
    status INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    sealed_body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, key_hash)
);

-- Expired records (older than 24 hours) are deleted oldest first.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
