-- The compact audit log (security issue 4, see concord_store::audit_log):
-- one append-only row per AuditEvent instead of a resource version with its
-- history, index and ledger rows. `leaf_index` is the ledger leaf of the
-- batch the row was committed in (seq is assigned under the ledger_head
-- lock, so it is commit order); `idx` packs its search-index rows.
CREATE TABLE audit_log (
    seq        bigserial PRIMARY KEY,
    tenant     text   NOT NULL,
    id         text   NOT NULL,
    stored_at  bigint NOT NULL,
    leaf_index bigint NOT NULL,
    idx        text   NOT NULL,
    content    text   NOT NULL
);
CREATE UNIQUE INDEX audit_log_id ON audit_log (tenant, id);

-- The patients each event names: "who viewed my record" and patient-scoped
-- audit searches read only that patient's events.
CREATE TABLE audit_patient (
    tenant  text   NOT NULL,
    patient text   NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (tenant, patient, seq)
);
