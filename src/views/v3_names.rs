//! How v3 calls name a department (`departmentIdType`) and a user (`userIdType`): GenAuth's wire
//! strings, read into the domain's `DepartmentIdType` and `UserIdType`. Shared by the v3 REST
//! routes and GraphQL's v3 mirror (`listDepartmentMembers`).

use crate::{
    domain::{org_tree::DepartmentIdType, users::UserIdType},
    error::{AppError, AppResult},
};

/// `departmentIdType`: `department_id` (the default), `open_department_id` or `code`.
pub fn department_id_type(value: Option<&str>) -> AppResult<DepartmentIdType> {
    match value.map(str::trim) {
        None | Some("") | Some("department_id") => Ok(DepartmentIdType::Id),
        Some("open_department_id") => Ok(DepartmentIdType::OpenId),
        Some("code") => Ok(DepartmentIdType::Code),
        Some(other) => Err(AppError::invalid(
            "departmentIdType",
            format!("departmentIdType {other:?} is not supported: use department_id, open_department_id or code"),
        )),
    }
}

/// `userIdType`: `user_id` (the default), `external_id`, `phone`, `email` or `username`.
pub fn user_id_type(value: Option<&str>) -> AppResult<UserIdType> {
    match value.map(str::trim) {
        None | Some("") | Some("user_id") => Ok(UserIdType::Id),
        Some("external_id") => Ok(UserIdType::ExternalId),
        Some("phone") => Ok(UserIdType::Phone),
        Some("email") => Ok(UserIdType::Email),
        Some("username") => Ok(UserIdType::Username),
        Some(other) => Err(AppError::invalid(
            "userIdType",
            format!("userIdType {other:?} is not supported: use user_id, external_id, phone, email or username"),
        )),
    }
}
