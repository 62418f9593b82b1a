-- Concord PostgreSQL schema, version 1.
-- Every table carries a tenant column; all ids are scoped by (tenant, type).

-- The current version of each resource (possibly a delete).
CREATE TABLE resources (
    tenant       text   NOT NULL,
    type         text   NOT NULL,
    id           text   NOT NULL,
    version      bigint NOT NULL,
    last_updated bigint NOT NULL,            -- ms since the epoch, UTC
    kind         text   NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    content      text,                       -- JSON text as stored; NULL for a delete
    PRIMARY KEY (tenant, type, id)
);

-- Every version ever written; seq orders history and pages it.
CREATE TABLE resource_history (
    seq          bigserial PRIMARY KEY,
    tenant       text   NOT NULL,
    type         text   NOT NULL,
    id           text   NOT NULL,
    version      bigint NOT NULL,
    last_updated bigint NOT NULL,
    kind         text   NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    content      text,
    UNIQUE (tenant, type, id, version)
);
CREATE INDEX resource_history_instance ON resource_history (tenant, type, id, seq);
CREATE INDEX resource_history_type ON resource_history (tenant, type, seq);
CREATE INDEX resource_history_system ON resource_history (tenant, seq);

-- Search index tables, one per parameter type. Rows belong to the current
-- version of (tenant, type, id) and are replaced on every write.
CREATE TABLE idx_token (
    tenant text NOT NULL,
    type   text NOT NULL,
    id     text NOT NULL,
    param  text NOT NULL,
    system text,                             -- NULL: the value has no system
    code   text NOT NULL
);
CREATE INDEX idx_token_resource ON idx_token (tenant, type, id);
CREATE INDEX idx_token_lookup ON idx_token (tenant, type, param, code, system);

CREATE TABLE idx_string (
    tenant     text NOT NULL,
    type       text NOT NULL,
    id         text NOT NULL,
    param      text NOT NULL,
    value_norm text NOT NULL
);
CREATE INDEX idx_string_resource ON idx_string (tenant, type, id);
CREATE INDEX idx_string_lookup ON idx_string (tenant, type, param, value_norm text_pattern_ops);

CREATE TABLE idx_date (
    tenant text   NOT NULL,
    type   text   NOT NULL,
    id     text   NOT NULL,
    param  text   NOT NULL,
    low    bigint NOT NULL,                  -- ms, inclusive
    high   bigint NOT NULL                   -- ms, inclusive
);
CREATE INDEX idx_date_resource ON idx_date (tenant, type, id);
CREATE INDEX idx_date_lookup ON idx_date (tenant, type, param, low, high);

CREATE TABLE idx_reference (
    tenant      text NOT NULL,
    type        text NOT NULL,
    id          text NOT NULL,
    param       text NOT NULL,
    target_type text,
    target_id   text,
    url         text
);
CREATE INDEX idx_reference_resource ON idx_reference (tenant, type, id);
CREATE INDEX idx_reference_lookup ON idx_reference (tenant, type, param, target_id, target_type);

CREATE TABLE idx_quantity (
    tenant text    NOT NULL,
    type   text    NOT NULL,
    id     text    NOT NULL,
    param  text    NOT NULL,
    value  numeric NOT NULL,
    system text,
    code   text
);
CREATE INDEX idx_quantity_resource ON idx_quantity (tenant, type, id);
CREATE INDEX idx_quantity_lookup ON idx_quantity (tenant, type, param, code, value);

CREATE TABLE idx_number (
    tenant text    NOT NULL,
    type   text    NOT NULL,
    id     text    NOT NULL,
    param  text    NOT NULL,
    value  numeric NOT NULL
);
CREATE INDEX idx_number_resource ON idx_number (tenant, type, id);
CREATE INDEX idx_number_lookup ON idx_number (tenant, type, param, value);

CREATE TABLE idx_uri (
    tenant text NOT NULL,
    type   text NOT NULL,
    id     text NOT NULL,
    param  text NOT NULL,
    value  text NOT NULL
);
CREATE INDEX idx_uri_resource ON idx_uri (tenant, type, id);
CREATE INDEX idx_uri_lookup ON idx_uri (tenant, type, param, value);

CREATE TABLE idx_composite (
    tenant text NOT NULL,
    type   text NOT NULL,
    id     text NOT NULL,
    param  text NOT NULL,
    value  text NOT NULL                     -- the components, joined by the search layer
);
CREATE INDEX idx_composite_resource ON idx_composite (tenant, type, id);
CREATE INDEX idx_composite_lookup ON idx_composite (tenant, type, param, value);

-- Compartment membership: (type, id) belongs to compartment_type/compartment_id.
CREATE TABLE compartment (
    tenant           text NOT NULL,
    compartment_type text NOT NULL,
    compartment_id   text NOT NULL,
    type             text NOT NULL,
    id               text NOT NULL
);
CREATE INDEX compartment_resource ON compartment (tenant, type, id);
CREATE INDEX compartment_lookup ON compartment (tenant, compartment_type, compartment_id, type);

-- One event per committed write, in commit order (seq is assigned under the
-- ledger_head lock, so a larger seq never commits before a smaller one).
CREATE TABLE outbox (
    seq     bigserial PRIMARY KEY,
    tenant  text   NOT NULL,
    type    text   NOT NULL,
    id      text   NOT NULL,
    version bigint NOT NULL,
    kind    text   NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    at      bigint NOT NULL                  -- ms since the epoch, UTC
);
CREATE INDEX outbox_tenant ON outbox (tenant, seq);

-- Hash chain over all writes (all tenants), one linear chain.
CREATE TABLE ledger (
    seq          bigserial PRIMARY KEY,
    tenant       text   NOT NULL,
    type         text   NOT NULL,
    id           text   NOT NULL,
    version      bigint NOT NULL,
    content_hash bytea  NOT NULL,
    prev_hash    bytea  NOT NULL,
    entry_hash   bytea  NOT NULL
);

-- The chain's head; each commit locks this single row FOR UPDATE.
CREATE TABLE ledger_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    entry_hash bytea   NOT NULL
);
INSERT INTO ledger_head (singleton, entry_hash) VALUES (true, decode(repeat('00', 32), 'hex'));
