//! The database: an embedded SQLite file by default, PostgreSQL when `DATABASE_URL` says
//! `postgres://…`. One set of migrations (`crates/server/migrations`) and one set of queries
//! serve both, through sqlx's `Any` driver: the SQL sticks to what both speak (`$1`
//! placeholders, `ON CONFLICT … DO NOTHING`, TEXT and BIGINT columns).

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Executor, Pool};

/// A pool of connections to either database.
pub type Db = Pool<sqlx::Any>;
/// A transaction on [`Db`].
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Opens the database at `url` and runs the migrations. A SQLite file (`sqlite://path/to.db`)
/// is created if missing and used in WAL mode; a PostgreSQL database must exist.
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let url = if sqlite && !url.contains('?') { format!("{url}?mode=rwc") } else { url.to_owned() };
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 8 } else { 16 })
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    // Readers never block the writer; a writer waits up to 5 s for another.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}
