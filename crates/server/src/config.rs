//! The server's configuration: one typed [`Config`], read from the environment once at start.
//! Every variable is optional:
//!
//! | variable | default | |
//! |---|---|---|
//! | `OMNICART_ADDR` | `127.0.0.1:8080` | the host and port to listen on (a name is resolved at start) |
//! | `DATABASE_URL` | `sqlite://.omnicart/omnicart.db` | a SQLite file, or `postgres://user:pass@host/db` |
//! | `OMNICART_CATALOGUE` | `crates/server/data/demo-catalogue.json` | the snapshot to serve and price with |
//! | `OMNICART_DIST` | `dist` | the built storefront (served if it has an `index.html`) |
//! | `OMNICART_DEMO` | `0` | `1`: add the demo customers |
//! | `OMNICART_CART_MERGE` | `merge` | a guest cart at sign-in: `merge`, `keep_customer` or `keep_anonymous` |
//! | `OMNICART_SECURE_COOKIES` | `0` | `1` where the shop is served over HTTPS: session cookies go over HTTPS only |
//! | `OMNICART_SMTP_URL` | unset | `smtp://host[:port]`: send mail through this SMTP relay (no TLS); unset: write it to the mail folder |
//! | `OMNICART_MAIL_DIR` | `.omnicart/mail` | the folder mail goes to without SMTP, listed at `/dev/mail` |
//! | `OMNICART_MAIL_FROM` | `omnicart <orders@omnicart.localhost>` | the sender of the shop's mail |
//! | `OMNICART_INTEGRATION_KEYS` | unset (with `OMNICART_DEMO=1`: `demo=`[`DEMO_INTEGRATION_KEY`]) | `name=secret,…`: the keys of the integrations (ERP, WMS, point of sale, call centre) that may use the staff and integration endpoints; secrets of 24 characters or more |
//! | `OMNICART_MAX_STREAMS` | `1000` ([`DEFAULT_MAX_STREAMS`]) | cart event streams this process keeps open at once; more are refused 503 `too_many_streams` |
//! | `OMNICART_PICKUP_DAYS` | `7` ([`DEFAULT_PICKUP_DAYS`]) | days a pickup order waits in store once ready; then it is expired: cancelled, restocked, its authorization released (`service::pickup`) |
//! | `OMNICART_PICKUP_SECRET` | unset (a key generated once and kept in the database) | the key pickup codes are derived from (HMAC-SHA256 of the fulfilment order), so the order page can show a ready pickup's code to its shopper again; 32 characters or more; the same in every process |
//! | `OMNICART_CORS_ORIGINS` | unset | `https://shop.example,http://127.0.0.1:5173`: origins whose pages may call the API (CORS); unset: none |
//! | `OMNICART_LIMIT_SIGN_IN` | `60` | sign-ins per minute per client address (limits: `service::limits`) |
//! | `OMNICART_LIMIT_SIGN_UP` | `30` | sign-ups per minute per client address |
//! | `OMNICART_LIMIT_ACCOUNT` | `20` | sign-ins and sign-ups per minute per email |
//! | `OMNICART_LIMIT_CARTS` | `120` | carts created per minute per client address (and per customer) |
//! | `OMNICART_LIMIT_SYNC` | `1200` | cart edits and syncs per minute per client address |
//! | `OMNICART_LIMIT_CART_SYNC` | `600` | edits and syncs per minute per cart |
//! | `OMNICART_TRUSTED_PROXIES` | unset | `10.0.0.1,10.1.0.0/16,…`: proxies whose `X-Forwarded-For` names the client; from anywhere else the socket's peer is the client |
//! | `OMNICART_WEBHOOK_URLS` | unset | `https://erp.example/hooks,…`: the endpoints every event is posted to (`service::webhooks`); unset: events are kept in the outbox and listed, not sent |
//! | `OMNICART_WEBHOOK_SECRET` | unset (required with URLs) | the shared secret of the `omnicart-signature` HMAC, 24 characters or more |
//! | `OMNICART_WEBHOOK_MAX_ATTEMPTS` | `12` | failed deliveries of an event to an endpoint before it is dead (replayable) |
//! | `OMNICART_WEBHOOK_RETRY_MS` | `1000` | the wait after a first failed delivery, doubled after each further one (at most an hour) |
//! | `OMNICART_INSTALLERS` | `crates/server/data/demo-installers.json` | the field installers (`[{id, name, area, experienced}]`, area: a postcode's first two characters), loaded when the database has none (`service::appointments`) |
//! | `OMNICART_PUBLIC_URL` | `http://127.0.0.1:8080` ([`DEFAULT_PUBLIC_URL`]) | the shop's address as shoppers reach it, for the links in mail (survey, unsubscribe, cart) |
//! | `OMNICART_REMINDER_AFTER_MINUTES` | `1440` | minutes a signed-in customer's cart with items stays unchanged before a reminder (and between two) |
//! | `OMNICART_REMINDER_MAX` | `2` | reminders at most while a cart stays unchanged; `0`: none (`service::messages`) |
//! | `RUST_LOG` | `info` | the log filter (`tracing_subscriber::EnvFilter` syntax) |
//!
//! A value that does not parse stops the server with a message naming the variable
//! ([`ConfigError`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use std::num::NonZeroU32;

