-- Deferred patient links of the audit trail (see src/audit.rs, "patient
-- links"): the trail's own events get their audit_patient rows written in
-- bulk, sorted, every few thousand events instead of in every batch. This
-- one row records the audit_log seq up to which every trail event has its
-- links; patient-scoped audit reads scan the rows after it. Rows already
-- stored were linked when they were written.
CREATE TABLE audit_links_upto (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL
);
INSERT INTO audit_links_upto (one, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log;
