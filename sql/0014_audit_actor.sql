-- Audit rows name who acted: an API key (actor_key_id), a console user (actor_user_id and the
-- email they had then), the operator's CLI, or the server itself.
ALTER TABLE audit_events
    ADD COLUMN actor_type    text NOT NULL DEFAULT 'api_key'
        CHECK (actor_type IN ('api_key', 'user', 'cli', 'system')),
    ADD COLUMN actor_user_id uuid,
    ADD COLUMN actor_email   text;
UPDATE audit_events SET actor_type = CASE
    WHEN actor_key_id IS NOT NULL THEN 'api_key'
    WHEN actor_name = 'cli' THEN 'cli'
    ELSE 'system' END;
