//! SCIM PATCH (RFC 7644, 3.5.2) applied to a resource's JSON: the handlers read the current
//! resource inside the write transaction, apply the operations here and hand the result to
//! `mapping` as a whole new state. It takes what Okta and Entra ID send besides the RFC's forms:
//! `op` in any case ("Replace"), path-less values whose keys are paths (`"name.givenName"`),
//! `remove` of `members` with a `value` listing the members to remove, a value filter that
//! matches nothing creating the value (`emails[type eq "work"].value`), and `schemas` inside a
//! whole-extension value.

use serde_json::{Map, Value};

use super::{
    error::ScimError,
    filter::{Expr, PatchPath, parse_path},
    schema::{Attr, ResourceDef, SchemaDef, Type},
};
use crate::domain::scim::query::{CompareOp, Literal};

/// Most operations one PATCH request may carry.
pub const MAX_OPERATIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn no_target(detail: impl Into<String>) -> ScimError {
    ScimError::bad("noTarget", detail)
}

fn bad_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidPath", detail)
}

fn field<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The operations of a PatchOp body, checked: its `schemas`, their number.
pub fn operations(body: &Map<String, Value>) -> Result<Vec<Map<String, Value>>, ScimError> {
    super::mapping::check_schemas(body, super::schema::PATCH_OP)?;
    let ops = match field(body, "Operations") {
        Some(Value::Array(a)) => a,
        _ => return Err(ScimError::bad("invalidSyntax", "a PatchOp needs an Operations list")),
    };
    if ops.is_empty() {
        return Err(ScimError::bad("invalidSyntax", "Operations is empty"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad("tooMany", format!("at most {MAX_OPERATIONS} operations per PATCH")));
    }
    ops.iter()
        .map(|o| match o {
            Value::Object(m) => Ok(m.clone()),
            _ => Err(ScimError::bad("invalidSyntax", "each operation must be an object")),
        })
        .collect()
}

/// Apply `ops` to `resource` (the resource's JSON, keys as `mapping` writes them).
pub fn apply(def: &ResourceDef, resource: &mut Map<String, Value>, ops: &[Map<String, Value>]) -> Result<(), ScimError> {
    for op in ops {
        let kind = match field(op, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => return Err(ScimError::bad("invalidSyntax", "op must be add, replace or remove")),
        };
        let value = field(op, "value").cloned();
        match field(op, "path") {
            None | Some(Value::Null) => pathless(def, resource, kind, value)?,
            Some(Value::String(p)) if p.trim().is_empty() => pathless(def, resource, kind, value)?,
            Some(Value::String(p)) => one(def, resource, kind, p, value)?,
            Some(_) => return Err(bad_path("path must be a string")),
        }
    }
    Ok(())
}

/// A path-less add or replace: the value is a partial resource whose keys are attribute paths.
fn pathless(def: &ResourceDef, resource: &mut Map<String, Value>, kind: Op, value: Option<Value>) -> Result<(), ScimError> {
    if kind == Op::Remove {
        return Err(no_target("remove needs a path"));
    }
    let Some(Value::Object(m)) = value else {
        return Err(ScimError::bad("invalidValue", "an operation without a path needs an object value"));
    };
    for (k, v) in m {
        // Okta repeats the resource's id; clients echo schemas and meta.
        if ["schemas", "id", "meta"].iter().any(|s| s.eq_ignore_ascii_case(&k)) {
            continue;
        }
        one(def, resource, kind, &k, Some(v))?;
    }
    Ok(())
}

/// Where a path points.
enum Target {
    /// A whole extension (its URN).
    Extension(&'static SchemaDef),
    /// An attribute of the core schema (`None`) or of an extension, maybe narrowed.
    Attr { ext: Option<&'static SchemaDef>, attr: &'static Attr, filter: Option<Expr>, sub: Option<&'static Attr> },
    /// `externalId`, a common attribute.
    ExternalId,
    /// An RFC attribute orgraph does not keep: the operation changes nothing.
    Ignored,
}

fn resolve(def: &ResourceDef, text: &str) -> Result<Target, ScimError> {
    let PatchPath { attr, filter, sub } = parse_path(text).map_err(bad_path)?;
    let (schema, rest) = match def.split_urn(&attr) {
        Some((s, rest)) => (s, rest),
        None => (def.core, Some(attr.as_str())),
    };
    let Some(rest) = rest else {
        if schema.id == def.core.id || filter.is_some() {
            return Err(bad_path(format!("{text:?} is not an attribute path")));
        }
        return Ok(Target::Extension(schema));
    };
    let (top, dotted) = match rest.split_once('.') {
        Some((t, s)) => (t, Some(s)),
        None => (rest, None),
    };
    let ext = (schema.id != def.core.id).then_some(schema);
    if ext.is_none() {
        match top.to_ascii_lowercase().as_str() {
            "externalid" if dotted.is_none() && filter.is_none() => return Ok(Target::ExternalId),
            "id" | "meta" | "schemas" => return Err(ScimError::bad("mutability", format!("{top} cannot be changed"))),
            _ if def.is_ignored(top) => return Ok(Target::Ignored),
            _ => {}
        }
    }
    let attr = schema.attr(top).ok_or_else(|| bad_path(format!("{text:?}: no attribute {top:?} in {}", schema.id)))?;
    let sub_name = match (dotted, sub.as_deref()) {
        (Some(_), Some(_)) => return Err(bad_path(format!("{text:?} is not an attribute path"))),
        (Some(s), None) if filter.is_none() => Some(s),
        (Some(_), None) => return Err(bad_path(format!("{text:?} is not an attribute path"))),
        (None, s) => s,
    };
    let sub = match sub_name {
        Some(s) => {
            // A sub-attribute orgraph does not keep (`emails[...].primary`, `name.honorificPrefix`)
            // is ignored, like those of values.
            match attr.sub(s) {
                Some(a) => Some(a),
                None if attr.kind == Type::Complex => return Ok(Target::Ignored),
                None => return Err(bad_path(format!("{text:?}: {top} has no sub-attributes"))),
            }
        }
        None => None,
    };
    if filter.is_some() && !attr.multi {
        return Err(bad_path(format!("{text:?}: only multi-valued attributes take a filter")));
    }
    if sub.is_some() && filter.is_none() && attr.multi {
        return Err(bad_path(format!("{text:?}: name the values with a filter, e.g. {top}[type eq \"work\"].{}", sub_name.unwrap_or_default())));
    }
    Ok(Target::Attr { ext, attr, filter, sub })
}

fn one(def: &ResourceDef, resource: &mut Map<String, Value>, kind: Op, path: &str, value: Option<Value>) -> Result<(), ScimError> {
    let value = value.filter(|v| !v.is_null());
    if kind != Op::Remove && value.is_none() {
        // Setting null is removing.
        return one(def, resource, Op::Remove, path, None);
    }
    match resolve(def, path)? {
        Target::Ignored => Ok(()),
        Target::ExternalId => {
            match value {
                Some(v) if kind != Op::Remove => {
                    resource.insert("externalId".into(), v);
                }
                _ => {
                    resource.remove("externalId");
                }
            }
            Ok(())
        }
        Target::Extension(schema) => {
            if kind == Op::Remove {
                resource.remove(schema.id);
                return Ok(());
            }
            let Some(Value::Object(m)) = value else {
                return Err(ScimError::bad("invalidValue", format!("the value of {} must be an object", schema.id)));
            };
            if kind == Op::Replace {
                resource.remove(schema.id);
            }
            for (k, v) in m {
                if k.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                one(def, resource, kind, &format!("{}:{k}", schema.id), Some(v))?;
            }
            Ok(())
        }
        Target::Attr { ext, attr, filter, sub } => {
            let container = match ext {
                None => &mut *resource,
                Some(s) => {
                    let entry = resource.entry(s.id.to_string()).or_insert_with(|| Value::Object(Map::new()));
                    if !entry.is_object() {
                        *entry = Value::Object(Map::new());
                    }
                    match entry {
                        Value::Object(m) => m,
                        _ => return Err(no_target("extension is not an object")),
                    }
                }
            };
            on_attr(container, kind, attr, filter.as_ref(), sub, value)?;
            if let Some(s) = ext
                && resource.get(s.id).is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
            {
                resource.remove(s.id);
            }
            Ok(())
        }
    }
}

/// The values of a multi-valued attribute as a list (one object is a list of one).
fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}

fn on_attr(c: &mut Map<String, Value>, kind: Op, attr: &'static Attr, filter: Option<&Expr>, sub: Option<&'static Attr>, value: Option<Value>) -> Result<(), ScimError> {
    let key = attr.name.to_string();
    // Keys are as `mapping` writes them, but a client's path may differ in case.
    if let Some(other) = c.keys().find(|k| k.eq_ignore_ascii_case(&key) && **k != key).cloned()
        && let Some(v) = c.remove(&other)
    {
        c.insert(key.clone(), v);
    }
    if let Some(f) = filter {
        return on_values(c, kind, &key, f, sub, value);
    }
    match (kind, sub) {
        (Op::Remove, None) => {
            // Entra ID removes members by naming them in `value`.
            if attr.multi && let Some(v) = value {
                let gone: Vec<Value> = as_list(v).into_iter().filter_map(|i| i.get("value").cloned().or(Some(i)).filter(Value::is_string)).collect();
                if let Some(Value::Array(items)) = c.get_mut(&key) {
                    items.retain(|i| !i.get("value").is_some_and(|x| gone.contains(x)));
                    if items.is_empty() {
                        c.remove(&key);
                    }
                }
            } else {
                c.remove(&key);
            }
        }
        (Op::Remove, Some(s)) => {
            if let Some(Value::Object(m)) = c.get_mut(&key) {
                m.remove(s.name);
                if m.is_empty() {
                    c.remove(&key);
                }
            }
        }
        (_, Some(s)) => {
            let entry = c.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                m.insert(s.name.to_string(), value.unwrap_or(Value::Null));
            }
        }
        (_, None) => {
            let value = value.unwrap_or(Value::Null);
            if attr.multi {
                let mut items = if kind == Op::Add {
                    match c.remove(&key) { Some(Value::Array(a)) => a, _ => Vec::new() }
                } else {
                    Vec::new()
                };
                for v in as_list(value) {
                    // A value already there is not added twice (members by their id).
                    let same = |i: &Value| i == &v || (v.get("value").is_some() && i.get("value") == v.get("value"));
                    if !items.iter().any(same) {
                        items.push(v);
                    }
                }
                if items.is_empty() { c.remove(&key); } else { c.insert(key, Value::Array(items)); }
            } else if attr.kind == Type::Complex && value.is_object() {
                // Complex: the given sub-attributes replace those there, the others stay (RFC
                // 7644, 3.5.2.1 and 3.5.2.3); a bare string is taken as its `value` (Entra ID's
                // manager).
                let entry = c.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let (Value::Object(m), Value::Object(new)) = (entry, value) {
                    for (k, v) in new {
                        m.insert(k, v);
                    }
                }
            } else {
                c.insert(key, value);
            }
        }
    }
    Ok(())
}

/// An operation on the values of a multi-valued attribute that match `filter`.
fn on_values(c: &mut Map<String, Value>, kind: Op, key: &str, filter: &Expr, sub: Option<&'static Attr>, value: Option<Value>) -> Result<(), ScimError> {
    // Worked on a copy: a refused operation leaves the resource as it was.
    let mut items = match c.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    let mut matched = false;
    let mut kept = Vec::with_capacity(items.len());
    for mut item in items.drain(..) {
        if !matches(&item, filter)? {
            kept.push(item);
            continue;
        }
        matched = true;
        match (kind, sub) {
            (Op::Remove, None) => continue,
            (Op::Remove, Some(s)) => {
                if let Value::Object(m) = &mut item {
                    m.remove(s.name);
                }
            }
            (_, Some(s)) => {
                if let Value::Object(m) = &mut item {
                    m.insert(s.name.to_string(), value.clone().unwrap_or(Value::Null));
                }
            }
            (_, None) => {
                if let (Value::Object(m), Some(Value::Object(new))) = (&mut item, value.clone()) {
                    for (k, v) in new {
                        m.insert(k, v);
                    }
                }
            }
        }
        kept.push(item);
    }
    if !matched && kind != Op::Remove {
        // Entra ID sets `emails[type eq "work"].value` on users that have no work e-mail yet:
        // the value is created from the filter's equalities.
        let Some(mut new) = equalities(filter) else {
            return Err(no_target("the filter matches no value"));
        };
        match (sub, value) {
            (Some(s), v) => {
                new.insert(s.name.to_string(), v.unwrap_or(Value::Null));
            }
            (None, Some(Value::Object(m))) => new.extend(m),
            (None, _) => return Err(ScimError::bad("invalidValue", "the value must be an object")),
        }
        kept.push(Value::Object(new));
    }
    if kept.is_empty() {
        c.remove(key);
    } else {
        c.insert(key.to_string(), Value::Array(kept));
    }
    Ok(())
}

/// `a eq "x" and b eq "y"` as `{a: "x", b: "y"}`; `None` for any other filter.
fn equalities(f: &Expr) -> Option<Map<String, Value>> {
    match f {
        Expr::Compare(p, CompareOp::Eq, lit) => {
            let v = match lit {
                Literal::Str(s) => Value::String(s.clone()),
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Num(n) => Value::Number(n.clone()),
                Literal::Null => return None,
            };
            let mut m = Map::new();
            m.insert(p.clone(), v);
            Some(m)
        }
        Expr::And(a, b) => {
            let mut m = equalities(a)?;
            m.extend(equalities(b)?);
            Some(m)
        }
        _ => None,
    }
}

/// Whether a value (an object of sub-attributes) matches a filter on them.
fn matches(item: &Value, f: &Expr) -> Result<bool, ScimError> {
    Ok(match f {
        Expr::And(a, b) => matches(item, a)? && matches(item, b)?,
        Expr::Or(a, b) => matches(item, a)? || matches(item, b)?,
        Expr::Not(a) => !matches(item, a)?,
        Expr::Present(p) => sub_value(item, p).is_some_and(|v| !v.is_null() && v != "" ),
        Expr::Compare(p, op, lit) => compare(sub_value(item, p), *op, lit),
        Expr::Values(..) => return Err(bad_path("brackets cannot nest")),
    })
}

fn sub_value<'v>(item: &'v Value, name: &str) -> Option<&'v Value> {
    item.as_object().and_then(|m| field(m, name))
}

