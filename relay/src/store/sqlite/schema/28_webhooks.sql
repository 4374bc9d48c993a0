CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    auth_header_name TEXT,
    auth_header_value TEXT,
    events INTEGER NOT NULL,
    message_types TEXT NOT NULL DEFAULT 'all',
    profile_id INTEGER REFERENCES profiles(id),
    batch_max INTEGER NOT NULL DEFAULT 1,
    batch_seconds INTEGER NOT NULL DEFAULT 0,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until INTEGER,
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    failing_since INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_site ON webhook_endpoints (site_id);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    events INTEGER NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    response_code INTEGER,
    duration_ms INTEGER,
    response_excerpt TEXT,
    error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    conversation_id INTEGER,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivery_id INTEGER REFERENCES webhook_deliveries(id) ON DELETE CASCADE
);
CREATE INDEX webhook_events_waiting ON webhook_events (endpoint_id, id) WHERE delivery_id IS NULL;
CREATE INDEX webhook_events_delivery ON webhook_events (delivery_id);
CREATE INDEX webhook_events_conversation ON webhook_events (conversation_id) WHERE conversation_id IS NOT NULL;
