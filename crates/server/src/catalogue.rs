//! The published catalogue: the snapshot the server prices with and the page loads
//! (`GET /api/snapshot`, [`crate::http::catalogue`]), validated and serialized once at start,
//! and the live form the feed serves: the same JSON with the database's stock put in
//! ([`crate::service::stock`]).

use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::HeaderValue;
use omnicart_engine::Snapshot;
use omnicart_engine::fulfilment::StockRecord;
use serde_json::Value;

/// The snapshot as served: its ETag (quoted) and JSON.
#[derive(Clone)]
pub struct Feed {
    pub etag: HeaderValue,
    pub json: Bytes,
}

/// The published catalogue: the validated snapshot and its serialized form, computed once.
pub struct Catalogue {
    pub snapshot: Snapshot,
    json: Bytes,
    etag: HeaderValue,
    /// The hash of [`Catalogue::json`] (hex), which every live ETag includes.
    hash: String,
    /// The snapshot's JSON up to the network's stock list (`…"network":{…,"stock":`); the
    /// list and `}}` follow. A live feed is this, the records and two bytes: no snapshot is
    /// cloned or serialized again when stock changes.
    before_stock: Vec<u8>,
    /// The last live feed built, with the hash of the stock it was built from.
    live: Mutex<Option<(String, Feed)>>,
}

impl Catalogue {
    pub fn load(path: &std::path::Path) -> Result<Catalogue, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let snapshot =
            Snapshot::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Catalogue::new(snapshot))
    }

    pub fn new(snapshot: Snapshot) -> Catalogue {
        let json =
            Bytes::from(serde_json::to_vec(&snapshot).expect("a snapshot always serializes"));
        let hash = crate::ids::sha256_hex(&json);
        let etag =
            HeaderValue::from_str(&format!("\"{}\"", &hash[..32])).expect("hex is a valid header");
        let before_stock = before_stock(&snapshot);
        Catalogue {
            snapshot,
            json,
            etag,
            hash,
            before_stock,
            live: Mutex::new(None),
        }
    }

    /// The snapshot as JSON, as loaded.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The ETag of [`Catalogue::json`] (quoted).
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// The live feed last built, if it was built from stock hashing to `stock_hash`.
    pub fn live(&self, stock_hash: &str) -> Option<Feed> {
        let last = self.live.lock().expect("the feed cache is never poisoned");
        last.as_ref()
            .filter(|(hash, _)| hash == stock_hash)
            .map(|(_, feed)| feed.clone())
    }

    /// The catalogue with `records` as the network's stock, remembered under `stock_hash`
    /// (the hash of the rows they come from).
    pub fn publish_live(
        &self,
        stock_hash: String,
        records: &[StockRecord],
    ) -> Result<Feed, serde_json::Error> {
        let mut json = Vec::with_capacity(self.before_stock.len() + records.len() * 80 + 2);
        json.extend_from_slice(&self.before_stock);
        serde_json::to_writer(&mut json, records)?;
        json.extend_from_slice(b"}}");
        let both = crate::ids::sha256_hex(format!("{}:{stock_hash}", self.hash).as_bytes());
        let etag =
            HeaderValue::from_str(&format!("\"{}\"", &both[..32])).expect("hex is a valid header");
        let feed = Feed {
            etag,
            json: Bytes::from(json),
        };
        *self.live.lock().expect("the feed cache is never poisoned") =
            Some((stock_hash, feed.clone()));
        Ok(feed)
    }
}

/// The snapshot's JSON object with the network last and its stock list last in it, cut just
/// before that list.
fn before_stock(snapshot: &Snapshot) -> Vec<u8> {
    let Ok(Value::Object(mut top)) = serde_json::to_value(snapshot) else {
        unreachable!("a snapshot serializes as an object")
    };
    let Some(Value::Object(mut network)) = top.remove("network") else {
        unreachable!("a snapshot serializes its network as an object")
    };
    network.remove("stock");
    let mut out = b"{".to_vec();
    let entry = |out: &mut Vec<u8>, key: &str, value: &Value| {
        serde_json::to_writer(&mut *out, key).expect("a key serializes");
        out.push(b':');
        serde_json::to_writer(&mut *out, value).expect("a value serializes");
        out.push(b',');
    };
    for (key, value) in &top {
        entry(&mut out, key, value);
    }
    out.extend_from_slice(br#""network":{"#);
    for (key, value) in &network {
        entry(&mut out, key, value);
    }
    out.extend_from_slice(br#""stock":"#);
    out
}
