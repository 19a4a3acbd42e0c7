//! omnicart-server: the authoritative half of omnicart.
//!
//! `app(state)` builds the whole HTTP surface: the JSON API under `/api` (one `router()` per
//! resource: [`catalogue`], [`carts`], [`sync`], [`auth`]) and the built storefront (`dist/`) for every
//! other path. Handlers are thin; pricing and cart rules live in `omnicart-engine`, the same code
//! the page runs. Start reading at [`app`], then `carts.rs`.

pub mod auth;
pub mod carts;
pub mod catalogue;
pub mod db;
pub mod error;
pub mod ids;
pub mod sync;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::services::{ServeDir, ServeFile};

use crate::auth::CartMerge;
use crate::catalogue::Catalogue;
use crate::db::Db;
use crate::error::AppError;

/// Largest request body accepted (a cart edit is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub catalogue: Arc<Catalogue>,
    /// What becomes of a guest cart at sign-in.
    pub cart_merge: CartMerge,
    /// Session cookies are marked `Secure` (sent over HTTPS only): on wherever the shop is
    /// served over HTTPS (`OMNICART_SECURE_COOKIES=1`); off for plain-HTTP local runs.
    pub secure_cookies: bool,
    /// A valid argon2 hash to verify against when an email is unknown (constant-time-ish sign-in).
    dummy_hash: String,
    /// Wrong passwords per email, to stop guessing.
    throttle: Arc<auth::Throttle>,
}

impl AppState {
    pub fn new(db: Db, catalogue: Catalogue) -> Result<AppState, AppError> {
        let dummy_hash = auth::hash_password("omnicart: no such customer")?;
        Ok(AppState {
            db,
            catalogue: Arc::new(catalogue),
            cart_merge: CartMerge::default(),
            secure_cookies: false,
            dummy_hash,
            throttle: Arc::default(),
        })
    }

    pub fn with_cart_merge(self, cart_merge: CartMerge) -> AppState {
        AppState { cart_merge, ..self }
    }
}

/// The whole application. `dist` is the storefront built by Trunk; `None` serves the API only.
pub fn app(state: AppState, dist: Option<&Path>) -> Router {
    let api = Router::new()
        .merge(catalogue::router())
        .merge(carts::router())
        .merge(sync::router())
        .merge(auth::router())
        .fallback(|| async { AppError::not_found("API endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    let router = Router::new().nest("/api", api);
    match dist {
        Some(dist) => router.fallback_service(storefront(dist)),
        None => router.fallback(|| async {
            AppError::new(StatusCode::NOT_FOUND, "not_found", "no storefront built")
        }),
    }
}

/// Static files of the storefront; any unknown path gets `index.html` (200) so client-side
/// routes (`/product/…`, `/cart`) survive a reload.
fn storefront(dist: &Path) -> ServeDir<ServeFile> {
    let index: PathBuf = dist.join("index.html");
    ServeDir::new(dist)
        .precompressed_gzip()
        .fallback(ServeFile::new(index))
}

/// Adds the demo customers if they are missing. Demo data, not a sign-up path.
pub async fn seed_demo_customers(db: &Db) -> Result<(), AppError> {
    for (email, name, segments, password) in DEMO_CUSTOMERS {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM customers WHERE email = $1")
                .bind(email)
                .fetch_optional(db)
                .await?;
        if exists.is_none() {
            auth::create_customer(db, email, name, segments, password).await?;
        }
    }
    Ok(())
}

/// Demo accounts, printed by `scripts/run` and used by the end-to-end tests.
/// (email, name, segments, password).
pub const DEMO_CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    ("mike@demo.omnicart.dev", "Mike Demo", "", "omnicart-demo"),
    (
        "kylie@demo.omnicart.dev",
        "Kylie Demo",
        "vip",
        "omnicart-demo",
    ),
];
