-- Search (v3): reference rows found by their target (`_has`, `_revinclude`,
-- `$everything`), and compartment lookups that end with the member's id.
CREATE INDEX idx_reference_target ON idx_reference (tenant, target_id, target_type);
DROP INDEX compartment_lookup;
CREATE INDEX compartment_lookup ON compartment (tenant, compartment_type, compartment_id, type, id);
-- Full text (`_text`, `_content`): the normalized words and their tsvectors.
CREATE TABLE idx_fulltext (
    tenant        text NOT NULL,
    type          text NOT NULL,
    id            text NOT NULL,
    narrative     text NOT NULL DEFAULT '',
    content       text NOT NULL DEFAULT '',
    narrative_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', narrative)) STORED,
    content_tsv   tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);
CREATE INDEX idx_fulltext_resource ON idx_fulltext (tenant, type, id);
CREATE INDEX idx_fulltext_narrative ON idx_fulltext USING gin (narrative_tsv);
CREATE INDEX idx_fulltext_content ON idx_fulltext USING gin (content_tsv);
