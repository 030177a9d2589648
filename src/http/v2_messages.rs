//! The success `message` of v2 REST answers, as Authing's documented samples give them (its v2
//! API reference, apifox project 548164; seed 003 for the members route). A route whose sample
//! answers `""` (`POST /api/v2/orgs/import`, `GET /api/v2/resources/detail`), or that has no
//! documented sample, answers `""` (`envelope::v2_ok`).

/// `GET /api/v2/orgs/nodes/{nodeId}/members` (seed 003).
pub const NODE_MEMBERS: &str = "获取组织结构用户成功";
/// `GET /api/v2/orgs/export`, of one org or of all.
pub const EXPORTED: &str = "导出数据成功";
/// `GET /api/v2/resource-namespace/{userPoolId}` and `PUT …/{id}` (also `PUT …/code/{code}`, the
/// same change addressed by code).
pub const NAMESPACES: &str = "请求成功";
/// `POST /api/v2/resources`.
pub const RESOURCE_CREATED: &str = "创建成功";
/// `POST /api/v2/resources/{code}`.
pub const RESOURCE_UPDATED: &str = "修改成功";
