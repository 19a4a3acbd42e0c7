//! Load generator for placement: prepares guest carts (each with `--lines` distinct goods, a
//! delivery address and the standard delivery, so automatic promotions and the delivery
//! calculator take part), then keeps C keep-alive HTTP/1.1 connections busy placing them with
//! `POST /api/checkout` (a fresh idempotency key each, the built-in test gateway's success
//! card) until every cart is ordered or the time is up, and prints orders/s, latency
//! percentiles and errors by code. Any error makes the run invalid: the exit status is then
//! 1. `scripts/bench-checkout` drives it.
//!
//! ```text
//! cargo run --profile server -p omnicart-server --example checkout_load -- \
//!     --url http://127.0.0.1:8080 --catalogue bench-catalogue.json --orders 10000 --connections 16
//! ```
//!
//! `--hot SKU` puts that SKU in every cart (the contended case: every reservation updates
//! one stock row). The catalogue given must be the server's (its stock large enough for the
//! run: the script multiplies the demo's).
//!
//! **The re-quote's share.** After the timed run, the client prices a sample of the same carts
//! with the engine the server runs (`quote_with_delivery`, the server's guest context) and
//! reports the time per quote; with the server's CPU time per order (from /proc) that is the
//! share of placement's CPU the re-quote takes. Closed loop, like `sync_load`: a connection
//! sends its next checkout when the last is answered (no coordinated-omission correction).

mod load;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use load::{Conn, Rng, Usage, UsageDelta, error_code, percentile};
use omnicart_api::Profile;
use omnicart_engine::{Cart, Destination, Snapshot, Timestamp, quote_with_delivery};
use serde_json::{Value, json};

const USAGE: &str = "usage: checkout_load --url http://HOST:PORT --catalogue PATH [--orders N] [--connections C]
                     [--duration SECONDS] [--lines K] [--hot SKU] [--label TEXT] [--server-pid PID] [--seed N]";

/// The test gateway's card that is always authorized (`omnicart_api::checkout::test_cards`).
const CARD: &str = omnicart_api::checkout::test_cards::SUCCESS;
/// Postcodes the carts are delivered to (big cities of the demo network).
const POSTCODES: [&str; 4] = ["10115", "20095", "80331", "50667"];

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("checkout_load: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(valid) => std::process::exit(if valid { 0 } else { 1 }),
        Err(e) => {
            eprintln!("checkout_load: {e}");
            std::process::exit(1);
        }
    }
}

struct Args {
    addr: String,
    orders: usize,
    connections: usize,
    duration: Duration,
    lines: usize,
    hot: Option<String>,
    catalogue: String,
    label: String,
    server_pid: Option<u32>,
    seed: u64,
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            addr: String::new(),
            orders: 5000,
            connections: 16,
            duration: Duration::from_secs(60),
            lines: 5,
            hot: None,
            catalogue: String::new(),
            label: "-".into(),
            server_pid: None,
            seed: 1,
        };
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{flag}: not a number: {value}"))
            };
            match flag.as_str() {
                "--url" => {
                    a.addr = value
                        .strip_prefix("http://")
                        .ok_or("--url must start with http://")?
                        .trim_end_matches('/')
                        .to_owned()
                }
                "--orders" => a.orders = number()? as usize,
                "--connections" => a.connections = number()? as usize,
                "--duration" => a.duration = Duration::from_secs(number()?),
                "--lines" => a.lines = number()? as usize,
                "--hot" => a.hot = Some(value),
                "--catalogue" => a.catalogue = value,
                "--label" => a.label = value,
                "--server-pid" => a.server_pid = Some(number()? as u32),
                "--seed" => a.seed = number()?,
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        if a.addr.is_empty() || a.catalogue.is_empty() {
            return Err("--url and --catalogue are required".into());
        }
        if a.connections == 0 || a.orders < a.connections {
            return Err("need at least one connection and as many orders as connections".into());
        }
        if !(1..=20).contains(&a.lines) {
            return Err("--lines is 1 to 20".into());
        }
        Ok(a)
    }
}

/// A cart ready to be placed: its id, the total the server quoted for it (what the shopper
/// saw), where it goes, and the cart itself (for the re-quote measurement).
struct Prepared {
    cart_id: String,
    total: Value,
    postcode: &'static str,
    cart: Value,
}

