-- Agent workers (`escuta worker`) and their heartbeats, for the console's service status and
-- /health/worker: LiveKit does not tell the control plane which workers are registered with it.
-- Platform-level, not tenant data: no org_id and no row-level security. No hostname: the label is
-- the agent name and a random suffix, so the table can be shown without naming machines.
CREATE TABLE agent_workers (
    id                 uuid PRIMARY KEY,
    label              text NOT NULL,
    agent_name         text NOT NULL DEFAULT '',
    profiles           text[] NOT NULL DEFAULT '{}',
    livekit_worker_id  text,
    started_at         timestamptz NOT NULL DEFAULT now(),
    last_seen          timestamptz NOT NULL DEFAULT now(),
    load               real NOT NULL DEFAULT 0,
    jobs               integer NOT NULL DEFAULT 0
);

CREATE INDEX agent_workers_last_seen ON agent_workers (last_seen DESC);
