-- Shared abuse limits (issue 14.5): every API process counts in the same place, so running several
-- processes no longer multiplies a limit. The algorithm is the sliding-window counter of
-- core/security/ratelimit.py (current fixed window + the previous one weighted by its overlap), done in
-- one statement per attempt so concurrent processes serialize on the window's row.
--
-- Keys are SHA-256 digests of (scope, identifiers): e-mail addresses and link codes are not stored.
-- UNLOGGED: counters are cheap to lose (a crash forgets at most one window) and not worth WAL traffic.

CREATE UNLOGGED TABLE rate_limit_windows (
    key           bytea NOT NULL,
    window_start  bigint NOT NULL,          -- epoch seconds, a multiple of the limit's period
    hits          integer NOT NULL,
    expires_at    timestamptz NOT NULL,     -- after this the row counts nothing any more
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_windows_expiry ON rate_limit_windows (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_windows TO escuta_app;

-- p_mode: 'hit' counts one attempt unless it is over the limit; 'check' only looks; 'record' counts
-- one event without looking. Returns 0 when allowed, else the whole seconds to wait.
-- Failure budgets are spent *before* the attempt is judged ('hit') and given back when it succeeds
-- (escuta_rate_limit_refund): checking first and recording after would let concurrent requests all
-- pass the check, so the bound would not hold.
CREATE FUNCTION escuta_rate_limit(p_key bytea, p_amount integer, p_period bigint, p_mode text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    -- now(): the transaction's time, so a caller can name the window it counted in (refunds below).
    v_now double precision := extract(epoch FROM now());
    v_start bigint := (floor(v_now / p_period) * p_period)::bigint;
    v_prev integer;
    v_cur integer;
    v_weighted double precision;
    v_wait double precision;
BEGIN
    IF p_mode = 'record' THEN
        INSERT INTO rate_limit_windows AS w (key, window_start, hits, expires_at)
        VALUES (p_key, v_start, 1, to_timestamp(v_start + 2 * p_period))
        ON CONFLICT (key, window_start) DO UPDATE SET hits = w.hits + 1;
        RETURN 0;
    END IF;
    SELECT hits INTO v_prev FROM rate_limit_windows WHERE key = p_key AND window_start = v_start - p_period;
    v_prev := coalesce(v_prev, 0);
    v_weighted := v_prev * (1 - (v_now - v_start) / p_period);
    IF p_mode = 'hit' AND v_weighted + 1 <= p_amount THEN
        INSERT INTO rate_limit_windows AS w (key, window_start, hits, expires_at)
        VALUES (p_key, v_start, 1, to_timestamp(v_start + 2 * p_period))
        ON CONFLICT (key, window_start) DO UPDATE SET hits = w.hits + 1
            WHERE v_weighted + w.hits + 1 <= p_amount
        RETURNING hits INTO v_cur;
        IF FOUND THEN
            RETURN 0;
        END IF;
    END IF;
    SELECT hits INTO v_cur FROM rate_limit_windows WHERE key = p_key AND window_start = v_start;
    v_cur := coalesce(v_cur, 0);
    IF p_mode = 'check' AND v_weighted + v_cur + 1 <= p_amount THEN
        RETURN 0;
    END IF;
    IF v_cur + 1 > p_amount OR v_prev = 0 THEN
        v_wait := v_start + p_period - v_now;       -- only the next window has room
    ELSE                                             -- the previous window's share must decay first
        v_wait := v_start + p_period * (1 - (p_amount - 1 - v_cur)::double precision / v_prev) - v_now;
    END IF;
    RETURN greatest(1, ceil(v_wait)::integer);
END
$$;
GRANT EXECUTE ON FUNCTION escuta_rate_limit(bytea, integer, bigint, text) TO escuta_app;

-- Give back one count of the window an attempt was counted in (the attempt turned out right).
CREATE FUNCTION escuta_rate_limit_refund(p_key bytea, p_window_start bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE rate_limit_windows SET hits = hits - 1 WHERE key = p_key AND window_start = p_window_start AND hits > 0
$$;
GRANT EXECUTE ON FUNCTION escuta_rate_limit_refund(bytea, bigint) TO escuta_app;
