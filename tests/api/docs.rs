//! The documentation tells the truth: the generated reference pages equal what the code generates
//! (`UPDATE_DOCS=1 cargo test --test api docs` rewrites them), every relative link of README.md
//! and docs/ leads to a file (and heading) that exists, the front page stays short and keeps the
//! two commands, no page uses words only this project's own process knows, and the SDK examples
//! the README shows run as they are against a real server.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use crate::harness::{POOL_SECRET, TestServer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn generated_reference_pages_match_the_code() {
    let pages = orgraph::reference_docs::pages().expect("the reference pages generate");
    let mut stale = Vec::new();
    for (path, text) in pages {
        let file = root().join(path);
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&file, &text).unwrap_or_else(|e| panic!("write {path}: {e}"));
        }
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            stale.push(path);
        }
    }
    assert!(stale.is_empty(), "{stale:?} differ from the code; regenerate them with `UPDATE_DOCS=1 cargo test --test api docs`");
}

/// README.md, the other top-level pages and every Markdown file under docs/.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out: Vec<PathBuf> = ["README.md", "CHANGELOG.md", "SECURITY.md"].iter().map(|p| root().join(p)).collect();
    walk(&root().join("docs"), &mut out);
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text outside fenced code blocks and inline code, where Markdown links are.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            // Drop inline code spans: `a](b)` inside backticks is no link.
            let mut in_code = false;
            for c in line.chars() {
                if c == '`' {
                    in_code = !in_code;
                } else if !in_code {
                    out.push(c);
                }
            }
            out.push('\n');
        }
    }
    out
}

