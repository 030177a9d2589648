//! Where each SCIM attribute lives in orgraph, in one place: the JSON of a user or group, the
//! reading of a request's JSON into domain changes, and the attribute paths filters may use.
//!
//! | SCIM (User) | orgraph |
//! |---|---|
//! | `id` | user id |
//! | `userName` | `username` |
//! | `externalId` | `externalId` |
//! | `name.givenName`, `.familyName`, `.middleName` | `givenName`, `familyName`, `middleName` |
//! | `name.formatted` | custom data `nameFormatted` |
//! | `displayName` | `name` |
//! | `nickName` | `nickname` |
//! | `title` | custom data `title` |
//! | `active` | `status`: `Activated` is active; `false` makes an active user `Suspended` |
//! | `emails` (one, type work) | `email` |
//! | `phoneNumbers` (one, type mobile) | `phone` |
//! | enterprise `employeeNumber`, `costCenter`, `organization`, `division`, `department` | custom data keys of the same names |
//! | enterprise `manager.value` | custom data `manager` |
//! | `meta.created`, `meta.lastModified` | `createdAt`, `updatedAt` |
//!
//! | SCIM (Group) | orgraph |
//! |---|---|
//! | `id` | node id (a department of the SCIM org) |
//! | `displayName` | node `name` |
//! | `externalId` | table `scim_group` |
//! | `members` | the node's direct memberships |
//! | orgraph extension `parent.value` | the parent node (absent: the org's root) |
//! | orgraph Department extension (read-only) | every other listed field (`org_tree::fields`) |

use entity::user::{self, UserStatus};
use serde_json::{Map, Value, json};

use super::{
    error::ScimError,
    filter::Expr,
    schema::{ENTERPRISE_USER, GROUP, ORGRAPH_DEPARTMENT, ORGRAPH_GROUP, ResourceDef, USER, is_core_field},
};
use crate::domain::{
    org_tree::fields::{FIELDS, rules::Kind},
    scim::{
        Group, GroupChange, GroupField, UserField,
        query::{CompareOp, Filter, Literal},
    },
    users::UserPatch,
};

pub const TITLE_KEY: &str = "title";
pub const NAME_FORMATTED_KEY: &str = "nameFormatted";
/// The Enterprise User attributes kept in custom data under their own names.
pub const ENTERPRISE_KEYS: [&str; 5] = ["employeeNumber", "costCenter", "organization", "division", "department"];
pub const MANAGER_KEY: &str = "manager";
const EMAIL_TYPE: &str = "work";
const PHONE_TYPE: &str = "mobile";

/// A time as SCIM writes it (`xsd:dateTime`, UTC, milliseconds).
fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The weak ETag of a user: its `updated_at`, which every change moves.
pub fn user_version(u: &user::Model) -> String {
    format!("W/\"{:x}\"", u.updated_at.timestamp_micros())
}

fn custom_text(custom: &Value, key: &str) -> Option<String> {
    match custom.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn put(obj: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        obj.insert(key.to_string(), Value::String(v));
    }
}