use crate::service::accounts::CartMerge;
use crate::service::limits::{LimitsConfig, TrustedProxies};
use crate::service::messages::Reminders;
use crate::service::webhooks::Webhooks;

/// The demo's integration key (`OMNICART_DEMO=1` without `OMNICART_INTEGRATION_KEYS`), printed
/// by `scripts/run`: never configure it where the shop is public.
pub const DEMO_INTEGRATION_KEY: &str = "omnicart-demo-integration-key";

/// Shortest integration secret accepted.
pub const MIN_INTEGRATION_SECRET_CHARS: usize = 24;

/// Open cart event streams unless `OMNICART_MAX_STREAMS` says otherwise.
pub const DEFAULT_MAX_STREAMS: usize = 1000;

/// Days a ready pickup order waits unless `OMNICART_PICKUP_DAYS` says otherwise.
pub const DEFAULT_PICKUP_DAYS: u32 = 7;

/// The shop's address for links in mail unless `OMNICART_PUBLIC_URL` says otherwise.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The sender of the shop's mail unless `OMNICART_MAIL_FROM` says otherwise.
pub const DEFAULT_MAIL_FROM: &str = "omnicart <orders@omnicart.localhost>";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub catalogue: PathBuf,
    pub dist: PathBuf,
    /// Add the demo customers at start.
    pub demo: bool,
    pub cart_merge: CartMerge,
    pub secure_cookies: bool,
    /// Send mail through this SMTP relay; `None`: into [`Config::mail_dir`].
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    /// The integrations' keys, by name: `(name, secret)`.
    pub integration_keys: Vec<(String, String)>,
    /// Cart event streams open at once, at most (1 or more).
    pub max_streams: usize,
    /// Days a ready pickup order waits before it is expired (1 to 365).
    pub pickup_days: u32,
    /// The key pickup codes are derived from; `None`: the database's generated one.
    pub pickup_secret: Option<String>,
    /// Origins (`scheme://host[:port]`, as a browser sends `Origin`) allowed to call the API.
    pub cors_origins: Vec<String>,
    /// Requests per minute per client address and per account (`service::limits`).
    pub limits: LimitsConfig,
    pub trusted_proxies: TrustedProxies,
    /// Where events are posted, signed with what, retried how often.
    pub webhooks: Webhooks,
    /// The installers' file, loaded at first start.
    pub installers: PathBuf,
    /// Cart reminders and the shop's public address.
    pub reminders: Reminders,
    /// The log filter, checked at start (see [`Config::from_lookup`]).
    pub log_filter: String,
}

