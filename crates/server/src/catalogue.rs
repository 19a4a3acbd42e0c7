//! The snapshot feed: `GET /api/snapshot` serves the catalogue the engine in the page loads,
//! with an ETag so a returning shopper's browser revalidates instead of downloading it again.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use omnicart_engine::Snapshot;

use crate::AppState;

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
}

pub fn router() -> Router<AppState> {
    Router::new().route("/snapshot", get(snapshot))
}

async fn snapshot(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let catalogue: &Arc<Catalogue> = &state.catalogue;
    let cache = [
        (header::ETAG, catalogue.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == catalogue.etag || tag.trim() == "*")
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (cache, [content_type], catalogue.json.clone()).into_response()
}
