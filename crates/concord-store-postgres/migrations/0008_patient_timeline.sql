-- The patient timeline (concord_store::TimelineRow): one row per resource
-- and target of its `patient` search parameter, with `newest`, the largest
-- `high` of its `date` rows (-9223372036854775808, the "no value" of a
-- descending sort, when it has none). `X?patient=P&_sort=-date&_count=N`
-- walks `patient_timeline_walk` newest first and stops after N matches
-- instead of sorting every resource of the patient.
CREATE TABLE patient_timeline (
    tenant    text   NOT NULL,
    type      text   NOT NULL,
    id        text   NOT NULL,
    target_id text   NOT NULL,
    newest    bigint NOT NULL
);
CREATE INDEX patient_timeline_resource ON patient_timeline (tenant, type, id);
CREATE INDEX patient_timeline_walk
    ON patient_timeline (tenant, type, target_id, newest DESC, id COLLATE "C");

-- Rows for what is already stored, from its index rows.
INSERT INTO patient_timeline (tenant, type, id, target_id, newest)
SELECT DISTINCT p.tenant, p.type, p.id, p.target_id,
    COALESCE((SELECT MAX(d.high) FROM idx_date d
              WHERE d.tenant = p.tenant AND d.type = p.type AND d.id = p.id AND d.param = 'date'),
             -9223372036854775808)
FROM idx_reference p
WHERE p.param = 'patient' AND p.target_id IS NOT NULL;
