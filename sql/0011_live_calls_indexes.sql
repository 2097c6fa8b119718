-- The sweeper of calls left 'initiating' (the request that placed them died before recording the
-- provider's answer) scans only those rows, oldest first.
CREATE INDEX calls_initiating_idx ON calls (created_at) WHERE status = 'initiating';
-- CALL_POLICY counts an organization's calls that have not ended (max_concurrent_calls) on every
-- initiate; this index holds only those rows.
CREATE INDEX calls_live_idx ON calls (organization_id, created_at)
    WHERE switchboard_call_status_rank(status) < 4;
