-- Indexes of the plain schema, created after the load (see schema.sql).
CREATE INDEX departments_org_id_idx ON departments (org_id);
CREATE INDEX departments_parent_id_idx ON departments (parent_id);
CREATE INDEX department_closure_descendant_idx ON department_closure (descendant_id);
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);
ANALYZE;
