//! SCIM 2.0 provisioning: the pools' SCIM bearer tokens (stored as SHA-256 digests), the
//! `externalId` an identity provider gives a group (a department node), and an index for SCIM's
//! case-insensitive `userName` lookups (`filter=userName eq "..."`, before every Okta create).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserPool {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Node {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScimToken {
    Table,
    Id,
    UserPoolId,
    Name,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScimGroup {
    Table,
    NodeId,
    UserPoolId,
    ExternalId,
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
                    .table(ScimToken::Table)
                    .if_not_exists()
                    .col(string(ScimToken::Id).primary_key())
                    .col(string(ScimToken::UserPoolId))
                    .col(string(ScimToken::Name))
                    // Hex SHA-256 of the token; the token itself is shown once and never stored.
                    .col(string(ScimToken::TokenHash))
                    .col(timestamp_with_time_zone(ScimToken::CreatedAt))
                    .foreign_key(&mut cascade("fk_scim_token_pool", (ScimToken::Table, ScimToken::UserPoolId), (UserPool::Table, UserPool::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ux_scim_token_hash").table(ScimToken::Table).col(ScimToken::TokenHash).unique().to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_scim_token_pool").table(ScimToken::Table).col(ScimToken::UserPoolId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScimGroup::Table)
                    .if_not_exists()
                    .col(string(ScimGroup::NodeId).primary_key())
                    .col(string(ScimGroup::UserPoolId))
                    .col(string(ScimGroup::ExternalId))
                    // The node goes, its SCIM attributes go with it (whoever deletes it).
                    .foreign_key(&mut cascade("fk_scim_group_node", (ScimGroup::Table, ScimGroup::NodeId), (Node::Table, Node::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_scim_group_external").table(ScimGroup::Table)
                    .col(ScimGroup::UserPoolId).col(ScimGroup::ExternalId).to_owned(),
            )
            .await?;
        // SCIM compares userName case-insensitively; the same statement on both backends.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX IF NOT EXISTS ix_users_pool_username_lower ON users (user_pool_id, LOWER(username))")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS ix_users_pool_username_lower").await?;
        for t in [ScimGroup::Table.into_iden(), ScimToken::Table.into_iden()] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
