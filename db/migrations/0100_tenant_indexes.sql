-- Tenant-scoped queries that use their indexes (issue 20.1).
--
-- 1. Row-level security policies written as `org_id IS NOT DISTINCT FROM escuta_current_org()` cannot use
--    an index (IS NOT DISTINCT FROM is not an indexable operator). The same rule, as an equality plus the
--    explicit NULL case: a tenant sees its rows, a transaction with no organization (the platform's view)
--    sees only unowned rows, exactly as before. Queries say `org_id = $1` (or `org_id IS NULL` for the
--    platform's view, db/query.py), which an index on (org_id, ...) answers.
-- 2. The indexes the list routes sort by, each ending in a unique column so a keyset cursor is exact.

DO $$
DECLARE p record;
BEGIN
    FOR p IN
        SELECT schemaname, tablename FROM pg_policies
        WHERE policyname = 'tenant_isolation' AND qual LIKE '%IS DISTINCT FROM%'
    LOOP
        EXECUTE format('DROP POLICY tenant_isolation ON %I.%I', p.schemaname, p.tablename);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I.%I TO escuta_app '
                       'USING (org_id = escuta_current_org() OR (org_id IS NULL AND escuta_current_org() IS NULL)) '
                       'WITH CHECK (org_id = escuta_current_org() OR (org_id IS NULL AND escuta_current_org() IS NULL))',
                       p.schemaname, p.tablename);
    END LOOP;
END
$$;

-- GET /sessions: newest first, meeting_id breaks ties (the list's order); status and room filters.
CREATE INDEX sessions_org_started ON sessions (org_id, started_at DESC, meeting_id);
CREATE INDEX sessions_org_status_started ON sessions (org_id, status, started_at DESC, meeting_id);
CREATE INDEX sessions_org_room_started ON sessions (org_id, room_name, started_at DESC, meeting_id);
DROP INDEX sessions_org;  -- (org_id, started_at DESC): a prefix of sessions_org_started
-- GET /sessions/{id}/transcript and the coach's reads look up by meeting first; these are per tenant.
CREATE INDEX transcripts_org_meeting ON transcripts (org_id, meeting_id, start_s);

-- GET /api/export/xlsx joins recommendations to their interaction under the tenant (seed 001's report).
CREATE INDEX counter_recommendations_org_interaction ON counter_recommendations (org_id, interaction_id);

-- The other list routes' orders.
CREATE INDEX devices_org_created ON devices (org_id, created_at, id);
DROP INDEX devices_org;
CREATE INDEX api_keys_org_kind_created ON api_keys (org_id, kind, created_at, id);
DROP INDEX api_keys_org;
CREATE INDEX memberships_org_created ON memberships (org_id, created_at, user_id);
CREATE INDEX platform_admin_actions_org_created ON platform_admin_actions (org_id, created_at DESC, id DESC);
DROP INDEX platform_admin_actions_org;
CREATE INDEX bursts_org_recent_id ON bursts (org_id, ended_at DESC, id);
DROP INDEX bursts_org_recent;
CREATE INDEX streamers_org_name ON streamers (org_id, display_name, id) WHERE deleted_at IS NULL;