async fn run(args: Args) -> Result<bool, String> {
    let text =
        std::fs::read_to_string(&args.catalogue).map_err(|e| format!("{}: {e}", args.catalogue))?;
    let skus = goods(&text, args.hot.as_deref(), args.lines)?;
    let started = Instant::now();
    let mut groups = Vec::new();
    for w in 0..args.connections {
        let indices: Vec<usize> = (w..args.orders).step_by(args.connections).collect();
        let (addr, skus, hot) = (args.addr.clone(), skus.clone(), args.hot.clone());
        let (lines, seed) = (args.lines, args.seed);
        groups.push(tokio::spawn(async move {
            setup(addr, indices, &skus, hot.as_deref(), lines, seed).await
        }));
    }
    let mut prepared = Vec::new();
    for g in groups {
        prepared.push(g.await.map_err(|e| e.to_string())??);
    }
    eprintln!(
        "checkout_load: {} carts of {} lines prepared in {:.1} s",
        args.orders,
        args.lines,
        started.elapsed().as_secs_f64()
    );
    let sample: Vec<Value> = prepared
        .iter()
        .flat_map(|(_, carts)| carts.iter().take(25))
        .map(|p| p.cart.clone())
        .collect();

    let before = Usage::now(args.server_pid);
    let t0 = Instant::now();
    let deadline = t0 + args.duration;
    let mut workers = Vec::new();
    for (conn, carts) in prepared {
        let seed = args.seed;
        workers.push(tokio::spawn(async move {
            place(conn, carts, seed, deadline).await
        }));
    }
    let mut total = Tally::default();
    for w in workers {
        total.merge(w.await.map_err(|e| e.to_string())?);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let usage = Usage::now(args.server_pid).since(&before);
    let requote = requote_micros(&text, &sample)?;
    Ok(report(&args, &mut total, elapsed, &usage, requote))
}

/// The goods SKUs carts are filled from (the hot one left out: it is added to every cart).
fn goods(catalogue: &str, hot: Option<&str>, lines: usize) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(catalogue).map_err(|e| format!("catalogue: {e}"))?;
    let list = |items: &Value| items.as_array().cloned().unwrap_or_default();
    let skus: Vec<String> = list(&v["products"])
        .iter()
        .filter(|p| p["kind"] == "goods")
        .flat_map(|p| list(&p["variants"]))
        .filter_map(|variant| variant["sku"].as_str().map(str::to_owned))
        .filter(|sku| Some(sku.as_str()) != hot)
        .collect();
    if skus.len() < lines {
        return Err(format!("catalogue: {lines} lines need as many goods SKUs"));
    }
    Ok(skus)
}

/// Creates and fills this connection's carts (`indices`).
async fn setup(
    addr: String,
    indices: Vec<usize>,
    skus: &[String],
    hot: Option<&str>,
    lines: usize,
    seed: u64,
) -> Result<(Conn, Vec<Prepared>), String> {
    let mut conn = Conn::new(addr);
    let mut carts = Vec::new();
    for i in indices {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
            ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            | 1);
        let created = call(&mut conn, "/api/carts", b"", 201).await?;
        let id = created["id"]
            .as_str()
            .ok_or("a cart without an id")?
            .to_owned();
        let mut chosen: Vec<&str> = hot.into_iter().collect();
        while chosen.len() < lines {
            let sku = skus[rng.below(skus.len())].as_str();
            if !chosen.contains(&sku) {
                chosen.push(sku);
            }
        }
        let postcode = POSTCODES[i % POSTCODES.len()];
        let mut ops: Vec<Value> = chosen
            .iter()
            .map(|sku| json!({"op": "add", "sku": sku, "quantity": 1}))
            .collect();
        ops.push(json!({"op": "set_address", "address": {"postcode": postcode}}));
        ops.push(json!({"op": "choose_delivery", "level": "standard"}));
        let body = json!({"version": created["version"], "ops": ops}).to_string();
        let view = call(
            &mut conn,
            &format!("/api/carts/{id}/ops"),
            body.as_bytes(),
            200,
        )
        .await?;
        carts.push(Prepared {
            cart_id: id,
            total: view["quote"]["total"].clone(),
            postcode,
            cart: view["cart"].clone(),
        });
    }
    Ok((conn, carts))
}

/// A setup request that must answer `expect`; its JSON body.
async fn call(conn: &mut Conn, path: &str, body: &[u8], expect: u16) -> Result<Value, String> {
    let (status, reply) = conn
        .request("POST", path, body)
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    if status != expect {
        let text = String::from_utf8_lossy(&reply);
        return Err(format!("{path}: HTTP {status}: {text}"));
    }
    serde_json::from_slice(&reply).map_err(|e| format!("{path}: {e}"))
}

/// Latencies (µs) of placements and errors by kind.
#[derive(Default)]
struct Tally {
    placed: Vec<u32>,
    failed: Vec<u32>,
    errors: BTreeMap<String, u64>,
    /// The first answer of each kind of error, to show what it was.
    first: BTreeMap<String, String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.placed.extend(other.placed);
        self.failed.extend(other.failed);
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in other.first {
            self.first.entry(k).or_insert(v);
        }
    }
}

