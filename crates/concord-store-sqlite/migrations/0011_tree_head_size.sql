-- Signed tree heads by size: a consistency proof names the earlier head
-- by its tree size (`GET /$ledger-consistency?first=N`).
CREATE INDEX tree_heads_size ON tree_heads (tree_size, seq);
