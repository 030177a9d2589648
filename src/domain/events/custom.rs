//! Custom event types (GenAuth v3's event centre): an app registers with `create-event-app`, then
//! defines types named `<app identifier>.<name>` with `define-event`, and publishes events of them.
//! A defined type is an event name like the catalog's: webhooks subscribe to it, subscriptions and
//! the event socket filter on it, and its events go through the outbox like any other.

use entity::{event_app, event_definition};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{EventService, catalog::EventName};
use crate::{
    domain::{
        Kept, PoolId,
        pagination::{Page, Paginated},
        validate,
    },
    error::{AppError, AppResult},
};

/// Longest custom event type, `<app identifier>.<name>`.
pub const MAX_EVENT_TYPE: usize = 128;
/// Longest description of a custom event type.
pub const MAX_DESCRIPTION: usize = 1024;
/// Longest logo URL of an event app.
pub const MAX_LOGO: usize = 2048;
/// Most apps and definitions the event lists show at once.
pub const MAX_LISTED: u64 = 1_000;

/// An event name checked against the catalog and the pool's custom types: the only way to record a
/// published event, so nothing unknown reaches the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownName(String);

impl KnownName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A catalog event is known by construction.
impl From<EventName> for KnownName {
    fn from(e: EventName) -> Self {
        KnownName(e.as_str().to_string())
    }
}

/// The app identifier and the name of a custom event type. Identifiers have no `.` (see
/// `validate::identifier`), so the first `.` separates them; the name may hold more (`shop.order.paid`).
fn split_event_type(event_type: &str) -> AppResult<(&str, &str)> {
    let invalid = || {
        AppError::invalid(
            "eventType",
            format!(
                "eventType {event_type:?} must be `<app identifier>.<name>`: the identifier of an app made with create-event-app, \
                 then letters, digits, '-', '_' or '.' (at most {MAX_EVENT_TYPE} characters)"
            ),
        )
    };
    let (app, name) = event_type.split_once('.').ok_or_else(invalid)?;
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !name.ends_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if event_type.len() > MAX_EVENT_TYPE || validate::identifier("eventType", app).is_err() || !name_ok {
        return Err(invalid());
    }
    Ok((app, name))
}

