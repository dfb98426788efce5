-- One row per successful write, written in the write's transaction.
-- `changes` is a JSON array of field names; no value is ever stored here.
CREATE TABLE audit_events (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    occurred_at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id BLOB,
    -- The actor's label when it acted, kept even if the token is relabelled.
    actor_label TEXT,
    target_type TEXT NOT NULL CHECK (target_type IN ('app', 'token', 'organization')),
    target_id BLOB NOT NULL,
    changes TEXT NOT NULL,
    request_id TEXT
);

CREATE INDEX audit_events_by_organization ON audit_events (organization_id, id);
CREATE INDEX audit_events_by_action ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_by_actor ON audit_events (organization_id, actor_id, id);
CREATE INDEX audit_events_by_target ON audit_events (organization_id, target_id, id);
