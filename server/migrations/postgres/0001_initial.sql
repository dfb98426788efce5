-- Ids are UUIDv7, so they sort by creation time. Timestamps keep the
-- millisecond precision the API shows.

CREATE TABLE organizations (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    rate_limit_per_hour BIGINT NOT NULL CHECK (rate_limit_per_hour > 0),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'ci')),
    token_hash TEXT NOT NULL UNIQUE,
    masked_token TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at TIMESTAMPTZ NOT NULL,
    -- Revoked tokens keep their row, so `created_by` can still name them.
    created_by UUID REFERENCES api_tokens (id),
    last_used_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX api_tokens_live_label ON api_tokens (organization_id, label) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_by_organization ON api_tokens (organization_id, id);

CREATE TABLE apps (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
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
    authorized_domains JSONB NOT NULL,
    data_retention_days INTEGER NOT NULL,
    timezone TEXT NOT NULL,
    features JSONB NOT NULL,
    status TEXT NOT NULL,
    engagement_platform TEXT NOT NULL,
    engagement_credentials JSONB,
    email_platform TEXT NOT NULL,
    email_credentials JSONB,
    webhook_enabled BOOLEAN NOT NULL,
    webhook_url TEXT,
    webhook_use_query_params BOOLEAN NOT NULL,
    context_info TEXT,
    url_context TEXT,
    cached_user_count BIGINT NOT NULL DEFAULT 0,
    cached_event_count BIGINT NOT NULL DEFAULT 0,
    cached_last_event TIMESTAMPTZ,
    stats_last_updated TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX apps_by_organization ON apps (organization_id, id);
CREATE INDEX apps_by_organization_environment ON apps (organization_id, environment, id);
CREATE INDEX apps_by_organization_status ON apps (organization_id, status, id);
CREATE INDEX apps_by_organization_environment_status ON apps (organization_id, environment, status, id);
