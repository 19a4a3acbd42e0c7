//! `omnicart-server`: starts the API and the storefront.
//!
//! Configuration by environment (all optional):
//! `OMNICART_ADDR` (127.0.0.1:8080), `DATABASE_URL` (sqlite://.omnicart/omnicart.db),
//! `OMNICART_CATALOGUE` (crates/server/data/demo-catalogue.json), `OMNICART_DIST` (dist),
//! `OMNICART_DEMO` (1: add the demo customers), `OMNICART_CART_MERGE` (merge: what becomes of
//! a guest cart at sign-in; `keep_customer` or `keep_anonymous`), `OMNICART_SECURE_COOKIES`
//! (0; 1 where the shop is served over HTTPS: session cookies are then sent over HTTPS only).
//! `DATABASE_URL` may name a PostgreSQL database (`postgres://user:pass@host/db`) instead.

use std::path::PathBuf;

use omnicart_server::catalogue::Catalogue;
use omnicart_server::{AppState, app, db, seed_demo_customers};

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match url[scheme + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(e) = run().await {
        eprintln!("omnicart-server: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let addr = env_or("OMNICART_ADDR", "127.0.0.1:8080");
    let database_url = env_or("DATABASE_URL", "sqlite://.omnicart/omnicart.db");
    let catalogue_path = PathBuf::from(env_or(
        "OMNICART_CATALOGUE",
        "crates/server/data/demo-catalogue.json",
    ));
    let dist = PathBuf::from(env_or("OMNICART_DIST", "dist"));

    if let Some(dir) = database_url
        .strip_prefix("sqlite://")
        .and_then(|p| std::path::Path::new(p).parent())
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let cart_merge: omnicart_server::auth::CartMerge =
        env_or("OMNICART_CART_MERGE", "merge").parse()?;
    let pool = db::connect(&database_url).await.map_err(|e| {
        let hint = if e.to_string().contains("previously applied") {
            " (this database was made by a pre-release schema of omnicart: move it away and start again)"
        } else {
            ""
        };
        format!("database {}: {e}{hint}", redact(&database_url))
    })?;
    if env_or("OMNICART_DEMO", "0") == "1" {
        seed_demo_customers(&pool)
            .await
            .map_err(|e| format!("seeding demo customers: {e:?}"))?;
    }
    let catalogue = Catalogue::load(&catalogue_path)?;
    let products = catalogue.snapshot.products().len();
    let mut state = AppState::new(pool, catalogue)
        .map_err(|e| format!("{e:?}"))?
        .with_cart_merge(cart_merge);
    state.secure_cookies = env_or("OMNICART_SECURE_COOKIES", "0") == "1";
    let dist = dist.join("index.html").exists().then_some(dist.as_path());
    if dist.is_none() {
        tracing::warn!(
            "no storefront build in {}: serving the API only",
            env_or("OMNICART_DIST", "dist")
        );
    }
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("binding {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%local, products, "omnicart listening on http://{local}");
    // The plain-JS example of the npm package, when it has been built: /www/ and /pkg/.
    let mut router = app(state, dist);
    if std::path::Path::new("pkg/omnicart_wasm.js").exists() {
        router = router
            .nest_service("/www", tower_http::services::ServeDir::new("www"))
            .nest_service("/pkg", tower_http::services::ServeDir::new("pkg"));
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
