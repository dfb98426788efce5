-- Signed webhooks. An endpoint's signing secret is kept sealed
-- (ChaCha20-Poly1305 under APPDECK_WEBHOOK_SECRET_KEY, the endpoint id as
-- associated data), never in plaintext. `event_types` is a JSON array of
-- event type names; NULL subscribes to every type.
CREATE TABLE webhook_endpoints (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    secret_nonce BLOB NOT NULL,
    secret_sealed BLOB NOT NULL,
    -- Since when every attempt to it has failed; NULL after a success.
    failing_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX webhook_endpoints_by_organization ON webhook_endpoints (organization_id, id);

-- One row per audit event that at least one endpoint subscribed to, written
-- in the audit event's transaction (the outbox). `id` is the audit event's
-- id; `payload` is the JSON exactly as signed and sent.
CREATE TABLE webhook_events (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One event to one endpoint. A worker claims a due one by setting
-- `lease_until`; until then no other worker claims it.
CREATE TABLE webhook_deliveries (
    id BLOB PRIMARY KEY NOT NULL,
    event_id BLOB NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT,
    lease_until TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id BLOB PRIMARY KEY NOT NULL,
    delivery_id BLOB NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TEXT NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT
);

CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);

-- Endpoint writes are audited too. SQLite cannot change a CHECK in place,
-- so the table is rebuilt with the same columns, in the same order.
CREATE TABLE audit_events_with_webhooks (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    occurred_at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id BLOB,
    actor_label TEXT,
    target_type TEXT NOT NULL CHECK (target_type IN ('app', 'token', 'organization', 'webhook_endpoint')),
    target_id BLOB NOT NULL,
    changes TEXT NOT NULL,
    request_id TEXT
);
INSERT INTO audit_events_with_webhooks SELECT * FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_with_webhooks RENAME TO audit_events;

CREATE INDEX audit_events_by_organization ON audit_events (organization_id, id);
CREATE INDEX audit_events_by_action ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_by_actor ON audit_events (organization_id, actor_id, id);
CREATE INDEX audit_events_by_target ON audit_events (organization_id, target_id, id);
