//! omnicart-server: the authoritative half of omnicart.
//!
//! Three layers: [`http`] (routes, extractors, [`AppError`]), [`service`] (what a request
//! does, one transaction per write) and [`store`] (SQL only, over SQLite or PostgreSQL).
//! Pricing and cart rules live in `omnicart-engine`, the same code the page runs; the wire
//! types in `omnicart-api`, shared with the page. [`config`] reads the environment once.
//! Start reading at [`app`], then `service/carts.rs`.

pub mod catalogue;
pub mod config;
pub mod error;
pub mod http;
pub mod ids;
pub mod payment;
pub mod service;
pub mod store;

use std::sync::Arc;

use crate::catalogue::Catalogue;
pub use crate::error::AppError;
pub use crate::http::app;
use crate::http::integration::Integrations;
use crate::payment::Providers;
use crate::service::accounts::{self, CartMerge, CreateAccountError};
use crate::service::limits::{Limits, LimitsConfig, TrustedProxies};
use crate::store::Db;

/// What every handler shares.
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
    /// The rate limits of this process (`service::limits`).
    pub(crate) limits: Arc<Limits>,
    /// The proxies whose `X-Forwarded-For` names the client (none by default).
    pub(crate) trusted_proxies: Arc<TrustedProxies>,
    /// The integrations' keys (`http::integration`), none by default.
    pub(crate) integrations: Arc<Integrations>,
    /// Payment providers by name (the built-in test gateway by default).
    pub payments: Providers,
    /// Set once the stock and promotion-usage tables are loaded from the catalogue
    /// ([`service::checkout::prepare`]).
    pub(crate) prepared: Arc<tokio::sync::OnceCell<()>>,
    /// The open event streams and their limit (`OMNICART_MAX_STREAMS`).
    pub(crate) streams: service::live::Streams,
    /// Origins whose pages may call the API (`OMNICART_CORS_ORIGINS`; `http::cors`).
    pub cors_origins: Arc<Vec<String>>,
    /// The configured key of pickup codes (`OMNICART_PICKUP_SECRET`), else the database's,
    /// read once (`service::pickup::key`).
    pub(crate) pickup_secret: Option<Arc<str>>,
    pub(crate) pickup_key: Arc<tokio::sync::OnceCell<Arc<[u8]>>>,
    /// The shop's address as shoppers reach it, for links in mail (`OMNICART_PUBLIC_URL`).
    pub public_url: Arc<str>,
}

impl AppState {
    pub fn new(db: Db, catalogue: Catalogue) -> Result<AppState, AppError> {
        let dummy_hash =
            accounts::hash_password("omnicart: no such customer").map_err(AppError::internal)?;
        Ok(AppState {
            db,
            catalogue: Arc::new(catalogue),
            cart_merge: CartMerge::default(),
            secure_cookies: false,
            dummy_hash,
            limits: Arc::default(),
            trusted_proxies: Arc::default(),
            integrations: Arc::default(),
            payments: Providers::with_test_gateway(),
            prepared: Arc::default(),
            streams: service::live::Streams::new(config::DEFAULT_MAX_STREAMS),
            cors_origins: Arc::default(),
            pickup_secret: None,
            pickup_key: Arc::default(),
            public_url: Arc::from(config::DEFAULT_PUBLIC_URL),
        })
    }

    /// Derives pickup codes from `secret` (`Config::pickup_secret`); `None`: from the key the
    /// database generated.
    pub fn with_pickup_secret(self, secret: Option<&str>) -> AppState {
        AppState {
            pickup_secret: secret.map(Arc::from),
            pickup_key: Arc::default(),
            ..self
        }
    }

    pub fn with_cart_merge(self, cart_merge: CartMerge) -> AppState {
        AppState { cart_merge, ..self }
    }

    /// Takes at most `max` event streams open at once (`Config::max_streams`).
    pub fn with_max_streams(self, max: usize) -> AppState {
        AppState {
            streams: service::live::Streams::new(max),
            ..self
        }
    }

    /// Limits requests by `config` (fresh counters) instead of the defaults.
    pub fn with_limits(self, config: LimitsConfig) -> AppState {
        AppState {
            limits: Arc::new(Limits::new(config)),
            ..self
        }
    }

    /// Lets pages of `origins` (`Config::cors_origins`) call the API.
    pub fn with_public_url(self, url: &str) -> AppState {
        AppState {
            public_url: Arc::from(url.trim_end_matches('/')),
            ..self
        }
    }

    pub fn with_cors_origins(self, origins: &[String]) -> AppState {
        AppState {
            cors_origins: Arc::new(origins.to_vec()),
            ..self
        }
    }

    /// Reads the client's address from `X-Forwarded-For` when the request comes from one of
    /// `proxies`.
    pub fn with_trusted_proxies(self, proxies: TrustedProxies) -> AppState {
        AppState {
            trusted_proxies: Arc::new(proxies),
            ..self
        }
    }

    /// Accepts `keys` (`(name, secret)`, as `Config::integration_keys`) on the staff and
    /// integration endpoints, in place of any accepted before.
    pub fn with_integration_keys(self, keys: &[(String, String)]) -> AppState {
        let mut integrations = Integrations::default();
        for (name, secret) in keys {
            integrations.insert(name, secret);
        }
        AppState {
            integrations: Arc::new(integrations),
            ..self
        }
    }
}

/// Adds the demo customers if they are missing. Demo data, not a sign-up path.
pub async fn seed_demo_customers(db: &Db) -> Result<(), CreateAccountError> {
    for customer in DEMO_CUSTOMERS {
        if store::accounts::id_by_email(db, customer.email)
            .await?
            .is_none()
        {
            let DemoCustomer {
                email,
                name,
                segments,
                password,
            } = customer;
            accounts::create_customer(db, email, name, segments, password).await?;
        }
    }
    Ok(())
}

/// A demo account, printed by `scripts/run` and used by the end-to-end tests.
pub struct DemoCustomer {
    pub email: &'static str,
    pub name: &'static str,
    /// Comma-separated.
    pub segments: &'static str,
    pub password: &'static str,
}

pub const DEMO_CUSTOMERS: &[DemoCustomer] = &[
    DemoCustomer {
        email: "mike@demo.omnicart.dev",
        name: "Mike Demo",
        segments: "",
        password: "omnicart-demo",
    },
    DemoCustomer {
        email: "kylie@demo.omnicart.dev",
        name: "Kylie Demo",
        segments: "vip",
        password: "omnicart-demo",
    },
];
