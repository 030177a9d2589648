-- The ancestors of each node of a list (root first, the node last), with their code and name.
SELECT c.descendant_id AS node_id, n.id AS id, n.code AS code, n.name AS name
FROM node_closure c JOIN node n ON n.id = c.ancestor_id
WHERE c.descendant_id IN ({list})
ORDER BY c.descendant_id, c.depth DESC
