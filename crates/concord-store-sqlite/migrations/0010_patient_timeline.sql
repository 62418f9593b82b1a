-- The patient timeline (concord_store::TimelineRow): one row per resource
-- and target of its `patient` search parameter, with `newest`, the largest
-- `high` of its `date` rows (-9223372036854775808, the "no value" of a
-- descending sort, when it has none). `X?patient=P&_sort=-date&_count=N`
-- walks `patient_timeline_walk` newest first and stops after N matches
-- instead of sorting every resource of the patient.
CREATE TABLE patient_timeline (
    rid INTEGER NOT NULL, target_id TEXT NOT NULL,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    newest INTEGER NOT NULL,
    PRIMARY KEY (rid, target_id)
) WITHOUT ROWID;
CREATE INDEX patient_timeline_walk ON patient_timeline (tenant, type, target_id, newest DESC, id);

-- Rows for what is already stored, from its index rows.
INSERT INTO patient_timeline (rid, target_id, tenant, type, id, newest)
SELECT DISTINCT p.rid, p.target_id, p.tenant, p.type, p.id,
    COALESCE((SELECT MAX(d.high) FROM idx_date d WHERE d.rid = p.rid AND d.param = 'date'),
             -9223372036854775808)
FROM idx_reference p
WHERE p.param = 'patient' AND p.target_id IS NOT NULL;