/// Places this connection's carts one after another until they are done or time is up.
async fn place(mut conn: Conn, carts: Vec<Prepared>, seed: u64, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    for (n, cart) in carts.iter().enumerate() {
        if Instant::now() >= deadline {
            break;
        }
        let body = json!({
            "cart_id": cart.cart_id,
            "expected_total": cart.total,
            "contact": {"name": format!("Bench Shopper {n}"), "email": format!("bench{n}@example.com")},
            "shipping_address": {
                "name": format!("Bench Shopper {n}"),
                "street": ["Benchstraße 1"],
                "postcode": cart.postcode,
                "city": "Berlin",
                "country": "DE",
            },
            "payment": {"provider": "test", "token": CARD},
        })
        .to_string();
        let key = format!("bench-{seed}-{}", cart.cart_id);
        let headers = [(omnicart_api::IDEMPOTENCY_KEY, key.as_str())];
        let start = Instant::now();
        let answer = conn
            .request_with("POST", "/api/checkout", &headers, body.as_bytes())
            .await;
        let micros = start.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let error = match answer {
            Err(e) => Some((format!("io: {}", e.kind()), String::new())),
            Ok((201, _)) => None,
            Ok((status, body)) => Some((
                format!("{status} {}", error_code(&body)),
                String::from_utf8_lossy(&body).chars().take(300).collect(),
            )),
        };
        match error {
            None => tally.placed.push(micros),
            Some((e, body)) => {
                tally.failed.push(micros);
                *tally.errors.entry(e.clone()).or_default() += 1;
                tally.first.entry(e).or_insert(body);
            }
        }
    }
    tally
}

/// Mean microseconds per re-quote of the sampled carts, as the server prices a guest's cart
/// at placement (its snapshot, the anonymous context at now, the cart's destination).
fn requote_micros(catalogue: &str, sample: &[Value]) -> Result<f64, String> {
    let snapshot = Snapshot::from_json(catalogue).map_err(|e| format!("catalogue: {e}"))?;
    let carts: Vec<Cart> = sample
        .iter()
        .map(|c| serde_json::from_value(c.clone()).map_err(|e| format!("a cart: {e}")))
        .collect::<Result<_, _>>()?;
    let now = Timestamp::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    );
    let context = Profile::anonymous().quote_context(now);
    let (mut quotes, t0) = (0u64, Instant::now());
    while t0.elapsed() < Duration::from_secs(2) {
        for cart in &carts {
            let destination: &Destination = cart.address().ok_or("a cart without an address")?;
            quote_with_delivery(&snapshot, cart, &context, destination, now)
                .map_err(|e| format!("re-quote: {e:?}"))?;
            quotes += 1;
        }
    }
    Ok(t0.elapsed().as_secs_f64() * 1e6 / quotes.max(1) as f64)
}

/// Prints the results; returns whether the run is valid (no errors).
fn report(args: &Args, t: &mut Tally, elapsed: f64, usage: &UsageDelta, requote: f64) -> bool {
    t.placed.sort_unstable();
    let errors: u64 = t.errors.values().sum();
    let orders = t.placed.len();
    let rate = orders as f64 / elapsed;
    let p = |q: f64| percentile(&t.placed, q);
    let hot = args.hot.as_deref().unwrap_or("-");
    println!(
        "checkout_load {}: {} lines per cart, hot SKU {hot}, {} connections, {elapsed:.1} s",
        args.label, args.lines, args.connections
    );
    println!("  orders     {orders} placed, {rate:.0}/s");
    println!(
        "  latency ms p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        p(50.0),
        p(90.0),
        p(99.0),
        p(100.0)
    );
    let per_order = usage
        .server
        .filter(|_| orders > 0)
        .map(|s| s * 1e6 / orders as f64);
    let share = per_order.map_or("-".to_owned(), |cpu| {
        format!("{:.0}%", requote / cpu * 100.0)
    });
    let per_order_text = per_order.map_or("-".to_owned(), |cpu| format!("{cpu:.0}"));
    println!(
        "  re-quote   {requote:.0} µs per cart (engine, this client); server CPU per order {per_order_text} µs; share {share}"
    );
    let server = usage.server.map_or("-".to_owned(), |s| format!("{s:.2}"));
    let other = (usage.machine_busy - usage.server.unwrap_or(0.0) - usage.postgres - usage.client)
        .max(0.0)
        / elapsed;
    println!(
        "  cpu s      server {server}, postgres processes {:.2}, client {:.2}; {:.2} cores busy, other processes ≈ {other:.2} cores",
        usage.postgres,
        usage.client,
        usage.machine_busy / elapsed
    );
    if errors == 0 {
        println!("  errors     none");
    } else {
        println!("  errors     {errors} — INVALID RUN");
        for (kind, count) in &t.errors {
            println!("    {count:>8}  {kind}");
            println!("              first: {}", t.first[kind]);
        }
    }
    println!(
        "summary label={} lines={} hot={hot} connections={} seconds={elapsed:.1} orders={orders} orders_s={rate:.0} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={errors} requote_us={requote:.0} server_cpu_us_per_order={per_order_text} requote_share={share} server_cpu_s={server} postgres_cpu_s={:.2} cores_busy={:.2} other_cores={other:.2}",
        args.label,
        args.lines,
        args.connections,
        p(50.0),
        p(90.0),
        p(99.0),
        p(100.0),
        usage.postgres,
        usage.machine_busy / elapsed
    );
    errors == 0
}
