//! Rate limits per client address and per account (`governor`'s GCRA, keyed, in this
//! process's memory), and who the client is ([`ClientAddr`], [`TrustedProxies`]).
//!
//! | what | per client address | per account |
//! |---|---|---|
//! | sign-in | [`LimitsConfig::sign_in`] | [`LimitsConfig::account`] (the email) |
//! | sign-up | [`LimitsConfig::sign_up`] | [`LimitsConfig::account`] (the email) |
//! | cart creation | [`LimitsConfig::carts`] | [`LimitsConfig::carts`] (the customer) |
//! | edits and sync of a cart | [`LimitsConfig::sync`] | [`LimitsConfig::cart_sync`] (the cart) |
//!
//! Each number is requests per minute, all of them at once as a burst, then one more every
//! 60/n seconds. Over it: 429 `rate_limited` with `Retry-After` (whole seconds, at least 1).
//! The limits slow a flood from one process's point of view; what must hold across server
//! processes (wrong passwords) is counted in the database (`store::sign_in_failures`).
//! IPv6 clients are keyed by their /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use omnicart_api::code;

use crate::error::AppError;

/// Requests per minute per key, by rule (see the module docs). Generous for a real shop:
/// many shoppers share one address behind a carrier's NAT or a store's network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Sign-ins per client address (`OMNICART_LIMIT_SIGN_IN`).
    pub sign_in: NonZeroU32,
    /// Sign-ups per client address (`OMNICART_LIMIT_SIGN_UP`).
    pub sign_up: NonZeroU32,
    /// Sign-ins and sign-ups per email (`OMNICART_LIMIT_ACCOUNT`).
    pub account: NonZeroU32,
    /// Carts created per client address, and per signed-in customer (`OMNICART_LIMIT_CARTS`).
    pub carts: NonZeroU32,
    /// Edits and syncs per client address (`OMNICART_LIMIT_SYNC`).
    pub sync: NonZeroU32,
    /// Edits and syncs per cart (`OMNICART_LIMIT_CART_SYNC`).
    pub cart_sync: NonZeroU32,
}

const fn per_minute(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => panic!("a limit is at least 1"),
    }
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            sign_in: per_minute(60),
            sign_up: per_minute(30),
            account: per_minute(20),
            carts: per_minute(120),
            sync: per_minute(1200),
            // A page syncs every 5 s per tab, and each edit once more.
            cart_sync: per_minute(600),
        }
    }
}

/// Who is asking, as the limits and the sign-in lock key it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(IpAddr);

impl ClientAddr {
    /// The client at `ip`: an IPv4-mapped address as IPv4, other IPv6 addresses by their /64.
    pub fn new(ip: IpAddr) -> ClientAddr {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(Ipv6Addr::from(prefix))
                }
            },
            v4 => v4,
        };
        ClientAddr(ip)
    }

    /// A request that did not come through a socket (the router called in-process).
    pub const UNKNOWN: ClientAddr = ClientAddr(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));

    /// The key stored with the sign-in failures.
    pub fn key(&self) -> String {
        self.0.to_string()
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`OMNICART_TRUSTED_PROXIES`: addresses
/// or CIDR blocks). A request from anywhere else is its socket's peer, whatever it says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// `10.0.0.1, 10.1.0.0/16, ::1`; `None` if an entry is neither an address nor a block.
    pub fn parse(list: &str) -> Option<TrustedProxies> {
        let mut blocks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, bits.parse::<u8>().ok()?),
                None => {
                    let ip = entry.parse::<IpAddr>().ok()?;
                    (ip, if ip.is_ipv4() { 32 } else { 128 })
                }
            };
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return None;
            }
            blocks.push((ip, bits));
        }
        Some(TrustedProxies(blocks))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|&(block, bits)| match (canonical(block), ip) {
                (IpAddr::V4(b), IpAddr::V4(a)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                    u32::from(a) & mask == u32::from(b) & mask
                }
                (IpAddr::V6(b), IpAddr::V6(a)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                    u128::from(a) & mask == u128::from(b) & mask
                }
                _ => false,
            })
    }

    /// The client of a request from `peer` carrying `forwarded` (the `X-Forwarded-For`
    /// values in order): from a trusted proxy, the nearest address in the chain that is not
    /// itself a trusted proxy (each proxy appends the address it saw; only the ones we trust
    /// are believed); otherwise `peer`.
    pub fn client(&self, peer: IpAddr, forwarded: &[&str]) -> ClientAddr {
        let mut client = peer;
        if self.contains(peer) {
            let hops = forwarded.iter().flat_map(|v| v.split(',')).map(str::trim);
            for hop in hops.collect::<Vec<_>>().into_iter().rev() {
                let Ok(ip) = hop.parse::<IpAddr>() else {
                    break;
                };
                client = ip;
                if !self.contains(ip) {
                    break;
                }
            }
        }
        ClientAddr::new(client)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The server's rate limiters (one per rule and key kind), shared by every request.
pub struct Limits {
    sign_in: Rule<ClientAddr>,
    sign_up: Rule<ClientAddr>,
    account: Rule<String>,
    carts: Rule<ClientAddr>,
    customer_carts: Rule<String>,
    sync: Rule<ClientAddr>,
    cart_sync: Rule<String>,
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Limits {
        Limits {
            sign_in: Rule::new(config.sign_in),
            sign_up: Rule::new(config.sign_up),
            account: Rule::new(config.account),
            carts: Rule::new(config.carts),
            customer_carts: Rule::new(config.carts),
            sync: Rule::new(config.sync),
            cart_sync: Rule::new(config.cart_sync),
        }
    }

    /// A sign-in for `email` (as typed: it is trimmed and lower-cased here).
    pub fn sign_in(&self, client: ClientAddr, email: &str) -> Result<(), AppError> {
        self.sign_in.check(&client)?;
        self.account.check(&email.trim().to_lowercase())
    }

    pub fn sign_up(&self, client: ClientAddr, email: &str) -> Result<(), AppError> {
        self.sign_up.check(&client)?;
        self.account.check(&email.trim().to_lowercase())
    }

    /// `POST /api/carts`, by a customer (`Some`) or a guest.
    pub fn create_cart(&self, client: ClientAddr, customer: Option<&str>) -> Result<(), AppError> {
        self.carts.check(&client)?;
        match customer {
            Some(customer) => self.customer_carts.check(&customer.to_owned()),
            None => Ok(()),
        }
    }

    /// An edit or a sync of cart `cart`.
    pub fn sync(&self, client: ClientAddr, cart: &str) -> Result<(), AppError> {
        self.sync.check(&client)?;
        self.cart_sync.check(&cart.to_owned())
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(LimitsConfig::default())
    }
}

/// One limit, keyed. Keys not seen for a full period are dropped every
/// [`FORGET_EVERY`] checks, so the map holds the recently active keys only.
struct Rule<K: std::hash::Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    checks: AtomicU64,
}

