-- The value of a composite's one number or quantity component, beside its
-- `$`-joined text, so prefixes (`component-code-value-quantity=…$gt120`)
-- compare numbers. Rows written before this migration have none, and their
-- canonical-unit rows sit under the plain parameter: `concord reindex`
-- rewrites them.
ALTER TABLE idx_composite ADD COLUMN number numeric;