/// The SCIM User of an orgraph user (every attribute; `project` trims it).
pub fn user_json(u: &user::Model, base: &str) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(u.id));
    put(&mut o, "externalId", u.external_id.clone());
    put(&mut o, "userName", u.username.clone());
    let mut name = Map::new();
    put(&mut name, "formatted", custom_text(&u.custom_data, NAME_FORMATTED_KEY));
    put(&mut name, "familyName", u.family_name.clone());
    put(&mut name, "givenName", u.given_name.clone());
    put(&mut name, "middleName", u.middle_name.clone());
    if !name.is_empty() {
        o.insert("name".into(), Value::Object(name));
    }
    put(&mut o, "displayName", u.name.clone());
    put(&mut o, "nickName", u.nickname.clone());
    put(&mut o, "title", custom_text(&u.custom_data, TITLE_KEY));
    o.insert("active".into(), json!(u.status == UserStatus::Activated));
    if let Some(email) = &u.email {
        o.insert("emails".into(), json!([{ "value": email, "type": EMAIL_TYPE }]));
    }
    if let Some(phone) = &u.phone {
        o.insert("phoneNumbers".into(), json!([{ "value": phone, "type": PHONE_TYPE }]));
    }
    let mut ent = Map::new();
    for key in ENTERPRISE_KEYS {
        put(&mut ent, key, custom_text(&u.custom_data, key));
    }
    if let Some(m) = custom_text(&u.custom_data, MANAGER_KEY) {
        ent.insert("manager".into(), json!({ "value": m, "$ref": format!("{base}/Users/{m}") }));
    }
    if !ent.is_empty() {
        o.insert(ENTERPRISE_USER.into(), Value::Object(ent));
    }
    o.insert("meta".into(), json!({
        "resourceType": "User",
        "created": time(u.created_at),
        "lastModified": time(u.updated_at),
        "location": format!("{base}/Users/{}", u.id),
        "version": user_version(u),
    }));
    o
}

/// The SCIM Group of a department.
pub fn group_json(g: &Group, base: &str) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(g.node.id));
    put(&mut o, "externalId", g.external_id.clone());
    o.insert("displayName".into(), json!(g.node.name));
    if let Some(members) = &g.members
        && !members.is_empty()
    {
        let list: Vec<Value> = members
            .iter()
            .map(|m| json!({ "value": m, "$ref": format!("{base}/Users/{m}"), "type": "User" }))
            .collect();
        o.insert("members".into(), Value::Array(list));
    }
    if let Some(p) = &g.parent {
        o.insert(ORGRAPH_GROUP.into(), json!({ "parent": { "value": p, "$ref": format!("{base}/Groups/{p}") } }));
    }
    let mut department = Map::new();
    for f in FIELDS.iter().filter(|f| !is_core_field(f)) {
        match (f.kind, f.show(&g.node)) {
            (_, Value::Null) => {}
            // SCIM has no attribute type for free-form objects: JSON text.
            (Kind::Object, v) => {
                department.insert(f.name.into(), Value::String(v.to_string()));
            }
            (_, v) => {
                department.insert(f.name.into(), v);
            }
        }
    }
    o.insert(ORGRAPH_DEPARTMENT.into(), Value::Object(department));
    o.insert("meta".into(), json!({
        "resourceType": "Group",
        "created": time(g.node.created_at),
        "lastModified": time(g.node.updated_at),
        "location": format!("{base}/Groups/{}", g.node.id),
        "version": g.version,
    }));
    o
}

/// `schemas`: the core schema first (clients pick the model by it), then the extensions present.
pub fn with_schemas(def: &ResourceDef, mut o: Map<String, Value>) -> Map<String, Value> {
    let mut schemas = vec![json!(def.core.id)];
    for ext in def.extensions {
        match o.get(ext.id) {
            Some(Value::Object(m)) if !m.is_empty() => schemas.push(json!(ext.id)),
            Some(_) => {
                o.remove(ext.id);
            }
            None => {}
        }
    }
    o.insert("schemas".into(), Value::Array(schemas));
    o
}

// ---- reading requests ----

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidValue", detail)
}

/// A string attribute: a JSON string (trimmed; empty is no value) or a number (an employee
/// number sent as 42); null is no value.
fn text(what: &str, v: &Value) -> Result<Option<String>, ScimError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(invalid(format!("{what} must be a string"))),
    }
}

/// A boolean: JSON's, or "True"/"False" in any case, as Entra ID sends `active`.
fn boolean(what: &str, v: &Value) -> Result<Option<bool>, ScimError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(invalid(format!("{what} must be true or false"))),
    }
}

fn object<'v>(what: &str, v: &'v Value) -> Result<Option<&'v Map<String, Value>>, ScimError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        _ => Err(invalid(format!("{what} must be an object"))),
    }
}

