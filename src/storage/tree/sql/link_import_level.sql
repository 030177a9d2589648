-- Closure rows of the imported nodes at depth $2 of org $1: their parent's ancestors, one level
-- further (the level above is already linked).
INSERT INTO node_closure (ancestor_id, descendant_id, depth)
SELECT c.ancestor_id, n.id, c.depth + 1
FROM node n JOIN node_closure c ON c.descendant_id = n.parent_id
WHERE n.org_id = $1 AND n.depth = $2
