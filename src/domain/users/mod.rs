//! Users of a pool: creation, reading, updating and deleting, with the rules that apply to them
//! (identifiers unique within the pool, passwords stored hashed and never returned).

use entity::user::{self, Gender, UserStatus};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    Iterable, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Map, Value, json};

use super::{
    PoolId,
    docs::{UserDoc, changed_fields, to_json},
    events::{DomainEvent, Outbox},
    pagination::{Page, Paginated, Slice, TimestampOrder, Window},
    validate::{self, MAX_TEXT},
    write::Writer,
};
use crate::{
    error::{AppError, AppResult},
    ids,
    security::secret_hash::Hasher,
    storage::{keyset::{self, Position}, tree},
};

pub mod profile;
pub mod search;

pub use crate::storage::user_columns::UserColumns;

use profile::ProfilePatch;

/// Most users one `deleteUsers` call takes.
pub const MAX_BATCH: usize = 1_000;
/// Largest custom data object, serialised.
pub const MAX_CUSTOM_DATA_BYTES: usize = 64 * 1024;

/// A field of a patch: `None` leaves it as it is, `Some(None)` clears it.
pub type Change<T> = Option<Option<T>>;

/// The user fields a create or update sets. Values arrive as sent and are validated here.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Change<String>,
    pub email: Change<String>,
    pub phone: Change<String>,
    pub external_id: Change<String>,
    pub email_verified: Option<bool>,
    pub phone_verified: Option<bool>,
    /// In clear (the web layer has already opened what the SDK encrypted).
    pub password: Option<String>,
    pub profile: ProfilePatch,
    /// `M`, `F` or `U`.
    pub gender: Option<String>,
    pub status: Option<UserStatus>,
    pub register_source: Option<Vec<String>>,
    pub logins_count: Option<i32>,
    pub last_login: Change<String>,
    pub signed_up: Change<String>,
    pub blocked: Option<bool>,
    /// Keys to set; a `null` value removes the key.
    pub custom_data: Option<Map<String, Value>>,
}

/// A status named as the APIs name it (`Activated`, `Suspended`, ...).
pub fn parse_status(field: &str, value: &str) -> AppResult<UserStatus> {
    UserStatus::iter()
        .find(|s| s.to_value() == value.trim())
        .ok_or_else(|| AppError::invalid(field, format!("{field} must be one of Activated, Suspended, Deactivated, Resigned, Archived")))
}

fn parse_gender(value: &str) -> AppResult<Gender> {
    Gender::iter()
        .find(|g| g.to_value() == value.trim())
        .ok_or_else(|| AppError::invalid("gender", "gender must be one of M, F, U"))
}

/// Options that only apply when a user is created.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The password is a hash imported from another system: keep it verbatim.
    pub keep_password: bool,
    pub identity: Option<NewIdentity>,
    /// Departments (node ids of the pool) the new user joins, in the same transaction.
    pub department_ids: Vec<String>,
}

/// Most users one `create_many` call creates.
pub const MAX_CREATE_BATCH: usize = 100;

/// A validated new user, ready to insert.
#[derive(Debug, Clone)]
struct NewUser {
    row: user::ActiveModel,
    probe: Identifiers,
    department_ids: Vec<String>,
}

/// Insert a prepared user (its identifiers checked against the pool's users) and add it to its
/// departments, with the events of a creation.
async fn insert_new_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, new: NewUser) -> AppResult<user::Model> {
    ensure_unique(txn, pool, None, &new.probe).await?;
    let mut row = new.row;
    row.user_pool_id = Set(pool.as_str().to_string());
    let created = row.insert(txn).await?;
    let user = UserDoc::from(&created);
    outbox.record(DomainEvent::UserCreated { user: user.clone() });
    outbox.record(DomainEvent::Register { user });
    for department in &new.department_ids {
        crate::domain::org_tree::add_members_in(txn, outbox, pool, department, std::slice::from_ref(&created.id), None).await?;
    }
    Ok(created)
}

/// An error of the `i`-th item of a batch, saying so.
fn at_item(i: usize, err: AppError) -> AppError {
    match err {
        AppError::InvalidInput { field, message } => AppError::InvalidInput {
            field: Some(format!("list[{i}].{}", field.as_deref().unwrap_or("user"))),
            message: format!("list[{i}]: {message}"),
        },
        AppError::Conflict { field, message } => AppError::Conflict { field, message: format!("list[{i}]: {message}") },
        AppError::NotFound { entity, id } => AppError::InvalidInput { field: Some(format!("list[{i}]")), message: format!("list[{i}]: {entity} not found: {id}") },
        other => other,
    }
}

