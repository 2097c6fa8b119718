-- Who did what to an organization's configuration and keys. Never holds a secret, masked or not.
CREATE TABLE audit_events (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    actor_key_id    uuid,
    actor_name      text        NOT NULL,
    action          text        NOT NULL,
    target          text        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (organization_id, id)
);
