-- Avatar (issue 10, seed 000 "EuVatar"): each organization's avatar configuration, its media triggers
-- ("gatilhos de mídia"), per-session usage and a credit ledger.

-- One avatar configuration per organization. The voice id was validated against its provider when
-- it was stored (control_api/routes/avatar.py), so a session never starts with a voice that fails.
CREATE TABLE avatar_configs (
    org_id        uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    avatar_id     text NOT NULL,                     -- LiveAvatar avatar uuid
    instructions  text NOT NULL DEFAULT '',          -- the persona's system prompt
    language      text NOT NULL DEFAULT 'pt-BR',
    tts_provider  text NOT NULL CHECK (tts_provider IN ('elevenlabs', 'openai', 'hume')),
    voice_id      text NOT NULL,
    greeting      text,                              -- said when the visitor joins; NULL: wait for them
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A trigger fires when one of its phrases occurs in what the visitor or the agent says (accents and
-- case ignored: the matcher normalises both sides, see escuta/avatar/triggers.py).
CREATE TABLE media_triggers (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    phrases          text[] NOT NULL CHECK (cardinality(phrases) BETWEEN 1 AND 50),
    media_type       text NOT NULL CHECK (media_type IN ('image', 'video', 'link')),
    media_url        text NOT NULL,
    title            text NOT NULL,
    display_seconds  integer NOT NULL CHECK (display_seconds BETWEEN 1 AND 3600),
    cooldown_seconds integer CHECK (cooldown_seconds BETWEEN 0 AND 86400),  -- NULL: the settings' default
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);

-- Usage of one avatar session (meeting_id = the room sid, as sessions.meeting_id). Written once:
-- by the agent when the session ends, or by the reconciliation job from the webhooks' participant
-- times when the agent crashed before it could ('reconciled').
CREATE TABLE avatar_usage (
    meeting_id      text PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    room_name       text NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz NOT NULL,
    avatar_seconds  double precision NOT NULL CHECK (avatar_seconds >= 0),
    stt_seconds     double precision NOT NULL CHECK (stt_seconds >= 0),
    llm_tokens      bigint NOT NULL CHECK (llm_tokens >= 0),
    tts_characters  bigint NOT NULL CHECK (tts_characters >= 0),
    credits         numeric(14, 4) NOT NULL CHECK (credits >= 0),
    source          text NOT NULL CHECK (source IN ('agent', 'reconciled')),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX avatar_usage_org ON avatar_usage (org_id, ended_at DESC);

-- The balance is the sum of the ledger: grants are positive, consumption negative. One consumption
-- entry per session (the unique index makes recording it idempotent).
CREATE TABLE credit_ledger (
    id          bigserial PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('grant', 'consumption', 'adjustment')),
    amount      numeric(14, 4) NOT NULL,
    meeting_id  text,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'grant' AND amount > 0) OR (kind = 'consumption' AND amount <= 0 AND meeting_id IS NOT NULL)
           OR kind = 'adjustment')
);
CREATE INDEX credit_ledger_org ON credit_ledger (org_id, created_at DESC);
CREATE UNIQUE INDEX credit_ledger_consumption ON credit_ledger (meeting_id) WHERE kind = 'consumption';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['avatar_configs', 'media_triggers', 'avatar_usage', 'credit_ledger'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO escuta_app '
                       'USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO escuta_app', t);
    END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE credit_ledger_id_seq TO escuta_app;
