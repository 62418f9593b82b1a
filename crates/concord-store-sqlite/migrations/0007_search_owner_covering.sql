-- Search (v4): the owner indexes (by `rid`) also hold each row's parameter
-- and values, so a per-row probe (`EXISTS … WHERE p.rid = r.rid AND
-- p.param = ? AND p.code = ?`), a sort key (`MAX(k.high) … WHERE k.rid =
-- r.rid AND k.param = ?`) and a compartment check are answered from the
-- index alone, without reading each index row from its table. Measured on a
-- 5,000-Observation record: the patient + category probe and the `-date`
-- sort key took about half the CPU of the chart summary's searches before.
-- Deleting a resource's rows still finds them by the `rid` prefix.
DROP INDEX idx_token_owner;
CREATE INDEX idx_token_owner ON idx_token (rid, param, code, system);
DROP INDEX idx_string_owner;
CREATE INDEX idx_string_owner ON idx_string (rid, param, value_norm);
DROP INDEX idx_date_owner;
CREATE INDEX idx_date_owner ON idx_date (rid, param, high, low);
DROP INDEX idx_reference_owner;
CREATE INDEX idx_reference_owner ON idx_reference (rid, param, target_id, target_type);
DROP INDEX idx_quantity_owner;
CREATE INDEX idx_quantity_owner ON idx_quantity (rid, param, code, value);
DROP INDEX compartment_owner;
CREATE INDEX compartment_owner ON compartment (rid, compartment_type, compartment_id);
