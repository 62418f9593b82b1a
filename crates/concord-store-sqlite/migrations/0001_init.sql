-- Concord schema v1 (SQLite). Current versions, full history, search-index
-- tables (filled by the search layer), compartments, outbox and ledger.
-- The JSON of each version is written once, in resource_history; `resources`
-- is a small row per resource pointing (`seq`) at its current version.
CREATE TABLE resources (
    tenant       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (tenant, type, id)
) WITHOUT ROWID;

CREATE TABLE resource_history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    content      TEXT,
    UNIQUE (tenant, type, id, version)
);
CREATE INDEX resource_history_type ON resource_history (tenant, type, seq);
CREATE INDEX resource_history_tenant ON resource_history (tenant, seq);

CREATE TABLE idx_token (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT, code TEXT NOT NULL
);
CREATE INDEX idx_token_lookup ON idx_token (tenant, type, param, code, system);
CREATE INDEX idx_token_owner ON idx_token (tenant, type, id);

CREATE TABLE idx_string (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value_norm TEXT NOT NULL
);
CREATE INDEX idx_string_lookup ON idx_string (tenant, type, param, value_norm);
CREATE INDEX idx_string_owner ON idx_string (tenant, type, id);

CREATE TABLE idx_date (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    low INTEGER, high INTEGER
);
CREATE INDEX idx_date_lookup ON idx_date (tenant, type, param, low, high);
CREATE INDEX idx_date_owner ON idx_date (tenant, type, id);

CREATE TABLE idx_reference (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    target_type TEXT, target_id TEXT, url TEXT
);
CREATE INDEX idx_reference_lookup ON idx_reference (tenant, type, param, target_id, target_type);
CREATE INDEX idx_reference_owner ON idx_reference (tenant, type, id);

CREATE TABLE idx_quantity (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value REAL, system TEXT, code TEXT
);
CREATE INDEX idx_quantity_lookup ON idx_quantity (tenant, type, param, code, value);
CREATE INDEX idx_quantity_owner ON idx_quantity (tenant, type, id);

CREATE TABLE idx_number (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value REAL
);
CREATE INDEX idx_number_lookup ON idx_number (tenant, type, param, value);
CREATE INDEX idx_number_owner ON idx_number (tenant, type, id);

CREATE TABLE idx_uri (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX idx_uri_lookup ON idx_uri (tenant, type, param, value);
CREATE INDEX idx_uri_owner ON idx_uri (tenant, type, id);

CREATE TABLE idx_composite (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX idx_composite_lookup ON idx_composite (tenant, type, param, value);
CREATE INDEX idx_composite_owner ON idx_composite (tenant, type, id);

CREATE TABLE compartment (
    tenant TEXT NOT NULL, compartment_type TEXT NOT NULL, compartment_id TEXT NOT NULL,
    type TEXT NOT NULL, id TEXT NOT NULL
);
CREATE INDEX compartment_lookup ON compartment (tenant, compartment_type, compartment_id, type);
CREATE INDEX compartment_owner ON compartment (tenant, type, id);

CREATE TABLE outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant  TEXT    NOT NULL,
    type    TEXT    NOT NULL,
    id      TEXT    NOT NULL,
    version INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX outbox_tenant ON outbox (tenant, seq);

CREATE TABLE ledger (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    content_hash BLOB    NOT NULL,
    prev_hash    BLOB    NOT NULL,
    entry_hash   BLOB    NOT NULL
);
