//! Live stock: the database's stock records (where checkouts reserve units) as the engine
//! reads them, for the placement's re-quote ([`LiveStock`]) and for the snapshot the page
//! loads ([`snapshot`], `GET /api/snapshot`).
//!
//! **The feed.** The served snapshot is the catalogue with the network's stock list replaced
//! by the database's records (those the catalogue knows: its SKUs, its locations), so the
//! page's availability, sourcing and totals follow reservations. Every request reads the
//! stock table (one query; 360 rows in the demo) and hashes it: the ETag is the catalogue's
//! hash with the stock's, the same in every process on one database, and changes exactly
//! when a record does. The JSON is rebuilt only when the stock's hash differs from the last
//! one served ([`crate::catalogue::Catalogue::live`]); nothing is invalidated in-process, so
//! two servers on one PostgreSQL both serve live stock.

use std::collections::{HashMap, HashSet};

use omnicart_engine::fulfilment::{Incoming, StockLevels, StockRecord};
use omnicart_engine::promotion::Action;
use omnicart_engine::{Cart, Sku, Snapshot};
use omnicart_order::StockDemand;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::catalogue::Feed;
use crate::error::AppError;
use crate::service::checkout::prepare;
use crate::store::checkout::{self as held, StockRow};
use crate::store::{StoreError, parse_json};

/// Stock as the database counts it for one cart's SKUs: the levels the engine quotes with,
/// and what each record can still promise, as the reservation's condition reads it.
pub struct LiveStock {
    pub levels: StockLevels,
    pub available: Available,
}

/// What each (location, SKU) record can promise now: on hand less reserved and safety (below
/// zero where the catalogue over-reserved).
#[derive(Default)]
pub struct Available(HashMap<(String, Sku), i64>);

