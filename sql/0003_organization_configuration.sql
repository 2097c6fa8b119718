-- Per-organization configuration documents. `public` holds the masked document (safe to show);
-- `sealed` is AES-256-GCM over the whole document under the master key `key_id`.
-- During a credential rotation the previous document stays in `previous_sealed` until
-- `previous_valid_until`, for webhook-signature verification only.
CREATE TABLE organization_configuration (
    organization_id      uuid        NOT NULL REFERENCES organizations (id),
    key                  text        NOT NULL,
    public               jsonb       NOT NULL,
    sealed               bytea       NOT NULL,
    key_id               text        NOT NULL,
    version              bigint      NOT NULL DEFAULT 1 CHECK (version > 0),
    previous_sealed      bytea,
    previous_key_id      text,
    previous_valid_until timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           uuid,
    PRIMARY KEY (organization_id, key),
    CHECK ((previous_sealed IS NULL) = (previous_key_id IS NULL)),
    CHECK ((previous_sealed IS NULL) = (previous_valid_until IS NULL))
);
-- Master-key rotation looks for rows still sealed under an older key.
CREATE INDEX organization_configuration_key_id_idx ON organization_configuration (key_id);
CREATE INDEX organization_configuration_previous_key_id_idx ON organization_configuration (previous_key_id)
    WHERE previous_key_id IS NOT NULL;
