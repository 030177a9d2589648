-- A moved subtree's closure rows to its new ancestors: every ancestor of the new parent ($2),
-- itself included, with every node of the subtree rooted at $1.
INSERT INTO node_closure (ancestor_id, descendant_id, depth)
SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1
FROM node_closure a JOIN node_closure d ON d.ancestor_id = $1
WHERE a.descendant_id = $2