/// An external identity attached at creation. Its tokens are not stored.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub provider: String,
    pub user_id_in_idp: String,
    pub openid: Option<String>,
    pub is_social: Option<bool>,
    pub connection_id: Option<String>,
}

#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    writer: Writer,
    hasher: Hasher,
}

impl UserService {
    pub fn new(writer: Writer, hasher: Hasher) -> Self {
        Self { db: writer.db().clone(), writer, hasher }
    }

    pub async fn create(
        &self,
        pool: &PoolId,
        patch: UserPatch,
        options: CreateOptions,
    ) -> AppResult<user::Model> {
        let new = self.prepare(patch, options).await?;
        self.writer.write(pool, async |txn, outbox| insert_new_in(txn, outbox, pool, new.clone()).await).await
    }

    /// Create every user of `items` in one transaction, or none: an error names the item
    /// (`list[3].email: ...`). At most [`MAX_CREATE_BATCH`] (each password is hashed).
    pub async fn create_many(&self, pool: &PoolId, items: Vec<(UserPatch, CreateOptions)>) -> AppResult<Vec<user::Model>> {
        if items.is_empty() || items.len() > MAX_CREATE_BATCH {
            return Err(AppError::invalid("list", format!("list must hold 1 to {MAX_CREATE_BATCH} users")));
        }
        let mut prepared: Vec<NewUser> = Vec::with_capacity(items.len());
        for (i, (patch, options)) in items.into_iter().enumerate() {
            let new = self.prepare(patch, options).await.map_err(|e| at_item(i, e))?;
            if let Some(j) = prepared.iter().position(|p| p.probe.overlaps(&new.probe)) {
                return Err(at_item(i, AppError::Conflict { field: None, message: format!("the same username, email, phone or externalId as list[{j}]") }));
            }
            prepared.push(new);
        }
        self.writer
            .write(pool, async |txn, outbox| {
                let mut created = Vec::with_capacity(prepared.len());
                for (i, new) in prepared.iter().enumerate() {
                    created.push(insert_new_in(txn, outbox, pool, new.clone()).await.map_err(|e| at_item(i, e))?);
                }
                Ok(created)
            })
            .await
    }

    /// Validate a new user and hash its password, before any write turn is taken.
    async fn prepare(&self, patch: UserPatch, options: CreateOptions) -> AppResult<NewUser> {
        // The pool is set when the row is inserted.
        let mut row = new_row(&PoolId::trusted(""), chrono::Utc::now());
        let password = patch.password.clone();
        let custom = patch.custom_data.clone();
        apply_patch(&mut row, patch)?;
        if let Some(custom) = custom {
            row.custom_data = Set(merge_custom_data(Map::new(), custom)?);
        }
        if let Some(identity) = options.identity {
            row.identities = Set(identity_json(identity)?);
        }
        if let Some(password) = password {
            row.password_hash = Set(Some(password_hash(&self.hasher, password, options.keep_password).await?));
        }
        let probe = Identifiers::of(&row);
        if probe.is_empty() {
            return Err(AppError::InvalidInput {
                field: None,
                message: "a user needs at least one of username, email, phone or externalId".into(),
            });
        }
        Ok(NewUser { row, probe, department_ids: options.department_ids })
    }

    pub async fn get(&self, pool: &PoolId, id: &str) -> AppResult<user::Model> {
        find_in_pool(&self.db, pool, id).await?.ok_or_else(|| AppError::not_found("user", id))
    }

    /// A page of the pool's users; `outside_orgs` leaves out members of any node.
    pub async fn list(&self, pool: &PoolId, page: Page, sort: TimestampOrder, outside_orgs: bool) -> AppResult<Paginated<user::Model>> {
        let mut base = user::Entity::find().filter(user::Column::UserPoolId.eq(pool.as_str()));
        if outside_orgs {
            base = base.filter(sea_orm::sea_query::Expr::cust(
                "NOT EXISTS (SELECT 1 FROM membership m WHERE m.user_id = users.id)",
            ));
        }
        let total_count = base.clone().count(&self.db).await?;
        let (column, ascending) = match sort {
            TimestampOrder::CreatedAtDesc => (user::Column::CreatedAt, false),
            TimestampOrder::CreatedAtAsc => (user::Column::CreatedAt, true),
            TimestampOrder::UpdatedAtDesc => (user::Column::UpdatedAt, false),
            TimestampOrder::UpdatedAtAsc => (user::Column::UpdatedAt, true),
        };
        // The id breaks ties, so pages never overlap or skip rows of equal time.
        let query = if ascending {
            base.order_by_asc(column).order_by_asc(user::Column::Id)
        } else {
            base.order_by_desc(column).order_by_desc(user::Column::Id)
        };
        let list = query.offset(page.offset()).limit(page.limit).all(&self.db).await?;
        Ok(Paginated { total_count, list })
    }

