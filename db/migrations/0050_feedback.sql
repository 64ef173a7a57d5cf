-- Meeting coach (issue 9, seed 002): feedback events sent to hosts, level snapshots for the live debug
-- view, prosody results per utterance, and each organization's threshold overrides.
--
-- Keyed by meeting_id (the room sid, as sessions.meeting_id) rather than a foreign key to sessions:
-- the agent may write before the webhook that creates the session row arrives (as transcripts do).
-- Rows expire after FEEDBACK_TTL_DAYS through the scheduler's `feedback.retention` job; the created_at
-- indexes keep that delete cheap.

CREATE TABLE feedback_events (
    id              text PRIMARY KEY,                 -- the payload's "fb-<uuid>"
    org_id          uuid REFERENCES organizations (id) ON DELETE CASCADE,
    meeting_id      text NOT NULL,
    participant_id  text,                             -- NULL for meeting-wide events (silencio_prolongado)
    type            text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    sent_at         timestamptz NOT NULL,             -- the payload's ts (recorded even with no host)
    recipients      text[] NOT NULL DEFAULT '{}',     -- host identities it went to; empty: not sent
    latency_ms      real NOT NULL CHECK (latency_ms >= 0),   -- window end to sent
    payload         jsonb NOT NULL,                   -- exactly what hosts received (seed 002's shape)
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end >= window_start)
);
CREATE INDEX feedback_events_meeting ON feedback_events (meeting_id, sent_at);
CREATE INDEX feedback_events_created ON feedback_events (created_at);

-- One row per participant and snapshot (every ESCUTA_COACH_SNAPSHOT_INTERVAL_SECONDS); the debug view
-- reads the latest per participant.
CREATE TABLE feedback_snapshots (
    id               bigserial PRIMARY KEY,
    org_id           uuid REFERENCES organizations (id) ON DELETE CASCADE,
    meeting_id       text NOT NULL,
    participant_id   text NOT NULL,
    t_s              double precision NOT NULL,       -- session clock
    at               timestamptz NOT NULL,
    rms_dbfs         real NOT NULL,
    ema_rms_dbfs     real NOT NULL,
    mean_rms_dbfs    real NOT NULL,                   -- over 3 s
    peak_dbfs        real NOT NULL,
    clipping_ratio   real NOT NULL,
    speech_coverage  real NOT NULL,                   -- over 10 s
    speaking         boolean NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_snapshots_latest ON feedback_snapshots (meeting_id, participant_id, t_s DESC);
CREATE INDEX feedback_snapshots_created ON feedback_snapshots (created_at);

CREATE TABLE prosody_results (
    id               bigserial PRIMARY KEY,
    org_id           uuid REFERENCES organizations (id) ON DELETE CASCADE,
    meeting_id       text NOT NULL,
    participant_id   text NOT NULL,
    provider         text NOT NULL,
    utterance_start  double precision NOT NULL,       -- session clock, seconds
    utterance_end    double precision NOT NULL,
    window_start     double precision NOT NULL,
    window_end       double precision NOT NULL,
    features         jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prosody_results_meeting ON prosody_results (meeting_id, participant_id, utterance_start);
CREATE INDEX prosody_results_created ON prosody_results (created_at);

-- Per-organization coach configuration: threshold overrides (keys of agents.coach.config.CoachThresholds)
-- and whether the agent records WAV segments for this organization (NULL: the platform default).
CREATE TABLE coach_settings (
    org_id              uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    overrides           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(overrides) = 'object'),
    recordings_enabled  boolean,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['feedback_events', 'feedback_snapshots', 'prosody_results'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO escuta_app '
                       'USING (org_id IS NOT DISTINCT FROM escuta_current_org()) '
                       'WITH CHECK (org_id IS NOT DISTINCT FROM escuta_current_org())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO escuta_app', t);
    END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE feedback_snapshots_id_seq, prosody_results_id_seq TO escuta_app;

ALTER TABLE coach_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON coach_settings TO escuta_app
    USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org());
GRANT SELECT, INSERT, UPDATE, DELETE ON coach_settings TO escuta_app;
