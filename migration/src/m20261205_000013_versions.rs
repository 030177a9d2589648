//! The org chart through time: every row of `users`, `org`, `node`, `membership` and
//! `node_leader` gets
//! versions in `<table>_version`, each valid from one commit to another (`valid_to` null: the
//! current one), with the actor that opened and closed it. Triggers made at start-up from the
//! entities (`storage::history::triggers`) open and close versions as rows change; the write
//! path stamps them when it commits (`storage::history::stamp`): a version opened or closed by a
//! transaction still open has no time yet (`valid_from` null, `closing` true).
//! Rows present now get a first version from this migration's time, opened by `migration`:
//! nothing is known of them before. A user's versions keep no password hash: an old secret is
//! not history anyone needs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A mirrored column: name, SQLite type, PostgreSQL type.
type Column = (&'static str, &'static str, &'static str);

const TEXT: (&str, &str) = ("varchar", "varchar");
const LONG: (&str, &str) = ("text", "text");
const TIME: (&str, &str) = ("timestamp_with_timezone_text", "timestamptz");
const FLAG: (&str, &str) = ("boolean", "boolean");
const JSON: (&str, &str) = ("jsonb_text", "jsonb");

const fn col(name: &'static str, ty: (&'static str, &'static str)) -> Column {
    (name, ty.0, ty.1)
}

/// A versioned table: its name, its key, the columns its versions keep (the key first), and the
/// indexes a read by time uses.
type Table = (&'static str, &'static [&'static str], &'static [Column], &'static [&'static str]);

const TABLES: &[Table] = &[
    (
        "users",
        &["id"],
        &[
            col("id", TEXT),
            col("user_pool_id", TEXT),
            col("username", TEXT),
            col("email", TEXT),
            col("phone", TEXT),
            col("phone_country_code", TEXT),
            col("email_verified", FLAG),
            col("phone_verified", FLAG),
            col("name", TEXT),
            col("nickname", TEXT),
            col("given_name", TEXT),
            col("family_name", TEXT),
            col("middle_name", TEXT),
            col("preferred_username", TEXT),
            col("profile", TEXT),
            col("website", TEXT),
            col("photo", LONG),
            col("gender", TEXT),
            col("birthdate", TEXT),
            col("zoneinfo", TEXT),
            col("locale", TEXT),
            col("address", TEXT),
            col("formatted", TEXT),
            col("street_address", TEXT),
            col("locality", TEXT),
            col("region", TEXT),
            col("postal_code", TEXT),
            col("city", TEXT),
            col("province", TEXT),
            col("country", TEXT),
            col("company", TEXT),
            col("browser", LONG),
            col("device", TEXT),
            col("unionid", TEXT),
            col("openid", TEXT),
            col("oauth", LONG),
            col("register_source", JSON),
            ("logins_count", "integer", "integer"),
            col("last_login", TIME),
            col("last_ip", TEXT),
            col("signed_up", TIME),
            col("blocked", FLAG),
            col("status", TEXT),
            col("external_id", TEXT),
            col("custom_data", JSON),
            col("identities", JSON),
            col("created_at", TIME),
            col("updated_at", TIME),
        ],
        // A members page as of an instant walks a pool's users in their order.
        &["id, valid_from", "user_pool_id, created_at, id", "user_pool_id, updated_at, id"],
    ),
    (
        "org",
        &["id"],
        &[col("id", TEXT), col("user_pool_id", TEXT), col("root_node_id", TEXT), col("tenant_id", TEXT), col("created_at", TIME), col("updated_at", TIME)],
        &["id, valid_from"],
    ),
    (
        "node",
        &["id"],
        &[
            col("id", TEXT),
            col("user_pool_id", TEXT),
            col("org_id", TEXT),
            col("parent_id", TEXT),
            col("name", TEXT),
            col("name_i18n", LONG),
            col("description", LONG),
            col("description_i18n", LONG),
            ("order", "integer", "bigint"),
            col("code", TEXT),
            col("leader_user_id", TEXT),
            col("created_at", TIME),
            col("updated_at", TIME),
            col("open_department_id", TEXT),
            col("i18n", JSON),
            col("custom_data", JSON),
            col("enabled", FLAG),
            col("is_virtual", FLAG),
        ],
        &["id, valid_from", "org_id, valid_from", "parent_id, valid_from"],
    ),
    (
        "membership",
        &["node_id", "user_id"],
        &[
            col("node_id", TEXT),
            col("user_id", TEXT),
            col("user_pool_id", TEXT),
            col("org_id", TEXT),
            col("is_leader", FLAG),
            col("is_main_department", FLAG),
            col("joined_at", TIME),
        ],
        &["node_id, valid_from", "user_id, valid_from", "org_id, valid_from"],
    ),
    (
        "node_leader",
        &["node_id", "user_id"],
        &[col("node_id", TEXT), col("user_id", TEXT), col("user_pool_id", TEXT), ("position", "integer", "integer")],
        &["node_id, valid_from"],
    ),
];

fn up_sql(postgres: bool) -> String {
    let mut sql = Vec::new();
    for (table, _keys, columns, indexes) in TABLES {
        let id = if postgres { "version_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" } else { "version_id INTEGER PRIMARY KEY" };
        let (time, flag_false) = if postgres { ("timestamptz", "false") } else { ("timestamp_with_timezone_text", "FALSE") };
        let mirrored: Vec<String> = columns.iter().map(|(name, sqlite, pg)| format!("\"{name}\" {}", if postgres { pg } else { sqlite })).collect();
        sql.push(format!(
            "CREATE TABLE {table}_version ({id}, {}, valid_from {time} NULL, valid_to {time} NULL, closing boolean NOT NULL DEFAULT {flag_false}, opened_by varchar NULL, closed_by varchar NULL)",
            mirrored.join(", ")
        ));
        for (i, index) in indexes.iter().enumerate() {
            sql.push(format!("CREATE INDEX ix_{table}_version_{i} ON {table}_version ({index})"));
        }
        // The versions a transaction still open has opened or is closing: its commit stamps them.
        sql.push(format!("CREATE INDEX ix_{table}_version_unstamped ON {table}_version (version_id) WHERE valid_from IS NULL"));
        sql.push(format!("CREATE INDEX ix_{table}_version_closing ON {table}_version (version_id) WHERE closing"));
        sql.push(format!("CREATE INDEX ix_{table}_version_ended ON {table}_version (valid_to)"));
        let names: Vec<String> = columns.iter().map(|(name, _, _)| format!("\"{name}\"")).collect();
        let now = if postgres { "clock_timestamp()" } else { "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '+00:00'" };
        sql.push(format!(
            "INSERT INTO {table}_version ({cols}, valid_from, opened_by) SELECT {cols}, {now}, 'migration' FROM {table}",
            cols = names.join(", ")
        ));
    }
    sql.join(";\n")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres;
        crate::run_batch(manager.get_connection(), "versions", &up_sql(postgres)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = Vec::new();
        for (table, ..) in TABLES {
            for op in ["insert", "update", "delete", "change"] {
                sql.push(match manager.get_database_backend() {
                    sea_orm_migration::sea_orm::DatabaseBackend::Postgres => format!("DROP TRIGGER IF EXISTS {table}_version_{op} ON {table}"),
                    _ => format!("DROP TRIGGER IF EXISTS {table}_version_{op}"),
                });
            }
            if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
                sql.push(format!("DROP FUNCTION IF EXISTS orgraph_{table}_version()"));
            }
            sql.push(format!("DROP TABLE {table}_version"));
        }
        crate::run_batch(manager.get_connection(), "versions_back", &sql.join(";\n")).await
    }
}
