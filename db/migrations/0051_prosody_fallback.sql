-- Issue 21: which prosody measure a meeting's coach used. A meeting set up for Hume (the organization
-- stored a `hume` key) is measured locally from the moment Hume refuses the key (401/403: the realtime
-- API is in limited release) or keeps failing; the next meeting tries Hume again.
--
-- prosody_status: one row when the meeting's coach starts, one more at a fallback; the latest row is the
-- measure in use (`GET /feedback/debug` and `/feedback/metrics` show it).
-- feedback_events.prosody_provider / prosody_fallback: the measure in effect when the coach produced the
-- event (NULL provider: prosody off, or an event stored before this migration).

ALTER TABLE feedback_events
    ADD COLUMN prosody_provider text,
    ADD COLUMN prosody_fallback text;

CREATE TABLE prosody_status (
    id          bigserial PRIMARY KEY,
    org_id      uuid REFERENCES organizations (id) ON DELETE CASCADE,
    meeting_id  text NOT NULL,
    requested   text NOT NULL,                    -- what the meeting was set up with: hume | local
    provider    text NOT NULL,                    -- what measures from `at` on
    fallback    text,                             -- why provider <> requested: hume_refused | hume_failed | no_hume_credential
    detail      text,                             -- e.g. "key refused: HTTP 403" (never a key)
    at          timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prosody_status_meeting ON prosody_status (meeting_id, at);
CREATE INDEX prosody_status_created ON prosody_status (created_at);

ALTER TABLE prosody_status ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON prosody_status TO escuta_app
    USING (org_id IS NOT DISTINCT FROM escuta_current_org())
    WITH CHECK (org_id IS NOT DISTINCT FROM escuta_current_org());
GRANT SELECT, INSERT, UPDATE, DELETE ON prosody_status TO escuta_app;
GRANT USAGE ON SEQUENCE prosody_status_id_seq TO escuta_app;
