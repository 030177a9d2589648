//! The systemd unit shipped in `deploy/systemd/orgraph.service`, checked by systemd itself:
//! `systemd-analyze verify` (every key known and valid, the binary there) and `systemd-analyze
//! security` (its exposure stays low). Skipped, saying so, where systemd-analyze is missing.
//! (The nginx example is exercised by tests/api/proxies.rs.)

use std::{io::Write as _, path::PathBuf, process::Command};

const ANALYZE: &str = "/usr/bin/systemd-analyze";

#[test]
fn the_systemd_unit_is_valid_and_hardened() {
    if !std::path::Path::new(ANALYZE).exists() {
        let _ = writeln!(std::io::stderr(), "skipped the systemd unit check: {ANALYZE} is missing");
        return;
    }
    let unit = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd/orgraph.service"))
        .expect("deploy/systemd/orgraph.service");
    for key in ["DynamicUser=yes", "StateDirectory=orgraph", "EnvironmentFile=", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "TimeoutStopSec=30s"] {
        assert!(unit.contains(key), "the unit has {key}");
    }
    // The unit as installed, but starting the binary this build made (verify checks it exists).
    let installed = "ExecStart=/usr/local/bin/orgraph serve";
    assert_eq!(unit.matches(installed).count(), 1, "the unit starts /usr/local/bin/orgraph");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("orgraph.service");
    std::fs::write(&path, unit.replace(installed, &format!("ExecStart={} serve", env!("CARGO_BIN_EXE_orgraph")))).expect("unit written");

    let out = Command::new(ANALYZE).arg("verify").arg(&path).output().expect("systemd-analyze runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // verify exits 0 on keys it ignores: any word from it is a finding.
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");

    let out = Command::new(ANALYZE).args(["security", "--no-pager", "--offline=true"]).arg(&path).output().expect("systemd-analyze runs");
    let said = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = said
        .lines()
        .find_map(|l| l.split("Overall exposure level for orgraph.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an exposure level: {said}{}", String::from_utf8_lossy(&out.stderr)));
    assert!(exposure <= 2.0, "systemd rates the unit's exposure {exposure} (OK is up to 2): {said}");
}
