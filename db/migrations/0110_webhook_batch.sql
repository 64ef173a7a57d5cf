-- Webhook events in batches (issue 20.3): one round trip and one transaction for several events.
--
-- At 10,000 rooms starting within a minute LiveKit sends thousands of events a second; one statement
-- per event costs a round trip and a commit each. The API collects the events that arrive while a
-- write is in flight and stores them with this function, answering each request only after the
-- batch's transaction has committed (acknowledged is stored, as before).
--
-- Each event keeps the single-event path's tenancy: the transaction becomes escuta_app (row-level
-- security on) and app.org_id is set to the organization its room was minted for before that event is
-- folded in by escuta_ingest_livekit_event (migration 0001). Results come back by 1-based position.
CREATE FUNCTION escuta_ingest_livekit_events(
    p_role text,
    p_id text[], p_event text[], p_room_name text[], p_room_sid text[], p_at timestamptz[], p_payload text[],
    p_room_start timestamptz[],
    p_participant_sid text[], p_identity text[], p_name text[], p_kind text[], p_metadata text[],
    p_joined_at timestamptz[],
    p_track_sid text[], p_track_kind text[], p_track_source text[], p_track_name text[]
) RETURNS TABLE (ord integer, org_id uuid, stored boolean) LANGUAGE plpgsql AS $$
DECLARE
    i integer;
BEGIN
    -- SET LOCAL ROLE: the rest of this function, and of the transaction, runs under row-level security.
    PERFORM set_config('role', p_role, true);
    FOR i IN 1 .. coalesce(array_length(p_id, 1), 0) LOOP
        ord := i;
        org_id := escuta_room_org(coalesce(p_room_name[i], ''));
        PERFORM set_config('app.org_id', coalesce(org_id::text, ''), true);
        stored := escuta_ingest_livekit_event(
            p_id[i], p_event[i], p_room_name[i], p_room_sid[i], p_at[i], p_payload[i]::jsonb, p_room_start[i],
            p_participant_sid[i], p_identity[i], p_name[i], p_kind[i], p_metadata[i], p_joined_at[i],
            p_track_sid[i], p_track_kind[i], p_track_source[i], p_track_name[i]);
        RETURN NEXT;
    END LOOP;
END;
$$;
