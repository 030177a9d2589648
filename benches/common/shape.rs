//! The shape of the benchmark org (shared by `benches/org_tree.rs` and `examples/dataset_m.rs`,
//! so both make the same tree from the same seed): breadth first, each node with 2 to 12
//! children, `n_nodes` nodes. Depth at most 6 while six levels can hold `n_nodes` (dataset M's
//! 10,000 always fit); a larger tree (dataset L's 100,000: 76,666 fit in six levels with seed 42)
//! goes one level deeper rather than stopping short.

use rand::{Rng, rngs::StdRng};

/// Each node's parent index (`None` for the root, index 0) and depth.
pub fn tree_shape(rng: &mut StdRng, n_nodes: usize) -> (Vec<Option<usize>>, Vec<i32>) {
    let mut parent_of: Vec<Option<usize>> = vec![None];
    let mut depth: Vec<i32> = vec![0];
    let mut frontier = vec![0usize];
    // Breadth first, level by level: a level is only opened once every shallower one is full,
    // so the tree is as shallow as the draws allow.
    while parent_of.len() < n_nodes && !frontier.is_empty() {
        let mut next = Vec::new();
        for &p in &frontier {
            for _ in 0..rng.gen_range(2..=12) {
                if parent_of.len() >= n_nodes {
                    break;
                }
                parent_of.push(Some(p));
                depth.push(depth[p] + 1);
                next.push(parent_of.len() - 1);
            }
        }
        frontier = next;
    }
    (parent_of, depth)
}