/// A key of `m`, compared case-insensitively.
fn field<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The one value orgraph keeps of a multi-valued attribute (`emails`, `phoneNumbers`): the
/// primary one, else the last of type `preferred`, else the last (the latest added).
fn single_value(what: &str, v: &Value, preferred: &str) -> Result<Option<String>, ScimError> {
    let items: Vec<&Value> = match v {
        Value::Null => return Ok(None),
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err(invalid(format!("{what} must be a list"))),
    };
    let mut objects = Vec::with_capacity(items.len());
    for item in items {
        let Some(m) = object(what, item)? else { continue };
        objects.push(m);
    }
    let is_primary = |m: &&&Map<String, Value>| field(m, "primary").is_some_and(|p| matches!(boolean("primary", p), Ok(Some(true))));
    let has_type = |m: &&&Map<String, Value>| field(m, "type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(preferred));
    let chosen = objects.iter().find(is_primary).or_else(|| objects.iter().rev().find(has_type)).or(objects.last());
    match chosen.and_then(|m| field(m, "value")) {
        Some(v) => text(&format!("{what}.value"), v),
        None => Ok(None),
    }
}

/// A reference such as `manager` or `parent`: `{"value": id}`, or the bare id Entra ID sends.
fn reference_value(what: &str, v: &Value) -> Result<Option<String>, ScimError> {
    match v {
        Value::String(_) | Value::Null => text(what, v),
        Value::Object(m) => field(m, "value").map_or(Ok(None), |v| text(&format!("{what}.value"), v)),
        _ => Err(invalid(format!("{what} must be an object with a value"))),
    }
}

/// The declared URNs a body may carry besides its own: those of its `schemas` list that are not
/// orgraph's (Entra ID lists its own for groups) are tolerated, with their attributes ignored.
fn declared_foreign(body: &Map<String, Value>) -> Vec<String> {
    match field(body, "schemas") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// A top-level key orgraph neither stores nor ignores: refused (a typo would otherwise lose data
/// silently).
fn unknown(def: &ResourceDef, key: &str, foreign: &[String]) -> Result<(), ScimError> {
    let k = key.to_ascii_lowercase();
    if ["schemas", "id", "meta"].contains(&k.as_str()) || def.is_ignored(key) || foreign.iter().any(|f| f.eq_ignore_ascii_case(key)) {
        return Ok(());
    }
    Err(ScimError::bad("invalidSyntax", format!("unknown attribute {key:?} for a {}", def.name)))
}

/// Refuse a body whose `schemas` does not name the resource's core schema.
pub fn check_schemas(body: &Map<String, Value>, core: &str) -> Result<(), ScimError> {
    let ok = matches!(field(body, "schemas"), Some(Value::Array(a)) if a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(core))));
    if ok { Ok(()) } else { Err(ScimError::bad("invalidSyntax", format!("schemas must contain {core:?}"))) }
}

/// A user as a request describes it: the mapped attributes, each `None` when absent.
#[derive(Debug, Default, Clone)]
pub struct ScimUser {
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub formatted: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub title: Option<String>,
    pub active: Option<bool>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub enterprise: [Option<String>; 5],
    pub manager: Option<String>,
}

