//! Which deliveries are due: the one rule the worker claims by and the operators' counts
//! (`queue_stats`, `orgraph doctor`) report.

use entity::delivery::{self, DeliveryStatus};
use sea_orm::{ColumnTrait, Condition};

/// Deliveries a worker may take at `now`: pending and due, or delivering under an ended lease
/// (its instance died).
pub fn due_condition(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::any().add(pending_and_due(now)).add(lease_ended(now))
}

/// Pending deliveries whose next attempt has come.
pub fn pending_and_due(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::all().add(delivery::Column::Status.eq(DeliveryStatus::Pending)).add(delivery::Column::NextAttemptAt.lte(now))
}

fn lease_ended(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::all().add(delivery::Column::Status.eq(DeliveryStatus::Delivering)).add(delivery::Column::LeaseUntil.lt(now))
}
