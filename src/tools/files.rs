//! The files of `orgraph import` and `orgraph export`: one JSON document, or a folder of CSV
//! files, one per table, holding the same rows (`domain::company`, whose `TABLES` lists them).
//!
//! JSON: `{"format": "orgraph-company", "version": 2, "nodes": [...], "users": [...],
//! "memberships": [...], "eventApps": [...], ...}`, one row per line; a row is an object of the
//! columns. A row is named by its JSON pointer (`/users/12`). Version 1 files (no tables after
//! the memberships) are read as they are.
//! CSV: `nodes.csv`, `users.csv`, `memberships.csv`, `event_apps.csv`, ... (UTF-8, a header line
//! of column names, in any order; a missing file is an empty table). Lists of ids
//! (`leaderUserIds`) are ids separated by spaces; other JSON values (`customData`,
//! `registerSource`, a resource's `actions`, a webhook's `events`) are JSON text. A row is named
//! by its file and line (`users.csv:13`).

use std::{
    io::{BufWriter, Write},
    path::Path,
};

use anyhow::{Context, bail};
use clap::ValueEnum;
use serde_json::Value;

use crate::{
    domain::company::{Company, Row, Rows, Source, TABLES, Table},
    error::{AppError, AppResult},
};

pub const FORMAT_NAME: &str = "orgraph-company";
/// 2: the pool's event types, permissions and webhooks after the memberships; 3: its pending
/// scheduled batches after them (an older orgraph refuses the file rather than leave them out
/// unsaid).
pub const FORMAT_VERSION: u64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// The format `path` has: a folder (or a path without an extension) is CSV, else JSON.
    pub fn of(path: &Path, given: Option<Format>) -> Format {
        given.unwrap_or(if path.is_dir() || path.extension().is_none() { Format::Csv } else { Format::Json })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Csv => "CSV",
        }
    }
}

/// The rows of `path` for an import: a CSV folder read row by row each time they are asked for
/// (nothing held in memory), a JSON file parsed whole (a document must be read to its end to
/// be known valid; streaming it would take a parser of its own).
pub fn open(path: &Path, format: Format) -> anyhow::Result<Box<dyn Source>> {
    Ok(match format {
        Format::Json => Box::new(read_json(path)?),
        Format::Csv => {
            if !path.is_dir() {
                bail!("{} is not a folder of CSV files", path.display());
            }
            Box::new(CsvFolder { path: path.to_path_buf() })
        }
    })
}

/// A folder of CSV files, one per table.
struct CsvFolder {
    path: std::path::PathBuf,
}

impl Source for CsvFolder {
    fn rows(&self, table: &Table) -> AppResult<Rows<'_>> {
        let path = self.path.join(table.file);
        if !path.exists() {
            return Ok(Box::new(std::iter::empty()));
        }
        let bad = |message: String| AppError::InvalidInput { field: None, message };
        let name = table.file;
        let mut reader = csv::ReaderBuilder::new().from_path(&path).map_err(|e| bad(format!("cannot open {}: {e}", path.display())))?;
        let headers: Vec<String> =
            reader.headers().map_err(|e| bad(format!("{name}: cannot read the header line: {e}")))?.iter().map(|h| h.trim().to_string()).collect();
        Ok(Box::new(reader.into_records().map(move |record| {
            let record = record.map_err(|e| bad(format!("{name}:{}: {e}", e.position().map_or(0, |p| p.line()))))?;
            Ok(row(name, &headers, &record))
        })))
    }
}

/// A CSV record as a row: its non-empty cells by column.
fn row(name: &str, headers: &[String], record: &csv::StringRecord) -> Row {
    let line = record.position().map_or(0, |p| p.line());
    let fields = headers.iter().zip(record.iter()).filter(|(_, v)| !v.is_empty()).map(|(h, v)| (h.clone(), Value::from(v))).collect();
    Row { at: format!("{name}:{line}"), fields }
}

fn read_json(path: &Path) -> anyhow::Result<Company> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let doc: Value = serde_json::from_reader(std::io::BufReader::new(file)).with_context(|| format!("{} is not valid JSON", path.display()))?;
    let Value::Object(mut doc) = doc else { bail!("{}: the document must be a JSON object", path.display()) };
    if let Some(v) = doc.get("version").and_then(Value::as_u64)
        && v > FORMAT_VERSION
    {
        bail!("{}: version {v} is newer than this orgraph reads ({FORMAT_VERSION})", path.display());
    }
    let mut company = Company::default();
    for (slot, table) in company.tables_mut().into_iter().zip(TABLES) {
        let name = table.name;
        let rows = match doc.remove(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(rows)) => rows,
            Some(_) => bail!("/{name}: must be an array of rows"),
        };
        for (i, row) in rows.into_iter().enumerate() {
            let at = format!("/{name}/{i}");
            let Value::Object(fields) = row else { bail!("{at}: a row must be a JSON object") };
            slot.push(Row { at, fields });
        }
    }
    Ok(company)
}

pub fn write(company: &Company, path: &Path, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => write_json(company, path),
        Format::Csv => {
            std::fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))?;
            for (rows, table) in company.tables().into_iter().zip(TABLES) {
                write_csv(rows, &(table.columns)(), &path.join(table.file))?;
            }
            Ok(())
        }
    }
}

fn write_json(company: &Company, path: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    write!(out, "{{\"format\": \"{FORMAT_NAME}\", \"version\": {FORMAT_VERSION}")?;
    for (rows, table) in company.tables().into_iter().zip(TABLES) {
        let name = table.name;
        write!(out, ",\n\"{name}\": [")?;
        for (i, row) in rows.iter().enumerate() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut out, &row.fields)?;
        }
        write!(out, "{}]", if rows.is_empty() { "" } else { "\n" })?;
    }
    writeln!(out, "}}")?;
    out.flush()?;
    Ok(())
}

fn write_csv(rows: &[Row], columns: &[&str], path: &Path) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot create {}", path.display()))?;
    w.write_record(columns)?;
    for row in rows {
        w.write_record(columns.iter().map(|c| cell(c, row.fields.get(*c))))?;
    }
    w.flush()?;
    Ok(())
}

fn cell(column: &str, v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        // Lists of ids are written separated by spaces; other JSON values as JSON text.
        Some(Value::Array(items)) if column == "leaderUserIds" => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
        Some(other) => other.to_string(),
    }
}