pub fn parse_user(def: &ResourceDef, body: &Map<String, Value>) -> Result<ScimUser, ScimError> {
    let foreign = declared_foreign(body);
    let mut u = ScimUser::default();
    for (key, v) in body {
        match key.to_ascii_lowercase().as_str() {
            "externalid" => u.external_id = text("externalId", v)?,
            "username" => u.user_name = text("userName", v)?,
            "displayname" => u.display_name = text("displayName", v)?,
            "nickname" => u.nick_name = text("nickName", v)?,
            "title" => u.title = text("title", v)?,
            "active" => u.active = boolean("active", v)?,
            "emails" => u.email = single_value("emails", v, EMAIL_TYPE)?,
            "phonenumbers" => u.phone = single_value("phoneNumbers", v, PHONE_TYPE)?,
            "name" => {
                if let Some(n) = object("name", v)? {
                    for (k, v) in n {
                        match k.to_ascii_lowercase().as_str() {
                            "formatted" => u.formatted = text("name.formatted", v)?,
                            "familyname" => u.family_name = text("name.familyName", v)?,
                            "givenname" => u.given_name = text("name.givenName", v)?,
                            "middlename" => u.middle_name = text("name.middleName", v)?,
                            // honorificPrefix/Suffix are not kept.
                            _ => {}
                        }
                    }
                }
            }
            _ if key.eq_ignore_ascii_case(ENTERPRISE_USER) => {
                if let Some(e) = object(ENTERPRISE_USER, v)? {
                    for (k, v) in e {
                        if let Some(i) = ENTERPRISE_KEYS.iter().position(|e| e.eq_ignore_ascii_case(k)) {
                            u.enterprise[i] = text(k, v)?;
                        } else if k.eq_ignore_ascii_case("manager") {
                            u.manager = reference_value("manager", v)?;
                        } else if !k.eq_ignore_ascii_case("schemas") {
                            return Err(ScimError::bad("invalidSyntax", format!("unknown Enterprise User attribute {k:?}")));
                        }
                    }
                }
            }
            _ => unknown(def, key, &foreign)?,
        }
    }
    Ok(u)
}

impl ScimUser {
    /// The change that makes an orgraph user what this describes: every mapped field is set, or
    /// cleared when absent (a PUT, or the state a PATCH leads to). `userName` and `active`,
    /// which cannot be cleared, keep their values when absent.
    pub fn into_patch(self, current: UserStatus) -> UserPatch {
        let mut p = UserPatch {
            username: self.user_name.map(Some),
            external_id: Some(self.external_id),
            email: Some(self.email),
            phone: Some(self.phone),
            ..Default::default()
        };
        p.profile.name = Some(self.display_name);
        p.profile.nickname = Some(self.nick_name);
        p.profile.given_name = Some(self.given_name);
        p.profile.family_name = Some(self.family_name);
        p.profile.middle_name = Some(self.middle_name);
        p.status = match (self.active, current) {
            (Some(true), UserStatus::Activated) | (None, _) => None,
            (Some(true), _) => Some(UserStatus::Activated),
            (Some(false), UserStatus::Activated) => Some(UserStatus::Suspended),
            // Already inactive (Suspended, Resigned, ...): keep the more precise status.
            (Some(false), _) => None,
        };
        let mut custom = Map::new();
        let opt = |v: Option<String>| v.map_or(Value::Null, Value::String);
        custom.insert(TITLE_KEY.into(), opt(self.title));
        custom.insert(NAME_FORMATTED_KEY.into(), opt(self.formatted));
        for (key, v) in ENTERPRISE_KEYS.iter().zip(self.enterprise) {
            custom.insert((*key).into(), opt(v));
        }
        custom.insert(MANAGER_KEY.into(), opt(self.manager));
        p.custom_data = Some(custom);
        p
    }
}

pub fn parse_group(def: &ResourceDef, body: &Map<String, Value>) -> Result<(Option<String>, GroupChange), ScimError> {
    let foreign = declared_foreign(body);
    let mut name = None;
    let mut g = GroupChange::default();
    for (key, v) in body {
        match key.to_ascii_lowercase().as_str() {
            "externalid" => g.external_id = text("externalId", v)?,
            "displayname" => name = text("displayName", v)?,
            "members" => {
                let items: Vec<&Value> = match v {
                    Value::Null => Vec::new(),
                    Value::Array(a) => a.iter().collect(),
                    _ => return Err(invalid("members must be a list")),
                };
                for item in items {
                    if let Some(id) = reference_value("members", item)?
                        && !g.members.contains(&id)
                    {
                        g.members.push(id);
                    }
                }
            }
            // Read-only (see `schema::ORGRAPH_DEPARTMENT_SCHEMA`): ignored, as RFC 7644 has it,
            // so a client may send back what it read.
            _ if key.eq_ignore_ascii_case(ORGRAPH_DEPARTMENT) => {}
            _ if key.eq_ignore_ascii_case(ORGRAPH_GROUP) => {
                if let Some(e) = object(ORGRAPH_GROUP, v)? {
                    for (k, v) in e {
                        if k.eq_ignore_ascii_case("parent") {
                            g.parent = reference_value("parent", v)?;
                        } else if !k.eq_ignore_ascii_case("schemas") {
                            return Err(ScimError::bad("invalidSyntax", format!("unknown attribute {k:?} of {ORGRAPH_GROUP}")));
                        }
                    }
                }
            }
            _ => unknown(def, key, &foreign)?,
        }
    }
    Ok((name, g))
}

