-- Who this transaction (still open: its versions are unstamped) brought into or took out of each
-- watched subtree ({watched}: `($2), ($3), ...`), with one department of theirs inside it.
-- (MATERIALIZED, CROSS JOIN and, on SQLite, {by_user}, {m_by_user}, {node_by_id}: the few
-- changed users drive every lookup; SQLite's planner would otherwise scan every version.)
-- Before: the committed versions still open (those the transaction closes included); after: the
-- tables. Only users whose memberships changed, or who belong under a department that got
-- another parent, can have crossed.
WITH RECURSIVE
watched(id) AS (VALUES {watched}),
touched AS (
    SELECT user_id FROM membership_version WHERE valid_from IS NULL AND user_pool_id = $1
    UNION
    SELECT user_id FROM membership_version WHERE closing AND user_pool_id = $1
),
moved AS (
    SELECT o.id FROM node_version o JOIN node n ON n.id = o.id
    WHERE o.closing AND o.valid_from IS NOT NULL AND o.user_pool_id = $1 AND o.parent_id <> n.parent_id
),
affected AS MATERIALIZED (
    SELECT user_id FROM touched
    UNION
    SELECT m.user_id FROM moved JOIN node_closure c ON c.ancestor_id = moved.id JOIN membership m ON m.node_id = c.descendant_id
),
before_pairs AS MATERIALIZED (
    SELECT v.user_id, v.node_id, v.org_id FROM affected a CROSS JOIN membership_version v{by_user}
    WHERE v.user_id = a.user_id AND v.valid_from IS NOT NULL AND v.valid_to IS NULL
),
before_up(dept, anc) AS (
    SELECT DISTINCT node_id, node_id FROM before_pairs
    UNION
    SELECT b.dept, v.parent_id FROM before_up b CROSS JOIN node_version v{node_by_id}
    WHERE v.id = b.anc AND v.valid_from IS NOT NULL AND v.valid_to IS NULL AND v.parent_id IS NOT NULL
),
before_in AS (
    SELECT w.id AS root, p.user_id, p.node_id, p.org_id
    FROM before_pairs p JOIN before_up u ON u.dept = p.node_id JOIN watched w ON w.id = u.anc
),
after_in AS (
    SELECT w.id AS root, m.user_id, m.node_id, m.org_id
    FROM affected a CROSS JOIN membership m{m_by_user} CROSS JOIN watched w CROSS JOIN node_closure c
    WHERE m.user_id = a.user_id AND c.ancestor_id = w.id AND c.descendant_id = m.node_id
),
-- Each (subtree, user) on one side only crossed: after only, entered; before only, left.
sides AS (
    SELECT root, user_id, node_id, org_id, 1 AS side FROM after_in
    UNION ALL
    SELECT root, user_id, node_id, org_id, 0 AS side FROM before_in
)
SELECT root, user_id, MAX(side) AS entered, MIN(node_id) AS department_id, MIN(org_id) AS org_id
FROM sides GROUP BY root, user_id HAVING MIN(side) = MAX(side)
ORDER BY root, entered, department_id, user_id
