use sea_orm::entity::prelude::*;

/// A department. `parent_id` is the source of truth; `depth` and the counts are maintained.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "node")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_pool_id: String,
    pub org_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub name_i18n: Option<String>,
    pub description: Option<String>,
    pub description_i18n: Option<String>,
    pub order: Option<i64>,
    pub code: Option<String>,
    pub leader_user_id: Option<String>,
    /// Distance from the root (the root is 0).
    pub depth: i32,
    /// Direct members.
    pub member_count: i64,
    /// Distinct users who are members of this node or of a node below it.
    pub subtree_member_count: i64,
    /// The caller's own id of the department (v3), unique in its org.
    pub open_department_id: Option<String>,
    /// v3 i18n: `{"name": {"zh-CN": {"enabled": true, "value": "..."}, ...}}`.
    pub i18n: Option<Json>,
    pub custom_data: Option<Json>,
    /// v3 `status`: a disabled department stays in the tree.
    pub enabled: bool,
    pub is_virtual: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The department's custom data; `{}` when it has none (how every API shows it).
    pub fn custom_data_or_empty(&self) -> Json {
        self.custom_data.clone().unwrap_or_else(|| Json::Object(Default::default()))
    }
}
