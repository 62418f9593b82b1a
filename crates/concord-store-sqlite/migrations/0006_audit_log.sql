-- The compact audit log (security issue 4, see concord_store::audit_log):
-- one append-only row per AuditEvent instead of a resource version with its
-- history, index and ledger rows. `leaf_index` is the ledger leaf of the
-- batch the row was committed in; `idx` packs its search-index rows.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    stored_at  INTEGER NOT NULL,
    leaf_index INTEGER NOT NULL,
    idx        TEXT    NOT NULL,
    content    TEXT    NOT NULL
);
CREATE UNIQUE INDEX audit_log_id ON audit_log (tenant, id);

-- The patients each event names: "who viewed my record" and patient-scoped
-- audit searches read only that patient's events.
CREATE TABLE audit_patient (
    tenant  TEXT    NOT NULL,
    patient TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (tenant, patient, seq)
) WITHOUT ROWID;