    /// A window of the pool's users (those in no organization when `outside_orgs`) in `sort`'s
    /// order, by keyset, with the size of the whole list.
    pub async fn window(&self, pool: &PoolId, sort: TimestampOrder, outside_orgs: bool, window: Window<Position>) -> AppResult<(Slice<user::Model>, u64)> {
        let mut base = user::Entity::find().filter(user::Column::UserPoolId.eq(pool.as_str()));
        if outside_orgs {
            base = base.filter(sea_orm::sea_query::Expr::cust("NOT EXISTS (SELECT 1 FROM membership m WHERE m.user_id = users.id)"));
        }
        let total_count = base.clone().count(&self.db).await?;
        let (at, ascending) = match sort {
            TimestampOrder::CreatedAtDesc => (user::Column::CreatedAt, false),
            TimestampOrder::CreatedAtAsc => (user::Column::CreatedAt, true),
            TimestampOrder::UpdatedAtDesc => (user::Column::UpdatedAt, false),
            TimestampOrder::UpdatedAtAsc => (user::Column::UpdatedAt, true),
        };
        let slice = window
            .read(ascending, async |after, ascending, limit| keyset::rows_after(&self.db, base, (at, user::Column::Id), ascending, after.as_ref(), limit).await)
            .await?;
        Ok((slice, total_count))
    }

    pub async fn update(&self, pool: &PoolId, id: &str, patch: UserPatch) -> AppResult<user::Model> {
        let password = self.hash_new_password(&patch).await?;
        self.writer.write(pool, async |txn, outbox| {
            let current = find_in_pool(txn, pool, id).await?.ok_or_else(|| AppError::not_found("user", id))?;
            update_in(txn, outbox, pool, current, patch, password).await
        }).await
    }

    /// The hash of the password a patch sets, computed before the transaction (it is slow).
    pub async fn hash_new_password(&self, patch: &UserPatch) -> AppResult<Option<String>> {
        match patch.password.clone() {
            Some(p) => Ok(Some(password_hash(&self.hasher, p, false).await?)),
            None => Ok(None),
        }
    }

    pub async fn delete(&self, pool: &PoolId, id: &str) -> AppResult<()> {
        self.delete_many(pool, &[id.to_string()]).await.map(|_| ())
    }

    /// Delete all of `ids` or, when one of them is not a user of the pool, none.
    pub async fn delete_many(&self, pool: &PoolId, ids: &[String]) -> AppResult<u64> {
        let wanted = batch_ids("ids", ids)?;
        self.writer.write(pool, async |txn, outbox| {
        let found = existing(txn, pool, &wanted).await?;
        // Their memberships go by cascade; the counts are kept here.
        tree::counts::forget_users(txn, &wanted).await?;
        crate::domain::acl::forget_targets(txn, entity::acl_grant::TargetType::User, &wanted).await?;
        crate::domain::org_tree::forget_leaders(txn, &wanted).await?;
        let deleted = user::Entity::delete_many()
            .filter(user::Column::UserPoolId.eq(pool.as_str()))
            .filter(user::Column::Id.is_in(wanted.clone()))
            .exec(txn)
            .await?
            .rows_affected;
        outbox.record(DomainEvent::UserDeleted { users: found.into_iter().map(UserDoc::from).collect() });
        Ok(deleted)
        }).await
    }
}

