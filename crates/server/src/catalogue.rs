//! The published catalogue: the snapshot the server prices with and the page loads
//! (`GET /api/snapshot`, [`crate::http::catalogue`]), validated and serialized once at start.

use axum::body::Bytes;
use axum::http::HeaderValue;
use omnicart_engine::Snapshot;

/// The published catalogue: the validated snapshot and its serialized form, computed once.
pub struct Catalogue {
    pub snapshot: Snapshot,
    json: Bytes,
    etag: HeaderValue,
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
        Catalogue {
            snapshot,
            json,
            etag,
        }
    }

    /// The snapshot as JSON, as served.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The ETag of [`Catalogue::json`] (quoted).
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }
}
