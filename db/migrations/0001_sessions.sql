-- LiveKit webhook events and the meeting sessions built from them (seed 002's Session model).

-- Every webhook event, stored once by its id: a redelivered event is a no-op.
CREATE TABLE livekit_events (
    id           text PRIMARY KEY,
    event        text NOT NULL,
    room_name    text,
    room_sid     text,
    created_at   timestamptz NOT NULL,          -- the event's own time (createdAt), not arrival
    received_at  timestamptz NOT NULL DEFAULT now(),
    payload      jsonb NOT NULL
);
CREATE INDEX livekit_events_room_sid ON livekit_events (room_sid, created_at);

-- One session per LiveKit room instance. meeting_id is the room sid (seed 002: "recomendado: room.sid").
CREATE TABLE sessions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id       text NOT NULL UNIQUE,
    room_name        text NOT NULL,
    room_sid         text,
    status           text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'ENDED')),
    started_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    -- Time of the latest room_started seen: decides whether a late room_finished still ends the session.
    last_started_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_room_name ON sessions (room_name);
CREATE INDEX sessions_status ON sessions (status, started_at DESC);

-- Who was in the room, from participant_joined / participant_left.
CREATE TABLE session_participants (
    session_id       uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    participant_sid  text NOT NULL,
    identity         text NOT NULL,
    name             text,
    kind             text NOT NULL DEFAULT 'STANDARD',
    metadata         text,
    joined_at        timestamptz,
    left_at          timestamptz,
    PRIMARY KEY (session_id, participant_sid)
);
CREATE INDEX session_participants_identity ON session_participants (session_id, identity);

-- Which tracks they published, from track_published / track_unpublished.
CREATE TABLE session_tracks (
    session_id       uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    track_sid        text NOT NULL,
    participant_sid  text,
    participant_identity text,
    kind             text,
    source           text,
    name             text,
    published_at     timestamptz,
    unpublished_at   timestamptz,
    PRIMARY KEY (session_id, track_sid)
);

-- Store one webhook event and fold it into the session tables, in one round trip (webhooks are the
-- control plane's hottest write path). Returns false when the event id was already stored: a LiveKit
-- redelivery changes nothing. Every update is order-independent: start times take the earliest value
-- seen, end times the latest, and ACTIVE versus ENDED is decided by comparing event times
-- (last_started_at versus ended_at), never by which event arrived last.
CREATE FUNCTION escuta_ingest_livekit_event(
    p_id text, p_event text, p_room_name text, p_room_sid text, p_at timestamptz, p_payload jsonb,
    p_room_start timestamptz,
    p_participant_sid text, p_identity text, p_name text, p_kind text, p_metadata text, p_joined_at timestamptz,
    p_track_sid text, p_track_kind text, p_track_source text, p_track_name text
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_meeting text := COALESCE(NULLIF(p_room_sid, ''), 'name:' || NULLIF(p_room_name, ''));
    v_session uuid;
    v_left boolean := p_event IN ('participant_left', 'participant_connection_aborted');
BEGIN
    INSERT INTO livekit_events (id, event, room_name, room_sid, created_at, payload)
    VALUES (p_id, p_event, NULLIF(p_room_name, ''), NULLIF(p_room_sid, ''), p_at, p_payload)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF v_meeting IS NULL OR p_event NOT IN ('room_started', 'room_finished', 'participant_joined',
            'participant_left', 'participant_connection_aborted', 'track_published', 'track_unpublished') THEN
        RETURN true;
    END IF;

    INSERT INTO sessions (meeting_id, room_name, room_sid, status, started_at)
    VALUES (v_meeting, COALESCE(p_room_name, ''), NULLIF(p_room_sid, ''), 'ACTIVE', p_room_start)
    ON CONFLICT (meeting_id) DO UPDATE
       SET started_at = LEAST(sessions.started_at, EXCLUDED.started_at),
           room_name  = COALESCE(NULLIF(EXCLUDED.room_name, ''), sessions.room_name),
           updated_at = now()
    RETURNING id INTO v_session;

    IF p_event = 'room_started' THEN
        -- A start newer than the recorded end re-activates (same room sid reused); an older one cannot.
        UPDATE sessions SET
            last_started_at = GREATEST(COALESCE(last_started_at, p_at), p_at),
            status   = CASE WHEN ended_at IS NOT NULL AND ended_at >= p_at THEN status ELSE 'ACTIVE' END,
            ended_at = CASE WHEN ended_at IS NOT NULL AND ended_at >= p_at THEN ended_at ELSE NULL END,
            updated_at = now()
        WHERE id = v_session;
    ELSIF p_event = 'room_finished' THEN
        -- A finish older than the latest start belongs to an earlier incarnation: keep it active.
        UPDATE sessions SET
            status   = CASE WHEN last_started_at IS NOT NULL AND last_started_at > p_at THEN status
                            ELSE 'ENDED' END,
            ended_at = CASE WHEN last_started_at IS NOT NULL AND last_started_at > p_at THEN ended_at
                            ELSE GREATEST(COALESCE(ended_at, p_at), p_at) END,
            updated_at = now()
        WHERE id = v_session;
    ELSIF p_event LIKE 'participant_%' AND NULLIF(p_identity, '') IS NOT NULL THEN
        INSERT INTO session_participants
            (session_id, participant_sid, identity, name, kind, metadata, joined_at, left_at)
        VALUES (v_session, COALESCE(NULLIF(p_participant_sid, ''), 'identity:' || p_identity), p_identity,
                NULLIF(p_name, ''), p_kind, NULLIF(p_metadata, ''),
                COALESCE(p_joined_at, CASE WHEN v_left THEN NULL ELSE p_at END),
                CASE WHEN v_left THEN p_at END)
        ON CONFLICT (session_id, participant_sid) DO UPDATE SET
            identity  = EXCLUDED.identity,
            name      = COALESCE(EXCLUDED.name, session_participants.name),
            kind      = EXCLUDED.kind,
            metadata  = COALESCE(EXCLUDED.metadata, session_participants.metadata),
            joined_at = LEAST(session_participants.joined_at, EXCLUDED.joined_at),
            left_at   = GREATEST(session_participants.left_at, EXCLUDED.left_at);
    ELSIF p_event LIKE 'track_%' AND NULLIF(p_track_sid, '') IS NOT NULL THEN
        INSERT INTO session_tracks (session_id, track_sid, participant_sid, participant_identity,
                                    kind, source, name, published_at, unpublished_at)
        VALUES (v_session, p_track_sid, NULLIF(p_participant_sid, ''), NULLIF(p_identity, ''),
                p_track_kind, p_track_source, NULLIF(p_track_name, ''),
                CASE WHEN p_event = 'track_published' THEN p_at END,
                CASE WHEN p_event = 'track_unpublished' THEN p_at END)
        ON CONFLICT (session_id, track_sid) DO UPDATE SET
            participant_sid = COALESCE(EXCLUDED.participant_sid, session_tracks.participant_sid),
            participant_identity = COALESCE(EXCLUDED.participant_identity, session_tracks.participant_identity),
            name = COALESCE(EXCLUDED.name, session_tracks.name),
            published_at = LEAST(session_tracks.published_at, EXCLUDED.published_at),
            unpublished_at = GREATEST(session_tracks.unpublished_at, EXCLUDED.unpublished_at);
    END IF;
    RETURN true;
END;
$$;