/// Apply `patch` to `current` (read in this transaction) inside the caller's transaction, with the
/// events of `UserService::update`; `password` is the hash of the new password, if any.
pub(crate) async fn update_in(
    txn: &DatabaseTransaction,
    outbox: &mut Outbox,
    pool: &PoolId,
    current: user::Model,
    patch: UserPatch,
    password: Option<String>,
) -> AppResult<user::Model> {
    let id = current.id.clone();
    let id = id.as_str();
    let custom = patch.custom_data.clone();
    let before = to_json(&UserDoc::from(&current));
    let old_custom = current.custom_data.as_object().cloned().unwrap_or_default();
    let mut row: user::ActiveModel = current.into();
    apply_patch(&mut row, patch)?;
    if let Some(custom) = custom {
        row.custom_data = Set(merge_custom_data(old_custom, custom)?);
    }
    let password_changed = password.is_some();
    if let Some(hash) = password {
        row.password_hash = Set(Some(hash));
    }
    let probe = Identifiers::of(&row);
    if probe.is_empty() {
        return Err(AppError::InvalidInput {
            field: None,
            message: "a user needs at least one of username, email, phone or externalId".into(),
        });
    }
    ensure_unique(txn, pool, Some(id), &probe).await?;
    let now = chrono::Utc::now();
    row.updated_at = Set(now);
    let updated = row.update(txn).await?;
    let user = UserDoc::from(&updated);
    let after = to_json(&user);
    let mut updates = changed_fields(&before, &after);
    if password_changed {
        updates["password"] = json!("[changed]");
    }
    outbox.record(DomainEvent::UserUpdated { user: user.clone(), updates });
    // The more specific events of seed 000 that the same change also is.
    if password_changed {
        outbox.record(DomainEvent::UserPasswordChanged { user: user.clone() });
    }
    if before["customData"] != after["customData"] {
        let udv = changed_fields(&before["customData"], &after["customData"]);
        outbox.record(DomainEvent::UserUdvChanged { user: user.clone(), udv });
    }
    if before["blocked"] != after["blocked"] {
        let user = user.clone();
        outbox.record(if updated.blocked { DomainEvent::UserBlocked { user } } else { DomainEvent::UserUnblocked { user } });
    }
    let archived = |v: &Value| v == "Archived";
    if archived(&before["status"]) != archived(&after["status"]) {
        outbox.record(if archived(&after["status"]) { DomainEvent::UserArchived { user } } else { DomainEvent::UserUnarchived { user } });
    }
    Ok(updated)
}

