-- The web console's live views (issue 16): what changes inside a room, announced on commit.
--
-- 0080 announces a session's start and end on `escuta_sessions`; the console also shows who is in a
-- room, their tracks, and the transcripts and recommendations as they are written. Those go on their own
-- channel, `escuta_console`, so the existing listeners of `escuta_sessions` hear exactly what they did.
-- Payloads carry ids only (NOTIFY stops at 8000 bytes): {"kind", "org", "meeting"}; the console reads
-- the rows itself under the organization's scope.

CREATE FUNCTION escuta_notify_console(p_kind text, p_org uuid, p_meeting text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('escuta_console', json_build_object('kind', p_kind, 'org', p_org, 'meeting', p_meeting)::text)
$$;

CREATE FUNCTION escuta_notify_session_child() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM escuta_notify_console(
        CASE TG_TABLE_NAME WHEN 'session_tracks' THEN 'track' ELSE 'participant' END,
        NEW.org_id, (SELECT meeting_id FROM sessions WHERE id = NEW.session_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER session_participants_notify AFTER INSERT OR UPDATE ON session_participants
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_session_child();
CREATE TRIGGER session_tracks_notify AFTER INSERT OR UPDATE ON session_tracks
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_session_child();

CREATE FUNCTION escuta_notify_transcript() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM escuta_notify_console('transcript', NEW.org_id, NEW.meeting_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER transcripts_notify AFTER INSERT ON transcripts
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_transcript();

CREATE FUNCTION escuta_notify_recommendation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM escuta_notify_console('recommendation', NEW.org_id,
        (SELECT meeting_id FROM counter_interactions WHERE id = NEW.interaction_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER counter_recommendations_notify AFTER INSERT ON counter_recommendations
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_recommendation();

CREATE FUNCTION escuta_notify_counter_feedback() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM escuta_notify_console('recommendation', NEW.org_id,
        (SELECT i.meeting_id FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
         WHERE r.id = NEW.recommendation_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER counter_feedback_notify AFTER INSERT OR UPDATE ON counter_feedback
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_counter_feedback();

-- The platform admin's organization switcher: names and ids only, nothing else crosses tenants.
CREATE FUNCTION escuta_org_directory() RETURNS TABLE (id uuid, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT o.id, o.name FROM organizations o ORDER BY lower(o.name), o.id
$$;
