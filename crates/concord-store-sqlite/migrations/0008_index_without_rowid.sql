-- Search (v5): each index table is ONE b-tree in owner order.
-- Before, every index row lived in three b-trees: the rowid table, the
-- `_owner` index (rid, param, values…) and the `_lookup` index. The tables
-- are now WITHOUT ROWID with the primary key (rid, param, ord): a row's
-- owner, its parameter and its place among the resource's rows of the table
-- (`ord`, assigned by the writer). The table itself is the owner index (a
-- per-row probe `p.rid = r.rid AND p.param = ?` and a sort key read the
-- resource's few rows of that parameter), new rows append at its end (rids
-- grow), and the `_lookup` indexes carry (rid, ord) instead of a rowid, so
-- `SELECT i.rid …` from a lookup is answered by the index alone.
-- `compartment` is keyed by (rid, compartment_type, compartment_id).
-- Identical rows of one resource are stored once (search tests existence).
-- Column names are unchanged: the shared search SQL does not change.

CREATE TABLE idx_token_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    system TEXT, code TEXT NOT NULL,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_token_v5 (rid, param, ord, tenant, type, id, system, code)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, system, code
FROM (SELECT DISTINCT rid, param, tenant, type, id, system, code FROM idx_token);
DROP TABLE idx_token;
ALTER TABLE idx_token_v5 RENAME TO idx_token;
CREATE INDEX idx_token_lookup ON idx_token (tenant, type, param, code, system, id);

CREATE TABLE idx_string_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    value_norm TEXT NOT NULL, value_exact TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_string_v5 (rid, param, ord, tenant, type, id, value_norm, value_exact)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, value_norm, value_exact
FROM (SELECT DISTINCT rid, param, tenant, type, id, value_norm, value_exact FROM idx_string);
DROP TABLE idx_string;
ALTER TABLE idx_string_v5 RENAME TO idx_string;
CREATE INDEX idx_string_lookup ON idx_string (tenant, type, param, value_norm, id);

CREATE TABLE idx_date_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    low INTEGER, high INTEGER,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_date_v5 (rid, param, ord, tenant, type, id, low, high)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, low, high
FROM (SELECT DISTINCT rid, param, tenant, type, id, low, high FROM idx_date);
DROP TABLE idx_date;
ALTER TABLE idx_date_v5 RENAME TO idx_date;
CREATE INDEX idx_date_lookup ON idx_date (tenant, type, param, low, high, id);

CREATE TABLE idx_reference_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    target_type TEXT, target_id TEXT, url TEXT,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_reference_v5 (rid, param, ord, tenant, type, id, target_type, target_id, url)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, target_type, target_id, url
FROM (SELECT DISTINCT rid, param, tenant, type, id, target_type, target_id, url FROM idx_reference);
DROP TABLE idx_reference;
ALTER TABLE idx_reference_v5 RENAME TO idx_reference;
CREATE INDEX idx_reference_lookup ON idx_reference (tenant, type, param, target_id, target_type, id);
CREATE INDEX idx_reference_target ON idx_reference (tenant, target_id, target_type);

CREATE TABLE idx_quantity_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    value REAL, system TEXT, code TEXT,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_quantity_v5 (rid, param, ord, tenant, type, id, value, system, code)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, value, system, code
FROM (SELECT DISTINCT rid, param, tenant, type, id, value, system, code FROM idx_quantity);
DROP TABLE idx_quantity;
ALTER TABLE idx_quantity_v5 RENAME TO idx_quantity;
CREATE INDEX idx_quantity_lookup ON idx_quantity (tenant, type, param, code, value, id);

CREATE TABLE idx_number_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_number_v5 (rid, param, ord, tenant, type, id, value)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, value
FROM (SELECT DISTINCT rid, param, tenant, type, id, value FROM idx_number);
DROP TABLE idx_number;
ALTER TABLE idx_number_v5 RENAME TO idx_number;
CREATE INDEX idx_number_lookup ON idx_number (tenant, type, param, value, id);

CREATE TABLE idx_uri_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_uri_v5 (rid, param, ord, tenant, type, id, value)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, value
FROM (SELECT DISTINCT rid, param, tenant, type, id, value FROM idx_uri);
DROP TABLE idx_uri;
ALTER TABLE idx_uri_v5 RENAME TO idx_uri;
CREATE INDEX idx_uri_lookup ON idx_uri (tenant, type, param, value, id);

CREATE TABLE idx_composite_v5 (
    rid INTEGER NOT NULL, param TEXT NOT NULL, ord INTEGER NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (rid, param, ord)
) WITHOUT ROWID;
INSERT INTO idx_composite_v5 (rid, param, ord, tenant, type, id, value)
SELECT rid, param, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY param), tenant, type, id, value
FROM (SELECT DISTINCT rid, param, tenant, type, id, value FROM idx_composite);
DROP TABLE idx_composite;
ALTER TABLE idx_composite_v5 RENAME TO idx_composite;
CREATE INDEX idx_composite_lookup ON idx_composite (tenant, type, param, value, id);

CREATE TABLE compartment_v5 (
    rid INTEGER NOT NULL, compartment_type TEXT NOT NULL, compartment_id TEXT NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (rid, compartment_type, compartment_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO compartment_v5 (rid, compartment_type, compartment_id, tenant, type, id)
SELECT rid, compartment_type, compartment_id, tenant, type, id FROM compartment;
DROP TABLE compartment;
ALTER TABLE compartment_v5 RENAME TO compartment;
CREATE INDEX compartment_lookup ON compartment (tenant, compartment_type, compartment_id, type, id);
