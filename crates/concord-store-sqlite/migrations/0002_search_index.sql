-- Search indexing (v2).
-- 1. `rid`: a stable integer key per resource (the history seq of its first
--    version), carried by every index row. Rows are cleared by `rid`, so the
--    owner index grows at its end instead of at random (tenant, type, id)
--    places — index maintenance was the ingest bottleneck.
-- 2. idx_string.value_exact: the string as written, for `:exact`.
ALTER TABLE resources ADD COLUMN rid INTEGER;
UPDATE resources SET rid = (
    SELECT min(h.seq) FROM resource_history h
    WHERE h.tenant = resources.tenant AND h.type = resources.type AND h.id = resources.id);

ALTER TABLE idx_string ADD COLUMN value_exact TEXT NOT NULL DEFAULT '';

ALTER TABLE idx_token ADD COLUMN rid INTEGER;
UPDATE idx_token SET rid = (
    SELECT r.rid FROM resources r
    WHERE r.tenant = idx_token.tenant AND r.type = idx_token.type AND r.id = idx_token.id);
ALTER TABLE idx_string ADD COLUMN rid INTEGER;
ALTER TABLE idx_date ADD COLUMN rid INTEGER;
ALTER TABLE idx_reference ADD COLUMN rid INTEGER;
ALTER TABLE idx_quantity ADD COLUMN rid INTEGER;
ALTER TABLE idx_number ADD COLUMN rid INTEGER;
ALTER TABLE idx_uri ADD COLUMN rid INTEGER;
ALTER TABLE idx_composite ADD COLUMN rid INTEGER;
ALTER TABLE compartment ADD COLUMN rid INTEGER;
-- Rows written before v2 had no other kinds; clear any stray ones.
DELETE FROM idx_string; DELETE FROM idx_date; DELETE FROM idx_reference;
DELETE FROM idx_quantity; DELETE FROM idx_number; DELETE FROM idx_uri;
DELETE FROM idx_composite; DELETE FROM compartment;

DROP INDEX idx_token_owner;
DROP INDEX idx_string_owner;
DROP INDEX idx_date_owner;
DROP INDEX idx_reference_owner;
DROP INDEX idx_quantity_owner;
DROP INDEX idx_number_owner;
DROP INDEX idx_uri_owner;
DROP INDEX idx_composite_owner;
DROP INDEX compartment_owner;
CREATE INDEX idx_token_owner ON idx_token (rid);
CREATE INDEX idx_string_owner ON idx_string (rid);
CREATE INDEX idx_date_owner ON idx_date (rid);
CREATE INDEX idx_reference_owner ON idx_reference (rid);
CREATE INDEX idx_quantity_owner ON idx_quantity (rid);
CREATE INDEX idx_number_owner ON idx_number (rid);
CREATE INDEX idx_uri_owner ON idx_uri (rid);
CREATE INDEX idx_composite_owner ON idx_composite (rid);
CREATE INDEX compartment_owner ON compartment (rid);
