-- Invitations (issue 14.1): nobody becomes a member of an organization without proving control of the
-- account. `POST /members` (and `/cadastro/cliente` for the owner) stores a pending invitation; the
-- one-time token goes to the inviter once and only its SHA-256 is kept. The invitee accepts with the
-- token plus the access token of the invited account, or plus a new password when no account exists.

CREATE TABLE invitations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email             text NOT NULL,
    role              text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash        bytea NOT NULL UNIQUE,
    invited_by        text NOT NULL,    -- 'user:<uuid>' or 'admin-token' (the platform admin secret)
    expires_at        timestamptz NOT NULL,
    accepted_at       timestamptz,
    accepted_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    revoked_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_org ON invitations (org_id, created_at DESC);
-- At most one open invitation per e-mail and organization: inviting again replaces it.
CREATE UNIQUE INDEX invitations_open ON invitations (org_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations TO escuta_app
    USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org());
GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO escuta_app;

-- The invitee has no organization yet: this answers one question (which invitation has this token
-- hash) across tenants, like escuta_link_code_lookup.
CREATE FUNCTION escuta_invitation_lookup(p_hash bytea)
RETURNS TABLE (id uuid, org_id uuid, email text, role text, expires_at timestamptz, open boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT i.id, i.org_id, i.email, i.role, i.expires_at, i.accepted_at IS NULL AND i.revoked_at IS NULL
    FROM invitations i WHERE i.token_hash = p_hash
$$;
REVOKE ALL ON FUNCTION escuta_invitation_lookup(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION escuta_invitation_lookup(bytea) TO escuta_app;
