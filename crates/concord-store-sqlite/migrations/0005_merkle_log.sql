-- The Merkle log over the ledger (security issue 4): each ledger row is a
-- leaf at `leaf_index` (0-based, commit order); signed tree heads record the
-- root of the first `tree_size` leaves.
ALTER TABLE ledger ADD COLUMN leaf_index INTEGER;
UPDATE ledger SET leaf_index = r.n
FROM (SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) - 1 AS n FROM ledger) AS r
WHERE r.seq = ledger.seq;
CREATE UNIQUE INDEX ledger_leaf ON ledger (leaf_index);
CREATE INDEX ledger_version ON ledger (tenant, type, id, version);

CREATE TABLE tree_heads (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tree_size  INTEGER NOT NULL,
    root_hash  BLOB    NOT NULL,
    issued_at  INTEGER NOT NULL,
    signature  BLOB    NOT NULL
);
