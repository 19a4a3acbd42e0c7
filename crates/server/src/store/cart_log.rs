//! The operation log of each cart (`cart_ops`), and the cart row it makes (`carts.body`,
//! `head`, `log_seq`, `live`, `base`, `generation`).
//!
//! Operations reach a log only through a [`LockedCart`], which only [`lock`] and
//! [`lock_at_version`] give out, inside a [`WriteTx`]: the cart's row is locked (PostgreSQL
//! locks the row written to; on SQLite the transaction holds the database's write lock), so
//! appends to one cart take turns and sequence numbers never collide. [`LockedCart::append`]
//! consumes the lock: one append per lock, after which the transaction commits.
//!
//! **Compaction.** A log longer than [`COMPACT_ABOVE`] operations has all but its newest
//! [`COMPACT_KEEP`] folded into a base (the engine's `replica::Base`, rule 8) and its
//! generation goes up. Folded operations keep their rows (with `folded` = 1 and no body), so
//! pushing one again still changes nothing.

use omnicart_engine::replica::{Base, Head, OpLog, Operation, Stamp};
use omnicart_engine::{Cart, CartOp};
use sqlx::AnyConnection;

use crate::ids::{now_unix, random_id};
use crate::store::{Db, StoreError, WriteTx, parse_json, to_json};

/// A log longer than this is compacted…
pub const COMPACT_ABOVE: usize = 256;
/// …down to its newest this many operations.
pub const COMPACT_KEEP: usize = 64;
/// Operation ids per statement when folding (well under SQLite's and PostgreSQL's limits on
/// bound parameters).
const FOLD_PER_STATEMENT: usize = 500;

/// A cart's row as a read without a lock sees it.
pub struct CartRow {
    pub owner: Option<String>,
    pub version: i64,
    pub body: String,
    pub log_seq: i64,
    pub generation: i64,
}

impl CartRow {
    /// The cart as stored.
    pub fn cart(&self) -> Result<Cart, StoreError> {
        parse_json(&self.body, "cart body")
    }
}

pub async fn read_row(db: &Db, cart_id: &str) -> Result<Option<CartRow>, StoreError> {
    let row: Option<(Option<String>, i64, String, i64, i64)> =
        sqlx::query_as("SELECT owner, version, body, log_seq, generation FROM carts WHERE id = $1")
            .bind(cart_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(
        row.map(|(owner, version, body, log_seq, generation)| CartRow {
            owner,
            version,
            body,
            log_seq,
            generation,
        }),
    )
}

/// The cart's compaction generation now.
pub async fn read_generation(conn: &mut AnyConnection, cart_id: &str) -> Result<i64, StoreError> {
    let (generation,): (i64,) = sqlx::query_as("SELECT generation FROM carts WHERE id = $1")
        .bind(cart_id)
        .fetch_one(conn)
        .await?;
    Ok(generation)
}

/// Which of `ids` the cart's log holds.
pub async fn stored_ids(db: &Db, cart_id: &str, ids: &[&str]) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT op_id FROM cart_ops WHERE cart_id = $1 AND op_id IN ({})",
        after_cart_id(ids.len())
    );
    let mut query = sqlx::query_scalar(&sql).bind(cart_id);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(db.pool()).await?)
}

/// Operations after `after` up to `upto`, in the order they were received.
pub async fn read_after(
    conn: &mut AnyConnection,
    cart_id: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<Operation>, StoreError> {
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM cart_ops WHERE cart_id = $1 AND seq > $2 AND seq <= $3 AND folded = 0 ORDER BY seq")
            .bind(cart_id)
            .bind(after)
            .bind(upto)
            .fetch_all(conn)
            .await?;
    bodies.iter().map(|b| decode(b)).collect()
}

/// The compacted start of the cart's log (empty while nothing is compacted).
pub async fn read_base(conn: &mut AnyConnection, cart_id: &str) -> Result<Base, StoreError> {
    Ok(read_stored_base(conn, cart_id).await?.unwrap_or_default())
}

async fn read_stored_base(
    conn: &mut AnyConnection,
    cart_id: &str,
) -> Result<Option<Base>, StoreError> {
    let base: Option<String> = sqlx::query_scalar("SELECT base FROM carts WHERE id = $1")
        .bind(cart_id)
        .fetch_one(conn)
        .await?;
    base.map(|b| parse_json(&b, "cart base")).transpose()
}

/// The operations not compacted, in the order they were received.
async fn read_kept(conn: &mut AnyConnection, cart_id: &str) -> Result<Vec<Operation>, StoreError> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM cart_ops WHERE cart_id = $1 AND folded = 0 ORDER BY seq",
    )
    .bind(cart_id)
    .fetch_all(conn)
    .await?;
    bodies.iter().map(|b| decode(b)).collect()
}

