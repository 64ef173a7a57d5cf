-- Counter assistant (issue 7, seed 001 "Balto"): each organization's product catalog, the counter
-- interactions, the recommendations pushed to the device and the clerk's feedback on them.
-- Tenant-owned, with 0002's row-level security pattern; composite keys keep children in their
-- parent's organization.

CREATE TABLE catalog_products (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sku                    text CHECK (sku IS NULL OR length(sku) BETWEEN 1 AND 100),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    active_ingredients     text[] NOT NULL DEFAULT '{}',
    indications            text[] NOT NULL DEFAULT '{}',   -- symptoms and situations, in Portuguese
    contraindications      text[] NOT NULL DEFAULT '{}',   -- conditions (gravidez, hipertensão, criança...)
    warnings               text NOT NULL DEFAULT '',
    prescription_required  boolean NOT NULL DEFAULT false,  -- never recommended when true
    price                  numeric(10, 2) CHECK (price IS NULL OR price >= 0),
    tags                   text[] NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
-- The CSV import upserts by name; names are unique per organization, ignoring case.
CREATE UNIQUE INDEX catalog_products_name ON catalog_products (org_id, lower(name));
CREATE UNIQUE INDEX catalog_products_sku ON catalog_products (org_id, sku) WHERE sku IS NOT NULL;

-- One counter conversation: a device's session in a room (meeting_id is the room sid, as in
-- transcripts). Speech-to-text seconds are kept here for the cost report.
CREATE TABLE counter_interactions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    device_id     uuid REFERENCES devices (id) ON DELETE SET NULL,
    meeting_id    text NOT NULL,
    room_name     text,
    atendente     text NOT NULL DEFAULT '',
    stt_provider  text,
    stt_seconds   double precision NOT NULL DEFAULT 0 CHECK (stt_seconds >= 0),
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    UNIQUE (meeting_id, device_id)
);
CREATE INDEX counter_interactions_org_time ON counter_interactions (org_id, started_at);
CREATE INDEX counter_interactions_device ON counter_interactions (device_id, started_at);

-- Every event pushed to a device; id is the event's id the clerk answers with.
CREATE TABLE counter_recommendations (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL,
    interaction_id      uuid NOT NULL,
    product_id          uuid REFERENCES catalog_products (id) ON DELETE SET NULL,
    product_name        text NOT NULL,                -- as sent, even if the product is later deleted
    explanation         text NOT NULL,
    transcript_excerpt  text NOT NULL,
    atendente           text NOT NULL DEFAULT '',
    provider            text NOT NULL CHECK (provider IN ('local', 'openai', 'xai')),
    model               text,
    fallback_reason     text,                         -- set when an LLM recommender fell back to local
    latency_ms          real,                         -- utterance received to event ready
    prompt_tokens       integer CHECK (prompt_tokens IS NULL OR prompt_tokens >= 0),
    completion_tokens   integer CHECK (completion_tokens IS NULL OR completion_tokens >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, interaction_id) REFERENCES counter_interactions (org_id, id) ON DELETE CASCADE
);
CREATE INDEX counter_recommendations_interaction ON counter_recommendations (interaction_id, created_at);
CREATE INDEX counter_recommendations_org_time ON counter_recommendations (org_id, created_at);

-- The clerk's answer; a later answer to the same recommendation replaces the earlier one.
CREATE TABLE counter_feedback (
    recommendation_id  uuid PRIMARY KEY,
    org_id             uuid NOT NULL,
    accepted           boolean NOT NULL,
    source             text NOT NULL CHECK (source IN ('rpc', 'text', 'api')),
    received_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, recommendation_id) REFERENCES counter_recommendations (org_id, id) ON DELETE CASCADE
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['catalog_products', 'counter_interactions', 'counter_recommendations',
                             'counter_feedback'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO escuta_app '
                       'USING (org_id = escuta_current_org()) WITH CHECK (org_id = escuta_current_org())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO escuta_app', t);
    END LOOP;
END
$$;
