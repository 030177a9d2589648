//! Which deliveries are due: the one rule the worker claims by and the operators' counts
//! (`queue_stats`, `orgraph doctor`) report.

use entity::delivery::{self, DeliveryStatus};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, sea_query::Expr};

use crate::{error::AppResult, storage::sql};

/// The condition (on a `delivery` row) that no earlier delivery of its webhook about the same
/// entity is still pending or being sent: a webhook's deliveries about one user, department or
/// organization go out in commit order, one after the other; a failing one holds the later ones
/// back until it succeeds or is given up. Deliveries about no single entity are never held.
pub const IN_ENTITY_ORDER: &str = "(entity IS NULL OR NOT EXISTS (SELECT 1 FROM delivery e WHERE e.webhook_id = delivery.webhook_id \
    AND e.entity IS NOT NULL AND e.entity = delivery.entity AND e.seq < delivery.seq AND e.status IN ('pending', 'delivering')))";

/// The webhook's later pending deliveries about `d`'s entity wait for `d`: they follow its next
/// attempt (`at`), so that claims do not read them over and over while it backs off, and go as
/// soon as it goes when it is retried by hand.
pub async fn hold_behind(db: &impl ConnectionTrait, d: &delivery::Model, at: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    let Some(entity) = &d.entity else { return Ok(()) };
    sql::exec(
        db,
        "UPDATE delivery SET next_attempt_at = $1 WHERE webhook_id = $2 AND entity IS NOT NULL AND entity = $3 AND seq > $4
            AND status IN ('pending', 'delivering') AND status = 'pending'",
        vec![at.into(), d.webhook_id.clone().into(), entity.clone().into(), d.seq.into()],
    )
    .await?;
    Ok(())
}

/// Deliveries a worker may take at `now`: pending and due, or delivering under an ended lease
/// (its instance died).
pub fn due_condition(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::any().add(pending_and_due(now)).add(lease_ended(now))
}

/// Pending deliveries whose next attempt has come, and that no earlier one holds back.
pub fn pending_and_due(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::all()
        .add(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .add(delivery::Column::NextAttemptAt.lte(now))
        .add(Expr::cust(IN_ENTITY_ORDER))
}

fn lease_ended(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::all().add(delivery::Column::Status.eq(DeliveryStatus::Delivering)).add(delivery::Column::LeaseUntil.lt(now))
}
