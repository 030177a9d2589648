//! The pool's custom event types in a company file: its event apps (v3 `create-event-app`) and
//! the types they define (`define-event`), checked and written by `events::custom`'s rules.
//!
//! An app is the same one as the pool's when it has its identifier, a type when it has its name;
//! the same one with other fields (or, ids kept, another id) is a conflict, refused before
//! anything is written.

use std::collections::{HashMap, HashSet};

use entity::{event_app, event_definition};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use super::{Row, import::at_row, kept, plan::{Refusal, Refusals, object}};
use crate::{
    domain::{
        Kept, PoolId,
        docs::iso,
        events::custom::{NewEventApp, NewEventType, create_app_in, define_in, find_app, find_definition},
    },
    error::AppResult,
};

pub const EVENT_APP_COLUMNS: &[&str] = &["id", "identifier", "name", "logo", "createdAt"];
pub const EVENT_TYPE_COLUMNS: &[&str] = &["id", "eventType", "description", "createdAt"];

#[derive(Debug, Clone)]
pub struct AppPlan {
    pub at: String,
    pub key: String,
    pub app: NewEventApp,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone)]
pub struct TypePlan {
    pub at: String,
    pub key: String,
    pub def: NewEventType,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub(super) fn plan_apps(rows: Vec<Row>, bad: &mut Refusals) -> Vec<AppPlan> {
    let mut out: Vec<AppPlan> = Vec::with_capacity(rows.len());
    let (mut keys, mut identifiers) = (HashMap::new(), HashMap::new());
    for row in rows {
        let parsed = (|| -> Result<AppPlan, String> {
            if let Some(why) = row.unknown(EVENT_APP_COLUMNS) {
                return Err(why);
            }
            let key = row.key("id")?;
            let text = |name: &str| row.text(name).unwrap_or_default();
            let app = NewEventApp::check(&text("identifier"), &text("name"), &text("logo")).map_err(|e| e.to_string())?;
            Ok(AppPlan { at: row.at.clone(), key, app, created_at: row.time("createdAt")? })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => {
                if let Some(first) = keys.insert(p.key.clone(), p.at.clone()) {
                    bad.add(&p.at, format!("id {:?} is also the id of the event app at {first}", p.key));
                } else if let Some(first) = identifiers.insert(p.app.identifier.clone(), p.at.clone()) {
                    bad.add(&p.at, format!("identifier {:?} is also the identifier of the event app at {first}", p.app.identifier));
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}

pub(super) fn plan_types(rows: Vec<Row>, bad: &mut Refusals) -> Vec<TypePlan> {
    let mut out: Vec<TypePlan> = Vec::with_capacity(rows.len());
    let (mut keys, mut names) = (HashMap::new(), HashMap::new());
    for row in rows {
        let parsed = (|| -> Result<TypePlan, String> {
            if let Some(why) = row.unknown(EVENT_TYPE_COLUMNS) {
                return Err(why);
            }
            let key = row.key("id")?;
            let def = NewEventType::check(&row.text("eventType").unwrap_or_default(), &row.text("description").unwrap_or_default())
                .map_err(|e| e.to_string())?;
            Ok(TypePlan { at: row.at.clone(), key, def, created_at: row.time("createdAt")? })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => {
                if let Some(first) = keys.insert(p.key.clone(), p.at.clone()) {
                    bad.add(&p.at, format!("id {:?} is also the id of the event type at {first}", p.key));
                } else if let Some(first) = names.insert(p.def.event_type.clone(), p.at.clone()) {
                    bad.add(&p.at, format!("eventType {:?} is also defined at {first}", p.def.event_type));
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// The rows that conflict with the pool: an app or type of the pool with the same identifier or
/// name but other fields (or, ids kept, another id), a type of an app in neither the file nor
/// the pool, a kept id another row holds.
pub(super) async fn refused(db: &impl ConnectionTrait, pool: &PoolId, apps: &[AppPlan], types: &[TypePlan], new_ids: bool) -> AppResult<Vec<Refusal>> {
    let mut out = Vec::new();
    let app_owners = if new_ids { HashMap::new() } else { kept::owners(db, "event_app", &apps.iter().map(|a| a.key.as_str()).collect::<Vec<_>>()).await? };
    for a in apps {
        let existing = find_app(db, pool, &a.app.identifier).await?;
        if let Some(e) = &existing
            && (e.name != a.app.name || e.logo != a.app.logo || (!new_ids && e.id != a.key))
        {
            out.push(refusal(&a.at, format!(
                "the pool already has an event app {:?} (id {}) with another name, logo or id; nothing was imported over it",
                e.identifier, e.id)));
            continue;
        }
        if new_ids {
            continue;
        }
        if let Some(why) = kept::not_an_id(&a.key) {
            out.push(refusal(&a.at, why));
        } else if let Some(whose) = kept::taken(&app_owners, &a.key, pool.as_str(), existing.as_ref().map(|e| e.id.as_str())) {
            out.push(refusal(&a.at, format!("id {:?} is already the id of another event app of {whose}", a.key)));
        }
    }
    let file_apps: HashSet<&str> = apps.iter().map(|a| a.app.identifier.as_str()).collect();
    let type_owners = if new_ids { HashMap::new() } else { kept::owners(db, "event_definition", &types.iter().map(|t| t.key.as_str()).collect::<Vec<_>>()).await? };
    for t in types {
        if !file_apps.contains(t.def.app.as_str()) && find_app(db, pool, &t.def.app).await?.is_none() {
            out.push(refusal(&t.at, format!("eventType {:?}: the event app {:?} is neither in the file nor in the pool", t.def.event_type, t.def.app)));
            continue;
        }
        let existing = find_definition(db, pool, &t.def.event_type).await?;
        if let Some(e) = &existing
            && (e.description != t.def.description || (!new_ids && e.id != t.key))
        {
            out.push(refusal(&t.at, format!(
                "the pool already defines the event type {:?} (id {}) with another description or id; nothing was imported over it",
                e.event_type, e.id)));
            continue;
        }
        if new_ids {
            continue;
        }
        if let Some(why) = kept::not_an_id(&t.key) {
            out.push(refusal(&t.at, why));
        } else if let Some(whose) = kept::taken(&type_owners, &t.key, pool.as_str(), existing.as_ref().map(|e| e.id.as_str())) {
            out.push(refusal(&t.at, format!("id {:?} is already the id of another event type of {whose}", t.key)));
        }
    }
    Ok(out)
}

fn refusal(at: &str, message: String) -> Refusal {
    Refusal { at: at.to_string(), message }
}

/// Register the apps of `chunk` the pool does not have; whether each was created.
pub(super) async fn write_apps(txn: &DatabaseTransaction, pool: &PoolId, chunk: &[AppPlan], new_ids: bool) -> AppResult<Vec<bool>> {
    let mut out = Vec::with_capacity(chunk.len());
    for a in chunk {
        if find_app(txn, pool, &a.app.identifier).await?.is_some() {
            out.push(false);
            continue;
        }
        let kept = Kept { id: (!new_ids).then(|| a.key.clone()), created_at: a.created_at, updated_at: None };
        create_app_in(txn, pool, &a.app, &kept).await.map_err(|e| at_row(&a.at, e))?;
        out.push(true);
    }
    Ok(out)
}

/// Define the types of `chunk` the pool does not have; whether each was created.
pub(super) async fn write_types(txn: &DatabaseTransaction, pool: &PoolId, chunk: &[TypePlan], new_ids: bool) -> AppResult<Vec<bool>> {
    let mut out = Vec::with_capacity(chunk.len());
    for t in chunk {
        if find_definition(txn, pool, &t.def.event_type).await?.is_some() {
            out.push(false);
            continue;
        }
        let kept = Kept { id: (!new_ids).then(|| t.key.clone()), created_at: t.created_at, updated_at: None };
        define_in(txn, pool, &t.def, &kept).await.map_err(|e| at_row(&t.at, e))?;
        out.push(true);
    }
    Ok(out)
}

/// The pool's event apps and types, oldest first.
pub(super) async fn export(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<(Vec<Row>, Vec<Row>)> {
    let apps = event_app::Entity::find()
        .filter(event_app::Column::UserPoolId.eq(pool.as_str()))
        .order_by_asc(event_app::Column::CreatedAt)
        .order_by_asc(event_app::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| Row {
            at: String::new(),
            fields: object([
                ("id", Value::from(a.id)),
                ("identifier", Value::from(a.identifier)),
                ("name", Value::from(a.name)),
                ("logo", if a.logo.is_empty() { Value::Null } else { Value::from(a.logo) }),
                ("createdAt", Value::from(iso(a.created_at))),
            ]),
        })
        .collect();
    let types = event_definition::Entity::find()
        .filter(event_definition::Column::UserPoolId.eq(pool.as_str()))
        .order_by_asc(event_definition::Column::CreatedAt)
        .order_by_asc(event_definition::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| Row {
            at: String::new(),
            fields: object([
                ("id", Value::from(t.id)),
                ("eventType", Value::from(t.event_type)),
                ("description", Value::from(t.description)),
                ("createdAt", Value::from(iso(t.created_at))),
            ]),
        })
        .collect();
    Ok((apps, types))
}
