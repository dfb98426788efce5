-- Signed webhooks. An endpoint's signing secret is kept sealed
-- (ChaCha20-Poly1305 under APPDECK_WEBHOOK_SECRET_KEY, the endpoint id as
-- associated data), never in plaintext. `event_types` is a JSON array of
-- event type names; NULL subscribes to every type.
CREATE TABLE webhook_endpoints (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT,
    event_types JSONB,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    secret_nonce BYTEA NOT NULL,
    secret_sealed BYTEA NOT NULL,
    -- Since when every attempt to it has failed; NULL after a success.
    failing_since TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX webhook_endpoints_by_organization ON webhook_endpoints (organization_id, id);

-- One row per audit event that at least one endpoint subscribed to, written
-- in the audit event's transaction (the outbox). `id` is the audit event's
-- id; `payload` is the JSON exactly as signed and sent, so it is TEXT.
CREATE TABLE webhook_events (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- One event to one endpoint. A worker claims a due one by setting
-- `lease_until`; until then no other worker (or instance) claims it.
CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY,
    event_id UUID NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    lease_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id UUID PRIMARY KEY,
    delivery_id UUID NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    error TEXT
);

CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);

-- Endpoint writes are audited too.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check
    CHECK (target_type IN ('app', 'token', 'organization', 'webhook_endpoint'));
