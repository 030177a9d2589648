//! Operator tools of the command line: `orgraph import`, `orgraph export` (files of a whole
//! company, `files`; the rules and writes are `domain::company`'s), `orgraph doctor`, `orgraph
//! backup` and `orgraph migrate`.

pub mod backup;
pub mod doctor;
pub mod files;
pub mod migrate;

use std::{path::Path, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    domain::company::{Counts, ExportOptions, ImportOptions, NewSecret, Progress, Summary},
    state::AppState,
};
use files::Format;

/// Most refusals printed for one file.
const MAX_REFUSALS: usize = 100;

/// `orgraph export`: write the pool's company to `path`.
pub async fn export(state: &AppState, pool: &str, path: &Path, format: Option<Format>, options: ExportOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let pool = state.pools.named(pool).await?;
    let format = format.unwrap_or(if path.extension().is_some() { Format::Json } else { Format::Csv });
    let company = state.company.export(&pool, options).await?;
    files::write(&company, path, format)?;
    let c = &company;
    eprintln!(
        "exported {} departments, {} users, {} memberships, {} event apps, {} event types, {} permission namespaces, {} resources, \
         {} grants, {} webhooks, {} pending scheduled batches to {} ({}) in {:.1} s",
        c.nodes.len(), c.users.len(), c.memberships.len(), c.event_apps.len(), c.event_types.len(), c.namespaces.len(),
        c.resources.len(), c.grants.len(), c.webhooks.len(), c.scheduled_changes.len(), path.display(), format.name(), started.elapsed().as_secs_f64()
    );
    if !c.webhooks.is_empty() && !options.with_webhook_secrets {
        eprintln!(
            "the webhooks' signing secrets are not in the file (--with-webhook-secrets puts them in): \
             an import gives each webhook a new secret, which its receiver will need"
        );
    }
    Ok(())
}

/// The rows of each kind, as the summary names them.
fn counts(c: &Counts) -> String {
    format!(
        "{} departments, {} users, {} memberships, {} event apps, {} event types, {} permission namespaces, {} resources, {} grants, {} webhooks, \
         {} scheduled batches",
        c.nodes, c.users, c.memberships, c.event_apps, c.event_types, c.namespaces, c.resources, c.grants, c.webhooks, c.scheduled_changes
    )
}

/// `orgraph import`: check every row of `path`, then write them in batches. Any bad row refuses
/// the whole file before anything is written.
pub async fn import(state: &AppState, pool: &str, path: &Path, format: Option<Format>, options: ImportOptions) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let pool = state.pools.named(pool).await?;
    let format = Format::of(path, format);
    let file = files::open(path, format)?;
    let plan = match state.company.plan(&pool, file.as_ref(), MAX_REFUSALS, options.new_ids).await? {
        Ok(plan) => plan,
        Err(refused) => {
            let refusals = &refused.refusals;
            for r in refusals {
                eprintln!("refused {r}");
            }
            let more = if refusals.len() >= MAX_REFUSALS { " (only the first ones are listed)" } else { "" };
            let template = if options.new_ids { "" } else { " (a file meant as a template: --new-ids gives every row a new id)" };
            anyhow::bail!("{} of {} rows refused{more}; nothing was written{template}", refusals.len(), refused.rows);
        }
    };
    let bar = ProgressBar::new(plan.rows() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {human_pos}/{human_len} rows, {per_sec}, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let result = state.company.import(&pool, &plan, file.as_ref(), options, &Bar(bar.clone())).await;
    bar.finish_and_clear();
    let summary = result.map_err(|e| anyhow::anyhow!("{e}; the batches written before stay, run the import again to finish it"))?;
    let (c, s) = (summary.created, summary.skipped);
    eprintln!(
        "imported {} ({}) in {:.1} s: created {}; skipped (already there) {}; refused 0",
        path.display(), format.name(), started.elapsed().as_secs_f64(), counts(&c), counts(&s),
    );
    report_new_secrets(&summary.new_secrets);
    if summary.stopped_early {
        eprintln!("stopped at --limit after {} rows: run the same import again to go on", c.total() + s.total());
    }
    Ok(summary)
}

/// The secrets generated for webhooks the file had none for: on standard output, once (they are
/// not shown again; `rotateWebhookSecret` makes another), and what to do with them on stderr.
fn report_new_secrets(secrets: &[NewSecret]) {
    if secrets.is_empty() {
        return;
    }
    eprintln!(
        "{} webhook(s) had no signing secret in the file (exported without --with-webhook-secrets) and got a new one, \
         printed once on standard output: give each to its receiver, which will not verify deliveries signed with it until then",
        secrets.len()
    );
    for s in secrets {
        println!("webhook {}\t{}\t{}\tnew secret: {}", s.webhook_id, s.name, s.url, s.secret);
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn advance(&self, phase: &'static str, rows: usize) {
        self.0.set_message(phase);
        self.0.inc(rows as u64);
    }
}
