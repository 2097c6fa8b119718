-- Cold-call sessions: a provider conference per session, its participants (the contact's leg and
-- the agent's browser leg), the call log's columns on `calls`, and the Telnyx telephony credentials
-- minted for agents' browsers. Everything a webhook needs is here, so any instance can process any
-- webhook.

CREATE TABLE conferences (
    organization_id        uuid        NOT NULL REFERENCES organizations (id),
    id                     uuid        NOT NULL,
    provider               text        NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    -- The name the provider knows the conference by ("sb-" + id): Twilio's FriendlyName.
    name                   text        NOT NULL,
    -- Twilio's ConferenceSid or Telnyx's conference id; NULL until the provider has created it.
    provider_conference_id text,
    status                 text        NOT NULL DEFAULT 'init' CHECK (status IN ('init', 'in-progress', 'completed')),
    contact_id             uuid,
    contact_name           text,
    contact_phone          text        NOT NULL,
    from_number            text        NOT NULL,
    -- The browser client that last asked to join (webrtc-join's client_id).
    agent_client_id        text,
    created_by             uuid,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    started_at             timestamptz,
    ended_at               timestamptz,
    end_requested_at       timestamptz,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, name),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id) ON DELETE SET NULL (contact_id),
    CHECK (status <> 'completed' OR ended_at IS NOT NULL)
);
CREATE UNIQUE INDEX conferences_provider_idx ON conferences (organization_id, provider, provider_conference_id)
    WHERE provider_conference_id IS NOT NULL;
CREATE INDEX conferences_listing_idx ON conferences (organization_id, created_at DESC, id DESC);

CREATE TABLE conference_participants (
    organization_id  uuid        NOT NULL,
    id               uuid        NOT NULL,
    conference_id    uuid        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('agent', 'contact')),
    provider_call_id text        NOT NULL,
    client_id        text,
    muted            boolean     NOT NULL DEFAULT false,
    on_hold          boolean     NOT NULL DEFAULT false,
    -- Order of the provider event that last set muted/on_hold (Twilio's SequenceNumber, Telnyx's
    -- occurred_at in microseconds): an older event arriving late changes nothing.
    state_sequence   bigint      NOT NULL DEFAULT 0,
    joined_at        timestamptz,
    left_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, conference_id, provider_call_id),
    FOREIGN KEY (organization_id, conference_id) REFERENCES conferences (organization_id, id) ON DELETE CASCADE
);

-- The contact's leg is a row of `calls`; these columns make it the call log's entry.
ALTER TABLE calls
    ADD COLUMN conference_id             uuid,
    ADD COLUMN outcome                   text CHECK (outcome IN ('connected', 'voicemail', 'no_answer', 'busy',
                                              'wrong_number', 'not_interested', 'callback_requested',
                                              'meeting_booked', 'other')),
    ADD COLUMN outcome_notes             text CHECK (length(outcome_notes) BETWEEN 1 AND 2000),
    ADD COLUMN callback_at               timestamptz,
    ADD COLUMN outcome_recorded_at       timestamptz,
    ADD COLUMN outcome_recorded_by       uuid,
    ADD COLUMN recording_id              text,
    ADD COLUMN recording_url             text,
    ADD COLUMN recording_duration_seconds integer,
    ADD CONSTRAINT calls_conference_fk FOREIGN KEY (organization_id, conference_id)
        REFERENCES conferences (organization_id, id),
    ADD CONSTRAINT calls_callback_needs_outcome CHECK (callback_at IS NULL OR outcome = 'callback_requested');
CREATE INDEX calls_cold_call_idx ON calls (organization_id, created_at DESC, id DESC) WHERE conference_id IS NOT NULL;

-- Telnyx telephony credentials Switchboard created for an agent's browser: only the id is kept.
-- The SIP username and password Telnyx returns never leave the request that created them.
CREATE TABLE telephony_credentials (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    connection_id   text        NOT NULL,
    client_id       text        NOT NULL,
    credential_id   text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, connection_id, client_id)
);
