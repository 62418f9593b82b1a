-- Search (v3): reference rows found by their target (`_has`, `_revinclude`,
-- `$everything`), and compartment lookups that end with the member's id.
CREATE INDEX idx_reference_target ON idx_reference (tenant, target_id, target_type);
DROP INDEX compartment_lookup;
CREATE INDEX compartment_lookup ON compartment (tenant, compartment_type, compartment_id, type, id);