fn decode(body: &str) -> Result<Operation, StoreError> {
    parse_json(body, "stored operation")
}

/// `$2, $3, …` for `n` values bound after the cart id (`$1`), for an `IN (…)` list.
fn after_cart_id(n: usize) -> String {
    (0..n)
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cart's row as a write has locked it.
#[derive(sqlx::FromRow)]
struct LockedRow {
    owner: Option<String>,
    log_seq: i64,
    live: i64,
    body: String,
    head: Option<String>,
    generation: i64,
    version: i64,
}

/// A cart whose row this transaction has locked: the one way to add to its log (see the
/// module docs).
pub struct LockedCart<'t> {
    tx: &'t mut WriteTx,
    id: String,
    row: LockedRow,
}

/// Locks a cart's row for writing and reads it. `None`: no such cart.
pub async fn lock<'t>(
    tx: &'t mut WriteTx,
    cart_id: &str,
) -> Result<Option<LockedCart<'t>>, StoreError> {
    let row = sqlx::query_as::<_, LockedRow>("UPDATE carts SET updated_at = $1 WHERE id = $2 RETURNING owner, log_seq, live, body, head, generation, version")
        .bind(now_unix())
        .bind(cart_id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.map(|row| LockedCart {
        tx,
        id: cart_id.to_owned(),
        row,
    }))
}

/// [`lock`], only if the cart is at `version` (compare-and-set: of two writers racing from
/// one version, exactly one gets it). `None`: no such cart, or not at that version.
pub async fn lock_at_version<'t>(
    tx: &'t mut WriteTx,
    cart_id: &str,
    version: i64,
) -> Result<Option<LockedCart<'t>>, StoreError> {
    let row = sqlx::query_as::<_, LockedRow>("UPDATE carts SET updated_at = $1 WHERE id = $2 AND version = $3 RETURNING owner, log_seq, live, body, head, generation, version")
        .bind(now_unix())
        .bind(cart_id)
        .bind(version)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.map(|row| LockedCart {
        tx,
        id: cart_id.to_owned(),
        row,
    }))
}

/// The outcome of an append: which operations were new, and the cart after them.
pub struct Appended {
    /// The log's sequence number before the append.
    pub from: i64,
    /// The operations stored, numbered from `from + 1`.
    pub stored: Vec<Operation>,
    pub log_seq: i64,
    pub generation: i64,
    pub version: i64,
    pub cart: Cart,
}

/// A cart's log as stored: its compacted base (`None` while nothing is compacted) and the
/// operations after it.
pub struct StoredLog {
    pub base: Option<Base>,
    pub ops: Vec<Operation>,
}