// ---- filters ----

fn bad_filter(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidFilter", detail)
}

/// A path without the core schema's URN, lower-cased; extension attributes keep their URN.
fn normalise(path: &str, core: &str) -> String {
    let lower = path.to_ascii_lowercase();
    let prefix = format!("{}:", core.to_ascii_lowercase());
    lower.strip_prefix(&prefix).map(str::to_string).unwrap_or(lower)
}

/// Whether `op literal` holds for the constant `actual` (a `type` orgraph always gives).
fn constant_holds(actual: &str, op: CompareOp, lit: &Literal) -> Result<bool, ScimError> {
    let Literal::Str(s) = lit else { return Err(bad_filter("type is compared with a string")) };
    let (a, s) = (actual.to_ascii_lowercase(), s.to_ascii_lowercase());
    Ok(op.holds_for_str(&a, &s))
}

fn user_field(path: &str) -> Option<UserField> {
    let p = normalise(path, USER);
    let ent = format!("{}:", ENTERPRISE_USER.to_ascii_lowercase());
    if let Some(attr) = p.strip_prefix(&ent) {
        if let Some(key) = ENTERPRISE_KEYS.iter().find(|k| k.eq_ignore_ascii_case(attr)) {
            return Some(UserField::Custom(key));
        }
        return matches!(attr, "manager" | "manager.value").then_some(UserField::Custom(MANAGER_KEY));
    }
    Some(match p.as_str() {
        "id" => UserField::Id,
        "username" => UserField::Username,
        "externalid" => UserField::ExternalId,
        "displayname" => UserField::Name,
        "nickname" => UserField::Nickname,
        "title" => UserField::Custom(TITLE_KEY),
        "active" => UserField::Active,
        "name.formatted" => UserField::Custom(NAME_FORMATTED_KEY),
        "name.givenname" => UserField::GivenName,
        "name.familyname" => UserField::FamilyName,
        "name.middlename" => UserField::MiddleName,
        "emails" | "emails.value" => UserField::Email,
        "phonenumbers" | "phonenumbers.value" => UserField::Phone,
        "meta.created" => UserField::CreatedAt,
        "meta.lastmodified" => UserField::UpdatedAt,
        _ => return None,
    })
}

/// A user filter, as the domain runs it.
pub fn user_filter(e: &Expr) -> Result<Filter<UserField>, ScimError> {
    map_filter(e, &|path| {
        let p = normalise(path, USER);
        // The `type` of the one e-mail or phone number is a constant.
        let constant = match p.as_str() {
            "emails.type" => Some((UserField::Email, EMAIL_TYPE)),
            "phonenumbers.type" => Some((UserField::Phone, PHONE_TYPE)),
            _ => None,
        };
        match (constant, user_field(path)) {
            (Some((f, t)), _) => Ok(Leaf::Typed(f, t)),
            (None, Some(f)) => Ok(Leaf::Field(f)),
            (None, None) => Err(bad_filter(format!("{path:?} is not an attribute orgraph can filter users on"))),
        }
    }, &|attr| match normalise(attr, USER).as_str() {
        "emails" => Some("emails"),
        "phonenumbers" => Some("phoneNumbers"),
        _ => None,
    })
}

