-- Credential changes announced to every API process (issue 20.4): PostgreSQL NOTIFY on the
-- `escuta_credentials` channel when a key is revoked, rotated, re-scoped or deleted, a device is
-- revoked, a solution changes, or an organization's client id changes.
--
-- API processes cache key lookups (key -> organization, kind, origins) and solution profiles so that
-- `POST /token` needs no database round trip; each listens on this channel and drops the entry the
-- moment the change commits (NOTIFY is delivered at commit), whichever process or tool made it.
-- Payloads carry identifiers only: {"t": "key", "prefix"}, {"t": "solution", "org", "name"},
-- {"t": "org", "org"}. last_used_at updates (every minute per key) do not notify.

CREATE FUNCTION escuta_notify_api_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('escuta_credentials', json_build_object('t', 'key', 'prefix', OLD.prefix)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_notify
    AFTER UPDATE OF prefix, key_hash, revoked_at, allowed_origins, org_id, kind, device_id OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_api_key();

CREATE FUNCTION escuta_notify_device() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_prefix text;
BEGIN
    IF NEW.revoked_at IS NOT DISTINCT FROM OLD.revoked_at AND NEW.org_id IS NOT DISTINCT FROM OLD.org_id THEN
        RETURN NULL;
    END IF;
    FOR v_prefix IN SELECT prefix FROM api_keys WHERE device_id = NEW.id LOOP
        PERFORM pg_notify('escuta_credentials', json_build_object('t', 'key', 'prefix', v_prefix)::text);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_notify AFTER UPDATE OF revoked_at, org_id ON devices
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_device();

CREATE FUNCTION escuta_notify_solution() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('escuta_credentials',
            json_build_object('t', 'solution', 'org', OLD.org_id, 'name', OLD.name)::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('escuta_credentials',
            json_build_object('t', 'solution', 'org', NEW.org_id, 'name', NEW.name)::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER solutions_notify AFTER INSERT OR UPDATE OR DELETE ON solutions
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_solution();

CREATE FUNCTION escuta_notify_org_client_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('escuta_credentials', json_build_object('t', 'org', 'org', OLD.id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER organizations_client_id_notify AFTER UPDATE OF client_id OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION escuta_notify_org_client_id();
