//! `omnicart-server`: starts the API and the storefront, configured by the environment
//! (see `config.rs` for the variables and their defaults).

use std::path::Path;

use omnicart_server::catalogue::Catalogue;
use omnicart_server::config::Config;
use omnicart_server::http::headers;
use omnicart_server::service::mail::Mailer;
use omnicart_server::store::Db;
use omnicart_server::{AppState, app, seed_demo_customers};
use tower_http::services::ServeDir;

#[tokio::main]
async fn main() {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => fail(e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_filter))
        .init();
    if let Err(e) = run(config).await {
        fail(e);
    }
}

fn fail(error: impl std::fmt::Display) -> ! {
    eprintln!("omnicart-server: {error}");
    std::process::exit(1);
}

async fn run(config: Config) -> Result<(), String> {
    if let Some(dir) = config
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|p| Path::new(p).parent())
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("database {}: {e}", redact(&config.database_url)))?;
    if config.demo {
        seed_demo_customers(&db)
            .await
            .map_err(|e| format!("seeding demo customers: {e}"))?;
    }
    let catalogue = Catalogue::load(&config.catalogue)?;
    let products = catalogue.snapshot.products().len();
    let mut state = AppState::new(db, catalogue)
        .map_err(|e| format!("{e:?}"))?
        .with_cart_merge(config.cart_merge)
        .with_integration_keys(&config.integration_keys)
        .with_pickup_secret(config.pickup_secret.as_deref())
        .with_max_streams(config.max_streams)
        .with_cors_origins(&config.cors_origins)
        .with_public_url(&config.reminders.public_url)
        .with_limits(config.limits)
        .with_trusted_proxies(config.trusted_proxies.clone());
    state.secure_cookies = config.secure_cookies;
    omnicart_server::service::checkout::prepare(&state)
        .await
        .map_err(|e| format!("loading stock: {e:?}"))?;
    omnicart_server::service::appointments::load_installers(&state, &config.installers).await?;
    omnicart_server::service::checkout::spawn_sweeper(state.clone());
    omnicart_server::service::messages::spawn_reminders(state.clone(), config.reminders.clone());
    omnicart_server::service::pickup::spawn_sweeper(state.clone(), config.pickup_days);
    let mailer = Mailer::from_config(&config)?;
    omnicart_server::service::mail::spawn_sender(state.db.clone(), mailer);
    omnicart_server::service::webhooks::spawn_dispatcher(state.db.clone(), config.webhooks.clone())
        .await
        .map_err(|e| format!("webhook endpoints: {e}"))?;
    let dist = config.dist.join("index.html").exists();
    if !dist {
        let dist = config.dist.display();
        tracing::warn!("no storefront build in {dist}: serving the API only");
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("binding {}: {e}", config.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%local, products, "omnicart listening on http://{local}");
    let changes = std::sync::Arc::clone(state.db.changes());
    let mut router = app(state, dist.then_some(config.dist.as_path()));
    let mut pages = axum::Router::new();
    if config.smtp_url.is_none() {
        pages = pages.merge(omnicart_server::http::dev_mail::router(
            config.mail_dir.clone(),
        ));
    }
    // The plain-JS example of the npm package, when it has been built: /www/ and /pkg/.
    if Path::new("pkg/omnicart_wasm.js").exists() {
        pages = pages
            .nest_service("/www", ServeDir::new("www"))
            .nest_service("/pkg", ServeDir::new("pkg"));
    }
    // The developer pages' own policy: www/index.html's inline style by its hash.
    let csp = headers::policy_for(Some(Path::new("www/index.html")));
    router = router.merge(headers::layer(pages, csp));
    // The socket's peer reaches the handlers (`ConnectInfo`): the rate limits key on it.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Event streams never end on their own: end them, so the shutdown can finish.
            changes.close();
        })
        .await
        .map_err(|e| e.to_string())
}

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
