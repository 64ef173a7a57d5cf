-- Counter recommender v2 (issue 18): product restrictions as data, so the one safety filter can
-- read them. All optional: NULL / empty means the catalog does not say (the contraindications
-- list still applies). See core/counter/restrictions.py for the CSV spelling of each.

ALTER TABLE catalog_products
    ADD COLUMN min_age_months  integer CHECK (min_age_months IS NULL OR min_age_months BETWEEN 0 AND 1200),
    ADD COLUMN pregnancy       text CHECK (pregnancy IS NULL OR pregnancy IN ('seguro', 'cautela', 'contraindicado')),
    ADD COLUMN breastfeeding   text CHECK (breastfeeding IS NULL OR breastfeeding IN ('seguro', 'cautela', 'contraindicado')),
    ADD COLUMN interactions    text[] NOT NULL DEFAULT '{}';  -- ingredients or classes (varfarina, anticoagulante)
