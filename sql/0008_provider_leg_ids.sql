-- The provider's second id for a call, learned from its callbacks: Plivo's CallUUID (the live call;
-- provider_call_id keeps the request_uuid that POST /Call/ answers, which the callbacks carry as
-- RequestUUID/ALegRequestUUID) and Telnyx's call_leg_id (the only leg id call.recording.saved carries).
-- Hang-ups of live Plivo calls need it; events that name only this id still find their call.
ALTER TABLE calls ADD COLUMN provider_leg_id text;
CREATE INDEX calls_provider_leg_idx ON calls (organization_id, provider, provider_leg_id)
    WHERE provider_leg_id IS NOT NULL;
-- An event can arrive before the provider's API answer is recorded (markPlaced); its leg id waits
-- here and is copied onto the call when it is placed.
ALTER TABLE webhook_events ADD COLUMN provider_leg_id text;
