//! The store's schema: versioned migrations (`migrations/V<n>__<name>.sql`, embedded in the
//! binary) applied at start with refinery, in the table `simutrador_schema_history`. A
//! database whose schema is newer than this daemon knows (a later daemon migrated it) is
//! refused before anything is written: an old daemon must not write rows a newer schema
//! reads differently.

use anyhow::{Context, bail};
use refinery::{Migration, Runner};

/// Refinery's history table.
pub const HISTORY_TABLE: &str = "simutrador_schema_history";

/// Every migration this daemon knows, oldest first.
const MIGRATIONS: &[(&str, &str)] =
    &[("V1__sessions", include_str!("migrations/V1__sessions.sql"))];

/// The newest schema version this daemon knows.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Bring the schema of `client`'s database up to [`latest_version`]; refuse a newer one.
pub(super) async fn migrate(client: &mut tokio_postgres::Client) -> anyhow::Result<Vec<String>> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(name, sql)| Migration::unapplied(name, sql))
        .collect::<Result<Vec<_>, _>>()
        .context("a built-in migration is malformed")?;
    let mut runner = Runner::new(&migrations);
    runner.set_migration_table_name(HISTORY_TABLE);
    if let Some((version, name)) = last_applied(client).await?
        && version > latest_version()
    {
        bail!(
            "the database schema is at version {version} ({name}), newer than this daemon knows (version {}); \
             a newer simutrador-server migrated it. Run that version (or newer) against this database, \
             or point --store at another database",
            latest_version()
        );
    }
    let report = runner
        .run_async(client)
        .await
        .context("cannot migrate the database schema")?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect())
}

/// The newest migration applied to `client`'s database (`None` on a new database).
async fn last_applied(client: &tokio_postgres::Client) -> anyhow::Result<Option<(u32, String)>> {
    let context = || format!("cannot read the schema version (table {HISTORY_TABLE})");
    let exists = client
        .query_one("SELECT to_regclass($1)::text", &[&HISTORY_TABLE])
        .await
        .with_context(context)?
        .get::<_, Option<String>>(0)
        .is_some();
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_opt(
            &format!("SELECT version, name FROM {HISTORY_TABLE} ORDER BY version DESC LIMIT 1"),
            &[],
        )
        .await
        .with_context(context)?;
    Ok(row.map(|r| (u32::try_from(r.get::<_, i32>(0)).unwrap_or(0), r.get(1))))
}