/// A variable whose value does not parse: `OMNICART_ADDR=foo: not a host and port …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    /// What the value should have been.
    pub expected: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}: {}", self.variable, self.value, self.expected)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The configuration in the process's environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration `lookup` gives (a variable's value, `None` if unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let read = |name: &'static str, default: &str| Variable {
            name,
            value: lookup(name).unwrap_or_else(|| default.to_owned()),
        };
        let log_filter = read("RUST_LOG", "info");
        tracing_subscriber::EnvFilter::try_new(&log_filter.value)
            .map_err(|e| log_filter.error(format!("not a log filter ({e})")))?;
        let demo = read("OMNICART_DEMO", "0").flag()?;
        let integration_keys = match lookup("OMNICART_INTEGRATION_KEYS") {
            Some(keys) => integration_keys(&Variable {
                name: "OMNICART_INTEGRATION_KEYS",
                value: keys,
            })?,
            None if demo => vec![("demo".to_owned(), DEMO_INTEGRATION_KEY.to_owned())],
            None => Vec::new(),
        };
        Ok(Config {
            addr: read("OMNICART_ADDR", "127.0.0.1:8080").parse(
                |v| v.to_socket_addrs().ok()?.next(),
                "not a host and port to listen on (such as 127.0.0.1:8080 or localhost:8080)",
            )?,
            database_url: read("DATABASE_URL", "sqlite://.omnicart/omnicart.db").value,
            catalogue: read(
                "OMNICART_CATALOGUE",
                "crates/server/data/demo-catalogue.json",
            )
            .value
            .into(),
            dist: read("OMNICART_DIST", "dist").value.into(),
            demo,
            cart_merge: read("OMNICART_CART_MERGE", "merge").parse(
                |v| v.parse().ok(),
                "expected merge, keep_customer or keep_anonymous",
            )?,
            secure_cookies: read("OMNICART_SECURE_COOKIES", "0").flag()?,
            smtp_url: lookup("OMNICART_SMTP_URL").filter(|v| !v.is_empty()),
            mail_dir: read("OMNICART_MAIL_DIR", ".omnicart/mail").value.into(),
            mail_from: read("OMNICART_MAIL_FROM", DEFAULT_MAIL_FROM).value,
            integration_keys,
            max_streams: read("OMNICART_MAX_STREAMS", "1000").parse(
                |v| v.parse().ok().filter(|n| *n > 0),
                "expected a whole number of streams, 1 or more",
            )?,
            pickup_days: read("OMNICART_PICKUP_DAYS", "7").parse(
                |v| v.parse().ok().filter(|n| (1..=365).contains(n)),
                "expected a whole number of days, 1 to 365",
            )?,
            pickup_secret: pickup_secret(lookup("OMNICART_PICKUP_SECRET"))?,
            cors_origins: cors_origins(&read("OMNICART_CORS_ORIGINS", ""))?,
            limits: limits(&read)?,
            trusted_proxies: read("OMNICART_TRUSTED_PROXIES", "").parse(
                TrustedProxies::parse,
                "expected addresses or CIDR blocks, comma-separated (10.0.0.1,10.1.0.0/16)",
            )?,
            webhooks: webhooks(&read)?,
            installers: read(
                "OMNICART_INSTALLERS",
                "crates/server/data/demo-installers.json",
            )
            .value
            .into(),
            reminders: reminders(&read)?,
            log_filter: log_filter.value,
        })
    }
}

/// Shortest pickup secret accepted.
pub const MIN_PICKUP_SECRET_CHARS: usize = 32;

/// `OMNICART_PICKUP_SECRET`: unset or empty, the database's key; else 32 characters or more.
fn pickup_secret(value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() >= MIN_PICKUP_SECRET_CHARS => Ok(Some(v)),
        Some(v) => Err(ConfigError {
            variable: "OMNICART_PICKUP_SECRET",
            value: format!("({} characters)", v.chars().count()),
            expected: format!("a secret of {MIN_PICKUP_SECRET_CHARS} characters or more"),
        }),
    }
}

/// The `OMNICART_WEBHOOK_*` variables.
fn webhooks(read: &impl Fn(&'static str, &str) -> Variable) -> Result<Webhooks, ConfigError> {
    let urls = read("OMNICART_WEBHOOK_URLS", "");
    let mut list = Vec::new();
    for url in urls
        .value
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let ok = reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !ok {
            return Err(urls.error("expected http(s) URLs, comma-separated"));
        }
        list.push(url.to_owned());
    }
    let secret = read("OMNICART_WEBHOOK_SECRET", "");
    if !list.is_empty() && secret.value.chars().count() < MIN_INTEGRATION_SECRET_CHARS {
        // The value is a secret: the message does not repeat it.
        return Err(ConfigError {
            variable: secret.name,
            value: "(not shown)".into(),
            expected: format!(
                "expected a secret of {MIN_INTEGRATION_SECRET_CHARS} or more characters (required with OMNICART_WEBHOOK_URLS)"
            ),
        });
    }
    Ok(Webhooks {
        urls: list,
        secret: secret.value,
        max_attempts: read("OMNICART_WEBHOOK_MAX_ATTEMPTS", "12").parse(
            |v| v.parse().ok().filter(|n| (1..=100).contains(n)),
            "expected a whole number of attempts, 1 to 100",
        )?,
        retry_base_ms: read("OMNICART_WEBHOOK_RETRY_MS", "1000").parse(
            |v| v.parse().ok().filter(|n| (1..=3_600_000).contains(n)),
            "expected a whole number of milliseconds, 1 to 3600000",
        )?,
    })
}

