//! Webhook delivery: a worker per instance claims due deliveries from the database, POSTs them
//! signed, logs every attempt and schedules retries. Only addresses an admin allowed are
//! reached (`guard`).

pub mod guard;
pub mod sender;
pub mod sign;
pub mod worker;
