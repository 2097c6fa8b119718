-- API keys: only the SHA-256 of the secret part is stored; lookup is by the public prefix.
-- organization_id is NULL exactly for platform keys.
CREATE TABLE api_keys (
    id              uuid        NOT NULL,
    organization_id uuid        REFERENCES organizations (id),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    prefix          text        NOT NULL UNIQUE,
    secret_hash     bytea       NOT NULL CHECK (length(secret_hash) = 32),
    role            text        NOT NULL CHECK (role IN ('platform', 'admin', 'service')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    last_used_at    timestamptz,
    PRIMARY KEY (id),
    CHECK ((role = 'platform') = (organization_id IS NULL))
);
CREATE INDEX api_keys_organization_idx ON api_keys (organization_id, created_at);
