//! Writes dataset M as an `orgraph import` file: the shape `benches/org_tree.rs` generates (seed
//! 42: a tree of 10,000 departments with fan-out 2 to 12 and depth at most 6; 200,000 users,
//! each in one department, 30% in a second one, about 260,000 memberships, the first one main).
//!
//!   cargo run --release --example dataset_m -- target/dataset-m.json       # JSON
//!   cargo run --release --example dataset_m -- target/dataset-m            # CSV folder
//!
//! Knobs: BENCH_NODES (10000), BENCH_USERS (200000).

#[path = "../benches/common/shape.rs"]
mod shape;

use std::{
    io::{BufWriter, Write},
    path::Path,
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let out = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: dataset_m OUT.json | OUT_FOLDER"))?;
    let (n_nodes, n_users) = (env_num("BENCH_NODES", 10_000), env_num("BENCH_USERS", 200_000));
    let mut rng = StdRng::seed_from_u64(42);

    // Tree, breadth first (the same draws as the benchmark's generator).
    let (parent_of, _) = shape::tree_shape(&mut rng, n_nodes);
    let n_nodes = parent_of.len();
    let node = |i: usize| if i == 0 { "bench".to_string() } else { format!("d{i}") };
    let nodes: Vec<[String; 4]> = (0..n_nodes)
        .map(|i| [node(i), parent_of[i].map(node).unwrap_or_default(), node(i), if i == 0 { "Bench".into() } else { format!("dept-{i}") }])
        .collect();
    let users: Vec<[String; 3]> = (0..n_users).map(|u| [format!("u{u}"), format!("user{u}"), format!("user{u}@example.com")]).collect();
    let mut members: Vec<(usize, usize, bool)> = Vec::new();
    for u in 0..n_users {
        let first = rng.gen_range(0..n_nodes);
        members.push((first, u, true));
        if rng.gen_bool(0.3) {
            let second = rng.gen_range(0..n_nodes);
            if second != first {
                members.push((second, u, false));
            }
        }
    }

    let path = Path::new(&out);
    if path.extension().is_some() {
        let mut w = BufWriter::new(std::fs::File::create(path)?);
        write!(w, "{{\"format\": \"orgraph-company\", \"version\": 1,\n\"nodes\": [")?;
        for (i, [id, parent, code, name]) in nodes.iter().enumerate() {
            let parent = if parent.is_empty() { None } else { Some(parent) };
            write!(w, "{}\n{}", if i == 0 { "" } else { "," }, json!({ "id": id, "parentId": parent, "code": code, "name": name }))?;
        }
        write!(w, "],\n\"users\": [")?;
        for (i, [id, username, email]) in users.iter().enumerate() {
            write!(w, "{}\n{}", if i == 0 { "" } else { "," }, json!({ "id": id, "username": username, "email": email }))?;
        }
        write!(w, "],\n\"memberships\": [")?;
        for (i, (n, u, main)) in members.iter().enumerate() {
            let row = json!({ "nodeId": node(*n), "userId": format!("u{u}"), "isMainDepartment": main });
            write!(w, "{}\n{row}", if i == 0 { "" } else { "," })?;
        }
        writeln!(w, "]}}")?;
        w.flush()?;
    } else {
        std::fs::create_dir_all(path)?;
        let mut w = csv::Writer::from_path(path.join("nodes.csv"))?;
        w.write_record(["id", "parentId", "code", "name"])?;
        for row in &nodes {
            w.write_record(row)?;
        }
        w.flush()?;
        let mut w = csv::Writer::from_path(path.join("users.csv"))?;
        w.write_record(["id", "username", "email"])?;
        for row in &users {
            w.write_record(row)?;
        }
        w.flush()?;
        let mut w = csv::Writer::from_path(path.join("memberships.csv"))?;
        w.write_record(["nodeId", "userId", "isMainDepartment"])?;
        for (n, u, main) in &members {
            w.write_record([node(*n), format!("u{u}"), main.to_string()])?;
        }
        w.flush()?;
    }
    eprintln!("dataset M: {n_nodes} departments, {n_users} users, {} memberships → {out}", members.len());
    Ok(())
}
