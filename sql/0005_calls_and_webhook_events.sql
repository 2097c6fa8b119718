-- Calls placed through a provider, one row per call, and every provider webhook received.
CREATE TABLE calls (
    organization_id  uuid        NOT NULL REFERENCES organizations (id),
    id               uuid        NOT NULL,
    provider         text        NOT NULL CHECK (provider IN ('twilio', 'telnyx', 'vonage', 'plivo')),
    -- NULL while the provider request is in flight ('initiating'), and for a call the provider
    -- never confirmed ('failed' with raw_status 'unconfirmed'), which keeps its Idempotency-Key.
    provider_call_id text,
    status           text        NOT NULL CHECK (status IN ('initiating', 'queued', 'initiated', 'ringing',
                                     'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled')),
    raw_status       text,
    direction        text        NOT NULL DEFAULT 'outbound',
    from_number      text        NOT NULL,
    to_number        text        NOT NULL,
    workflow_id      text,
    workflow_run_id  text,
    idempotency_key  text,
    request_hash     text,
    duration_seconds integer,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    answered_at      timestamptz,
    ended_at         timestamptz,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, idempotency_key),
    CHECK (status <> 'initiating' OR provider_call_id IS NULL),
    CHECK (provider_call_id IS NOT NULL OR status IN ('initiating', 'failed'))
);
CREATE UNIQUE INDEX calls_provider_call_idx ON calls (organization_id, provider, provider_call_id)
    WHERE provider_call_id IS NOT NULL;
CREATE INDEX calls_listing_idx ON calls (organization_id, created_at DESC, id DESC);

-- Each webhook is stored once: the unique key makes duplicates an acknowledged no-op.
CREATE TABLE webhook_events (
    organization_id  uuid        NOT NULL REFERENCES organizations (id),
    provider         text        NOT NULL,
    event_key        text        NOT NULL,
    kind             text        NOT NULL,
    provider_call_id text,
    status           text,
    raw_status       text,
    duration_seconds integer,
    payload          bytea       NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, provider, event_key)
);
CREATE INDEX webhook_events_call_idx ON webhook_events (organization_id, provider, provider_call_id);

-- Lifecycle order of call statuses: an event never moves a call to a lower rank, and a
-- terminal status (rank 4) never changes.
CREATE FUNCTION switchboard_call_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE status
        WHEN 'initiating' THEN -1 WHEN 'queued' THEN 0 WHEN 'initiated' THEN 1 WHEN 'ringing' THEN 2
        WHEN 'in-progress' THEN 3 ELSE 4 END
$$;

-- The last live credential check of each configuration document.
ALTER TABLE organization_configuration
    ADD COLUMN validated_at timestamptz,
    ADD COLUMN validation_error text;