/// A group filter, as the domain runs it.
pub fn group_filter(e: &Expr) -> Result<Filter<GroupField>, ScimError> {
    map_filter(e, &|path| {
        Ok(Leaf::Field(match normalise(path, GROUP).as_str() {
            "id" => GroupField::Id,
            "displayname" => GroupField::Name,
            "externalid" => GroupField::ExternalId,
            "members" | "members.value" => GroupField::Member,
            "members.type" => return Ok(Leaf::Typed(GroupField::Member, "User")),
            "meta.created" => GroupField::CreatedAt,
            "meta.lastmodified" => GroupField::UpdatedAt,
            _ => return Err(bad_filter(format!("{path:?} is not an attribute orgraph can filter groups on"))),
        }))
    }, &|attr| (normalise(attr, GROUP) == "members").then_some("members"))
}

enum Leaf<F> {
    Field(F),
    /// The `type` sub-attribute of the field's values, always the given constant.
    Typed(F, &'static str),
}

fn map_filter<F: Copy>(
    e: &Expr,
    leaf: &dyn Fn(&str) -> Result<Leaf<F>, ScimError>,
    multi: &dyn Fn(&str) -> Option<&'static str>,
) -> Result<Filter<F>, ScimError> {
    Ok(match e {
        Expr::And(a, b) => Filter::And(Box::new(map_filter(a, leaf, multi)?), Box::new(map_filter(b, leaf, multi)?)),
        Expr::Or(a, b) => Filter::Or(Box::new(map_filter(a, leaf, multi)?), Box::new(map_filter(b, leaf, multi)?)),
        Expr::Not(a) => Filter::Not(Box::new(map_filter(a, leaf, multi)?)),
        Expr::Present(p) => match leaf(p)? {
            Leaf::Field(f) | Leaf::Typed(f, _) => Filter::Present(f),
        },
        Expr::Compare(p, op, lit) => match leaf(p)? {
            Leaf::Field(f) => Filter::Compare(f, *op, lit.clone()),
            Leaf::Typed(f, t) => if constant_holds(t, *op, lit)? { Filter::Present(f) } else { Filter::Const(false) },
        },
        Expr::Values(attr, inner) => {
            let Some(name) = multi(attr) else {
                return Err(bad_filter(format!("{attr:?} is not a multi-valued attribute")));
            };
            // Inside the brackets, paths are the attribute's sub-attributes.
            let prefix = |p: &str| format!("{name}.{p}");
            map_filter(&requalify(inner, &prefix)?, leaf, multi)?
        }
    })
}

fn requalify(e: &Expr, prefix: &dyn Fn(&str) -> String) -> Result<Expr, ScimError> {
    Ok(match e {
        Expr::And(a, b) => Expr::And(Box::new(requalify(a, prefix)?), Box::new(requalify(b, prefix)?)),
        Expr::Or(a, b) => Expr::Or(Box::new(requalify(a, prefix)?), Box::new(requalify(b, prefix)?)),
        Expr::Not(a) => Expr::Not(Box::new(requalify(a, prefix)?)),
        Expr::Present(p) => Expr::Present(prefix(p)),
        Expr::Compare(p, op, lit) => Expr::Compare(prefix(p), *op, lit.clone()),
        Expr::Values(..) => return Err(bad_filter("brackets cannot nest")),
    })
}

// ---- attributes and excludedAttributes ----

/// One entry of `attributes` or `excludedAttributes`, resolved: the key of the resource's JSON
/// (an attribute, or an extension's URN), and within it an attribute or sub-attribute.
struct Selected {
    key: String,
    inner: Option<String>,
}

fn select(def: &ResourceDef, path: &str) -> Result<Option<Selected>, ScimError> {
    let path = path.trim();
    let (schema, rest) = match def.split_urn(path) {
        Some((s, rest)) => (s, rest),
        None => (def.core, Some(path)),
    };
    let bad = || ScimError::bad("invalidValue", format!("{path:?} is not an attribute of {}", def.name));
    if schema.id != def.core.id {
        let Some(rest) = rest else { return Ok(Some(Selected { key: schema.id.into(), inner: None })) };
        let top = rest.split('.').next().unwrap_or(rest);
        let attr = schema.attr(top).ok_or_else(bad)?;
        return Ok(Some(Selected { key: schema.id.into(), inner: Some(attr.name.into()) }));
    }
    let rest = rest.unwrap_or_default();
    let (top, sub) = match rest.split_once('.') {
        Some((t, s)) => (t, Some(s)),
        None => (rest, None),
    };
    if ["id", "externalid", "meta", "schemas"].contains(&top.to_ascii_lowercase().as_str()) {
        let canonical = match top.to_ascii_lowercase().as_str() { "externalid" => "externalId", "id" => "id", "meta" => "meta", _ => "schemas" };
        return Ok(Some(Selected { key: canonical.into(), inner: None }));
    }
    if def.is_ignored(top) {
        return Ok(None);
    }
    let attr = def.core.attr(top).ok_or_else(bad)?;
    let inner = match sub {
        Some(s) => Some(attr.sub(s).ok_or_else(bad)?.name.to_string()),
        None => None,
    };
    Ok(Some(Selected { key: attr.name.into(), inner }))
}

/// Parse a comma-separated `attributes`/`excludedAttributes` value.
pub fn selection(def: &ResourceDef, list: Option<&str>) -> Result<Option<Vec<String>>, ScimError> {
    let Some(list) = list.filter(|l| !l.trim().is_empty()) else { return Ok(None) };
    let items: Vec<String> = list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if items.len() > 64 {
        return Err(ScimError::bad("invalidValue", "at most 64 attributes may be named"));
    }
    for i in &items {
        select(def, i)?;
    }
    Ok(Some(items))
}

/// Keep only `attributes` (with `id`, `schemas` and `meta`), or drop `excluded`.
pub fn project(def: &ResourceDef, o: Map<String, Value>, attributes: Option<&[String]>, excluded: Option<&[String]>) -> Map<String, Value> {
    let mut o = o;
    if attributes.is_none() {
        for ext in def.extensions.iter().filter(|e| e.only_on_request()) {
            o.remove(ext.id);
        }
    }
    if let Some(attrs) = attributes {
        let mut kept = Map::new();
        for k in ["id", "meta"] {
            if let Some(v) = o.get(k) {
                kept.insert(k.into(), v.clone());
            }
        }
        for path in attrs {
            let Ok(Some(sel)) = select(def, path) else { continue };
            let Some(v) = o.get(&sel.key) else { continue };
            match (&sel.inner, v) {
                (None, v) => {
                    kept.insert(sel.key.clone(), v.clone());
                }
                (Some(inner), Value::Object(m)) => {
                    if let Some(iv) = m.get(inner) {
                        let entry = kept.entry(sel.key.clone()).or_insert_with(|| Value::Object(Map::new()));
                        if let Value::Object(e) = entry {
                            e.insert(inner.clone(), iv.clone());
                        }
                    }
                }
                (Some(inner), Value::Array(items)) => {
                    let picked: Vec<Value> = items
                        .iter()
                        .filter_map(|i| i.get(inner).map(|iv| json!({ inner.clone(): iv.clone() })))
                        .collect();
                    kept.insert(sel.key.clone(), Value::Array(picked));
                }
                _ => {}
            }
        }
        o = kept;
    }
    if let Some(excl) = excluded {
        for path in excl {
            let Ok(Some(sel)) = select(def, path) else { continue };
            if sel.key == "id" || sel.key == "schemas" {
                continue;
            }
            match &sel.inner {
                None => {
                    o.remove(&sel.key);
                }
                Some(inner) => match o.get_mut(&sel.key) {
                    Some(Value::Object(m)) => {
                        m.remove(inner);
                    }
                    Some(Value::Array(items)) => {
                        for i in items.iter_mut() {
                            if let Value::Object(m) = i {
                                m.remove(inner);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    with_schemas(def, o)
}
