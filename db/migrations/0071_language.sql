-- Spoken language per organization and per solution (issue 17, "Portuguese first"). A room speaks its
-- solution's language, else its organization's, else the platform's ESCUTA_STT_LANGUAGE: NULL means
-- "inherit". Organizations made through /cadastro are created with 'pt-BR' (control_api); existing ones
-- keep NULL, so nothing changes for them until an admin sets a language.
ALTER TABLE organizations
    ADD COLUMN language text CHECK (language ~ '^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}))?$');
ALTER TABLE solutions
    ADD COLUMN language text CHECK (language ~ '^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}))?$');