impl Available {
    pub fn of(&self, location: &str, sku: &Sku) -> i64 {
        self.0
            .get(&(location.to_owned(), sku.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// The demands these records cannot cover (none: a reservation of them all would pass
    /// the conditional update, unless another checkout takes the units first).
    pub fn short(&self, demand: &[StockDemand]) -> Vec<StockDemand> {
        demand
            .iter()
            .filter(|d| self.of(&d.location, &d.sku) < i64::from(d.quantity))
            .cloned()
            .collect()
    }
}

impl LiveStock {
    /// Reads the stock of the cart's SKUs (one query) on `conn`: inside the reservation's
    /// transaction, or after it.
    pub async fn read(
        conn: &mut sqlx::AnyConnection,
        snapshot: &Snapshot,
        cart: &Cart,
    ) -> Result<LiveStock, AppError> {
        let skus = skus_of(snapshot, cart);
        let rows = held::stock_of(conn, &skus).await?;
        LiveStock::of_rows(snapshot, &skus, rows)
    }

    /// [`LiveStock::read`], with the units the cart's own live checkout holds counted as
    /// free: the stock as the cart would find it once that checkout is given up.
    pub async fn read_as_own(
        conn: &mut sqlx::AnyConnection,
        snapshot: &Snapshot,
        cart: &Cart,
        cart_id: &str,
    ) -> Result<LiveStock, AppError> {
        let skus = skus_of(snapshot, cart);
        let mut rows = held::stock_of(&mut *conn, &skus).await?;
        for (location, sku, quantity) in held::held_by_cart(conn, cart_id).await? {
            if let Some(row) = rows
                .iter_mut()
                .find(|r| r.location == location && r.sku == sku)
            {
                row.reserved -= quantity;
            }
        }
        LiveStock::of_rows(snapshot, &skus, rows)
    }

    /// [`LiveStock::read`], with the units `held` (location, SKU, units: what an order
    /// holds, for its edit) counted as free: the stock as the order would find it were its
    /// own reservation given up.
    pub async fn read_freeing(
        conn: &mut sqlx::AnyConnection,
        snapshot: &Snapshot,
        cart: &Cart,
        held: &[(String, String, i64)],
    ) -> Result<LiveStock, AppError> {
        let skus = skus_of(snapshot, cart);
        let mut rows = held::stock_of(&mut *conn, &skus).await?;
        for (location, sku, quantity) in held {
            if let Some(row) = rows
                .iter_mut()
                .find(|r| r.location == *location && r.sku == *sku)
            {
                row.reserved -= quantity;
            }
        }
        LiveStock::of_rows(snapshot, &skus, rows)
    }

    fn of_rows(
        snapshot: &Snapshot,
        skus: &[&str],
        rows: Vec<StockRow>,
    ) -> Result<LiveStock, AppError> {
        let mut available = Available::default();
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let record = record(row)?;
            let promisable =
                i64::from(record.on_hand) - i64::from(record.reserved) - i64::from(record.safety);
            available
                .0
                .insert((record.location.clone(), record.sku.clone()), promisable);
            records.push(record);
        }
        let listed = skus.iter().filter_map(|s| Sku::new(s).ok());
        let levels =
            StockLevels::new(snapshot.network(), listed, records).map_err(AppError::internal)?;
        Ok(LiveStock { levels, available })
    }

    /// Reads it on a connection of the pool (after the reservation's transaction).
    pub async fn read_now(state: &AppState, cart: &Cart) -> Result<LiveStock, AppError> {
        let mut conn = state.db.pool().acquire().await?;
        LiveStock::read(&mut conn, &state.catalogue.snapshot, cart).await
    }
}

/// The SKUs whose stock a cart's quote reads: its lines', and the items promotions give
/// away (a gift is given while stocks last, and shipped with the goods).
fn skus_of<'a>(snapshot: &'a Snapshot, cart: &'a Cart) -> Vec<&'a str> {
    let mut skus: Vec<&str> = cart.lines().iter().map(|l| l.sku.as_str()).collect();
    for promotion in snapshot.promotions() {
        if let Action::GiftItem { sku, .. } = &promotion.action
            && !skus.contains(&sku.as_str())
        {
            skus.push(sku.as_str());
        }
    }
    skus
}

/// A stored record as the engine's wire form.
fn record(row: StockRow) -> Result<StockRecord, AppError> {
    let here = || format!("stock of {} at {}", row.sku, row.location);
    let count = |n: i64| {
        u32::try_from(n.max(0)).map_err(|_| StoreError::Corrupt(format!("{}: {n}", here())))
    };
    let incoming: Vec<Incoming> = parse_json(&row.incoming, &here())?;
    Ok(StockRecord {
        sku: Sku::new(&row.sku).map_err(|e| StoreError::Corrupt(format!("{}: {e}", here())))?,
        on_hand: count(row.on_hand)?,
        reserved: count(row.reserved)?,
        safety: count(row.safety)?,
        incoming,
        location: row.location,
    })
}

/// `GET /api/snapshot`: the catalogue with the database's stock (see the module docs).
pub async fn snapshot(state: &AppState) -> Result<Feed, AppError> {
    prepare(state).await?;
    let rows = held::all_stock(&state.db).await?;
    let digest = digest(&rows);
    let catalogue = &state.catalogue;
    if let Some(feed) = catalogue.live(&digest) {
        return Ok(feed);
    }
    let snapshot = &catalogue.snapshot;
    let locations: HashSet<&str> = snapshot
        .network()
        .data()
        .locations
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        if locations.contains(row.location.as_str())
            && Sku::new(&row.sku).is_ok_and(|sku| snapshot.variant(&sku).is_some())
        {
            records.push(record(row)?);
        }
    }
    // The engine's own checks (quantities, one record per SKU and location), so the page's
    // `Snapshot::from_json` accepts what is served.
    let levels = StockLevels::new(snapshot.network(), [], records).map_err(AppError::internal)?;
    catalogue
        .publish_live(digest, levels.records())
        .map_err(AppError::internal)
}

/// The stock rows' hash (hex), each field length-prefixed so no two tables hash alike.
fn digest(rows: &[StockRow]) -> String {
    let mut hash = Sha256::new();
    for row in rows {
        for text in [&row.location, &row.sku, &row.incoming] {
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        }
        for n in [row.on_hand, row.reserved, row.safety] {
            hash.update(n.to_le_bytes());
        }
    }
    crate::ids::hex(&hash.finalize())
}
