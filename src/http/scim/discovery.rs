//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`, made from `schema.rs`.

use serde_json::{Value, json};

use super::schema::{
    Attr, Mutability, RESOURCES, RESOURCE_TYPE, ResourceDef, Returned, SCHEMA, SCHEMAS, SERVICE_PROVIDER_CONFIG, SchemaDef, Type,
};

pub fn service_provider_config(base: &str, max_results: u64) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": max_results },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A SCIM token of the user pool (orgraph scim-token create, or the createScimToken mutation), sent as Authorization: Bearer <token>",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
    })
}

pub fn resource_type(def: &ResourceDef, base: &str) -> Value {
    // An extension returned only when asked for is published in /Schemas but not declared
    // here: clients that do not know it (identity providers) never meet it.
    let extensions: Vec<Value> =
        def.extensions.iter().filter(|e| !e.only_on_request()).map(|e| json!({ "schema": e.id, "required": false })).collect();
    json!({
        "schemas": [RESOURCE_TYPE],
        "id": def.name,
        "name": def.name,
        "endpoint": def.endpoint,
        "description": def.description,
        "schema": def.core.id,
        "schemaExtensions": extensions,
        "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", def.name) },
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    RESOURCES.iter().map(|d| resource_type(d, base)).collect()
}

pub fn find_resource_type(id: &str) -> Option<&'static ResourceDef> {
    RESOURCES.iter().copied().find(|d| d.name == id)
}

fn attribute(a: &Attr) -> Value {
    let kind = match a.kind {
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::Integer => "integer",
        Type::Complex => "complex",
        Type::Reference => "reference",
    };
    let mut v = json!({
        "name": a.name,
        "type": kind,
        "multiValued": a.multi,
        "description": a.description,
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": match a.mutability {
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::ReadOnly => "readOnly",
        },
        "returned": match a.returned {
            Returned::Default => "default",
            Returned::Request => "request",
        },
    });
    if a.kind == Type::Complex {
        v["subAttributes"] = Value::Array(a.subs.iter().map(attribute).collect());
    } else {
        v["uniqueness"] = json!(if a.unique_server { "server" } else { "none" });
    }
    if !a.canonical.is_empty() {
        v["canonicalValues"] = json!(a.canonical);
    }
    if !a.reference_types.is_empty() {
        v["referenceTypes"] = json!(a.reference_types);
    }
    v
}

pub fn schema(s: &SchemaDef, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id) },
    })
}

pub fn schemas(base: &str) -> Vec<Value> {
    SCHEMAS.iter().map(|s| schema(s, base)).collect()
}

pub fn find_schema(id: &str) -> Option<&'static SchemaDef> {
    SCHEMAS.iter().copied().find(|s| s.id.eq_ignore_ascii_case(id))
}
