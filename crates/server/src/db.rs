//! The database: an embedded SQLite file by default, PostgreSQL when `DATABASE_URL` says
//! `postgres://…`. One set of migrations (`crates/server/migrations`) and one set of queries
//! serve both, through sqlx's `Any` driver: the SQL sticks to what both speak (`$1`
//! placeholders, `ON CONFLICT … DO NOTHING`, TEXT and BIGINT columns).

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Executor, Pool};
use tokio::sync::{Mutex, MutexGuard};

/// A pool of connections to either database.
pub type Db = Pool<sqlx::Any>;
/// A transaction on [`Db`].
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Opens the database at `url` and runs the migrations. A SQLite file (`sqlite://path/to.db`)
/// is created if missing and used in WAL mode; a PostgreSQL database must exist.
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let url = if sqlite && !url.contains('?') {
        format!("{url}?mode=rwc")
    } else {
        url.to_owned()
    };
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 8 } else { 16 })
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    // Readers never block the writer; a writer waits up to 5 s for another. The
                    // write-ahead log is copied back into the database by `checkpoints`, not by
                    // the commit that fills it (unless it grows to 40 MB).
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    if sqlite {
        tokio::spawn(checkpoints(pool.clone()));
    }
    Ok(pool)
}

/// Copies SQLite's write-ahead log back into the database every 250 ms, beside the writers
/// rather than in one of them. By default the commit that takes the log past 1,000 pages does
/// it, and that request waits: in the sync benchmark these commits made the p99 latency 22 ms
/// instead of 13 ms. A passive checkpoint takes no lock that a reader or writer waits on.
async fn checkpoints(pool: Db) {
    let mut every = tokio::time::interval(Duration::from_millis(250));
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::warn!("SQLite checkpoint: {e}");
        }
    }
}

/// SQLite lets one transaction write to a database file at a time. The others wait in its
/// busy handler, which sleeps and retries, so under load a writer could wait behind ones that
/// came after it (the sync benchmark's p99 was 130 ms). This process's SQLite writers take
/// turns here instead, first come first served. PostgreSQL locks rows and needs no turn.
static SQLITE_WRITER: Mutex<()> = Mutex::const_new(());

/// A transaction that will write: on SQLite it holds the process's writer turn until it
/// commits or is dropped.
pub struct WriteTx {
    tx: Tx,
    _turn: Option<MutexGuard<'static, ()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl Deref for WriteTx {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

/// Begins a transaction that will write (see [`WriteTx`]).
pub async fn begin_write(db: &Db) -> Result<WriteTx, sqlx::Error> {
    let turn = if db.connect_options().database_url.scheme() == "sqlite" {
        Some(SQLITE_WRITER.lock().await)
    } else {
        None
    };
    Ok(WriteTx {
        tx: db.begin().await?,
        _turn: turn,
    })
}
