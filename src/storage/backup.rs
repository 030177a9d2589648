//! A consistent copy of a live SQLite database (`orgraph backup`).

use std::{io::Write as _, path::Path};

use anyhow::Context;
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::storage::sql;

/// Copy the SQLite database into `target`, a new file: one that exists is refused, never
/// overwritten. `VACUUM INTO` reads one snapshot (a read transaction of the WAL database), so
/// writers go on meanwhile and the copy holds exactly the transactions committed before it
/// began. The file is readable by its owner only: it holds the server's keys and every hash.
pub async fn sqlite_into(db: &DatabaseConnection, target: &Path) -> anyhow::Result<u64> {
    anyhow::ensure!(db.get_database_backend() == DatabaseBackend::Sqlite, "a SQLite database is copied this way, not {:?}", db.get_database_backend());
    let name = target.to_str().with_context(|| format!("{} is not a UTF-8 path", target.display()))?;
    // Made here, empty (which VACUUM INTO accepts), so that an existing file is refused
    // atomically and the copy gets its permissions from the start.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(target).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow::anyhow!("{} exists: a backup never overwrites a file; name a new one", target.display()),
        _ => anyhow::Error::new(e).context(format!("cannot create {}", target.display())),
    })?;
    // The file name is a bound value: no quoting to get wrong.
    if let Err(e) = sql::exec(db, "VACUUM INTO $1", vec![name.into()]).await {
        let _ = std::fs::remove_file(target);
        return Err(anyhow::Error::new(e).context(format!("the copy into {} failed (the partial file was removed)", target.display())));
    }
    // VACUUM INTO does not sync the copy at synchronous=NORMAL: make it durable before saying so.
    let mut file = std::fs::OpenOptions::new().append(true).open(target)?;
    file.flush()?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}