/// The targets of the inline links `[text](target)` of a Markdown text.
fn links(text: &str) -> Vec<String> {
    let text = prose(text);
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].trim().to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// The anchors GitHub gives a page's headings (a repeated heading gets `-1`, `-2`, ...).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let Some(heading) = line.strip_prefix('#').filter(|_| !fenced) else { continue };
        let base = orgraph::reference_docs::slug(heading.trim_start_matches('#'));
        let mut anchor = base.clone();
        let mut n = 0;
        while out.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        out.insert(anchor);
    }
    out
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&page);
        let here = page.strip_prefix(root()).expect("under the root").display().to_string();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').map_or((target.as_str(), None), |(f, a)| (f, Some(a)));
            let path = if file.is_empty() { page.clone() } else { page.parent().expect("a folder").join(file) };
            if !path.exists() {
                broken.push(format!("{here}: {target} (no such file)"));
                continue;
            }
            if let Some(anchor) = anchor
                && path.extension().is_some_and(|e| e == "md")
                && !anchors(&read(&path)).contains(anchor)
            {
                broken.push(format!("{here}: {target} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Where `needle` (lower case) starts a word and is followed by a digit: "issue 12", "goal 3".
fn word_then_digit(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Where "session" means a working session of this project ("this session", "the session of
/// 2026-11-24"), not a user's login session, which the security pages describe.
fn work_session(text: &str) -> bool {
    ["this session", "previous session", "earlier session", "next session", "last session", "session of 20", "sessions of 20"]
        .iter()
        .any(|phrase| text.contains(phrase))
}

#[test]
fn pages_speak_to_users_not_to_the_project_itself() {
    let mut found = Vec::new();
    for page in pages() {
        let here = page.strip_prefix(root()).expect("under the root").display().to_string();
        for (n, line) in read(&page).lines().enumerate() {
            let lower = line.to_lowercase();
            let bad = word_then_digit(&lower, "issue ")
                || word_then_digit(&lower, "goal ")
                || lower.contains("seed 0")
                || work_session(&lower)
                || lower.contains("/work/")
                || lower.contains("../shared");
            if bad {
                found.push(format!("{here}:{}: {line}", n + 1));
            }
        }
    }
    assert!(found.is_empty(), "internal words in the documentation:\n{}", found.join("\n"));
}

#[test]
fn the_word_checks_catch_what_they_should() {
    assert!(word_then_digit("see issue 12", "issue "));
    assert!(!word_then_digit("no issues 12 or tissue 3", "issue "));
    assert!(word_then_digit("goal 3 holds", "goal "));
    assert!(work_session("written in the session of 2026-11-24") && work_session("as this session found"));
    assert!(!work_session("a login session lasts 7 days"));
    assert_eq!(links("[a](x.md) `[b](y.md)` [c](z.md#h)\n```\n[d](w.md)\n```"), ["x.md", "z.md#h"]);
    assert_eq!(anchors("# A b\n## A b\n### `orgraph pool`"), BTreeSet::from(["a-b".into(), "a-b-1".into(), "orgraph-pool".into()]));
}

#[test]
fn the_front_page_is_short_and_keeps_the_two_commands() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(lines <= 130, "README.md has {lines} lines: keep it a front page (at most 130), move details into docs/");
    for command in ["cargo run --release", "cargo test --workspace", "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --workspace"] {
        assert!(readme.lines().any(|l| l.trim() == command), "README.md shows `{command}` on a line of its own");
    }
    // The address the README and the examples use is the server's default.
    let cli = <orgraph::cli::Cli as clap::CommandFactory>::command();
    let listen = cli.get_arguments().find(|a| a.get_id() == "listen").expect("--listen").get_default_values()[0].to_string_lossy().into_owned();
    assert!(readme.contains(&format!("http://{listen}/")), "README.md names the default address {listen}");
    for install in ["(cd examples/sdk && npm ci)", "pip install -r examples/sdk/requirements.txt"] {
        assert!(readme.contains(install), "README.md installs the SDKs as the examples' test does: {install}");
    }
    for example in EXAMPLES {
        let text = read(&root().join("examples/sdk").join(example.file));
        assert!(text.contains(&format!("http://{listen}")), "{} defaults to http://{listen}", example.file);
        assert!(readme.contains(&format!("examples/sdk/{}", example.file)), "README.md shows how to run {}", example.file);
    }
}

struct Example {
    file: &'static str,
    python: bool,
}

const EXAMPLES: [Example; 3] = [
    Example { file: "js-v2.mjs", python: false },
    Example { file: "node-v3.mjs", python: false },
    Example { file: "python_v3.py", python: true },
];

/// Each SDK example, unchanged, against a real server: it creates an organization, a department
/// and a member, and prints the department's members.
#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_examples_run_as_shown() {
    let s = TestServer::start().await;
    let node_dir = tokio::task::spawn_blocking(|| crate::harness::npm_package("examples/sdk", "target/sdk-examples")).await.unwrap();
    // Installed as the README says: `npm ci` in examples/sdk, `pip install -r examples/sdk/requirements.txt`.
    let python = tokio::task::spawn_blocking(|| crate::sdk_py::venv_with("examples/sdk/requirements.txt", "target/sdk-examples-py"))
        .await
        .unwrap()
        .join("bin/python");
    for example in EXAMPLES {
        let (program, script) = if example.python {
            (python.clone(), root().join("examples/sdk").join(example.file))
        } else {
            // The package's copy under target/ (byte for byte the same file), beside its node_modules.
            let copy = node_dir.join(example.file);
            assert_eq!(read(&copy), read(&root().join("examples/sdk").join(example.file)));
            (PathBuf::from("node"), copy)
        };
        let (url, pool) = (s.url.clone(), s.pool_id.clone());
        let out = tokio::task::spawn_blocking(move || {
            Command::new(&program)
                .arg(&script)
                .env("ORGRAPH_URL", url)
                .env("ORGRAPH_POOL_ID", pool)
                .env("ORGRAPH_POOL_SECRET", POOL_SECRET)
                .output()
                .unwrap_or_else(|e| panic!("{program:?} runs: {e}"))
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{} failed:\n{stdout}\n{}", example.file, String::from_utf8_lossy(&out.stderr));
        let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("the example prints one JSON line");
        assert_eq!(summary["department"], "Engineering", "{}: {summary}", example.file);
        assert_eq!(summary["members"], serde_json::json!([summary["user"]]), "{}: {summary}", example.file);
        // What it printed is what the server holds.
        let c = s.admin().await;
        let d = c.data("{ orgs(limit: 50) { list { rootNode { code } } } }", serde_json::json!({})).await;
        let codes: Vec<&str> = d["orgs"]["list"].as_array().unwrap().iter().filter_map(|o| o["rootNode"]["code"].as_str()).collect();
        assert!(codes.contains(&summary["organization"].as_str().unwrap()), "{}: {codes:?}", example.file);
    }
}
