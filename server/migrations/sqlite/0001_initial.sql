-- Ids are UUIDv7 stored as 16-byte blobs, so they sort by creation time.
-- Timestamps are RFC 3339 UTC text.

CREATE TABLE organizations (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    rate_limit_per_hour INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'ci')),
    token_hash TEXT NOT NULL UNIQUE,
    masked_token TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at TEXT NOT NULL,
    -- Revoked tokens keep their row, so `created_by` can still name them.
    created_by BLOB REFERENCES api_tokens (id),
    last_used_at TEXT,
    expires_at TEXT,
    revoked_at TEXT
);

CREATE UNIQUE INDEX api_tokens_live_label ON api_tokens (organization_id, label) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_by_organization ON api_tokens (organization_id, id);

CREATE TABLE apps (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    api_key TEXT NOT NULL UNIQUE,
    api_secret TEXT NOT NULL,
    platform TEXT NOT NULL,
    bundle_id TEXT,
    environment TEXT NOT NULL,
    app_store_url TEXT,
    play_store_url TEXT,
    website_url TEXT,
    authorized_domains TEXT NOT NULL,
    data_retention_days INTEGER NOT NULL,
    timezone TEXT NOT NULL,
    features TEXT NOT NULL,
    status TEXT NOT NULL,
    engagement_platform TEXT NOT NULL,
    engagement_credentials TEXT,
    email_platform TEXT NOT NULL,
    email_credentials TEXT,
    webhook_enabled INTEGER NOT NULL,
    webhook_url TEXT,
    webhook_use_query_params INTEGER NOT NULL,
    context_info TEXT,
    url_context TEXT,
    cached_user_count INTEGER NOT NULL DEFAULT 0,
    cached_event_count INTEGER NOT NULL DEFAULT 0,
    cached_last_event TEXT,
    stats_last_updated TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX apps_by_organization ON apps (organization_id, id);
CREATE INDEX apps_by_organization_environment ON apps (organization_id, environment, id);
CREATE INDEX apps_by_organization_status ON apps (organization_id, status, id);
