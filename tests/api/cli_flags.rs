//! The command line's flags, read from clap's own description of the command (so a flag added
//! later is covered): every server flag is accepted before and after any subcommand, and every
//! default `--help` shows parses back to that default. Then the real binary, with flags after
//! `serve`, `pool list` and `export`.

use std::process::Stdio;

use clap::{Command, CommandFactory, FromArgMatches};
use orgraph::cli::Cli;

use crate::harness::{TestServer, wait_ready};

/// The command with no environment variable behind any flag: what is compared is the command
/// line alone (the tests may run with `DATABASE_URL` set).
fn without_env(cmd: Command) -> Command {
    cmd.mut_args(|a| a.env(None::<&'static str>)).mut_subcommands(without_env)
}

/// `argv` parsed as `main` parses it (environment aside), printed; or clap's error.
fn parsed(argv: &[String]) -> Result<String, String> {
    let matches = without_env(Cli::command()).try_get_matches_from(argv).map_err(|e| e.to_string())?;
    Cli::from_arg_matches(&matches).map(|cli| format!("{cli:?}")).map_err(|e| e.to_string())
}

/// Every command that runs something (`serve`, `pool list`, ...; `orgraph` alone too), as the
/// words that name it, with its arguments (global ones included: the command is built).
fn runnable(cmd: &Command, path: Vec<String>, out: &mut Vec<(Vec<String>, Command)>) {
    if cmd.get_subcommands().next().is_none() || !cmd.is_subcommand_required_set() {
        out.push((path.clone(), cmd.clone()));
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        runnable(sub, p, out);
    }
}

fn commands() -> Vec<(Vec<String>, Command)> {
    let mut top = Cli::command();
    top.build();
    let mut out = Vec::new();
    runnable(&top, Vec::new(), &mut out);
    out
}

/// `orgraph <path> <its required arguments>`.
fn invocation(path: &[String], cmd: &Command) -> Vec<String> {
    let mut argv = vec!["orgraph".to_string()];
    argv.extend(path.iter().cloned());
    for a in cmd.get_arguments().filter(|a| a.is_required_set()) {
        if let Some(long) = a.get_long() {
            argv.push(format!("--{long}"));
        }
        argv.push("x".into());
    }
    argv
}

/// A default as `--help` shows it: the values joined by spaces, one with a space in quotes.
fn shown_default(a: &clap::Arg) -> Option<String> {
    let values = a.get_default_values();
    if values.is_empty() || !a.get_action().takes_values() || a.is_hide_default_value_set() {
        return None;
    }
    let shown: Vec<String> = values
        .iter()
        .map(|v| v.to_string_lossy().to_string())
        .map(|v| if v.is_empty() || v.contains(char::is_whitespace) { format!("{v:?}") } else { v })
        .collect();
    Some(shown.join(" "))
}

#[test]
fn every_default_shown_in_help_parses_back_to_that_default() {
    let mut checked = 0;
    for (path, cmd) in commands() {
        let base = invocation(&path, &cmd);
        let defaults = parsed(&base).unwrap_or_else(|e| panic!("{base:?} parses: {e}"));
        let help = {
            let mut top = Cli::command();
            top.build();
            let mut sub = &mut top;
            for name in &path {
                sub = sub.find_subcommand_mut(name).expect("the subcommand");
            }
            sub.render_long_help().to_string()
        };
        for a in cmd.get_arguments() {
            let (Some(shown), Some(long)) = (shown_default(a), a.get_long()) else { continue };
            assert!(help.contains(&format!("[default: {shown}]")), "`{}` --help shows --{long}'s default as {shown:?}", path.join(" "));
            // What a shell passes for the text shown (it removes the quotes of a quoted one).
            let typed = shown.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(&shown).to_string();
            let mut argv = base.clone();
            argv.extend([format!("--{long}"), typed]);
            match parsed(&argv) {
                Ok(cli) => assert_eq!(cli, defaults, "--{long} {shown} gives the default"),
                Err(e) => panic!("`orgraph {}` --help shows --{long} [default: {shown}], which does not parse: {e}", path.join(" ")),
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "the defaults were found ({checked})");
}

/// A value `--long` (a flag without a default) accepts, from a few of each kind: addresses,
/// networks, origins and free text.
fn sample_value(long: &str) -> Option<String> {
    let found = ["x", "127.0.0.1/32", "127.0.0.1:9100", "https://app.example.com", "30"]
        .into_iter()
        .find(|v| parsed(&["orgraph".to_string(), format!("--{long}"), v.to_string()]).is_ok())
        .map(String::from);
    assert!(found.is_some(), "no sample value parses for --{long}: add one");
    found
}

#[test]
fn every_server_flag_works_before_and_after_any_subcommand() {
    let top = Cli::command();
    let flags: Vec<(String, String)> = top
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
        .filter_map(|a| {
            let long = a.get_long()?.to_string();
            let value = shown_default(a).or_else(|| sample_value(&long))?;
            Some((long, value))
        })
        .collect();
    assert!(flags.len() > 30, "the server's flags were found");
    for (path, cmd) in commands().into_iter().filter(|(p, _)| !p.is_empty()) {
        let base = invocation(&path, &cmd);
        for (long, value) in &flags {
            let flag = [format!("--{long}"), value.clone()];
            let after: Vec<String> = base.iter().cloned().chain(flag.iter().cloned()).collect();
            let before: Vec<String> = base[..1].iter().chain(flag.iter()).chain(base[1..].iter()).cloned().collect();
            let (a, b) = (parsed(&after), parsed(&before));
            assert!(a.is_ok(), "`orgraph {} --{long} {value}`: {}", path.join(" "), a.unwrap_err());
            assert_eq!(a, b, "--{long} means the same before and after `{}`", path.join(" "));
        }
    }
}

#[tokio::test]
async fn the_binary_takes_flags_after_serve_pool_list_and_export() {
    let s = TestServer::start().await;
    let port = crate::harness::free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &s.db.url, "--log-level", "warn"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let base = format!("http://127.0.0.1:{port}");
    tokio::select! {
        () = wait_ready(&base) => {}
        status = child.wait() => panic!("`orgraph serve --listen ...` exited: {status:?}"),
    }
    child.kill().await.expect("stopped");

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["pool", "list", "--database-url", &s.db.url, "--log-level", "warn"])
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&s.pool_id), "the pool is listed");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("company.json");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["export", "--pool", &s.pool_id, file.to_str().unwrap(), "--database-url", &s.db.url, "--log-level", "warn"])
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(file.exists(), "exported");
}