fn compare(actual: Option<&Value>, op: CompareOp, lit: &Literal) -> bool {
    let Some(actual) = actual.filter(|v| !v.is_null()) else {
        return op == CompareOp::Ne && *lit != Literal::Null;
    };
    match (actual, lit) {
        (Value::String(a), Literal::Str(s)) => {
            op.holds_for_str(&a.to_lowercase(), &s.to_lowercase())
        }
        (Value::Bool(a), Literal::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        // Entra ID's "True"/"False" against a boolean literal.
        (Value::String(a), Literal::Bool(b)) => matches!(op, CompareOp::Eq) == a.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        (Value::Number(a), Literal::Num(n)) => match op {
            CompareOp::Eq => a == n,
            CompareOp::Ne => a != n,
            _ => false,
        },
        _ => op == CompareOp::Ne,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::http::scim::schema::{GROUP_RESOURCE, USER_RESOURCE};

    fn ops(v: Value) -> Vec<Map<String, Value>> {
        v.as_array().unwrap().iter().map(|o| o.as_object().unwrap().clone()).collect()
    }

    fn user() -> Map<String, Value> {
        json!({
            "userName": "bob", "active": true, "name": { "givenName": "Bob" },
            "emails": [{ "value": "bob@x.io", "type": "work" }],
        }).as_object().unwrap().clone()
    }

    #[test]
    fn entra_shapes() {
        let mut u = user();
        apply(&USER_RESOURCE, &mut u, &ops(json!([
            { "op": "Replace", "path": "active", "value": "False" },
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.io" },
            { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100" },
            { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m1" },
            { "op": "replace", "value": { "name.familyName": "Jones", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7" } },
        ]))).unwrap();
        assert_eq!(u["active"], "False");
        assert_eq!(u["emails"], json!([{ "value": "new@x.io", "type": "work" }]));
        assert_eq!(u["phoneNumbers"], json!([{ "type": "mobile", "value": "+1 555 0100" }]));
        assert_eq!(u["name"], json!({ "givenName": "Bob", "familyName": "Jones" }));
        let ent = &u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ent["manager"], "m1");
        assert_eq!(ent["employeeNumber"], "7");
    }

    #[test]
    fn members_add_and_remove_the_ways_clients_send_them() {
        let mut g = json!({ "displayName": "Dev", "members": [{ "value": "a" }, { "value": "b" }] }).as_object().unwrap().clone();
        apply(&GROUP_RESOURCE, &mut g, &ops(json!([
            { "op": "Add", "path": "members", "value": [{ "value": "c", "$ref": null }, { "value": "a" }] },
            { "op": "Remove", "path": "members", "value": [{ "value": "b" }] },
            { "op": "remove", "path": "members[value eq \"c\"]" },
            { "op": "replace", "value": { "id": "g1", "displayName": "Development" } },
        ]))).unwrap();
        assert_eq!(g["members"], json!([{ "value": "a" }]));
        assert_eq!(g["displayName"], "Development");
        apply(&GROUP_RESOURCE, &mut g, &ops(json!([{ "op": "remove", "path": "members" }]))).unwrap();
        assert!(g.get("members").is_none());
    }

    #[test]
    fn refusals() {
        let mut u = user();
        for (op, scim_type) in [
            (json!({ "op": "add", "path": "favouriteColour", "value": "red" }), "invalidPath"),
            (json!({ "op": "remove" }), "noTarget"),
            (json!({ "op": "replace", "path": "id", "value": "x" }), "mutability"),
            (json!({ "op": "move", "path": "title" }), "invalidSyntax"),
            (json!({ "op": "replace", "path": "emails[type eq \"home\" or type eq \"x\"].value", "value": "a@b.io" }), "noTarget"),
            (json!({ "op": "add", "path": "emails[type eq \"work\"" }), "invalidPath"),
        ] {
            let err = apply(&USER_RESOURCE, &mut u, &ops(json!([op]))).unwrap_err();
            assert_eq!(err.scim_type, Some(scim_type), "{op}");
        }
        // Unstored RFC attributes change nothing.
        apply(&USER_RESOURCE, &mut u, &ops(json!([{ "op": "add", "path": "preferredLanguage", "value": "en" }]))).unwrap();
        assert_eq!(u, user());
    }
}