/// The distinct ids of a batch, which must hold 1 to [`MAX_BATCH`] of them.
pub fn batch_ids(field: &str, ids: &[String]) -> AppResult<Vec<String>> {
    if ids.is_empty() {
        return Err(AppError::invalid(field, "give at least one user id"));
    }
    if ids.len() > MAX_BATCH {
        return Err(AppError::invalid(field, format!("at most {MAX_BATCH} users per call")));
    }
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The users of `ids` (distinct) in the pool, ordered by id; an error naming those that are not.
pub async fn existing(db: &impl sea_orm::ConnectionTrait, pool: &PoolId, ids: &[String]) -> AppResult<Vec<user::Model>> {
    // By id alone, the pool checked on the rows: with the pool in the WHERE clause, SQLite walks
    // the pool's (pool, username) index, every user of the pool, instead of the primary key.
    let mut found = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    found.retain(|u| u.user_pool_id == pool.as_str());
    if found.len() != ids.len() {
        let missing: Vec<&str> = ids.iter().filter(|id| !found.iter().any(|u| &&u.id == id)).map(String::as_str).collect();
        return Err(AppError::not_found("user", missing.join(", ")));
    }
    Ok(found)
}

/// A user of an import (`orgraph import`), validated by the rules of a creation: the fields of
/// `patch`, at least one identifier, custom data. `password_hash` is a hash from an export, kept
/// verbatim (never a password in clear). Identifiers are checked against the pool when inserted.
pub fn imported_row(pool: &PoolId, patch: UserPatch, password_hash: Option<String>, now: chrono::DateTime<chrono::Utc>) -> AppResult<user::ActiveModel> {
    let mut row = new_row(pool, now);
    let custom = patch.custom_data.clone();
    apply_patch(&mut row, patch)?;
    if let Some(custom) = custom {
        row.custom_data = Set(merge_custom_data(Map::new(), custom)?);
    }
    if let Some(hash) = password_hash {
        let hash = hash.trim();
        if hash.is_empty() || hash.len() > 512 || hash.chars().any(char::is_control) {
            return Err(AppError::invalid("passwordHash", "passwordHash must be a hash of 1 to 512 characters"));
        }
        row.password_hash = Set(Some(hash.to_string()));
    }
    if Identifiers::of(&row).is_empty() {
        return Err(AppError::InvalidInput {
            field: None,
            message: "a user needs at least one of username, email, phone or externalId".into(),
        });
    }
    Ok(row)
}

/// A new user row with every default set (an active user, gender U, no custom data); bulk
/// loaders start from it too.
pub fn new_row(pool: &PoolId, now: chrono::DateTime<chrono::Utc>) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(ids::new_id()),
        user_pool_id: Set(pool.as_str().to_string()),
        email_verified: Set(false),
        phone_verified: Set(false),
        password_hash: Set(None),
        gender: Set(Gender::U),
        register_source: Set(json!([])),
        logins_count: Set(0),
        blocked: Set(false),
        status: Set(UserStatus::Activated),
        custom_data: Set(json!({})),
        identities: Set(json!([])),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Which of its identifiers names a user (the wire's names: `views::v3_names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserIdType {
    #[default]
    Id,
    ExternalId,
    Phone,
    Email,
    Username,
}

impl UserIdType {
    fn column(self) -> user::Column {
        match self {
            Self::Id => user::Column::Id,
            Self::ExternalId => user::Column::ExternalId,
            Self::Phone => user::Column::Phone,
            Self::Email => user::Column::Email,
            Self::Username => user::Column::Username,
        }
    }
}

/// The users of the pool named by `values` (as `id_type` says), in the order asked; those not
/// found are left out. E-mail addresses match in any case.
pub async fn find_by(db: &impl sea_orm::ConnectionTrait, pool: &PoolId, id_type: UserIdType, values: &[String]) -> AppResult<Vec<user::Model>> {
    let values: Vec<String> = match id_type {
        UserIdType::Email => values.iter().map(|v| v.trim().to_lowercase()).collect(),
        _ => values.iter().map(|v| v.trim().to_string()).collect(),
    };
    let found = user::Entity::find()
        .filter(user::Column::UserPoolId.eq(pool.as_str()))
        .filter(id_type.column().is_in(values.clone()))
        .all(db)
        .await?;
    let key = |u: &user::Model| -> Option<String> {
        match id_type {
            UserIdType::Id => Some(u.id.clone()),
            UserIdType::ExternalId => u.external_id.clone(),
            UserIdType::Phone => u.phone.clone(),
            UserIdType::Email => u.email.as_ref().map(|e| e.to_lowercase()),
            UserIdType::Username => u.username.clone(),
        }
    };
    Ok(values.iter().filter_map(|v| found.iter().find(|u| key(u).as_deref() == Some(v.as_str())).cloned()).collect())
}

/// The one user `value` names, or NOT_FOUND.
pub async fn find_one_by(db: &impl sea_orm::ConnectionTrait, pool: &PoolId, id_type: UserIdType, value: &str) -> AppResult<user::Model> {
    find_by(db, pool, id_type, &[value.to_string()]).await?.pop().ok_or_else(|| AppError::not_found("user", value))
}

pub(crate) async fn find_in_pool(
    db: &impl sea_orm::ConnectionTrait,
    pool: &PoolId,
    id: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id.to_string())
        .filter(user::Column::UserPoolId.eq(pool.as_str()))
        .one(db)
        .await?)
}

async fn password_hash(hasher: &Hasher, password: String, keep_as_is: bool) -> AppResult<String> {
    if password.is_empty() || password.chars().count() > 128 {
        return Err(AppError::invalid("password", "a password must have 1 to 128 characters"));
    }
    if keep_as_is { Ok(password) } else { hasher.hash(password).await }
}

/// The identifiers that must be unique within a pool, as the row will hold them.
#[derive(Debug, Clone)]
struct Identifiers {
    username: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
}

impl Identifiers {
    fn of(row: &user::ActiveModel) -> Self {
        Self {
            username: active_text(&row.username),
            email: active_text(&row.email),
            phone: active_text(&row.phone),
            external_id: active_text(&row.external_id),
        }
    }

    fn is_empty(&self) -> bool {
        self.username.is_none() && self.email.is_none() && self.phone.is_none() && self.external_id.is_none()
    }

    /// Whether two new users would share an identifier.
    fn overlaps(&self, other: &Identifiers) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        same(&self.username, &other.username)
            || same(&self.email, &other.email)
            || same(&self.phone, &other.phone)
            || same(&self.external_id, &other.external_id)
    }
}

fn active_text(v: &sea_orm::ActiveValue<Option<String>>) -> Option<String> {
    match v {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v.clone(),
        sea_orm::ActiveValue::NotSet => None,
    }
}

