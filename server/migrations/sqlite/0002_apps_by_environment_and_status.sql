-- A list filtered by both environment and status reads only matching rows,
-- in id order, however many apps the organization has.
CREATE INDEX apps_by_organization_environment_status ON apps (organization_id, environment, status, id);
