//! Organizations as trees of nodes, the closure table that indexes subtrees, memberships, and
//! the subtree fan-out that serves member pages and counts without scanning.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserPool {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Org {
    Table,
    Id,
    UserPoolId,
    RootNodeId,
    TenantId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Node {
    Table,
    Id,
    UserPoolId,
    OrgId,
    ParentId,
    Name,
    NameI18n,
    Description,
    DescriptionI18n,
    Order,
    Code,
    LeaderUserId,
    Depth,
    MemberCount,
    SubtreeMemberCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NodeClosure {
    Table,
    AncestorId,
    DescendantId,
    Depth,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    NodeId,
    UserId,
    UserPoolId,
    OrgId,
    IsLeader,
    IsMainDepartment,
    JoinedAt,
}

#[derive(DeriveIden)]
enum SubtreeMember {
    Table,
    AncestorId,
    UserId,
    Refs,
    JoinedAt,
    UserCreatedAt,
    UserUpdatedAt,
}

fn fk(name: &str, from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Org::Table)
                    .if_not_exists()
                    .col(string(Org::Id).primary_key())
                    .col(string(Org::UserPoolId))
                    .col(string(Org::RootNodeId))
                    .col(string_null(Org::TenantId))
                    .col(timestamp_with_time_zone(Org::CreatedAt))
                    .col(timestamp_with_time_zone(Org::UpdatedAt))
                    .foreign_key(&mut fk("fk_org_pool", (Org::Table, Org::UserPoolId), (UserPool::Table, UserPool::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_org_pool_created").table(Org::Table).col(Org::UserPoolId).col(Org::CreatedAt).to_owned())
            .await?;

        // `parent_id` is the source of truth of the tree; `depth` (distance from the root) and
        // the two counts are maintained in the same transaction as every change.
        manager
            .create_table(
                Table::create()
                    .table(Node::Table)
                    .if_not_exists()
                    .col(string(Node::Id).primary_key())
                    .col(string(Node::UserPoolId))
                    .col(string(Node::OrgId))
                    .col(string_null(Node::ParentId))
                    .col(string(Node::Name))
                    .col(text_null(Node::NameI18n))
                    .col(text_null(Node::Description))
                    .col(text_null(Node::DescriptionI18n))
                    .col(big_integer_null(Node::Order))
                    .col(string_null(Node::Code))
                    .col(string_null(Node::LeaderUserId))
                    .col(integer(Node::Depth))
                    .col(big_integer(Node::MemberCount).default(0))
                    .col(big_integer(Node::SubtreeMemberCount).default(0))
                    .col(timestamp_with_time_zone(Node::CreatedAt))
                    .col(timestamp_with_time_zone(Node::UpdatedAt))
                    .foreign_key(&mut fk("fk_node_org", (Node::Table, Node::OrgId), (Org::Table, Org::Id)))
                    .foreign_key(&mut fk("fk_node_parent", (Node::Table, Node::ParentId), (Node::Table, Node::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ux_node_org_code").table(Node::Table).col(Node::OrgId).col(Node::Code).unique().to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_node_parent").table(Node::Table).col(Node::ParentId).to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_node_org").table(Node::Table).col(Node::OrgId).col(Node::Depth).to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_node_pool").table(Node::Table).col(Node::UserPoolId).col(Node::Name).to_owned())
            .await?;

        // One row per (ancestor, descendant), the node itself included at depth 0.
        manager
            .create_table(
                Table::create()
                    .table(NodeClosure::Table)
                    .if_not_exists()
                    .col(string(NodeClosure::AncestorId))
                    .col(string(NodeClosure::DescendantId))
                    .col(integer(NodeClosure::Depth))
                    .primary_key(Index::create().col(NodeClosure::AncestorId).col(NodeClosure::DescendantId))
                    .foreign_key(&mut fk("fk_closure_ancestor", (NodeClosure::Table, NodeClosure::AncestorId), (Node::Table, Node::Id)))
                    .foreign_key(&mut fk("fk_closure_descendant", (NodeClosure::Table, NodeClosure::DescendantId), (Node::Table, Node::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_closure_descendant").table(NodeClosure::Table).col(NodeClosure::DescendantId).col(NodeClosure::Depth).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .if_not_exists()
                    .col(string(Membership::NodeId))
                    .col(string(Membership::UserId))
                    .col(string(Membership::UserPoolId))
                    .col(string(Membership::OrgId))
                    .col(boolean(Membership::IsLeader).default(false))
                    .col(boolean(Membership::IsMainDepartment).default(false))
                    .col(timestamp_with_time_zone(Membership::JoinedAt))
                    .primary_key(Index::create().col(Membership::NodeId).col(Membership::UserId))
                    .foreign_key(&mut fk("fk_membership_node", (Membership::Table, Membership::NodeId), (Node::Table, Node::Id)))
                    .foreign_key(&mut fk("fk_membership_user", (Membership::Table, Membership::UserId), (Users::Table, Users::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_membership_user").table(Membership::Table).col(Membership::UserId).to_owned())
            .await?;
        manager
            .create_index(
                Index::create().name("ix_membership_node_joined").table(Membership::Table).col(Membership::NodeId).col(Membership::JoinedAt).to_owned(),
            )
            .await?;

        // For every node, each distinct user who is a member of it or of a node below it, with
        // `refs` = how many such memberships; the user's sort keys are copied so that a page of
        // a subtree is one index range and its size a stored count.
        manager
            .create_table(
                Table::create()
                    .table(SubtreeMember::Table)
                    .if_not_exists()
                    .col(string(SubtreeMember::AncestorId))
                    .col(string(SubtreeMember::UserId))
                    .col(integer(SubtreeMember::Refs))
                    .col(timestamp_with_time_zone(SubtreeMember::JoinedAt))
                    .col(timestamp_with_time_zone(SubtreeMember::UserCreatedAt))
                    .col(timestamp_with_time_zone(SubtreeMember::UserUpdatedAt))
                    .primary_key(Index::create().col(SubtreeMember::AncestorId).col(SubtreeMember::UserId))
                    .foreign_key(&mut fk("fk_subtree_ancestor", (SubtreeMember::Table, SubtreeMember::AncestorId), (Node::Table, Node::Id)))
                    .foreign_key(&mut fk("fk_subtree_user", (SubtreeMember::Table, SubtreeMember::UserId), (Users::Table, Users::Id)))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_subtree_created", SubtreeMember::UserCreatedAt),
            ("ix_subtree_updated", SubtreeMember::UserUpdatedAt),
            ("ix_subtree_joined", SubtreeMember::JoinedAt),
        ] {
            manager
                .create_index(
                    Index::create().name(name).table(SubtreeMember::Table).col(SubtreeMember::AncestorId).col(col).col(SubtreeMember::UserId).to_owned(),
                )
                .await?;
        }
        manager
            .create_index(Index::create().name("ix_subtree_user").table(SubtreeMember::Table).col(SubtreeMember::UserId).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [SubtreeMember::Table.into_iden(), Membership::Table.into_iden(), NodeClosure::Table.into_iden(), Node::Table.into_iden(), Org::Table.into_iden()] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
