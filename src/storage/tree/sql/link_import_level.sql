-- Closure rows of imported nodes (the ids {list}, all at one depth, their parents already
-- linked): each with itself, and with each of its parent's ancestors one level further.
INSERT INTO node_closure (ancestor_id, descendant_id, depth)
SELECT n.id, n.id, 0 FROM node n WHERE n.id IN ({list})
UNION ALL
SELECT c.ancestor_id, n.id, c.depth + 1
FROM node n JOIN node_closure c ON c.descendant_id = n.parent_id
WHERE n.id IN ({list})
