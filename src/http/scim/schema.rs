//! What orgraph publishes at `/Schemas` and `/ResourceTypes`, and what the rest of the surface
//! resolves attribute paths against: only the attributes orgraph stores, with the characteristics
//! it enforces (clients such as scim2-tester generate values for every published attribute and
//! expect them back exactly). `mapping.rs` says where each one is kept.

use std::sync::LazyLock;

use crate::domain::org_tree::fields::{FIELDS, Field, rules::Kind};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// orgraph's own Group extension: `parent`, the group a department sits under.
pub const ORGRAPH_GROUP: &str = "urn:orgraph:params:scim:schemas:extension:2.0:Group";
/// orgraph's own Department extension: the department's other fields, read-only.
pub const ORGRAPH_DEPARTMENT: &str = "urn:orgraph:params:scim:schemas:extension:2.0:Department";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Integer,
    Complex,
    Reference,
}

/// When an attribute is in an answer (RFC 7643, 7): always unless excluded, or only when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    Immutable,
    ReadOnly,
}

#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub unique_server: bool,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub subs: &'static [Attr],
    pub description: &'static str,
}

const fn text(name: &'static str, description: &'static str) -> Attr {
    Attr {
        name,
        kind: Type::String,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique_server: false,
        canonical: &[],
        reference_types: &[],
        subs: &[],
        description,
    }
}

const fn complex(name: &'static str, multi: bool, subs: &'static [Attr], description: &'static str) -> Attr {
    Attr { kind: Type::Complex, multi, subs, ..text(name, description) }
}

const fn reference(name: &'static str, types: &'static [&'static str], description: &'static str) -> Attr {
    Attr { kind: Type::Reference, reference_types: types, case_exact: true, ..text(name, description) }
}

const fn immutable(a: Attr) -> Attr {
    Attr { mutability: Mutability::Immutable, ..a }
}

const fn typed(name: &'static str, canonical: &'static [&'static str], description: &'static str) -> Attr {
    Attr { canonical, ..text(name, description) }
}

pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attr],
}

pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER,
    name: "User",
    description: "User Account",
    attributes: &[
        Attr { required: true, unique_server: true, ..text("userName", "Unique identifier of the user in the pool (orgraph username); compared case-insensitively.") },
        complex("name", false, &[
            text("formatted", "The full name (kept in custom data nameFormatted)."),
            text("familyName", "Family name (orgraph familyName)."),
            text("givenName", "Given name (orgraph givenName)."),
            text("middleName", "Middle name (orgraph middleName)."),
        ], "The components of the user's name."),
        text("displayName", "The name shown for the user (orgraph name)."),
        text("nickName", "Casual name (orgraph nickname)."),
        text("title", "Job title (kept in custom data title)."),
        Attr { kind: Type::Boolean, required: true, ..text("active", "false suspends the user (orgraph status Suspended); true makes it Activated.") },
        complex("emails", true, &[
            text("value", "The e-mail address (orgraph email, one per user, stored lower-cased)."),
            typed("type", &["work"], "Always work."),
        ], "The user's e-mail address (one)."),
        complex("phoneNumbers", true, &[
            text("value", "The phone number (orgraph phone, one per user)."),
            typed("type", &["mobile"], "Always mobile."),
        ], "The user's phone number (one)."),
    ],
};

pub static ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        text("employeeNumber", "Kept in custom data employeeNumber."),
        text("costCenter", "Kept in custom data costCenter."),
        text("organization", "Kept in custom data organization."),
        text("division", "Kept in custom data division."),
        text("department", "Kept in custom data department (a label from the HR system; departments are SCIM groups)."),
        complex("manager", false, &[
            text("value", "The manager's user id (kept in custom data manager)."),
            reference("$ref", &["User"], "The manager's URI."),
        ], "The user's manager."),
    ],
};

pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP,
    name: "Group",
    description: "Group (a department of the pool's SCIM organization)",
    attributes: &[
        Attr { required: true, ..text("displayName", "The department's name.") },
        complex("members", true, &[
            immutable(text("value", "A member's user id.")),
            immutable(reference("$ref", &["User"], "The member's URI.")),
            immutable(typed("type", &["User"], "Always User.")),
        ], "The department's direct members."),
    ],
};

pub static ORGRAPH_GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: ORGRAPH_GROUP,
    name: "OrgraphGroup",
    description: "Where the department sits in orgraph's tree",
    attributes: &[complex("parent", false, &[
        text("value", "The parent group's id; without a parent the group sits under the organization's root."),
        reference("$ref", &["Group"], "The parent group's URI."),
    ], "The group this department sits under.")],
};