/// `OMNICART_PUBLIC_URL` and the `OMNICART_REMINDER_*` variables.
fn reminders(read: &impl Fn(&'static str, &str) -> Variable) -> Result<Reminders, ConfigError> {
    let url = read("OMNICART_PUBLIC_URL", DEFAULT_PUBLIC_URL);
    let ok = reqwest::Url::parse(&url.value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    if !ok {
        return Err(url.error("expected the shop's http(s) address (https://shop.example)"));
    }
    let minutes: i64 = read("OMNICART_REMINDER_AFTER_MINUTES", "1440").parse(
        |v| v.parse().ok().filter(|n| (1..=525_600).contains(n)),
        "expected a whole number of minutes, 1 to 525600",
    )?;
    Ok(Reminders {
        idle_seconds: minutes * 60,
        max: read("OMNICART_REMINDER_MAX", "2").parse(
            |v| v.parse().ok().filter(|n| (0..=20).contains(n)),
            "expected a whole number of reminders, 0 to 20",
        )?,
        public_url: url.value.trim_end_matches('/').to_owned(),
    })
}

/// The `OMNICART_LIMIT_*` variables.
fn limits(read: &impl Fn(&'static str, &str) -> Variable) -> Result<LimitsConfig, ConfigError> {
    let defaults = LimitsConfig::default();
    let rate = |name: &'static str, default: NonZeroU32| {
        read(name, &default.to_string()).parse(
            |v| v.parse::<NonZeroU32>().ok(),
            "expected a whole number of requests per minute, at least 1",
        )
    };
    Ok(LimitsConfig {
        sign_in: rate("OMNICART_LIMIT_SIGN_IN", defaults.sign_in)?,
        sign_up: rate("OMNICART_LIMIT_SIGN_UP", defaults.sign_up)?,
        account: rate("OMNICART_LIMIT_ACCOUNT", defaults.account)?,
        carts: rate("OMNICART_LIMIT_CARTS", defaults.carts)?,
        sync: rate("OMNICART_LIMIT_SYNC", defaults.sync)?,
        cart_sync: rate("OMNICART_LIMIT_CART_SYNC", defaults.cart_sync)?,
    })
}

/// `name=secret,…`: names of letters, digits, `-` and `_`, each once; secrets long enough.
fn integration_keys(variable: &Variable) -> Result<Vec<(String, String)>, ConfigError> {
    let expected = format!(
        "expected name=secret,… (names of letters, digits, - and _, each once; secrets of {MIN_INTEGRATION_SECRET_CHARS} or more characters)"
    );
    let mut keys: Vec<(String, String)> = Vec::new();
    for pair in variable.value.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, secret) = pair
            .trim()
            .split_once('=')
            .ok_or_else(|| variable.error(&expected))?;
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok
            || secret.chars().count() < MIN_INTEGRATION_SECRET_CHARS
            || keys.iter().any(|(n, s)| n == name || s == secret)
        {
            return Err(variable.error(&expected));
        }
        keys.push((name.to_owned(), secret.to_owned()));
    }
    Ok(keys)
}

