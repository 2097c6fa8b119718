-- Odoo contact sync and the transactional outbox.
--
-- A contact imported from Odoo keeps its partner id; a sync merges by it first, by phone second.
ALTER TABLE contacts ADD COLUMN odoo_partner_id bigint CHECK (odoo_partner_id > 0);
CREATE UNIQUE INDEX contacts_odoo_partner_idx ON contacts (organization_id, odoo_partner_id)
    WHERE odoo_partner_id IS NOT NULL;

-- One row per sync (manual or periodic): its counts, the write_date watermark it started from and
-- the newest one it saw (the next run's start), and why it failed when it did.
CREATE TABLE odoo_sync_runs (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    id              uuid        NOT NULL,
    trigger         text        NOT NULL CHECK (trigger IN ('manual', 'periodic')),
    status          text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    -- Odoo write_date values ("YYYY-MM-DD HH:MM:SS", UTC), compared by Odoo, stored as it sends them.
    since_write_date text,
    watermark       text,
    created         integer     NOT NULL DEFAULT 0,
    updated         integer     NOT NULL DEFAULT 0,
    unchanged       integer     NOT NULL DEFAULT 0,
    skipped         integer     NOT NULL DEFAULT 0,
    failed          integer     NOT NULL DEFAULT 0,
    -- reason -> count, e.g. {"no phone number": 12}
    skipped_reasons jsonb       NOT NULL DEFAULT '{}',
    -- the first few partners that were skipped or failed: [{"partner_id", "reason"}]
    problems        jsonb       NOT NULL DEFAULT '[]',
    error           text,
    started_by      uuid,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    PRIMARY KEY (organization_id, id),
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX odoo_sync_runs_listing_idx ON odoo_sync_runs (organization_id, started_at DESC, id DESC);

-- The transactional outbox: a row commits in the same transaction as the change that caused it and
-- is delivered by any instance (claimed with FOR UPDATE SKIP LOCKED), retried with backoff until it
-- is delivered or given up on. `kind` picks the handler (e.g. 'odoo.write_back').
CREATE TABLE outbox (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    id              uuid        NOT NULL,
    kind            text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    payload         jsonb       NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    given_up_at     timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    CHECK (delivered_at IS NULL OR given_up_at IS NULL)
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;
CREATE INDEX outbox_kind_idx ON outbox (organization_id, kind, created_at DESC);
