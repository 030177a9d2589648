//! What the GenAuth v3 API keeps beyond v2:
//! - a pool's secret sealed with a server key (`secret_sealed`), because the v3 Node SDK signs
//!   every request with an HMAC of the secret, which a password hash cannot check;
//! - department fields: `open_department_id` (the caller's own id, unique in its org), v3 `i18n`,
//!   `custom_data`, `enabled` (v3 `status`), `is_virtual`;
//! - several leaders per node (`node_leader`, in order; `node.leader_user_id` stays the first);
//! - custom event apps and event types (`event_app`, `event_definition`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserPool {
    Table,
    Id,
    SecretSealed,
}

#[derive(DeriveIden)]
enum Node {
    Table,
    Id,
    OrgId,
    OpenDepartmentId,
    I18n,
    CustomData,
    Enabled,
    IsVirtual,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum NodeLeader {
    Table,
    NodeId,
    UserId,
    UserPoolId,
    Position,
}

#[derive(DeriveIden)]
enum EventApp {
    Table,
    Id,
    UserPoolId,
    Identifier,
    Name,
    Logo,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EventDefinition {
    Table,
    Id,
    UserPoolId,
    EventType,
    AppIdentifier,
    Description,
    CreatedAt,
}

fn cascade(name: &str, from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(UserPool::Table).add_column(text_null(UserPool::SecretSealed)).to_owned())
            .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [
            string_null(Node::OpenDepartmentId),
            json_binary_null(Node::I18n),
            json_binary_null(Node::CustomData),
            boolean(Node::Enabled).default(true).to_owned(),
            boolean(Node::IsVirtual).default(false).to_owned(),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Node::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_node_org_open_id")
                    .table(Node::Table)
                    .col(Node::OrgId)
                    .col(Node::OpenDepartmentId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NodeLeader::Table)
                    .if_not_exists()
                    .col(string(NodeLeader::NodeId))
                    .col(string(NodeLeader::UserId))
                    .col(string(NodeLeader::UserPoolId))
                    .col(integer(NodeLeader::Position))
                    .primary_key(Index::create().col(NodeLeader::NodeId).col(NodeLeader::UserId))
                    .foreign_key(&mut cascade("fk_node_leader_node", (NodeLeader::Table, NodeLeader::NodeId), (Node::Table, Node::Id)))
                    .foreign_key(&mut cascade("fk_node_leader_user", (NodeLeader::Table, NodeLeader::UserId), (Users::Table, Users::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_node_leader_user").table(NodeLeader::Table).col(NodeLeader::UserId).to_owned())
            .await?;
        // Leaders set through v2 (`leader_user_id`) become the first leader.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO node_leader (node_id, user_id, user_pool_id, position)
                 SELECT n.id, n.leader_user_id, n.user_pool_id, 0 FROM node n
                 JOIN users u ON u.id = n.leader_user_id",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EventApp::Table)
                    .if_not_exists()
                    .col(string(EventApp::Id).primary_key())
                    .col(string(EventApp::UserPoolId))
                    .col(string(EventApp::Identifier))
                    .col(string(EventApp::Name))
                    .col(text(EventApp::Logo))
                    .col(timestamp_with_time_zone(EventApp::CreatedAt))
                    .foreign_key(&mut cascade("fk_event_app_pool", (EventApp::Table, EventApp::UserPoolId), (UserPool::Table, UserPool::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_event_app_identifier").table(EventApp::Table).col(EventApp::UserPoolId).col(EventApp::Identifier).unique().to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventDefinition::Table)
                    .if_not_exists()
                    .col(string(EventDefinition::Id).primary_key())
                    .col(string(EventDefinition::UserPoolId))
                    .col(string(EventDefinition::EventType))
                    .col(string(EventDefinition::AppIdentifier))
                    .col(text(EventDefinition::Description))
                    .col(timestamp_with_time_zone(EventDefinition::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_event_definition_pool",
                        (EventDefinition::Table, EventDefinition::UserPoolId),
                        (UserPool::Table, UserPool::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_event_definition_type")
                    .table(EventDefinition::Table)
                    .col(EventDefinition::UserPoolId)
                    .col(EventDefinition::EventType)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(EventDefinition::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(EventApp::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(NodeLeader::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ux_node_org_open_id").table(Node::Table).to_owned()).await?;
        for column in [Node::OpenDepartmentId, Node::I18n, Node::CustomData, Node::Enabled, Node::IsVirtual] {
            manager.alter_table(Table::alter().table(Node::Table).drop_column(column).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(UserPool::Table).drop_column(UserPool::SecretSealed).to_owned()).await
    }
}
