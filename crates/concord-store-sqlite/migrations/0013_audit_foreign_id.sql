-- The trail's own events have their sequence number as id (digits only,
-- `audit_log::trail_id`), so they are found by `seq`, the table's key; only
-- the events of other audit sources (ids with another character) need the
-- unique (tenant, id) index. Keeping trail events out of it saves one
-- b-tree insert per audited request.
DROP INDEX audit_log_id;
CREATE UNIQUE INDEX audit_log_foreign_id ON audit_log (tenant, id) WHERE id GLOB '*[^0-9]*';
