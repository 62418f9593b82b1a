-- Search (v3): every lookup index ends with the owning resource's id, so a
-- search answers "which ids have a row like this" from the index alone and
-- then reads `resources` by primary key. Reference rows can also be found by
-- their target (`_has`, `_revinclude`, `$everything`); `resources.rid` is
-- indexed for include queries and sort keys.
DROP INDEX idx_token_lookup;
CREATE INDEX idx_token_lookup ON idx_token (tenant, type, param, code, system, id);
DROP INDEX idx_string_lookup;
CREATE INDEX idx_string_lookup ON idx_string (tenant, type, param, value_norm, id);
DROP INDEX idx_date_lookup;
CREATE INDEX idx_date_lookup ON idx_date (tenant, type, param, low, high, id);
DROP INDEX idx_reference_lookup;
CREATE INDEX idx_reference_lookup ON idx_reference (tenant, type, param, target_id, target_type, id);
CREATE INDEX idx_reference_target ON idx_reference (tenant, target_id, target_type);
DROP INDEX idx_quantity_lookup;
CREATE INDEX idx_quantity_lookup ON idx_quantity (tenant, type, param, code, value, id);
DROP INDEX idx_number_lookup;
CREATE INDEX idx_number_lookup ON idx_number (tenant, type, param, value, id);
DROP INDEX idx_uri_lookup;
CREATE INDEX idx_uri_lookup ON idx_uri (tenant, type, param, value, id);
DROP INDEX idx_composite_lookup;
CREATE INDEX idx_composite_lookup ON idx_composite (tenant, type, param, value, id);
DROP INDEX compartment_lookup;
CREATE INDEX compartment_lookup ON compartment (tenant, compartment_type, compartment_id, type, id);
CREATE UNIQUE INDEX resources_rid ON resources (rid);
-- Full text (`_text`, `_content`): one FTS5 row per resource, rowid = rid.
CREATE VIRTUAL TABLE fulltext USING fts5(
    tenant UNINDEXED, type UNINDEXED, id UNINDEXED, narrative, content,
    tokenize = 'unicode61 remove_diacritics 2'
);