/// orgraph's Department extension: every listed field of the department (`org_tree::fields`)
/// but its name (`displayName`), read-only (identity providers own the name, the members and the
/// place; the rest is set through the org APIs) and returned when asked for (`attributes=`), so
/// that identity providers that do not know it never see it (nor is it declared in the Group
/// resource type: see `discovery`). JSON objects as JSON text.
pub static ORGRAPH_DEPARTMENT_SCHEMA: LazyLock<SchemaDef> = LazyLock::new(|| {
    let attributes: Vec<Attr> = FIELDS
        .iter()
        .filter(|f| !is_core_field(f))
        .map(|f| Attr {
            kind: match f.kind {
                Kind::Text | Kind::Object => Type::String,
                Kind::Integer => Type::Integer,
                Kind::Boolean => Type::Boolean,
            },
            mutability: Mutability::ReadOnly,
            returned: Returned::Request,
            case_exact: true,
            ..text(f.name, f.doc.trim())
        })
        .collect();
    SchemaDef {
        id: ORGRAPH_DEPARTMENT,
        name: "OrgraphDepartment",
        description: "The department's fields in orgraph",
        attributes: Vec::leak(attributes),
    }
});

/// The listed field the core Group schema carries (`displayName`).
pub fn is_core_field(f: &Field) -> bool {
    f.name == "name"
}

/// A resource type: its endpoint, core schema and extensions, and the attributes of RFC 7643 it
/// does not store, which requests may carry (Okta sends `password`, `groups` and `locale`, Entra
/// `roles`) and which are ignored rather than refused.
pub struct ResourceDef {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub core: &'static SchemaDef,
    pub extensions: &'static [&'static SchemaDef],
    pub ignored: &'static [&'static str],
}

pub static USER_RESOURCE: ResourceDef = ResourceDef {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    core: &USER_SCHEMA,
    extensions: &[&ENTERPRISE_USER_SCHEMA],
    ignored: &[
        "profileUrl", "userType", "preferredLanguage", "locale", "timezone", "password", "ims", "photos",
        "addresses", "groups", "entitlements", "roles", "x509Certificates",
    ],
};

pub static GROUP_RESOURCE: LazyLock<ResourceDef> = LazyLock::new(|| ResourceDef {
    name: "Group",
    endpoint: "/Groups",
    description: "Group (a department)",
    core: &GROUP_SCHEMA,
    extensions: Vec::leak(vec![&ORGRAPH_GROUP_SCHEMA, &*ORGRAPH_DEPARTMENT_SCHEMA]),
    ignored: &[],
});

pub static RESOURCES: LazyLock<[&ResourceDef; 2]> = LazyLock::new(|| [&USER_RESOURCE, &*GROUP_RESOURCE]);
pub static SCHEMAS: LazyLock<[&SchemaDef; 5]> =
    LazyLock::new(|| [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA, &ORGRAPH_GROUP_SCHEMA, &*ORGRAPH_DEPARTMENT_SCHEMA]);

impl SchemaDef {
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        find(self.attributes, name)
    }
}

impl Attr {
    pub fn sub(&self, name: &str) -> Option<&'static Attr> {
        find(self.subs, name)
    }
}

/// Attribute names compare case-insensitively (RFC 7643, 2.1).
fn find(attrs: &'static [Attr], name: &str) -> Option<&'static Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

impl SchemaDef {
    /// Whether the whole schema is returned only when asked for.
    pub fn only_on_request(&self) -> bool {
        self.attributes.iter().all(|a| a.returned == Returned::Request)
    }
}

impl ResourceDef {
    /// The extension a URN names.
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions.iter().copied().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `name` is an RFC attribute of this type that orgraph does not store.
    pub fn is_ignored(&self, name: &str) -> bool {
        self.ignored.iter().any(|i| i.eq_ignore_ascii_case(name))
    }

    /// Split a URN-qualified path into its schema and the rest (`None` rest: the whole extension).
    /// Unqualified paths are in the core schema.
    pub fn split_urn<'p>(&self, path: &'p str) -> Option<(&'static SchemaDef, Option<&'p str>)> {
        for schema in std::iter::once(self.core).chain(self.extensions.iter().copied()) {
            if path.len() >= schema.id.len() && path.is_char_boundary(schema.id.len()) && path[..schema.id.len()].eq_ignore_ascii_case(schema.id) {
                let rest = &path[schema.id.len()..];
                if rest.is_empty() {
                    return Some((schema, None));
                }
                if let Some(rest) = rest.strip_prefix(':') {
                    return Some((schema, Some(rest)));
                }
            }
        }
        None
    }
}