impl LockedCart<'_> {
    pub fn owner(&self) -> Option<&str> {
        self.row.owner.as_deref()
    }

    /// The sequence number of the log's newest operation.
    pub fn log_seq(&self) -> i64 {
        self.row.log_seq
    }

    pub fn generation(&self) -> i64 {
        self.row.generation
    }

    /// The cart's version as locked.
    pub fn version(&self) -> i64 {
        self.row.version
    }

    /// The cart as stored.
    pub fn cart(&self) -> Result<Cart, StoreError> {
        parse_json(&self.row.body, "cart body")
    }

    /// The whole log, as stored.
    pub async fn log(&mut self) -> Result<StoredLog, StoreError> {
        let base = read_stored_base(self.tx.conn(), &self.id).await?;
        let ops = read_kept(self.tx.conn(), &self.id).await?;
        Ok(StoredLog { base, ops })
    }

    /// Stamps `ops`, made by the server now, after every operation in the log: by the server's
    /// clock, or just after the log's newest stamp when a device's clock has run ahead of it
    /// (else that device's older edit would win over this one).
    pub fn stamp_after(&self, ops: &mut [Operation], now_ms: u64) -> Result<(), StoreError> {
        let head: Option<Head> = self
            .row
            .head
            .as_deref()
            .map(|h| parse_json(h, "cart head"))
            .transpose()?;
        let newest = head.and_then(|h| h.last).map(|(stamp, _)| stamp);
        stamp_server_ops(ops, Stamp::after(newest.as_ref(), now_ms, SERVER_DEVICE));
        Ok(())
    }

    /// Deletes the cart if it is anonymous (a customer's cart is never deleted here).
    pub async fn delete_if_anonymous(self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM carts WHERE id = $1 AND owner IS NULL")
            .bind(&self.id)
            .execute(self.tx.conn())
            .await?;
        Ok(())
    }

    /// Adds the operations the log does not have yet and, if there were any, brings the
    /// stored cart up to date (in this transaction: readers never see a log and a cart that
    /// disagree).
    ///
    /// Operations newer than every one before them (a device pushing what it has just done)
    /// are applied to the stored cart at once ([`Head::advance`]); anything else, or a log due
    /// for compaction, replays the log from its base.
    pub async fn append(self, ops: &[Operation]) -> Result<Appended, StoreError> {
        let LockedCart { tx, id, row } = self;
        let mut cart: Cart = parse_json(&row.body, "cart body")?;
        let fresh = insert_new(tx.conn(), &id, ops, row.log_seq).await?;
        if fresh.is_empty() {
            return Ok(Appended {
                from: row.log_seq,
                stored: fresh,
                log_seq: row.log_seq,
                generation: row.generation,
                version: row.version,
                cart,
            });
        }
        let seq = row.log_seq + fresh.len() as i64;
        let live = row.live + fresh.len() as i64;
        let mut head: Option<Head> = row.head.map(|h| parse_json(&h, "cart head")).transpose()?;
        let advanced = live <= COMPACT_ABOVE as i64
            && head.as_mut().is_some_and(|h| h.advance(&mut cart, &fresh));
        let (head, live, compacted) = if advanced {
            (head.unwrap_or_default(), live, false)
        } else {
            let mut log = read_log(tx.conn(), &id).await?;
            let compacted = log.len() > COMPACT_ABOVE && compact(tx.conn(), &id, &mut log).await?;
            let (replayed, head) = log.replay();
            cart = replayed;
            (head, log.len() as i64, compacted)
        };
        sqlx::query("UPDATE carts SET body = $1, head = $2, log_seq = $3, live = $4, version = version + 1, generation = generation + $5 WHERE id = $6")
            .bind(to_json(&cart)?)
            .bind(to_json(&head)?)
            .bind(seq)
            .bind(live)
            .bind(i64::from(compacted))
            .bind(&id)
            .execute(tx.conn())
            .await?;
        tx.cart_changed(&id, row.version + 1).await?;
        Ok(Appended {
            from: row.log_seq,
            stored: fresh,
            log_seq: seq,
            generation: row.generation + i64::from(compacted),
            version: row.version + 1,
            cart,
        })
    }
}

/// An edit the server makes (through `/ops`, or joining a guest cart at sign-in), to be
/// stamped with [`stamp_server_ops`] or [`LockedCart::stamp_after`] before it is logged.
/// `seen`: for an add, the quantity it was added to.
pub fn server_op(op: CartOp, seen: Option<u32>) -> Operation {
    Operation {
        id: random_id("srv_"),
        stamp: Stamp {
            ms: 0,
            counter: 0,
            device: String::new(),
        },
        seen,
        op,
    }
}

/// The device name of the server's own operations.
pub const SERVER_DEVICE: &str = "server";