/// `origin,…`: each `http://` or `https://` and a host, with an optional port and nothing
/// after (no path, no trailing `/`), as browsers send `Origin`.
fn cors_origins(variable: &Variable) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for origin in variable
        .value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let ok = host.is_some_and(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !ok {
            return Err(variable.error(
                "expected origins such as https://shop.example,http://127.0.0.1:5173 (scheme and host, no path)",
            ));
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
}

/// A variable as read (its default if unset).
struct Variable {
    name: &'static str,
    value: String,
}

impl Variable {
    fn error(&self, expected: impl Into<String>) -> ConfigError {
        ConfigError {
            variable: self.name,
            value: self.value.clone(),
            expected: expected.into(),
        }
    }

    fn parse<T>(
        &self,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, ConfigError> {
        parse(&self.value).ok_or_else(|| self.error(expected))
    }

    /// `0` or `1`.
    fn flag(&self) -> Result<bool, ConfigError> {
        match self.value.as_str() {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(self.error("expected 0 or 1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn unset_variables_take_their_defaults() {
        assert_eq!(
            config(&[]).unwrap(),
            Config {
                addr: "127.0.0.1:8080".parse().unwrap(),
                database_url: "sqlite://.omnicart/omnicart.db".into(),
                catalogue: "crates/server/data/demo-catalogue.json".into(),
                dist: "dist".into(),
                demo: false,
                cart_merge: CartMerge::Merge,
                secure_cookies: false,
                smtp_url: None,
                mail_dir: ".omnicart/mail".into(),
                mail_from: DEFAULT_MAIL_FROM.into(),
                integration_keys: Vec::new(),
                max_streams: DEFAULT_MAX_STREAMS,
                pickup_days: DEFAULT_PICKUP_DAYS,
                pickup_secret: None,
                cors_origins: Vec::new(),
                limits: LimitsConfig::default(),
                trusted_proxies: TrustedProxies::default(),
                webhooks: Webhooks {
                    urls: Vec::new(),
                    secret: String::new(),
                    max_attempts: 12,
                    retry_base_ms: 1000,
                },
                installers: "crates/server/data/demo-installers.json".into(),
                reminders: Reminders {
                    idle_seconds: 86_400,
                    max: 2,
                    public_url: DEFAULT_PUBLIC_URL.into(),
                },
                log_filter: "info".into(),
            }
        );
    }

    #[test]
    fn set_variables_are_read() {
        let config = config(&[
            ("OMNICART_ADDR", "0.0.0.0:80"),
            ("DATABASE_URL", "postgres://shop@db/shop"),
            ("OMNICART_CATALOGUE", "/srv/catalogue.json"),
            ("OMNICART_DIST", "/srv/dist"),
            ("OMNICART_DEMO", "1"),
            ("OMNICART_CART_MERGE", "keep_anonymous"),
            ("OMNICART_SECURE_COOKIES", "1"),
            ("RUST_LOG", "warn,omnicart_server=debug"),
            ("OMNICART_LIMIT_SIGN_IN", "5"),
            ("OMNICART_LIMIT_SIGN_UP", "6"),
            ("OMNICART_LIMIT_ACCOUNT", "7"),
            ("OMNICART_LIMIT_CARTS", "8"),
            ("OMNICART_LIMIT_SYNC", "9"),
            ("OMNICART_LIMIT_CART_SYNC", "100000"),
            ("OMNICART_TRUSTED_PROXIES", "10.0.0.0/8,::1"),
        ])
        .unwrap();
        let limits = config.limits;
        let numbers = [
            limits.sign_in,
            limits.sign_up,
            limits.account,
            limits.carts,
            limits.sync,
            limits.cart_sync,
        ]
        .map(NonZeroU32::get);
        assert_eq!(numbers, [5, 6, 7, 8, 9, 100_000]);
        assert_eq!(
            Some(config.trusted_proxies.clone()),
            TrustedProxies::parse("10.0.0.0/8, ::1")
        );
        assert_eq!(config.addr, "0.0.0.0:80".parse().unwrap());
        assert_eq!(config.database_url, "postgres://shop@db/shop");
        assert_eq!(config.catalogue, PathBuf::from("/srv/catalogue.json"));
        assert_eq!(config.dist, PathBuf::from("/srv/dist"));
        assert!(config.demo && config.secure_cookies);
        assert_eq!(config.cart_merge, CartMerge::KeepAnonymous);
        assert_eq!(config.log_filter, "warn,omnicart_server=debug");
        let keep_customer = super::Config::from_lookup(|name| {
            (name == "OMNICART_CART_MERGE").then(|| "keep_customer".to_owned())
        });
        assert_eq!(keep_customer.unwrap().cart_merge, CartMerge::KeepCustomer);
        let named = Config::from_lookup(|name| {
            (name == "OMNICART_ADDR").then(|| "localhost:8080".to_owned())
        })
        .unwrap();
        assert!(
            named.addr.ip().is_loopback() && named.addr.port() == 8080,
            "{}",
            named.addr
        );
    }

    #[test]
    fn integration_keys_are_read_by_name_and_the_demo_has_one() {
        let keys = config(&[(
            "OMNICART_INTEGRATION_KEYS",
            "wms=0123456789abcdefghijklmn, erp_1=nmlkjihgfedcba9876543210",
        )])
        .unwrap()
        .integration_keys;
        assert_eq!(
            keys,
            [
                ("wms".to_owned(), "0123456789abcdefghijklmn".to_owned()),
                ("erp_1".to_owned(), "nmlkjihgfedcba9876543210".to_owned())
            ]
        );
        let demo = config(&[("OMNICART_DEMO", "1")]).unwrap().integration_keys;
        assert_eq!(demo, [("demo".to_owned(), DEMO_INTEGRATION_KEY.to_owned())]);
        let none = config(&[("OMNICART_DEMO", "1"), ("OMNICART_INTEGRATION_KEYS", "")]);
        assert!(none.unwrap().integration_keys.is_empty());
        for bad in [
            "wms",
            "wms=short",
            "w ms=0123456789abcdefghijklmn",
            "=0123456789abcdefghijklmn",
            "a=0123456789abcdefghijklmn,a=nmlkjihgfedcba9876543210",
            "a=0123456789abcdefghijklmn,b=0123456789abcdefghijklmn",
        ] {
            let error = config(&[("OMNICART_INTEGRATION_KEYS", bad)]).unwrap_err();
            assert_eq!(error.variable, "OMNICART_INTEGRATION_KEYS", "{bad}");
        }
    }

    #[test]
    fn the_pickup_days_are_read_and_bounded() {
        assert_eq!(
            config(&[("OMNICART_PICKUP_DAYS", "3")])
                .unwrap()
                .pickup_days,
            3
        );
        for bad in ["0", "366", "-1", "a week", ""] {
            let error = config(&[("OMNICART_PICKUP_DAYS", bad)]).unwrap_err();
            assert_eq!(error.variable, "OMNICART_PICKUP_DAYS", "{bad}");
        }
    }

    #[test]
    fn the_stream_limit_and_the_cors_origins_are_read() {
        let config = config(&[
            ("OMNICART_MAX_STREAMS", "3"),
            (
                "OMNICART_CORS_ORIGINS",
                "https://shop.example, http://127.0.0.1:5173,",
            ),
        ])
        .unwrap();
        assert_eq!(config.max_streams, 3);
        assert_eq!(
            config.cors_origins,
            ["https://shop.example", "http://127.0.0.1:5173"]
        );
        for bad in ["0", "-1", "many", ""] {
            let error = super::Config::from_lookup(|name| {
                (name == "OMNICART_MAX_STREAMS").then(|| bad.to_owned())
            })
            .unwrap_err();
            assert_eq!(error.variable, "OMNICART_MAX_STREAMS", "{bad}");
        }
        for bad in [
            "shop.example",
            "https://shop.example/",
            "ftp://x",
            "https://",
            "*",
        ] {
            let error = super::Config::from_lookup(|name| {
                (name == "OMNICART_CORS_ORIGINS").then(|| bad.to_owned())
            })
            .unwrap_err();
            assert_eq!(error.variable, "OMNICART_CORS_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_variable() {
        for (variable, value, message) in [
            (
                "OMNICART_ADDR",
                "foo",
                "OMNICART_ADDR=foo: not a host and port",
            ),
            (
                "OMNICART_ADDR",
                "localhost",
                "OMNICART_ADDR=localhost: not a host and port",
            ),
            (
                "OMNICART_CART_MERGE",
                "x",
                "OMNICART_CART_MERGE=x: expected merge, keep_customer or keep_anonymous",
            ),
            (
                "OMNICART_SECURE_COOKIES",
                "maybe",
                "OMNICART_SECURE_COOKIES=maybe: expected 0 or 1",
            ),
            ("OMNICART_DEMO", "yes", "OMNICART_DEMO=yes: expected 0 or 1"),
            ("RUST_LOG", "=[", "RUST_LOG==[: not a log filter"),
            (
                "OMNICART_LIMIT_SIGN_IN",
                "0",
                "OMNICART_LIMIT_SIGN_IN=0: expected a whole number",
            ),
            (
                "OMNICART_LIMIT_CART_SYNC",
                "fast",
                "OMNICART_LIMIT_CART_SYNC=fast: expected a whole number",
            ),
            (
                "OMNICART_TRUSTED_PROXIES",
                "10.0.0.0/40",
                "OMNICART_TRUSTED_PROXIES=10.0.0.0/40: expected addresses",
            ),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
            assert_eq!(error.value, value);
            assert!(error.to_string().starts_with(message), "{error}");
        }
    }
}
