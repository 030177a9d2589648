//! The JSON documents of users, nodes and organizations in the raw shape Authing's webhooks and
//! exports carry (seeds 000 and 001): event payloads and the export format are made of these.
//! Passwords never appear. Times are ISO 8601 in UTC with milliseconds, as Authing writes them.

use entity::{
    node, org,
    user::{self, Gender, UserStatus},
};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{
    org_tree::fields::{self, Names},
    users::profile::Profile,
};

pub type Time = chrono::DateTime<chrono::Utc>;

/// A time as Authing writes it: ISO 8601, UTC, milliseconds.
pub fn iso(t: Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The instant `text` (RFC 3339) names, for the argument `field`.
pub fn parse_instant(field: &str, text: &str) -> crate::error::AppResult<Time> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| crate::error::AppError::invalid(field, format!("{field} must be an RFC 3339 time such as 2026-03-01T00:00:00Z")))
}

/// A time that serialises as [`iso`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iso(pub Time);

impl Serialize for Iso {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&iso(self.0))
    }
}

/// A user as events and exports carry it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDoc {
    pub id: String,
    pub created_at: Iso,
    pub updated_at: Iso,
    pub user_pool_id: String,
    pub is_root: bool,
    pub status: UserStatus,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub username: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
    pub logins_count: i32,
    pub gender: Gender,
    pub register_source: Value,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub last_login: Option<Iso>,
    pub blocked: bool,
    pub is_deleted: bool,
    pub signed_up: Iso,
    pub external_id: Option<String>,
    pub custom_data: Value,
}

impl From<&user::Model> for UserDoc {
    fn from(u: &user::Model) -> Self {
        UserDoc::from(u.clone())
    }
}

impl From<user::Model> for UserDoc {
    fn from(mut u: user::Model) -> Self {
        UserDoc {
            profile: Profile::take(&mut u),
            signed_up: Iso(u.signed_up.unwrap_or(u.created_at)),
            id: u.id,
            created_at: Iso(u.created_at),
            updated_at: Iso(u.updated_at),
            user_pool_id: u.user_pool_id,
            is_root: false,
            status: u.status,
            email: u.email,
            phone: u.phone,
            username: u.username,
            logins_count: u.logins_count,
            gender: u.gender,
            register_source: u.register_source,
            email_verified: u.email_verified,
            phone_verified: u.phone_verified,
            last_login: u.last_login.map(Iso),
            blocked: u.blocked,
            is_deleted: false,
            external_id: u.external_id,
            custom_data: u.custom_data,
        }
    }
}

/// A node (department) as events and exports carry it: where it is in the tree, and every
/// listed field (`org_tree::fields`) under its standard name.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDoc {
    pub id: String,
    pub created_at: Iso,
    pub updated_at: Iso,
    pub user_pool_id: String,
    pub org_id: String,
    pub parent_id: Option<String>,
    pub leader_user_id: Option<String>,
    pub depth: i32,
    pub root: bool,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, Value>,
}

impl From<&node::Model> for NodeDoc {
    fn from(n: &node::Model) -> Self {
        NodeDoc {
            id: n.id.clone(),
            created_at: Iso(n.created_at),
            updated_at: Iso(n.updated_at),
            user_pool_id: n.user_pool_id.clone(),
            org_id: n.org_id.clone(),
            parent_id: n.parent_id.clone(),
            leader_user_id: n.leader_user_id.clone(),
            depth: n.depth,
            root: n.parent_id.is_none(),
            fields: fields::to_json(n, Names::Standard),
        }
    }
}

/// An organization as events carry it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgDoc {
    pub id: String,
    pub created_at: Iso,
    pub updated_at: Iso,
    pub user_pool_id: String,
    pub root_node_id: String,
    pub tenant_id: Option<String>,
    pub logo: Option<String>,
    pub third_party_org_id: Option<String>,
}

impl From<&org::Model> for OrgDoc {
    fn from(o: &org::Model) -> Self {
        OrgDoc {
            id: o.id.clone(),
            created_at: Iso(o.created_at),
            updated_at: Iso(o.updated_at),
            user_pool_id: o.user_pool_id.clone(),
            root_node_id: o.root_node_id.clone(),
            tenant_id: o.tenant_id.clone(),
            logo: None,
            third_party_org_id: None,
        }
    }
}

/// A document as a JSON value (for diffs and exports).
pub fn to_json(doc: &impl Serialize) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// The fields whose value differs between two documents of the same object (`updatedAt` aside),
/// with their new values: the `updates` of an `*:updated` event.
pub fn changed_fields(before: &Value, after: &Value) -> Value {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else { return Value::Object(Default::default()) };
    let changes: serde_json::Map<String, Value> = a
        .iter()
        .filter(|(k, v)| k.as_str() != "updatedAt" && b.get(k.as_str()) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(changes)
}
