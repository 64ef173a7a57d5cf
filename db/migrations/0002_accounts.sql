-- Accounts, tenants, devices, keys, solutions, the room registry and provider credentials (issue 4),
-- with row-level security on every tenant-owned table.
--
-- Roles. The role running migrations owns every table. Application transactions run as
-- `escuta_app` (NOLOGIN, never an owner): `db.tenancy.tenant_connection` does `SET LOCAL ROLE
-- escuta_app` and sets `app.org_id` for the transaction, so the policies below apply to every query
-- it runs, filtered or not. Roles are cluster-wide, so creation tolerates an existing role (several
-- databases on one server, concurrent test runs).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'escuta_app') THEN
        CREATE ROLE escuta_app NOLOGIN NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created by a concurrent migration on another database of this server
END
$$;

-- The login role must be able to switch to escuta_app (a superuser always can).
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'escuta_app', 'MEMBER') THEN
        EXECUTE format('GRANT escuta_app TO %I', current_user);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'role % may not switch to escuta_app; as a superuser run: GRANT escuta_app TO %',
        current_user, current_user;
END
$$;

GRANT USAGE ON SCHEMA public TO escuta_app;
-- Every table, present and future (later migrations' tables inherit these grants), except the
-- migration ledger. RLS, not grants, is what confines escuta_app to one organization.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO escuta_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO escuta_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO escuta_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO escuta_app;
REVOKE ALL ON escuta_migrations FROM escuta_app;

-- The organization of the current transaction; NULL when none was set (then no tenant row matches).
CREATE FUNCTION escuta_current_org() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;

-- --- identity --------------------------------------------------------------------------------------

-- A tenant: seed 002's Organization, seeds 000/001/003's "cliente".
CREATE TABLE organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    email       text,
    phone       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- People log in; one person may belong to several organizations (memberships).
CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email              text NOT NULL,
    password_hash      text NOT NULL,
    name               text,
    is_platform_admin  boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE memberships (
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, created_at);

-- One row per refresh token (its jti). Rotation marks the row; presenting a rotated token again
-- revokes the whole family (everything descended from one login).
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id      uuid REFERENCES organizations (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- --- devices and keys (seed 001) -------------------------------------------------------------------

-- 6-digit codes linking devices to a client: expire, and register at most max_devices devices.
CREATE TABLE link_codes (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    code         text NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    max_devices  integer NOT NULL CHECK (max_devices >= 1),
    used_count   integer NOT NULL DEFAULT 0,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX link_codes_code ON link_codes (code, expires_at DESC);

-- A "balcão": a counter device of a client.
CREATE TABLE devices (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name          text NOT NULL,
    link_code_id  uuid REFERENCES link_codes (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX devices_org ON devices (org_id, created_at);

-- Device keys (bk_) and publishable browser keys (pk_): a public lookup prefix plus a SHA-256 of the
-- whole key. Keys carry 192 random bits, so a fast hash is enough (no password stretching needed).
CREATE TABLE api_keys (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('device', 'publishable')),
    device_id        uuid REFERENCES devices (id) ON DELETE CASCADE,
    name             text NOT NULL,
    prefix           text NOT NULL UNIQUE,
    key_hash         bytea NOT NULL,
    allowed_origins  text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz,
    revoked_at       timestamptz,
    CHECK ((kind = 'device') = (device_id IS NOT NULL))
);
CREATE INDEX api_keys_org ON api_keys (org_id, kind, created_at);

-- --- token service (seed 003) ----------------------------------------------------------------------

-- Which agent profile a solution of an organization runs.
CREATE TABLE solutions (
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.]{1,64}$'),
    profile     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);

-- Every room /token minted for: webhook ingestion learns a session's organization from here (room
-- config metadata only reaches LiveKit when that join creates the room, so it is not enough).
CREATE TABLE rooms (
    room_name       text PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    solution        text NOT NULL,
    profile         text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_minted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rooms_org ON rooms (org_id, last_minted_at DESC);

-- --- provider credentials (seed 000: no global fallback) -------------------------------------------

CREATE TABLE provider_credentials (
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider    text NOT NULL
                CHECK (provider IN ('elevenlabs', 'openai', 'xai', 'assemblyai', 'hume', 'liveavatar', 'twitch')),
    ciphertext  bytea NOT NULL,      -- AES-256-GCM, see escuta/crypto.py; never the plaintext
    hint        text NOT NULL,       -- e.g. "sk-…9f2a": enough to recognise, useless to an attacker
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, provider)
);

-- --- sessions become tenant-owned ------------------------------------------------------------------

ALTER TABLE sessions ADD COLUMN org_id uuid REFERENCES organizations (id) ON DELETE SET NULL;
ALTER TABLE session_participants ADD COLUMN org_id uuid REFERENCES organizations (id) ON DELETE SET NULL;
ALTER TABLE session_tracks ADD COLUMN org_id uuid REFERENCES organizations (id) ON DELETE SET NULL;
CREATE INDEX sessions_org ON sessions (org_id, started_at DESC);

-- Webhook ingestion does not know organizations: these triggers stamp them from the room registry
-- (sessions) and from the parent session (participants, tracks). SECURITY DEFINER so they can read
-- the registry whichever organization the writing transaction is scoped to.
CREATE FUNCTION escuta_stamp_session_org() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.org_id IS NULL THEN
        NEW.org_id := (SELECT org_id FROM rooms WHERE room_name = NEW.room_name);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER sessions_org BEFORE INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION escuta_stamp_session_org();

CREATE FUNCTION escuta_stamp_child_org() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    NEW.org_id := (SELECT org_id FROM sessions WHERE id = NEW.session_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER session_participants_org BEFORE INSERT ON session_participants
    FOR EACH ROW EXECUTE FUNCTION escuta_stamp_child_org();
CREATE TRIGGER session_tracks_org BEFORE INSERT ON session_tracks
    FOR EACH ROW EXECUTE FUNCTION escuta_stamp_child_org();

-- --- row-level security ----------------------------------------------------------------------------

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations TO escuta_app
    USING (id = escuta_current_org()) WITH CHECK (id = escuta_current_org());

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['memberships', 'link_codes', 'devices', 'api_keys', 'solutions', 'rooms',
                             'provider_credentials'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO escuta_app '
                       'USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org())', t);
    END LOOP;
    -- Sessions of rooms nobody minted (org NULL) are visible only to a transaction with no organization
    -- (the platform admin's view); a tenant never sees them, nor another tenant's.
    FOREACH t IN ARRAY ARRAY['sessions', 'session_participants', 'session_tracks'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO escuta_app '
                       'USING (org_id IS NOT DISTINCT FROM escuta_current_org()) '
                       'WITH CHECK (org_id IS NOT DISTINCT FROM escuta_current_org())', t);
    END LOOP;
END
$$;

-- --- pre-authentication lookups ---------------------------------------------------------------------
-- Before a caller is authenticated there is no organization to scope to. These few definer
-- functions answer exactly one narrow question each; nothing else crosses tenants.

CREATE FUNCTION escuta_api_key_lookup(p_prefix text)
RETURNS TABLE (id uuid, org_id uuid, kind text, device_id uuid, key_hash bytea, allowed_origins text[],
               revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT k.id, k.org_id, k.kind, k.device_id, k.key_hash, k.allowed_origins,
           k.revoked_at IS NOT NULL OR COALESCE(d.revoked_at IS NOT NULL, false)
    FROM api_keys k LEFT JOIN devices d ON d.id = k.device_id
    WHERE k.prefix = p_prefix
$$;

CREATE FUNCTION escuta_link_code_lookup(p_code text)
RETURNS TABLE (id uuid, org_id uuid, expires_at timestamptz, used_count integer, max_devices integer,
               revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.id, c.org_id, c.expires_at, c.used_count, c.max_devices, c.revoked_at IS NOT NULL
    FROM link_codes c WHERE c.code = p_code
    ORDER BY c.expires_at DESC LIMIT 1
$$;

CREATE FUNCTION escuta_link_code_in_use(p_code text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM link_codes WHERE code = p_code AND expires_at > now() AND revoked_at IS NULL)
$$;

CREATE FUNCTION escuta_user_orgs(p_user uuid) RETURNS TABLE (org_id uuid, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.org_id, m.role FROM memberships m WHERE m.user_id = p_user ORDER BY m.created_at, m.org_id
$$;

CREATE FUNCTION escuta_room_org(p_room text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT org_id FROM rooms WHERE room_name = p_room
$$;

DO $$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['escuta_api_key_lookup(text)', 'escuta_link_code_lookup(text)',
                             'escuta_link_code_in_use(text)', 'escuta_user_orgs(uuid)',
                             'escuta_room_org(text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO escuta_app', f);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON organizations, users, memberships, refresh_tokens, link_codes,
    devices, api_keys, solutions, rooms, provider_credentials TO escuta_app;
