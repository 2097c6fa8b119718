-- The retention job deletes webhook events older than SWITCHBOARD_WEBHOOK_RETENTION_DAYS, oldest
-- first, in batches: this index finds each batch without reading the table.
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
