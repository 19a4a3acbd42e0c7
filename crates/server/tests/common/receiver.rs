//! A webhook receiver on a loopback port, as a retailer's ERP would run one: it checks each
//! request's `omnicart-signature` over the raw body, records what it got, and refuses the
//! first requests it is told to (or all, while `down`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The secret the tests' servers sign with.
pub const SECRET: &str = "whsec-test-0123456789abcdef";

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Seen {
    pub id: String,
    pub kind: String,
    pub body: Value,
    /// Whether its signature checked out.
    pub signed: bool,
    /// Whether the receiver answered 2xx.
    pub accepted: bool,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests refused (500) before the receiver accepts any.
    pub fail_first: Arc<AtomicUsize>,
    /// While set, every request is refused (503).
    pub down: Arc<AtomicBool>,
}

/// What a retailer's receiver does: recompute the HMAC over `<t>.<raw body>` and compare.
pub fn verify(header: &str, body: &str) -> bool {
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let accepted = !r.down.load(Ordering::SeqCst)
        && r.fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err();
    r.seen.lock().unwrap().push(Seen {
        id: header("omnicart-event-id"),
        kind: header("omnicart-event-type"),
        signed: verify(&header("omnicart-signature"), &body),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Serves `r` on a loopback port: its URL.
pub async fn receiver(r: &Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/hook")
}
