-- Existing clients of the seed systems (issue 15).
--
-- 1. Seed 003's `clientId` is the client's own id ("123"), not our organization UUID: organizations get
--    an external client id, unique platform-wide, accepted wherever `clientId` is. No hyphen, so the
--    room name `{solution}-{clientId}-{userId}` still shows where the client id is.
-- 2. Seed 003 lets solutions be named like products ("Ai-Helper", "Balcão Entrada"): the name check
--    keeps only what a LiveKit room name cannot carry out (control characters, edge blanks, length).
-- 3. A platform admin acting for an organization on its admin routes leaves a row here.
-- 4. Live events for the API processes (Socket.IO feedback, the console's live views): NOTIFY on commit
--    with a compact payload (ids only; NOTIFY payloads are limited to 8000 bytes), the reader fetches
--    the row under its own tenant scope.

ALTER TABLE organizations ADD COLUMN client_id text
    CHECK (client_id ~ '^[A-Za-z0-9][A-Za-z0-9_.]{0,63}$');
CREATE UNIQUE INDEX organizations_client_id ON organizations (client_id);

ALTER TABLE solutions DROP CONSTRAINT solutions_name_check;
ALTER TABLE solutions ADD CONSTRAINT solutions_name_check
    CHECK (char_length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]' AND name = btrim(name));

CREATE TABLE platform_admin_actions (
    id          bigserial PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor       text NOT NULL,          -- 'admin-token' or 'user:<uuid>' (a platform admin user)
    method      text NOT NULL,
    path        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_admin_actions_org ON platform_admin_actions (org_id, created_at DESC);
ALTER TABLE platform_admin_actions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON platform_admin_actions TO escuta_app
    USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org());
GRANT SELECT, INSERT ON platform_admin_actions TO escuta_app;
GRANT USAGE ON SEQUENCE platform_admin_actions_id_seq TO escuta_app;

CREATE FUNCTION escuta_notify_feedback() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('escuta_feedback', json_build_object(
        'id', NEW.id, 'org', NEW.org_id, 'meeting', NEW.meeting_id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER feedback_events_notify AFTER INSERT ON feedback_events
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_feedback();

CREATE FUNCTION escuta_notify_session() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status AND NEW.org_id IS NOT DISTINCT FROM OLD.org_id THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('escuta_sessions', json_build_object(
        'id', NEW.id, 'org', NEW.org_id, 'meeting', NEW.meeting_id, 'status', NEW.status)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER sessions_notify AFTER INSERT OR UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_session();
