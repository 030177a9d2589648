//! `orgraph doctor`: checks a deployment's database without starting a server (and without
//! changing anything, unless `--repair`): the connection, the migrations, the tree invariants of
//! every organization, and the webhook delivery queue. Each finding says what to do; the exit
//! status is non-zero when something is wrong.

use std::time::{Duration, Instant};

use entity::{delivery::{self, DeliveryStatus}, org, webhook};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    config::Config,
    domain::{events::EventBus, org_tree::OrgService, write::Writer},
    storage::{self, Missing, WriteGate, schema::Migrations},
};

/// A delivery due for longer than this means no worker is taking them.
const OVERDUE: chrono::Duration = chrono::Duration::minutes(5);

/// What was found, as printed.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: usize,
    pub warnings: usize,
}

impl Report {
    fn ok(&mut self, what: &str) {
        println!("ok    {what}");
    }

    fn warn(&mut self, what: &str, todo: &str) {
        self.warnings += 1;
        println!("warn  {what}\n      → {todo}");
    }

    fn fail(&mut self, what: &str, todo: &str) {
        self.problems += 1;
        println!("FAIL  {what}\n      → {todo}");
    }
}

/// Run every check; `repair` recounts the members of the orgs that fail.
pub async fn run(config: &Config, repair: bool) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let wait = Duration::from_secs(config.db_write_wait_secs.max(1));
    let db = match storage::connect(&config.database_url, 2, wait, Missing::Refuse, |_, _| {}).await {
        Ok(db) => match storage::ping(&db).await {
            Ok(()) => db,
            Err(e) => {
                report.fail(&format!("database: no answer: {e}"), "check that the database server is up");
                return Ok(report);
            }
        },
        Err(e) => {
            // The error names the database and what to check.
            report.fail("database: cannot open it", &format!("{e:#}"));
            return Ok(report);
        }
    };
    report.ok(&format!("database: connected ({:?})", db.get_database_backend()));

    let migrations = match Migrations::read(&db).await {
        Ok(m) => m,
        Err(e) => {
            report.fail(&format!("migrations: cannot read their state: {e:#}"), "check the database user's rights to read the tables");
            return Ok(report);
        }
    };
    match migrations.problem(&storage::describe(&config.database_url)) {
        None => report.ok("migrations: all applied"),
        Some(problem) => {
            // The other checks read the tables of every migration.
            report.fail(&format!("migrations: {}", problem.what), &problem.todo);
            return Ok(report);
        }
    }

    let writer = Writer::new(WriteGate::new(db.clone(), wait), EventBus::default());
    check_trees(&mut report, &writer, repair).await?;
    check_deliveries(&mut report, &db).await?;

    println!(
        "{}",
        match (report.problems, report.warnings) {
            (0, 0) => "OK: nothing to do".to_string(),
            (0, w) => format!("OK with {w} warning(s)"),
            (p, w) => format!("{p} problem(s), {w} warning(s)"),
        }
    );
    Ok(report)
}

async fn check_trees(report: &mut Report, writer: &Writer, repair: bool) -> anyhow::Result<()> {
    let orgs = OrgService::new(writer.clone());
    let all: Vec<(String, String)> = org::Entity::find()
        .select_only()
        .column(org::Column::Id)
        .column(org::Column::UserPoolId)
        .order_by_asc(org::Column::CreatedAt)
        .into_tuple()
        .all(writer.db())
        .await?;
    let started = Instant::now();
    let mut broken = 0;
    for (org_id, pool) in &all {
        let problems = orgs.check_invariants(org_id).await?;
        if problems.is_empty() {
            continue;
        }
        if repair {
            writer.write_plain(crate::domain::Actor::CLI, async |txn| storage::tree::counts::rebuild(txn, org_id).await).await?;
            let left = orgs.check_invariants(org_id).await?;
            if left.is_empty() {
                report.warn(
                    &format!("organization {org_id} (pool {pool}): {} problem(s) in its counts, repaired", problems.len()),
                    "nothing more; if it happens again, report it with the operations that preceded it",
                );
                continue;
            }
            broken += 1;
            report.fail(
                &format!("organization {org_id} (pool {pool}): still {} problem(s) after recounting, e.g. {}", left.len(), left[0]),
                "the closure or depths are wrong: export the pool (`orgraph export`), delete the organization, import it again",
            );
            continue;
        }
        broken += 1;
        let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        report.fail(
            &format!("organization {org_id} (pool {pool}): {} broken invariant(s): {}", problems.len(), shown.join("; ")),
            "run `orgraph doctor --repair` (recounts the members of every department from the memberships and the closure)",
        );
    }
    if broken == 0 {
        report.ok(&format!("trees: {} organization(s) consistent (checked in {:.1} s)", all.len(), started.elapsed().as_secs_f64()));
    }
    Ok(())
}

async fn check_deliveries(report: &mut Report, db: &DatabaseConnection) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let due = crate::domain::webhooks::due::due_condition(now);
    let due_count = delivery::Entity::find().filter(due.clone()).count(db).await?;
    let oldest: Option<chrono::DateTime<chrono::Utc>> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::NextAttemptAt)
        .filter(due)
        .order_by_asc(delivery::Column::NextAttemptAt)
        .into_tuple()
        .one(db)
        .await?;
    let waiting = delivery::Entity::find().filter(delivery::Column::Status.eq(DeliveryStatus::Pending)).count(db).await?;
    match oldest {
        Some(t) if now - t > OVERDUE => report.fail(
            &format!("deliveries: {due_count} due, the oldest since {} ({} min)", t.to_rfc3339(), (now - t).num_minutes()),
            "no delivery worker is sending: start `orgraph serve` (every server runs the worker); if one runs, see its log for `webhook delivery round failed`",
        ),
        _ => report.ok(&format!("deliveries: {due_count} due now, {waiting} waiting in all")),
    }
    let day_ago = now - chrono::Duration::hours(24);
    let failed = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Failed))
        .filter(delivery::Column::UpdatedAt.gte(day_ago))
        .count(db)
        .await?;
    if failed > 0 {
        report.warn(
            &format!("deliveries: {failed} failed for good in the last 24 hours"),
            "read their attempts (GraphQL `webhook { deliveries }`, v3 get-webhook-logs), fix the receivers, then `retryDelivery(id)`",
        );
    }
    let hooks = webhook::Entity::find().order_by_asc(webhook::Column::CreatedAt).all(db).await?;
    let mut bad_hooks = 0;
    for h in &hooks {
        if !h.enabled && h.consecutive_failures > 0 {
            bad_hooks += 1;
            report.fail(
                &format!("webhook {} ({:?}, pool {}) {} is disabled after {} failed deliveries in a row", h.id, h.name, h.user_pool_id, h.url, h.consecutive_failures),
                "fix the receiver, enable the webhook again (`updateWebhook(id, enabled: true)`), then re-send what it missed with `replayEvents(webhookId, since)`",
            );
        } else if h.enabled && h.consecutive_failures > 0 {
            bad_hooks += 1;
            report.warn(
                &format!("webhook {} ({:?}, pool {}) {} has failed {} deliveries in a row", h.id, h.name, h.user_pool_id, h.url, h.consecutive_failures),
                "check the receiver: it is disabled when the count reaches --webhook-max-failures",
            );
        }
    }
    if bad_hooks == 0 {
        report.ok(&format!("webhooks: {} configured, none failing", hooks.len()));
    }
    Ok(())
}
