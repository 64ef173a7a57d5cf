-- Transcripts written by the agent worker's transcription profile (issue 6): one row per utterance,
-- including the ones no speech-to-text provider could transcribe (status 'failed', with the reason
-- and a reference to the kept audio), so no utterance is ever silently lost.
--
-- Keyed by meeting_id (the room sid, as sessions.meeting_id) rather than a foreign key to sessions:
-- the agent may write before the webhook that creates the session row has arrived.
CREATE TABLE transcripts (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id            text NOT NULL,
    org_id                uuid REFERENCES organizations (id) ON DELETE CASCADE,
    segment_id            text NOT NULL,             -- also the lk.segment_id of the published text stream
    participant_identity  text NOT NULL,
    track_sid             text,
    start_s               double precision NOT NULL CHECK (start_s >= 0),   -- on the session clock
    end_s                 double precision NOT NULL,
    started_at            timestamptz,               -- wall-clock time of start_s
    text                  text,
    language              text,
    provider              text,
    model                 text,
    confidence            real,
    latency_ms            real,                      -- utterance end to transcript ready
    provider_ms           real,                      -- of which the answering provider took this long
    status                text NOT NULL CHECK (status IN ('ok', 'failed')),
    failure_reason        text,
    audio_ref             text,
    attempts              jsonb NOT NULL DEFAULT '[]',
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, segment_id),
    CHECK (end_s >= start_s),
    CHECK ((status = 'ok' AND text IS NOT NULL) OR (status = 'failed' AND failure_reason IS NOT NULL))
);
CREATE INDEX transcripts_meeting ON transcripts (meeting_id, start_s);
CREATE INDEX transcripts_org ON transcripts (org_id, created_at DESC);

-- Tenant isolation as for sessions: a transaction scoped to an organization sees only its rows; rows
-- without an organization (replays, rooms nobody minted) only the platform's unscoped view.
ALTER TABLE transcripts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON transcripts TO escuta_app
    USING (org_id IS NOT DISTINCT FROM escuta_current_org())
    WITH CHECK (org_id IS NOT DISTINCT FROM escuta_current_org());
GRANT SELECT, INSERT, UPDATE, DELETE ON transcripts TO escuta_app;
