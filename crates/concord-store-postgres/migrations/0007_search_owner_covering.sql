-- Search (v4): the per-resource indexes also hold each row's parameter and
-- values, so a per-row probe (`EXISTS … WHERE p.tenant = r.tenant AND
-- p.type = r.type AND p.id = r.id AND p.param = ? AND p.code = ?`), a sort
-- key (`MAX(k.high)` of one parameter) and a compartment check read the
-- index, not every index row of the resource (same change as SQLite's
-- migration 6). Deleting a resource's rows still finds them by the
-- (tenant, type, id) prefix.
DROP INDEX idx_token_resource;
CREATE INDEX idx_token_resource ON idx_token (tenant, type, id, param) INCLUDE (code, system);
DROP INDEX idx_string_resource;
CREATE INDEX idx_string_resource ON idx_string (tenant, type, id, param) INCLUDE (value_norm);
DROP INDEX idx_date_resource;
CREATE INDEX idx_date_resource ON idx_date (tenant, type, id, param, high) INCLUDE (low);
DROP INDEX idx_reference_resource;
CREATE INDEX idx_reference_resource ON idx_reference (tenant, type, id, param) INCLUDE (target_id, target_type);
DROP INDEX idx_quantity_resource;
CREATE INDEX idx_quantity_resource ON idx_quantity (tenant, type, id, param) INCLUDE (code, value);
DROP INDEX compartment_resource;
CREATE INDEX compartment_resource ON compartment (tenant, type, id, compartment_type, compartment_id);
