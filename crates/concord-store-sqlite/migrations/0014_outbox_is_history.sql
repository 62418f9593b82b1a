-- The change feed reads `resource_history` (`read::changes_after`): every
-- write already appends one history row, in the same transaction, with the
-- tenant, type, id, version, kind and instant an outbox row repeated, and
-- `resource_history_tenant (tenant, seq)` orders it per tenant. The outbox
-- copy cost a row and two b-tree inserts per write.
--
-- Consumers keep their cursors: both tables were created by migration 1 and
-- have taken one row each per write in the same transaction since, so an
-- event's outbox seq is its history seq. The CHECK below stops the
-- migration (and the server's start) should any row say otherwise.
CREATE TEMP TABLE outbox_matches_history (unmatched INTEGER NOT NULL CHECK (unmatched = 0));
INSERT INTO outbox_matches_history
SELECT count(*) FROM outbox o
WHERE NOT EXISTS (
    SELECT 1 FROM resource_history h
    WHERE h.seq = o.seq AND h.tenant = o.tenant AND h.type = o.type AND h.id = o.id
      AND h.version = o.version AND h.kind = o.kind AND h.last_updated = o.at
);
DROP TABLE outbox_matches_history;
DROP TABLE outbox;
