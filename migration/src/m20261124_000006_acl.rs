//! Permissions (Authing's ACL, the part that grants resources to users and org nodes):
//! namespaces of resources, resources with typed actions, and grants of a resource's actions to a
//! user or a node.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserPool {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ResourceNamespace {
    Table,
    Id,
    UserPoolId,
    Code,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AclResource {
    Table,
    Id,
    UserPoolId,
    NamespaceId,
    Code,
    ResourceType,
    Description,
    Actions,
    ApiIdentifier,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AclGrant {
    Table,
    Id,
    UserPoolId,
    NamespaceId,
    Resource,
    ResourceCode,
    TargetType,
    TargetId,
    Actions,
    CreatedAt,
    UpdatedAt,
}

fn cascade(name: &str, from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResourceNamespace::Table)
                    .if_not_exists()
                    // Numeric: Authing's SDKs type a namespace's id as a number.
                    .col(big_integer(ResourceNamespace::Id).auto_increment().primary_key())
                    .col(string(ResourceNamespace::UserPoolId))
                    .col(string(ResourceNamespace::Code))
                    .col(string(ResourceNamespace::Name))
                    .col(text_null(ResourceNamespace::Description))
                    .col(timestamp_with_time_zone(ResourceNamespace::CreatedAt))
                    .col(timestamp_with_time_zone(ResourceNamespace::UpdatedAt))
                    .foreign_key(&mut cascade("fk_namespace_pool", (ResourceNamespace::Table, ResourceNamespace::UserPoolId), (UserPool::Table, UserPool::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_namespace_pool_code").table(ResourceNamespace::Table)
                    .col(ResourceNamespace::UserPoolId).col(ResourceNamespace::Code).unique().to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AclResource::Table)
                    .if_not_exists()
                    .col(string(AclResource::Id).primary_key())
                    .col(string(AclResource::UserPoolId))
                    .col(big_integer(AclResource::NamespaceId))
                    .col(string(AclResource::Code))
                    .col(string(AclResource::ResourceType))
                    .col(text_null(AclResource::Description))
                    .col(json_binary(AclResource::Actions))
                    .col(string_null(AclResource::ApiIdentifier))
                    .col(timestamp_with_time_zone(AclResource::CreatedAt))
                    .col(timestamp_with_time_zone(AclResource::UpdatedAt))
                    .foreign_key(&mut cascade("fk_resource_namespace", (AclResource::Table, AclResource::NamespaceId), (ResourceNamespace::Table, ResourceNamespace::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_resource_namespace_code").table(AclResource::Table)
                    .col(AclResource::NamespaceId).col(AclResource::Code).unique().to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AclGrant::Table)
                    .if_not_exists()
                    .col(string(AclGrant::Id).primary_key())
                    .col(string(AclGrant::UserPoolId))
                    .col(big_integer(AclGrant::NamespaceId))
                    // As granted: a resource code, `code:instance`, `code:*` or `*`.
                    .col(string(AclGrant::Resource))
                    // The resource code it belongs to (before the `:`), so deleting it drops its grants.
                    .col(string(AclGrant::ResourceCode))
                    .col(string(AclGrant::TargetType))
                    .col(string(AclGrant::TargetId))
                    .col(json_binary(AclGrant::Actions))
                    .col(timestamp_with_time_zone(AclGrant::CreatedAt))
                    .col(timestamp_with_time_zone(AclGrant::UpdatedAt))
                    .foreign_key(&mut cascade("fk_grant_namespace", (AclGrant::Table, AclGrant::NamespaceId), (ResourceNamespace::Table, ResourceNamespace::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_grant").table(AclGrant::Table)
                    .col(AclGrant::NamespaceId).col(AclGrant::Resource).col(AclGrant::TargetType).col(AclGrant::TargetId).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_grant_target").table(AclGrant::Table)
                    .col(AclGrant::TargetType).col(AclGrant::TargetId).col(AclGrant::NamespaceId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [AclGrant::Table.into_iden(), AclResource::Table.into_iden(), ResourceNamespace::Table.into_iden()] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