/// The events `names` stand for in the pool, in order and each once: catalog names (or their v3
/// names, stored as the catalog's) and the pool's custom types. Unknown names are refused, all of
/// them named in the error.
pub async fn resolve_names(db: &impl ConnectionTrait, pool: &PoolId, field: &str, names: &[String]) -> AppResult<Vec<KnownName>> {
    let custom: Vec<String> = names.iter().filter(|n| EventName::lookup(n).is_none()).cloned().collect();
    let defined: Vec<String> = if custom.is_empty() {
        Vec::new()
    } else {
        event_definition::Entity::find()
            .select_only()
            .column(event_definition::Column::EventType)
            .filter(event_definition::Column::UserPoolId.eq(pool.as_str()))
            .filter(event_definition::Column::EventType.is_in(custom.clone()))
            .into_tuple()
            .all(db)
            .await?
    };
    let unknown: Vec<String> = custom.iter().filter(|n| !defined.contains(n)).map(|n| format!("{n:?}")).collect();
    if !unknown.is_empty() {
        return Err(AppError::invalid(
            field,
            format!(
                "{} {} not an event name: neither a built-in event (get-webhook-event-list, webhookEventList) nor a custom \
                 type of this user pool (define-event)",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    let mut out: Vec<KnownName> = Vec::new();
    for n in names {
        let known = KnownName(EventName::lookup(n).map_or_else(|| n.clone(), |e| e.as_str().to_string()));
        if !out.contains(&known) {
            out.push(known);
        }
    }
    Ok(out)
}

impl EventService {
    /// The event `name` stands for in the pool (see [`resolve_names`]).
    pub async fn resolve(&self, pool: &PoolId, field: &str, name: &str) -> AppResult<KnownName> {
        let mut found = resolve_names(&self.db, pool, field, &[name.to_string()]).await?;
        found.pop().ok_or_else(|| AppError::invalid(field, format!("{field} is required")))
    }

    /// Register an app that defines and publishes custom events.
    pub async fn create_app(&self, pool: &PoolId, identifier: &str, name: &str, logo: &str) -> AppResult<event_app::Model> {
        let app = NewEventApp::check(identifier, name, logo)?;
        self.writer.write(pool, async |txn, _| create_app_in(txn, pool, &app, &Kept::default()).await).await
    }

    /// The pool's event apps, oldest first (at most [`MAX_LISTED`]), and how many there are.
    pub async fn apps(&self, pool: &PoolId) -> AppResult<Paginated<event_app::Model>> {
        let base = event_app::Entity::find().filter(event_app::Column::UserPoolId.eq(pool.as_str()));
        let total_count = base.clone().count(&self.db).await?;
        let list = base.order_by_asc(event_app::Column::CreatedAt).order_by_asc(event_app::Column::Id).limit(MAX_LISTED).all(&self.db).await?;
        Ok(Paginated { total_count, list })
    }

    /// Define the custom event type `<app identifier>.<name>`; the app must exist.
    pub async fn define(&self, pool: &PoolId, event_type: &str, description: &str) -> AppResult<event_definition::Model> {
        let def = NewEventType::check(event_type, description)?;
        self.writer.write(pool, async |txn, _| define_in(txn, pool, &def, &Kept::default()).await).await
    }

    /// A page of the pool's custom event types, oldest first, of one app when `app` is given.
    pub async fn definitions(&self, pool: &PoolId, app: Option<&str>, page: Page) -> AppResult<Paginated<event_definition::Model>> {
        let mut base = event_definition::Entity::find().filter(event_definition::Column::UserPoolId.eq(pool.as_str()));
        if let Some(app) = app {
            base = base.filter(event_definition::Column::AppIdentifier.eq(app));
        }
        let total_count = base.clone().count(&self.db).await?;
        let list = base
            .order_by_asc(event_definition::Column::CreatedAt)
            .order_by_asc(event_definition::Column::Id)
            .offset(page.offset())
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok(Paginated { total_count, list })
    }
}

/// An event app checked for a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEventApp {
    pub identifier: String,
    pub name: String,
    pub logo: String,
}

impl NewEventApp {
    pub fn check(identifier: &str, name: &str, logo: &str) -> AppResult<NewEventApp> {
        let identifier = identifier.trim();
        validate::identifier("identifier", identifier)?;
        let name = validate::required_text("name", name, validate::MAX_TEXT)?;
        let logo = validate::optional_text("logo", logo, MAX_LOGO)?.unwrap_or_default();
        Ok(NewEventApp { identifier: identifier.to_string(), name, logo })
    }
}

/// A custom event type checked for a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEventType {
    pub event_type: String,
    pub app: String,
    pub description: String,
}

impl NewEventType {
    pub fn check(event_type: &str, description: &str) -> AppResult<NewEventType> {
        let event_type = event_type.trim();
        let (app, _) = split_event_type(event_type)?;
        let description = validate::required_text("eventDescription", description, MAX_DESCRIPTION)?;
        Ok(NewEventType { event_type: event_type.to_string(), app: app.to_string(), description })
    }
}

/// Register a checked event app in the caller's transaction; its identifier must be free.
pub async fn create_app_in(db: &impl ConnectionTrait, pool: &PoolId, app: &NewEventApp, kept: &Kept) -> AppResult<event_app::Model> {
    let identifier = &app.identifier;
    if find_app(db, pool, identifier).await?.is_some() {
        return Err(AppError::Conflict { field: Some("identifier"), message: format!("an event app {identifier:?} already exists") });
    }
    Ok(event_app::ActiveModel {
        id: Set(kept.id()),
        user_pool_id: Set(pool.as_str().to_string()),
        identifier: Set(identifier.clone()),
        name: Set(app.name.clone()),
        logo: Set(app.logo.clone()),
        created_at: Set(kept.times().0),
    }
    .insert(db)
    .await?)
}

/// Define a checked custom event type in the caller's transaction; its app must exist and the
/// type must not.
pub async fn define_in(db: &impl ConnectionTrait, pool: &PoolId, def: &NewEventType, kept: &Kept) -> AppResult<event_definition::Model> {
    if find_app(db, pool, &def.app).await?.is_none() {
        return Err(AppError::not_found("event app", def.app.clone()));
    }
    if find_definition(db, pool, &def.event_type).await?.is_some() {
        return Err(AppError::Conflict { field: Some("eventType"), message: format!("the event type {:?} is already defined", def.event_type) });
    }
    Ok(event_definition::ActiveModel {
        id: Set(kept.id()),
        user_pool_id: Set(pool.as_str().to_string()),
        event_type: Set(def.event_type.clone()),
        app_identifier: Set(def.app.clone()),
        description: Set(def.description.clone()),
        created_at: Set(kept.times().0),
    }
    .insert(db)
    .await?)
}

/// The pool's definition of `event_type`, if any.
pub async fn find_definition(db: &impl ConnectionTrait, pool: &PoolId, event_type: &str) -> AppResult<Option<event_definition::Model>> {
    Ok(event_definition::Entity::find()
        .filter(event_definition::Column::UserPoolId.eq(pool.as_str()))
        .filter(event_definition::Column::EventType.eq(event_type))
        .one(db)
        .await?)
}

/// The pool's event app of `identifier`, if any.
pub async fn find_app(db: &impl ConnectionTrait, pool: &PoolId, identifier: &str) -> AppResult<Option<event_app::Model>> {
    Ok(event_app::Entity::find()
        .filter(event_app::Column::UserPoolId.eq(pool.as_str()))
        .filter(event_app::Column::Identifier.eq(identifier))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::split_event_type;

    #[test]
    fn event_types_are_app_dot_name() {
        assert_eq!(split_event_type("shop.order.paid").unwrap(), ("shop", "order.paid"));
        assert_eq!(split_event_type("my-app.created_1").unwrap(), ("my-app", "created_1"));
        for bad in ["shop", "shop.", ".paid", "shop..paid", "shop.paid.", "sh op.paid", "shop.pa id", "shop.päid", "shop:x.paid"] {
            assert!(split_event_type(bad).is_err(), "{bad}");
        }
        assert!(split_event_type(&format!("a.{}", "x".repeat(200))).is_err());
    }
}