/// Stamps the server's `ops` in order: the first with `first`, each next one just after the
/// one before ([`Stamp::next`]).
pub fn stamp_server_ops(ops: &mut [Operation], first: Stamp) {
    let mut stamp = first;
    for op in ops.iter_mut() {
        op.stamp = stamp.clone();
        stamp = stamp.next();
    }
}

/// Stores the operations of `ops` whose ids the cart's log does not have yet, numbered from
/// `log_seq + 1`, and returns them (one statement, unless some were stored before).
async fn insert_new(
    conn: &mut AnyConnection,
    cart_id: &str,
    ops: &[Operation],
    log_seq: i64,
) -> Result<Vec<Operation>, StoreError> {
    let mut unique: Vec<&Operation> = Vec::with_capacity(ops.len());
    for op in ops {
        if !unique.iter().any(|u| u.id == op.id) {
            unique.push(op);
        }
    }
    if insert_numbered(conn, cart_id, &unique, log_seq).await? == unique.len() {
        return Ok(unique.into_iter().cloned().collect());
    }
    // Some were stored before (a device pushing again what it pushed before): their rows were
    // skipped, leaving gaps in the numbering. Number the new ones again without gaps.
    let stored: Vec<String> =
        sqlx::query_scalar("DELETE FROM cart_ops WHERE cart_id = $1 AND seq > $2 RETURNING op_id")
            .bind(cart_id)
            .bind(log_seq)
            .fetch_all(&mut *conn)
            .await?;
    let fresh: Vec<&Operation> = unique
        .into_iter()
        .filter(|op| stored.contains(&op.id))
        .collect();
    insert_numbered(conn, cart_id, &fresh, log_seq).await?;
    Ok(fresh.into_iter().cloned().collect())
}

/// Inserts `ops` numbered from `log_seq + 1` in one statement, skipping ids the log has, and
/// returns how many were inserted.
async fn insert_numbered(
    conn: &mut AnyConnection,
    cart_id: &str,
    ops: &[&Operation],
    log_seq: i64,
) -> Result<usize, StoreError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let rows: Vec<String> = (0..ops.len())
        .map(|i| format!("($1, $2, ${}, ${}, ${})", 3 * i + 3, 3 * i + 4, 3 * i + 5))
        .collect();
    let sql = format!(
        "INSERT INTO cart_ops (cart_id, received_at, seq, op_id, body) VALUES {} ON CONFLICT (cart_id, op_id) DO NOTHING",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(cart_id).bind(now_unix());
    for (i, op) in ops.iter().enumerate() {
        query = query
            .bind(log_seq + 1 + i as i64)
            .bind(&op.id)
            .bind(to_json(op)?);
    }
    Ok(query.execute(conn).await?.rows_affected() as usize)
}

/// A cart's log: its base and every operation not compacted.
async fn read_log(conn: &mut AnyConnection, cart_id: &str) -> Result<OpLog, StoreError> {
    let base = read_base(&mut *conn, cart_id).await?;
    let mut log = OpLog::with_base(base);
    for op in read_kept(conn, cart_id).await? {
        log.insert(op)
            .map_err(|e| StoreError::Corrupt(format!("stored operation: {e}")))?;
    }
    Ok(log)
}

/// Folds all but the newest operations of a long log into its base (see the module docs).
async fn compact(
    conn: &mut AnyConnection,
    cart_id: &str,
    log: &mut OpLog,
) -> Result<bool, StoreError> {
    let folded = log.compact(COMPACT_KEEP);
    // The folded rows keep their ids (a device pushing one again is still answered) but lose
    // their bodies: a few statements, however long the log, so the writer's turn stays short.
    for ids in folded.chunks(FOLD_PER_STATEMENT) {
        let sql = format!(
            "UPDATE cart_ops SET folded = 1, body = '' WHERE cart_id = $1 AND op_id IN ({})",
            after_cart_id(ids.len())
        );
        let mut query = sqlx::query(&sql).bind(cart_id);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE carts SET base = $1 WHERE id = $2")
        .bind(to_json(log.base())?)
        .bind(cart_id)
        .execute(conn)
        .await?;
    Ok(!folded.is_empty())
}
