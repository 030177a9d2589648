-- The plain schema PostGraphile serves in benches/postgraphile/run.sh: what one would write for an
-- org tree without orgraph's derived tables (no fan-out, no stored counts). Departments point to
-- their parent; a closure table answers "every department under X" in one join (as in
-- ../shared/research/perf-anchors.md, the reference of issue 12's goal 5); subtree and direct
-- member lists are SQL functions, which PostGraphile exposes as root fields with connections
-- (`first`, `totalCount`). Loaded from orgraph's kept benchmark database, ids included.

CREATE TABLE departments (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  parent_id text REFERENCES departments (id),
  code text,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- A table named `nodes` would collide with the Relay `Node` interface; `departments` does not.

CREATE TABLE department_closure (
  ancestor_id text NOT NULL REFERENCES departments (id),
  descendant_id text NOT NULL REFERENCES departments (id),
  depth int NOT NULL,
  PRIMARY KEY (ancestor_id, descendant_id)
);

CREATE TABLE users (
  id text PRIMARY KEY,
  username text UNIQUE,
  email text,
  phone text,
  name text,
  nickname text,
  photo text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE memberships (
  department_id text NOT NULL REFERENCES departments (id),
  user_id text NOT NULL REFERENCES users (id),
  is_main_department boolean NOT NULL DEFAULT false,
  joined_at timestamptz NOT NULL,
  PRIMARY KEY (department_id, user_id)
);

-- Created after the load (faster), by load_indexes below.
-- departments (org_id), (parent_id); department_closure (descendant_id);
-- users (created_at, id): the member pages' order; memberships (user_id).

-- Every user in the department's subtree, newest first (each once).
CREATE FUNCTION subtree_users(department_id text) RETURNS SETOF users
LANGUAGE sql STABLE AS $$
  SELECT u.* FROM users u
  WHERE EXISTS (
    SELECT 1 FROM memberships m
    JOIN department_closure c ON c.descendant_id = m.department_id
    WHERE m.user_id = u.id AND c.ancestor_id = subtree_users.department_id)
  ORDER BY u.created_at DESC, u.id DESC
$$;

-- The department's direct members, newest first.
CREATE FUNCTION direct_users(department_id text) RETURNS SETOF users
LANGUAGE sql STABLE AS $$
  SELECT u.* FROM users u
  JOIN memberships m ON m.user_id = u.id AND m.department_id = direct_users.department_id
  ORDER BY u.created_at DESC, u.id DESC
$$;
