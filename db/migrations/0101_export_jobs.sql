-- Excel exports as jobs (issue 20.2): produced by an export process, not the API's, with progress a console
-- can show; the finished workbook is kept here so any API process behind a load balancer can serve it.
CREATE TABLE export_jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind         text NOT NULL DEFAULT 'counter_xlsx' CHECK (kind IN ('counter_xlsx')),
    params       jsonb NOT NULL,                 -- the request: from, to, device (echoed back)
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    rows_done    bigint NOT NULL DEFAULT 0,
    rows_total   bigint,                         -- known once the export process has counted them
    error        text,                           -- why it failed (no row data, no stack trace)
    filename     text NOT NULL,
    file         bytea,                          -- the workbook, once done
    size_bytes   bigint,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),  -- a heartbeat: a running job not updated for long was lost
    finished_at  timestamptz,
    CHECK ((status = 'done') = (file IS NOT NULL))
);
CREATE INDEX export_jobs_org_created ON export_jobs (org_id, created_at DESC, id DESC);
ALTER TABLE export_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON export_jobs TO escuta_app
    USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org());
GRANT SELECT, INSERT, UPDATE, DELETE ON export_jobs TO escuta_app;
