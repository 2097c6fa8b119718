-- An organization's contacts: people to call, one row per phone number (E.164). Optional
-- fields are NULL when empty, never ''; lengths are in characters, as the API counts them.
CREATE TABLE contacts (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    id              uuid        NOT NULL,
    name            text        CHECK (length(name) BETWEEN 1 AND 200),
    phone_e164      text        NOT NULL CHECK (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
    company         text        CHECK (length(company) BETWEEN 1 AND 200),
    notes           text        CHECK (length(notes) BETWEEN 1 AND 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, phone_e164)
);
CREATE INDEX contacts_listing_idx ON contacts (organization_id, created_at DESC, id DESC);
