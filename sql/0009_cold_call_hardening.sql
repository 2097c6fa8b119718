-- Cold-call hardening (issue 10, items 3, 5 and 12).

-- Item 3: a session whose contact never answered ends at once. When the contact's leg reaches a
-- terminal status (busy, no-answer, failed, canceled, or completed: hung up) while its session has not
-- started, the session completes and keeps that status as its reason. A trigger, because a call's status
-- moves on several paths (status webhooks, Telnyx call events, early events applied by markPlaced, an
-- unconfirmed dial) and every one of them must end the session in the same transaction.
ALTER TABLE conferences
    ADD COLUMN ended_reason text CHECK (ended_reason IN ('busy', 'no-answer', 'failed', 'canceled', 'completed'));

CREATE FUNCTION switchboard_end_unstarted_session() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conferences
    SET status = 'completed', ended_reason = NEW.status, ended_at = COALESCE(ended_at, now()), updated_at = now()
    WHERE organization_id = NEW.organization_id AND id = NEW.conference_id AND status = 'init';
    RETURN NULL;
END
$$;

CREATE TRIGGER calls_end_unstarted_session
    AFTER UPDATE OF status ON calls
    FOR EACH ROW
    WHEN (NEW.conference_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status
          AND NEW.status IN ('busy', 'no-answer', 'failed', 'canceled', 'completed'))
    EXECUTE FUNCTION switchboard_end_unstarted_session();

-- Item 5: the Telnyx bridge claims its work on a session with a lease instead of holding the row lock
-- across the provider request: one bridge request (create or join the provider conference) per session
-- at a time. bridge_lease_until is when another delivery may take over; bridge_lease_call is the leg
-- that last claimed it, kept after the lease ends: a claimant that did not record its result may have
-- created the conference, so the next one looks it up by name at the provider first.
ALTER TABLE conferences
    ADD COLUMN bridge_lease_call  text,
    ADD COLUMN bridge_lease_until timestamptz;

-- Item 12: an event for no known call is stored only while the organization has a call of that provider
-- still initiating (it may be that call's early event); this finds such calls without a scan.
CREATE INDEX calls_initiating_by_provider_idx ON calls (organization_id, provider) WHERE status = 'initiating';