const FORGET_EVERY: u64 = 4096;

impl<K: std::hash::Hash + Eq + Clone> Rule<K> {
    fn new(per_minute: NonZeroU32) -> Rule<K> {
        Rule {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &K) -> Result<(), AppError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            rate_limited(wait)
        })
    }
}

/// 429 `rate_limited`, `Retry-After` the wait in whole seconds rounded up (at least 1).
fn rate_limited(wait: std::time::Duration) -> AppError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = i64::try_from(seconds.max(1)).unwrap_or(i64::MAX);
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::RATE_LIMITED,
        format!(
            "too many requests; try again in {seconds} second{}",
            if seconds == 1 { "" } else { "s" }
        ),
    )
    .with_retry_after(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ,::1").unwrap();
        let client = |peer: &str, forwarded: &[&str]| proxies.client(ip(peer), forwarded);
        let addr = |text: &str| ClientAddr::new(ip(text));
        // Not a proxy: its own address, whatever it claims.
        assert_eq!(
            client("203.0.113.9", &["198.51.100.1"]),
            addr("203.0.113.9")
        );
        // Through one proxy, and through two trusted hops: the first untrusted from the right.
        assert_eq!(client("10.1.2.3", &["198.51.100.1"]), addr("198.51.100.1"));
        assert_eq!(
            client("10.1.2.3", &["6.6.6.6, 198.51.100.1", "192.168.1.7"]),
            addr("198.51.100.1")
        );
        // A proxy with no header, or garbage in it: the last believable hop.
        assert_eq!(client("::1", &[]), addr("::1"));
        assert_eq!(client("10.1.2.3", &["nonsense"]), addr("10.1.2.3"));
        assert_eq!(
            client("::ffff:10.0.0.5", &["198.51.100.2"]),
            addr("198.51.100.2")
        );
        for bad in ["10.0.0.0/33", "nope", "::1/129", "10.0.0.1/x"] {
            assert!(TrustedProxies::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(TrustedProxies::parse(""), Some(TrustedProxies::default()));
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_block() {
        assert_eq!(
            ClientAddr::new(ip("2001:db8:1:2:aaaa::1")),
            ClientAddr::new(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            ClientAddr::new(ip("2001:db8:1:2::1")),
            ClientAddr::new(ip("2001:db8:1:3::1"))
        );
        assert_eq!(ClientAddr::new(ip("::ffff:1.2.3.4")).key(), "1.2.3.4");
    }

    #[test]
    fn a_burst_past_the_limit_is_refused_with_a_whole_retry_after() {
        let limits = Limits::new(LimitsConfig {
            carts: per_minute(3),
            ..LimitsConfig::default()
        });
        let one = ClientAddr::new(ip("198.51.100.1"));
        let other = ClientAddr::new(ip("198.51.100.2"));
        for _ in 0..3 {
            limits.create_cart(one, None).unwrap();
        }
        let refused = limits.create_cart(one, None).unwrap_err();
        assert_eq!(refused.code(), code::RATE_LIMITED);
        let wait = refused.retry_after_seconds.unwrap();
        assert!((1..=20).contains(&wait), "{wait}");
        limits.create_cart(other, None).unwrap();
        assert_eq!(
            rate_limited(std::time::Duration::from_millis(1)).retry_after_seconds,
            Some(1)
        );
        assert_eq!(
            rate_limited(std::time::Duration::from_millis(2001)).retry_after_seconds,
            Some(3)
        );
    }
}