/// Refuse identifiers that another user of the pool already has, naming the field.
async fn ensure_unique(
    db: &impl sea_orm::ConnectionTrait,
    pool: &PoolId,
    except_id: Option<&str>,
    probe: &Identifiers,
) -> AppResult<()> {
    let mut any = Condition::any();
    let fields = [
        ("username", user::Column::Username, &probe.username),
        ("email", user::Column::Email, &probe.email),
        ("phone", user::Column::Phone, &probe.phone),
        ("externalId", user::Column::ExternalId, &probe.external_id),
    ];
    for (_, column, value) in &fields {
        if let Some(v) = value {
            any = any.add(column.eq(v.as_str()));
        }
    }
    let mut query = user::Entity::find().filter(user::Column::UserPoolId.eq(pool.as_str())).filter(any);
    if let Some(id) = except_id {
        query = query.filter(user::Column::Id.ne(id));
    }
    if let Some(other) = query.one(db).await? {
        let taken = [
            ("username", other.username == probe.username),
            ("email", other.email == probe.email),
            ("phone", other.phone == probe.phone),
            ("externalId", other.external_id == probe.external_id),
        ];
        let field = taken.iter().find(|(_, same)| *same).map(|(f, _)| *f).unwrap_or("username");
        return Err(AppError::Conflict {
            field: Some(field),
            message: format!("a user with this {field} already exists in the user pool"),
        });
    }
    Ok(())
}

fn merge_custom_data(mut base: Map<String, Value>, changes: Map<String, Value>) -> AppResult<Value> {
    for (key, value) in changes {
        if key.is_empty() || key.len() > 64 {
            return Err(AppError::invalid("customData", "custom data keys must have 1 to 64 characters"));
        }
        if value.is_null() {
            base.remove(&key);
        } else {
            base.insert(key, value);
        }
    }
    let value = Value::Object(base);
    if value.to_string().len() > MAX_CUSTOM_DATA_BYTES {
        return Err(AppError::invalid("customData", format!("custom data is larger than {MAX_CUSTOM_DATA_BYTES} bytes")));
    }
    Ok(value)
}

fn identity_json(identity: NewIdentity) -> AppResult<Value> {
    let provider = validate::required_text("identity.provider", &identity.provider, 64)?;
    let user_id_in_idp = validate::required_text("identity.userIdInIdp", &identity.user_id_in_idp, MAX_TEXT)?;
    Ok(json!([{
        "provider": provider,
        "userIdInIdp": user_id_in_idp,
        "openid": identity.openid,
        "isSocial": identity.is_social.unwrap_or(false),
        "connectionId": identity.connection_id,
    }]))
}

/// Validate every field of `patch` and set it on `row`.
fn apply_patch(row: &mut user::ActiveModel, p: UserPatch) -> AppResult<()> {
    fn text(field: &str, change: Change<String>) -> AppResult<Option<Option<String>>> {
        Ok(match change {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => Some(validate::optional_text(field, &v, MAX_TEXT)?),
        })
    }
    p.profile.apply(row)?;
    if let Some(v) = text("username", p.username)? {
        row.username = Set(v);
    }
    if let Some(v) = text("externalId", p.external_id)? {
        row.external_id = Set(v);
    }
    if let Some(v) = p.email {
        row.email = Set(match v { Some(v) => validate::email(&v)?, None => None });
    }
    if let Some(v) = p.phone {
        row.phone = Set(match v { Some(v) => validate::phone(&v)?, None => None });
    }
    if let Some(v) = p.last_login {
        row.last_login = Set(match v { Some(v) => validate::timestamp("lastLogin", &v)?, None => None });
    }
    if let Some(v) = p.signed_up {
        row.signed_up = Set(match v { Some(v) => validate::timestamp("signedUp", &v)?, None => None });
    }
    if let Some(v) = p.gender {
        row.gender = Set(parse_gender(&v)?);
    }
    if let Some(v) = p.status {
        row.status = Set(v);
    }
    if let Some(v) = p.logins_count {
        if v < 0 {
            return Err(AppError::invalid("loginsCount", "loginsCount must not be negative"));
        }
        row.logins_count = Set(v);
    }
    if let Some(sources) = p.register_source {
        let mut clean = Vec::with_capacity(sources.len());
        for s in sources.iter().take(32) {
            clean.extend(validate::optional_text("registerSource", s, 64)?);
        }
        row.register_source = Set(json!(clean));
    }
    if let Some(v) = p.email_verified {
        row.email_verified = Set(v);
    }
    if let Some(v) = p.phone_verified {
        row.phone_verified = Set(v);
    }
    if let Some(v) = p.blocked {
        row.blocked = Set(v);
    }
    Ok(())
}
