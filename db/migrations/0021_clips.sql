-- Clips and bursts (issue 8, seed 004 "Clipador"): streamers watched on Twitch, their clips, and the
-- bursts (many clips in a short window) detected among them. Tenant-owned, with 0002's RLS pattern.

CREATE TABLE streamers (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    twitch_user_id            text NOT NULL CHECK (twitch_user_id ~ '^[0-9]{1,20}$'),
    display_name              text NOT NULL,
    avatar_url                text,
    -- The preset the monitoring settings came from; NULL when they were set by hand.
    monitor_preset            text CHECK (monitor_preset IN ('sensitive', 'balanced', 'conservative')),
    monitor_interval_seconds  integer NOT NULL CHECK (monitor_interval_seconds BETWEEN 10 AND 86400),
    monitor_min_clips         integer NOT NULL CHECK (monitor_min_clips BETWEEN 2 AND 1000),
    -- shared: the organization's (or the platform's) Twitch app; client: the streamer's own app below.
    api_mode                  text NOT NULL DEFAULT 'shared' CHECK (api_mode IN ('shared', 'client')),
    trial_expires_at          timestamptz,
    twitch_client_id          text,
    twitch_client_secret      bytea,          -- AES-256-GCM (escuta/crypto.py), never the plaintext
    twitch_secret_hint        text,
    -- DELETE /streams/{id} stops monitoring but keeps the clips and bursts already stored.
    deleted_at                timestamptz,
    -- End of the last window ingested from Twitch; the next ingestion starts a little before it.
    last_ingested_at          timestamptz,
    last_ingestion_error      text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, twitch_user_id),
    UNIQUE (org_id, id),
    CHECK ((twitch_client_id IS NULL) = (twitch_client_secret IS NULL)),
    CHECK (api_mode <> 'client' OR twitch_client_id IS NOT NULL)
);

CREATE TABLE clips (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         uuid NOT NULL,
    streamer_id    uuid NOT NULL,
    clip_id        text NOT NULL,                 -- Twitch's clip id (slug)
    created_at     timestamptz NOT NULL,          -- when the clip was made on Twitch
    viewer_count   integer NOT NULL DEFAULT 0 CHECK (viewer_count >= 0),
    video_id       text,
    title          text NOT NULL DEFAULT '',
    duration       double precision NOT NULL DEFAULT 0 CHECK (duration >= 0),
    url            text,
    thumbnail_url  text,
    game_id        text,
    source         text NOT NULL CHECK (source IN ('twitch', 'csv')),
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, clip_id),
    UNIQUE (org_id, id),
    -- The composite key keeps a clip in its streamer's organization.
    FOREIGN KEY (org_id, streamer_id) REFERENCES streamers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX clips_streamer_time ON clips (streamer_id, created_at);

CREATE TABLE bursts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL,
    streamer_id       uuid NOT NULL,
    started_at        timestamptz NOT NULL,       -- first clip
    ended_at          timestamptz NOT NULL,       -- last clip
    clip_count        integer NOT NULL CHECK (clip_count >= 1),
    total_views       bigint NOT NULL DEFAULT 0,
    -- The monitoring settings the burst was detected with.
    interval_seconds  integer NOT NULL,
    min_clips         integer NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CHECK (ended_at >= started_at),
    FOREIGN KEY (org_id, streamer_id) REFERENCES streamers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX bursts_org_recent ON bursts (org_id, ended_at DESC);
CREATE INDEX bursts_streamer ON bursts (streamer_id, ended_at);

CREATE TABLE burst_clips (
    org_id    uuid NOT NULL,
    burst_id  uuid NOT NULL,
    clip_id   bigint NOT NULL,
    PRIMARY KEY (burst_id, clip_id),
    FOREIGN KEY (org_id, burst_id) REFERENCES bursts (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, clip_id) REFERENCES clips (org_id, id) ON DELETE CASCADE
);
CREATE INDEX burst_clips_clip ON burst_clips (clip_id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['streamers', 'clips', 'bursts', 'burst_clips'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO escuta_app '
                       'USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON streamers, clips, bursts, burst_clips TO escuta_app;

-- The scheduler's ingestion crosses tenants only through this one question: which streamers of which
-- organizations are due. Everything else it does runs in a transaction scoped to the streamer's org.
CREATE FUNCTION escuta_clip_ingestion_targets()
RETURNS TABLE (org_id uuid, streamer_id uuid, trial_expired boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT s.org_id, s.id, COALESCE(s.trial_expires_at <= now(), false)
    FROM streamers s
    WHERE s.deleted_at IS NULL
    ORDER BY s.last_ingested_at NULLS FIRST, s.id
$$;
REVOKE ALL ON FUNCTION escuta_clip_ingestion_targets() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION escuta_clip_ingestion_targets() TO escuta_app;
