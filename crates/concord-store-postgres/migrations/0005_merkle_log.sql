-- The Merkle log over the ledger (security issue 4): each ledger row is a
-- leaf at `leaf_index` (0-based, commit order, assigned under the
-- ledger_head lock); signed tree heads record the root of the first
-- `tree_size` leaves.
ALTER TABLE ledger ADD COLUMN leaf_index bigint;
UPDATE ledger SET leaf_index = r.n
FROM (SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) - 1 AS n FROM ledger) AS r
WHERE r.seq = ledger.seq;
CREATE UNIQUE INDEX ledger_leaf ON ledger (leaf_index);
CREATE INDEX ledger_version ON ledger (tenant, type, id, version);
ALTER TABLE ledger_head ADD COLUMN size bigint NOT NULL DEFAULT 0;
UPDATE ledger_head SET size = (SELECT count(*) FROM ledger);

CREATE TABLE tree_heads (
    seq        bigserial PRIMARY KEY,
    tree_size  bigint NOT NULL,
    root_hash  bytea  NOT NULL,
    issued_at  bigint NOT NULL,
    signature  bytea  NOT NULL
);
