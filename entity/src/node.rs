use sea_orm::entity::prelude::*;

/// Calls `$then!` with every field of a department that clients see and set, listed once:
///
/// `/// doc` `column: Type = "name" "v3Name" Rule,`
///
/// - `column` is the `node` column (and the entity field below);
/// - `"name"` is the field's name in GraphQL, the v2 documents and events, SCIM and the
///   export/import files; `"v3Name"` its name in the GenAuth v3 API;
/// - `Rule` (a type of `orgraph::domain::org_tree::fields::rules`) checks values, reads them
///   from the wire, shows them and gives a new department's value when none is given.
///
/// The server derives from this list the entity's columns, the GraphQL `Node` fields and the
/// `addNode`/`updateNode` arguments, the v2 documents, the v3 DTOs, the SCIM group attributes,
/// the export/import columns and the listing cache's trigger. Adding a department field: a
/// migration adding the column, and one line here.
#[macro_export]
macro_rules! with_department_fields {
    ($then:ident) => {
        $then! {
            #[doc = "The department's name."]
            name: String = "name" "name" Name,
            #[doc = "JSON text: `{\"<i18n code>\": \"<name>\"}`."]
            name_i18n: Option<String> = "nameI18n" "nameI18n" I18nText,
            #[doc = "A free text about the department."]
            description: Option<String> = "description" "description" LongText,
            #[doc = "JSON text: `{\"<i18n code>\": \"<description>\"}`."]
            description_i18n: Option<String> = "descriptionI18n" "descriptionI18n" I18nText,
            #[doc = "Position among siblings: larger first. In [0, 2^32)."]
            order: Option<i64> = "order" "order" Order,
            #[doc = "Unique within the organization."]
            code: Option<String> = "code" "code" Code,
            #[doc = "The caller's own id of the department (v3 `openDepartmentId`), unique in its organization."]
            open_department_id: Option<String> = "openDepartmentId" "openDepartmentId" OpenId,
            #[doc = "v3 texts per language: `{\"name\": {\"en-US\": {\"enabled\": true, \"value\": \"...\"}}}`."]
            i18n: Option<serde_json::Value> = "i18n" "i18n" JsonObject,
            #[doc = "The department's extended fields (v3 `customData`): a JSON object, `{}` when none."]
            custom_data: Option<serde_json::Value> = "customData" "customData" CustomData,
            #[doc = "Whether the department is enabled (v3 `status`); a disabled department stays in the tree."]
            enabled: bool = "enabled" "status" Enabled,
            #[doc = "A virtual department (v3 `isVirtualNode`): it groups people outside the reporting lines."]
            is_virtual: bool = "isVirtualNode" "isVirtualNode" Flag,
        }
    };
}

macro_rules! node_model {
    ($($(#[doc = $doc:literal])* $field:ident : $ty:ty = $name:literal $v3:literal $rule:ident,)*) => {
        /// A department. `parent_id` is the source of truth; `depth` and the counts are
        /// maintained. The columns after `updated_at` are the listed fields above.
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "node")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            pub user_pool_id: String,
            pub org_id: String,
            pub parent_id: Option<String>,
            /// The first of the department's leaders (table `node_leader` holds them in order).
            pub leader_user_id: Option<String>,
            /// Distance from the root (the root is 0).
            pub depth: i32,
            /// Direct members.
            pub member_count: i64,
            /// Distinct users who are members of this node or of a node below it.
            pub subtree_member_count: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }
    };
}
with_department_fields!(node_model);

/// The columns that are not listed fields: identity, place in the tree, maintained values.
pub const STRUCTURAL: &[Column] = &[
    Column::Id,
    Column::UserPoolId,
    Column::OrgId,
    Column::ParentId,
    Column::LeaderUserId,
    Column::Depth,
    Column::MemberCount,
    Column::SubtreeMemberCount,
    Column::CreatedAt,
    Column::UpdatedAt,
];

/// The counters membership changes maintain: no listing shows them.
pub const COUNTERS: &[Column] = &[Column::MemberCount, Column::SubtreeMemberCount];

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
