-- The generic job scheduler (issue 8): one leader at a time by lease, job state shared by every process.
-- Platform-level, not tenant data: no org_id and no row-level security.

-- The leader lease. A process is leader while it holds the row and expires_at is in the future; it renews
-- every tick, so a crashed leader's lease simply runs out and another process takes it. `term` grows by
-- one at every change of holder.
CREATE TABLE scheduler_lease (
    name         text PRIMARY KEY,
    holder       text NOT NULL,
    term         bigint NOT NULL DEFAULT 1,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    renewed_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- Every scheduler process, leader or not, with its heartbeat (for /health/worker).
CREATE TABLE scheduler_instances (
    id            text PRIMARY KEY,
    hostname      text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz
);

-- One row per job: when it is next due, and how its last run went. A run is claimed by moving
-- next_run_at forward in the same statement that checks it is due, so a run happens once per interval
-- whichever process claims it.
CREATE TABLE scheduler_jobs (
    name              text PRIMARY KEY,
    interval_seconds  double precision NOT NULL CHECK (interval_seconds > 0),
    next_run_at       timestamptz NOT NULL DEFAULT now(),
    last_started_at   timestamptz,
    last_finished_at  timestamptz,
    last_status       text CHECK (last_status IN ('running', 'ok', 'error', 'skipped')),
    last_error        text,
    last_result       jsonb,
    last_run_by       text,
    runs              bigint NOT NULL DEFAULT 0,
    failures          bigint NOT NULL DEFAULT 0
);

-- Recent runs, kept a week: the audit trail behind "once per interval".
CREATE TABLE scheduler_runs (
    id           bigserial PRIMARY KEY,
    job          text NOT NULL REFERENCES scheduler_jobs (name) ON DELETE CASCADE,
    run_by       text NOT NULL,
    term         bigint NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    status       text NOT NULL CHECK (status IN ('running', 'ok', 'error', 'skipped')),
    error        text,
    result       jsonb
);
CREATE INDEX scheduler_runs_job ON scheduler_runs (job, started_at DESC);

-- Explicit, although 0002's default privileges already cover them: the API's `/health/worker` and every
-- scheduler process may connect as a login role that is only a member of escuta_app.
GRANT SELECT, INSERT, UPDATE, DELETE ON scheduler_lease, scheduler_instances, scheduler_jobs, scheduler_runs
    TO escuta_app;
GRANT USAGE, SELECT ON SEQUENCE scheduler_runs_id_seq TO escuta_app;
