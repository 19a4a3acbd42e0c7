//! The store: every SQL statement of the server, and the database they run on ([`Db`]): an
//! embedded SQLite file by default, PostgreSQL when `DATABASE_URL` says `postgres://…`. One
//! set of migrations (`crates/server/migrations`) and one set of queries serve both, through
//! sqlx's `Any` driver: the SQL sticks to what both speak (`$1` placeholders,
//! `ON CONFLICT … DO NOTHING`, TEXT and BIGINT columns).
//!
//! [`carts`] (cart rows), [`cart_log`] (the operation log: the one way to change a cart),
//! [`accounts`] (customers), [`sessions`], [`checkout`] (stock, promotion uses, checkout
//! attempts and what they hold), [`tokens`] (bearer tokens), [`changes`] (who hears of a new
//! cart version), [`orders`] (orders), [`outbox`] (events and their deliveries to webhook endpoints), [`idempotency`] (stored first answers),
//! [`mail`] (the mail outbox), [`sign_in_failures`] (wrong passwords per email and address).
//! Nothing here knows about HTTP.

pub mod accounts;
pub mod appointments;
pub mod cart_log;
pub mod carts;
pub mod challenges;
pub mod changes;
pub mod checkout;
pub mod edits;
pub mod fulfilment;
pub mod idempotency;
pub mod mail;
pub mod messages;
pub mod orders;
pub mod outbox;
pub mod server_keys;
pub mod sessions;
pub mod sign_in_failures;
pub mod supply;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A transaction on [`Db`].
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A store operation that failed: the database, or a value it holds that does not read back.
#[derive(Debug)]
pub enum StoreError {
    Database(sqlx::Error),
    /// A stored value (a cart body, an operation, a base) that does not parse or write.
    Corrupt(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Database(e) => write!(f, "database: {e}"),
            StoreError::Corrupt(detail) => write!(f, "stored data: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(e)
    }
}

/// Parses a stored JSON value (`what` names it in the error).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    json: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A value as the JSON it is stored as.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The database: a pool of connections to either database and, on SQLite, its writers' turn
/// (see [`Db::begin_write`]). Clones share both; two `Db`s opened apart share neither.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// SQLite lets one transaction write to a database file at a time. The others wait in
    /// its busy handler, which sleeps and retries, so under load a writer could wait behind
    /// ones that came after it (the sync benchmark's p99 was 130 ms). This database's writers
    /// take turns here instead, first come first served. PostgreSQL locks rows and needs no
    /// turn (`None`).
    writer: Option<Arc<Mutex<()>>>,
    /// Who is told of a cart's new version ([`changes`]).
    changes: Arc<changes::Changes>,
    /// Woken after a commit that wrote an event ([`outbox`]): this process's dispatcher.
    events: Arc<tokio::sync::Notify>,
}

impl Db {
    /// Opens the database at `url` and runs the migrations. A SQLite file
    /// (`sqlite://path/to.db`) is created if missing and used in WAL mode; a PostgreSQL
    /// database must exist.
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
        let changes = Arc::new(changes::Changes::default());
        if sqlite {
            tokio::spawn(checkpoints(pool.clone()));
        } else {
            tokio::spawn(changes::listen(url, Arc::downgrade(&changes)));
        }
        Ok(Db {
            pool,
            writer: sqlite.then(Arc::default),
            changes,
            events: Arc::default(),
        })
    }

    /// The connection pool, for reads (and for tests that change what is stored).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The feed of cart versions committed on this database ([`changes`]).
    pub fn changes(&self) -> &Arc<changes::Changes> {
        &self.changes
    }

    /// Notified after each commit that wrote or replayed an event in this process.
    pub fn events(&self) -> &Arc<tokio::sync::Notify> {
        &self.events
    }

    /// Begins a transaction that will write (see [`WriteTx`]).
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let turn = match &self.writer {
            Some(writer) => Some(Arc::clone(writer).lock_owned().await),
            None => None,
        };
        // On SQLite `BEGIN IMMEDIATE` takes the database's write lock at once. A deferred
        // transaction that read first and then writes fails (`SQLITE_BUSY_SNAPSHOT`, no
        // waiting) when a write outside the turn (a session, a sender's claim) committed
        // meanwhile; an immediate one makes that write wait for it instead.
        let tx = match self.writer {
            Some(_) => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            None => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _turn: turn,
            postgres: self.writer.is_none(),
            changed: None,
            changes: Arc::clone(&self.changes),
            event_written: false,
            events: Arc::clone(&self.events),
        })
    }
}

/// Copies SQLite's write-ahead log back into the database every 250 ms, beside the writers
/// rather than in one of them. By default the commit that takes the log past 1,000 pages does
/// it, and that request waits: in the sync benchmark these commits made the p99 latency 22 ms
/// instead of 13 ms. A passive checkpoint takes no lock that a reader or writer waits on.
async fn checkpoints(pool: AnyPool) {
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

/// A transaction that will write: on SQLite it holds its database's writer turn until it
/// commits or is dropped (rolled back).
pub struct WriteTx {
    tx: Tx,
    _turn: Option<OwnedMutexGuard<()>>,
    postgres: bool,
    /// The cart whose version this transaction raised, and to what.
    changed: Option<(String, i64)>,
    changes: Arc<changes::Changes>,
    /// Whether this transaction wrote an event: the dispatcher is woken after the commit.
    event_written: bool,
    events: Arc<tokio::sync::Notify>,
}

impl WriteTx {
    /// Commits, then tells this process's watchers of a cart whose version rose (other
    /// processes hear the transaction's notification, [`changes`]).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        if let Some((id, version)) = &self.changed {
            self.changes.publish(id, *version);
        }
        if self.event_written {
            self.events.notify_one();
        }
        Ok(())
    }

    /// Records that this transaction wrote an event ([`outbox::append`]).
    pub(crate) fn event_written(&mut self) {
        self.event_written = true;
    }

    /// Records that `cart_id` is at `version` once this commits: published in this process
    /// after the commit, and on PostgreSQL notified to every process by the commit itself.
    pub(crate) async fn cart_changed(
        &mut self,
        cart_id: &str,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        if self.postgres {
            // A subquery: `pg_notify` returns `void`, which the `Any` driver cannot read.
            sqlx::query("SELECT 1 FROM (SELECT pg_notify($1, $2)) AS notified")
                .bind(changes::CHANNEL)
                .bind(format!("{cart_id} {version}"))
                .execute(&mut *self.tx)
                .await?;
        }
        self.changed = Some((cart_id.to_owned(), version));
        Ok(())
    }

    /// The transaction's connection, to run statements on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
