//! Builds the GraphQL playground (`playground/`: GraphiQL 5 and a connect bar, bundled by Vite)
//! and embeds it in the binary. The sources are copied into OUT_DIR, installed there with
//! `npm ci` (again only when package.json or the lockfile changed) and built with Vite; every
//! file of the result is gzipped and listed in OUT_DIR/playground_assets.rs, which
//! src/http/playground.rs includes. Nothing is written into the source tree.
//!
//! Without Node.js (^20.19 or >= 22.12, what Vite 8 needs) and npm, or when the install or the
//! build fails (e.g. offline on a first build), the build does not fail: it warns and embeds a
//! small fallback page that says why and how to build the playground.
//!
//! - `ORGRAPH_PLAYGROUND=off`: embed the fallback page without trying.
//! - `ORGRAPH_PLAYGROUND=require`: fail the build rather than fall back (release builds).
//! - `ORGRAPH_PLAYGROUND_DIST=<dir>`: embed a `dist/` built elsewhere (no Node.js needed).

use std::{
    env, fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// What the build reads from `playground/`: the only inputs that rerun this script.
const SOURCES: &[&str] = &["package.json", "package-lock.json", ".npmrc", "index.html", "vite.config.js", "src", "fallback"];

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let sources = root.join("playground");
    println!("cargo:rerun-if-changed=build.rs");
    for s in SOURCES {
        println!("cargo:rerun-if-changed=playground/{s}");
    }
    println!("cargo:rerun-if-env-changed=ORGRAPH_PLAYGROUND");
    println!("cargo:rerun-if-env-changed=ORGRAPH_PLAYGROUND_DIST");

    let mode = env::var("ORGRAPH_PLAYGROUND").unwrap_or_default();
    if !["", "on", "off", "require"].contains(&mode.as_str()) {
        panic!("ORGRAPH_PLAYGROUND={mode}: expected on (the default), off or require");
    }
    let built = if mode == "off" {
        Err("built with ORGRAPH_PLAYGROUND=off".to_string())
    } else if let Some(dir) = env::var_os("ORGRAPH_PLAYGROUND_DIST").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        assert!(dir.join("index.html").is_file(), "ORGRAPH_PLAYGROUND_DIST={}: no index.html there", dir.display());
        Ok(dir)
    } else {
        build(&sources, &out)
    };

    let (files, fallback) = match built {
        Ok(dist) => (dist_files(&dist), None),
        Err(reason) => {
            if mode == "require" {
                panic!("the GraphQL playground could not be built (ORGRAPH_PLAYGROUND=require): {reason}");
            }
            let how = if mode == "off" {
                "unset ORGRAPH_PLAYGROUND to build it"
            } else {
                "to build it, install Node.js (^20.19 or >= 22.12) and npm, then `touch playground/package.json` \
                 and build again (or set ORGRAPH_PLAYGROUND_DIST)"
            };
            println!("cargo:warning=GraphQL playground not built: {reason}");
            println!("cargo:warning=GET /graphql serves a fallback page instead; {how}");
            (fallback_files(&sources, &reason), Some(reason))
        }
    };
    write_module(&out, &files, fallback.as_deref());
}

/// `npm ci` and `vite build` in a copy of the sources under OUT_DIR: the built `dist/`.
fn build(sources: &Path, out: &Path) -> Result<PathBuf, String> {
    check_node()?;
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let version = Command::new(npm).arg("--version").output();
    if !version.as_ref().is_ok_and(|o| o.status.success()) {
        return Err("npm was not found".into());
    }

    let work = out.join("playground");
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    // A fresh copy of the sources; node_modules stays from the last run.
    for s in SOURCES {
        let (from, to) = (sources.join(s), work.join(s));
        if to.is_dir() {
            fs::remove_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
        }
        copy(&from, &to).map_err(|e| format!("copying {}: {e}", from.display()))?;
    }

    let installed_for = [read(&sources.join("package.json")), read(&sources.join("package-lock.json"))].concat();
    let stamp = work.join("node_modules/.orgraph-installed");
    if fs::read(&stamp).ok().as_deref() != Some(&installed_for[..]) {
        run(
            Command::new(npm)
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel", "error"])
                .current_dir(&work),
            "npm ci",
        )?;
        fs::write(&stamp, &installed_for).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }

    let dist = out.join("playground-dist");
    run(
        Command::new("node")
            .args(["node_modules/vite/bin/vite.js", "build", "--logLevel", "warn", "--emptyOutDir", "--outDir"])
            .arg(&dist)
            .current_dir(&work),
        "vite build",
    )?;
    Ok(dist)
}

