-- The string value as written, for `:exact` (value_norm serves the default
-- starts-with and `:contains` matches).
ALTER TABLE idx_string ADD COLUMN value_exact text NOT NULL DEFAULT '';
