//! Server keys, user pools (tenants) and users.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServerKey {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserPool {
    Table,
    Id,
    Name,
    SecretHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    UserPoolId,
    Username,
    Email,
    Phone,
    PhoneCountryCode,
    EmailVerified,
    PhoneVerified,
    PasswordHash,
    Name,
    Nickname,
    GivenName,
    FamilyName,
    MiddleName,
    PreferredUsername,
    Profile,
    Website,
    Photo,
    Gender,
    Birthdate,
    Zoneinfo,
    Locale,
    Address,
    Formatted,
    StreetAddress,
    Locality,
    Region,
    PostalCode,
    City,
    Province,
    Country,
    Company,
    Browser,
    Device,
    Unionid,
    Openid,
    Oauth,
    RegisterSource,
    LoginsCount,
    LastLogin,
    LastIp,
    SignedUp,
    Blocked,
    Status,
    ExternalId,
    CustomData,
    Identities,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Keys the server generates on first start (JWT signing key, password-encryption key), so
        // that every instance on one database signs and decrypts alike.
        manager
            .create_table(
                Table::create()
                    .table(ServerKey::Table)
                    .if_not_exists()
                    .col(string(ServerKey::Name).primary_key())
                    .col(text(ServerKey::Value))
                    .col(timestamp_with_time_zone(ServerKey::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserPool::Table)
                    .if_not_exists()
                    .col(string(UserPool::Id).primary_key())
                    .col(string(UserPool::Name))
                    .col(text(UserPool::SecretHash))
                    .col(timestamp_with_time_zone(UserPool::CreatedAt))
                    .col(timestamp_with_time_zone(UserPool::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(string(Users::Id).primary_key())
                    .col(string(Users::UserPoolId))
                    .col(string_null(Users::Username))
                    .col(string_null(Users::Email))
                    .col(string_null(Users::Phone))
                    .col(string_null(Users::PhoneCountryCode))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(boolean(Users::PhoneVerified).default(false))
                    .col(text_null(Users::PasswordHash))
                    .col(string_null(Users::Name))
                    .col(string_null(Users::Nickname))
                    .col(string_null(Users::GivenName))
                    .col(string_null(Users::FamilyName))
                    .col(string_null(Users::MiddleName))
                    .col(string_null(Users::PreferredUsername))
                    .col(string_null(Users::Profile))
                    .col(string_null(Users::Website))
                    .col(text_null(Users::Photo))
                    .col(string(Users::Gender).default("U"))
                    .col(string_null(Users::Birthdate))
                    .col(string_null(Users::Zoneinfo))
                    .col(string_null(Users::Locale))
                    .col(string_null(Users::Address))
                    .col(string_null(Users::Formatted))
                    .col(string_null(Users::StreetAddress))
                    .col(string_null(Users::Locality))
                    .col(string_null(Users::Region))
                    .col(string_null(Users::PostalCode))
                    .col(string_null(Users::City))
                    .col(string_null(Users::Province))
                    .col(string_null(Users::Country))
                    .col(string_null(Users::Company))
                    .col(text_null(Users::Browser))
                    .col(string_null(Users::Device))
                    .col(string_null(Users::Unionid))
                    .col(string_null(Users::Openid))
                    .col(text_null(Users::Oauth))
                    .col(json_binary(Users::RegisterSource))
                    .col(integer(Users::LoginsCount).default(0))
                    .col(timestamp_with_time_zone_null(Users::LastLogin))
                    .col(string_null(Users::LastIp))
                    .col(timestamp_with_time_zone_null(Users::SignedUp))
                    .col(boolean(Users::Blocked).default(false))
                    .col(string(Users::Status).default("Activated"))
                    .col(string_null(Users::ExternalId))
                    .col(json_binary(Users::CustomData))
                    .col(json_binary(Users::Identities))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_user_pool")
                            .from(Users::Table, Users::UserPoolId)
                            .to(UserPool::Table, UserPool::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Identifiers are unique within a pool; NULLs do not collide on either backend.
        for (name, col) in [
            ("ux_users_pool_username", Users::Username),
            ("ux_users_pool_email", Users::Email),
            ("ux_users_pool_phone", Users::Phone),
            ("ux_users_pool_external_id", Users::ExternalId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(Users::UserPoolId)
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        // Keyset-friendly indexes for the sorted user list.
        for (name, col) in [
            ("ix_users_pool_created", Users::CreatedAt),
            ("ix_users_pool_updated", Users::UpdatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(Users::UserPoolId)
                        .col(col)
                        .col(Users::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(UserPool::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ServerKey::Table).to_owned()).await
    }
}