/// Vite 8 runs on Node.js ^20.19 or >= 22.12.
fn check_node() -> Result<(), String> {
    let out = Command::new("node").arg("--version").output();
    let Some(version) = out.ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    else {
        return Err("Node.js was not found".into());
    };
    let mut parts = version.trim_start_matches('v').split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major == 20 && minor >= 19) || (major == 22 && minor >= 12) || major >= 23 {
        Ok(())
    } else {
        Err(format!("Node.js {version} is too old (Vite 8 needs ^20.19 or >= 22.12)"))
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out: Output = cmd.output().map_err(|e| format!("{what} could not start: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = tail[tail.len().saturating_sub(12)..].join(" | ");
    Err(format!("{what} failed ({}): {tail}", out.status))
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(from, to).map(|_| ())
    }
}

/// Every file under `dist`, by its path relative to it ('/'-separated), in a stable order.
fn dist_files(dist: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, prefix: &str, files: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().into_string().expect("UTF-8 file names in the playground's dist");
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if entry.path().is_dir() {
                walk(&entry.path(), &rel, files);
            } else {
                files.push((rel, read(&entry.path())));
            }
        }
    }
    let mut files = Vec::new();
    walk(dist, "", &mut files);
    files
}

/// The fallback page and its script (content-hashed, like Vite's files).
fn fallback_files(sources: &Path, reason: &str) -> Vec<(String, Vec<u8>)> {
    let script = read(&sources.join("fallback/fallback.js"));
    let script_path = format!("graphql/assets/fallback-{:08x}.js", fnv1a(&script) as u32);
    let html = String::from_utf8(read(&sources.join("fallback/index.html"))).expect("UTF-8 fallback page");
    let escaped = reason.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let html = html.replace("{{REASON}}", &escaped).replace("{{SCRIPT}}", &format!("./{script_path}"));
    vec![("index.html".to_string(), html.into_bytes()), (script_path, script)]
}

/// OUT_DIR/playground_assets.rs: `FALLBACK` (why the playground was not built, if it was not)
/// and `FILES`, each with its content type, ETag and gzipped bytes (written beside it).
fn write_module(out: &Path, files: &[(String, Vec<u8>)], fallback: Option<&str>) {
    let gz_dir = out.join("playground-gz");
    if gz_dir.exists() {
        fs::remove_dir_all(&gz_dir).expect("clear playground-gz");
    }
    fs::create_dir_all(&gz_dir).expect("create playground-gz");
    let mut rs = String::from("// Generated by build.rs: the GraphQL playground's files, gzipped.\n");
    rs.push_str(&format!("pub const FALLBACK: Option<&str> = {fallback:?};\n"));
    rs.push_str("pub static FILES: &[EmbeddedFile] = &[\n");
    for (i, (path, bytes)) in files.iter().enumerate() {
        // A fixed header (no name, mtime 0): the same input gives the same bytes.
        let mut gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let gz_path = gz_dir.join(format!("{i:03}.gz"));
        fs::write(&gz_path, gz).expect("write gzipped file");
        let etag = format!("\"{:016x}\"", fnv1a(bytes));
        rs.push_str(&format!(
            "    EmbeddedFile {{ path: {path:?}, content_type: {:?}, etag: {etag:?}, gzip: include_bytes!({:?}) }},\n",
            content_type(path),
            gz_path.to_str().expect("UTF-8 OUT_DIR"),
        ));
    }
    rs.push_str("];\n");
    fs::write(out.join("playground_assets.rs"), rs).expect("write playground_assets.rs");
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "ttf" => "font/ttf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// FNV-1a, 64 bits: names and ETags, not security.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
