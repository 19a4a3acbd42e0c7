//! Load generator for cart sync: creates anonymous carts, then keeps C keep-alive
//! HTTP/1.1 connections busy pushing operations to `POST /api/carts/{id}/sync` (and pulling:
//! a sync with no operations) for a fixed time, and prints throughput, latency percentiles and
//! errors by status. Any error, or a reply whose cursor is not what the pushes make it, makes
//! the run invalid: the exit status is then 1. `scripts/bench-sync` drives it.
//!
//! ```text
//! cargo run --release -p omnicart-server --example sync_load -- --url http://127.0.0.1:8080 \
//!     --carts 1000 --connections 32 --duration 20 --ops-per-push 10
//! ```
//!
//! Each cart is one device: its own operation ids, hybrid-logical-clock stamps (so pushes take
//! the server's no-replay path, as a device pushing what it has just done does), cursor and
//! generation, and a model of its lines so edits are ones a shopper makes (add, change
//! quantity, remove, swap variant, coupons, delivery choice, address; at most 20 lines). Each
//! connection owns carts `i % C`, so a cart never has two syncs in flight. Closed loop: a
//! connection sends its next request when the answer to the last is in, so overload shows as
//! lower throughput with these latencies, not as a queue (no coordinated-omission correction).
//! The client is a small hand-written HTTP/1.1 client on one thread, to leave the other core to
//! the server; its CPU time is printed so it can be accounted for.

mod load;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use load::{Conn, Rng, Usage, UsageDelta, error_code, percentile};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

const USAGE: &str = "usage: sync_load --url http://HOST:PORT [--carts N] [--connections C] [--duration SECONDS]
                 [--ops-per-push K] [--pull-every P] [--prefill OPS] [--catalogue PATH] [--label TEXT]
                 [--late-every L] [--server-pid PID] [--seed N]
  --pull-every P   one request in P is a pull (a sync with no operations); 0: none (default 4)
  --late-every L   one push in L comes from a device that was offline: stamped 10 minutes ago,
                   so the server replays the cart's log instead of applying it on top; 0: none
  --prefill OPS    operations pushed to every cart before the timed run (log length per cart)
  --server-pid PID also report that process's CPU time during the timed run";

/// Most lines a generated cart holds (the engine allows 1,000; a shopper's cart has a few).
const MAX_LINES: usize = 20;

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("sync_load: {e}\n{USAGE}");
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
            eprintln!("sync_load: {e}");
            std::process::exit(1);
        }
    }
}

struct Args {
    addr: String,
    carts: usize,
    connections: usize,
    duration: Duration,
    ops_per_push: usize,
    pull_every: u64,
    late_every: u64,
    prefill: usize,
    catalogue: String,
    label: String,
    server_pid: Option<u32>,
    seed: u64,
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            addr: String::new(),
            carts: 1000,
            connections: 8,
            duration: Duration::from_secs(20),
            ops_per_push: 1,
            pull_every: 4,
            late_every: 0,
            prefill: 0,
            catalogue: "crates/server/data/demo-catalogue.json".into(),
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
                "--carts" => a.carts = number()? as usize,
                "--connections" => a.connections = number()? as usize,
                "--duration" => a.duration = Duration::from_secs(number()?),
                "--ops-per-push" => a.ops_per_push = number()? as usize,
                "--pull-every" => a.pull_every = number()?,
                "--late-every" => a.late_every = number()?,
                "--prefill" => a.prefill = number()? as usize,
                "--catalogue" => a.catalogue = value,
                "--label" => a.label = value,
                "--server-pid" => a.server_pid = Some(number()? as u32),
                "--seed" => a.seed = number()?,
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        if a.addr.is_empty() {
            return Err("--url is required".into());
        }
        if a.connections == 0 || a.carts < a.connections {
            return Err(
                "need at least one connection and at least as many carts as connections".into(),
            );
        }
        if !(1..=100).contains(&a.ops_per_push) {
            return Err("--ops-per-push is 1 to 100 (the server's limit per request)".into());
        }
        Ok(a)
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let catalogue = Catalogue::load(&args.catalogue)?;
    let started = Instant::now();
    let mut groups = Vec::new();
    for w in 0..args.connections {
        let (addr, carts, seed) = (
            args.addr.clone(),
            (w..args.carts)
                .step_by(args.connections)
                .collect::<Vec<_>>(),
            args.seed,
        );
        let (catalogue, prefill) = (catalogue.clone(), args.prefill);
        groups.push(tokio::spawn(async move {
            setup(addr, carts, seed, catalogue, prefill).await
        }));
    }
    let mut prepared = Vec::new();
    for g in groups {
        prepared.push(g.await.map_err(|e| e.to_string())??);
    }
    eprintln!(
        "sync_load: {} carts created{} in {:.1} s",
        args.carts,
        prefilled(args.prefill),
        started.elapsed().as_secs_f64()
    );

    let before = Usage::now(args.server_pid);
    let t0 = Instant::now();
    let deadline = t0 + args.duration;
    let mut workers = Vec::new();
    for (conn, devices) in prepared {
        let (catalogue, mix) = (
            catalogue.clone(),
            Mix {
                k: args.ops_per_push,
                pull_every: args.pull_every,
                late_every: args.late_every,
            },
        );
        workers.push(tokio::spawn(async move {
            work(conn, devices, catalogue, mix, deadline).await
        }));
    }
    let mut total = Tally::default();
    for w in workers {
        total.merge(w.await.map_err(|e| e.to_string())?);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let usage = Usage::now(args.server_pid).since(&before);
    Ok(report(&args, &mut total, elapsed, &usage))
}

fn prefilled(prefill: usize) -> String {
    if prefill == 0 {
        String::new()
    } else {
        format!(" and filled with {prefill} operations each")
    }
}

/// Creates this connection's carts and pushes `prefill` operations to each.
async fn setup(
    addr: String,
    carts: Vec<usize>,
    seed: u64,
    catalogue: Catalogue,
    prefill: usize,
) -> Result<(Conn, Vec<Device>), String> {
    let mut conn = Conn::new(addr);
    let mut devices = Vec::new();
    for i in carts {
        let (status, body) = conn
            .request("POST", "/api/carts", b"")
            .await
            .map_err(|e| format!("creating a cart: {e}"))?;
        if status != 201 {
            return Err(format!(
                "creating a cart: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let created: Value =
            serde_json::from_slice(&body).map_err(|e| format!("creating a cart: {e}"))?;
        let id = created["id"]
            .as_str()
            .ok_or("creating a cart: no id in the reply")?
            .to_owned();
        devices.push(Device::new(id, i, seed));
    }
    for device in &mut devices {
        let mut left = prefill;
        while left > 0 {
            let k = left.min(100);
            let outcome = device.sync(&mut conn, &catalogue, k, false).await;
            if let Err(e) = outcome.result {
                return Err(format!("prefilling cart {}: {e}", device.cart));
            }
            left -= k;
        }
    }
    Ok((conn, devices))
}

/// What a connection sends: `k` operations per push, one pull in `pull_every` requests, one
/// late push in `late_every` pushes (0: never).
#[derive(Clone, Copy)]
struct Mix {
    k: usize,
    pull_every: u64,
    late_every: u64,
}

/// One connection's timed loop over its carts.
async fn work(
    mut conn: Conn,
    mut devices: Vec<Device>,
    catalogue: Catalogue,
    mix: Mix,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng(devices[0].rng.0 ^ 0x9e37_79b9_7f4a_7c15);
    let (mut requests, mut pushes) = (0u64, 0u64);
    while Instant::now() < deadline {
        let pick = rng.below(devices.len());
        let device = &mut devices[pick];
        let pull = mix.pull_every > 0 && requests % mix.pull_every == mix.pull_every - 1;
        let late = !pull && mix.late_every > 0 && pushes % mix.late_every == mix.late_every - 1;
        requests += 1;
        pushes += u64::from(!pull);
        let outcome = device
            .sync(&mut conn, &catalogue, if pull { 0 } else { mix.k }, late)
            .await;
        tally.add(pull, outcome);
    }
    tally
}

/// What the demo catalogue offers to edit a cart with.
#[derive(Clone)]
struct Catalogue {
    skus: std::sync::Arc<Vec<String>>,
    coupons: std::sync::Arc<Vec<String>>,
    pickups: std::sync::Arc<Vec<String>>,
    postcodes: std::sync::Arc<Vec<String>>,
}

impl Catalogue {
    fn load(path: &str) -> Result<Catalogue, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        let list = |items: &Value| items.as_array().cloned().unwrap_or_default();
        let skus: Vec<String> = list(&v["products"])
            .iter()
            .filter(|p| p["kind"] == "goods")
            .flat_map(|p| list(&p["variants"]))
            .filter_map(|variant| variant["sku"].as_str().map(str::to_owned))
            .collect();
        let coupons = list(&v["promotions"])
            .iter()
            .flat_map(|p| list(&p["conditions"]))
            .filter(|c| c["type"] == "coupon")
            .filter_map(|c| c["code"].as_str().map(str::to_owned))
            .collect();
        let pickups = list(&v["network"]["locations"])
            .iter()
            .filter(|l| l["pickup"] == true)
            .filter_map(|l| l["id"].as_str().map(str::to_owned))
            .collect();
        let postcodes = v["network"]["postcodes"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        if skus.len() < MAX_LINES + 1 {
            return Err(format!(
                "{path}: need at least {} goods SKUs, found {}",
                MAX_LINES + 1,
                skus.len()
            ));
        }
        let arc = std::sync::Arc::new;
        Ok(Catalogue {
            skus: arc(skus),
            coupons: arc(coupons),
            pickups: arc(pickups),
            postcodes: arc(postcodes),
        })
    }
}

/// One device's copy of a cart: where its sync stands, its clock, and what it believes the
/// cart holds (to make edits that make sense; the server's merge decides the real cart).
struct Device {
    cart: String,
    name: String,
    next_op: u64,
    clock: (u64, u32),
    cursor: i64,
    generation: i64,
    lines: Vec<(usize, u32)>,
    coupons: Vec<usize>,
    rng: Rng,
}

/// How one request went.
struct Outcome {
    latency: Duration,
    ops: usize,
    result: Result<(), String>,
}

#[derive(Deserialize)]
struct Reply {
    cursor: i64,
    generation: i64,
    ops: Vec<IgnoredAny>,
}

impl Device {
    fn new(cart: String, index: usize, seed: u64) -> Device {
        let rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
            ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            | 1);
        let name = format!("bench-{index}");
        Device {
            cart,
            name,
            next_op: 0,
            clock: (0, 0),
            cursor: 0,
            generation: 0,
            lines: Vec::new(),
            coupons: Vec::new(),
            rng,
        }
    }

    /// Pushes `k` new operations (a pull if 0) and checks the reply: the cursor moves by
    /// exactly `k` (this device is the cart's only writer) and, unless the log was compacted
    /// meanwhile, the reply carries exactly the `k` operations pushed. `late`: the operations
    /// come from this cart's other device, back online with edits made 10 minutes ago.
    async fn sync(
        &mut self,
        conn: &mut Conn,
        catalogue: &Catalogue,
        k: usize,
        late: bool,
    ) -> Outcome {
        let ops: Vec<Value> = (0..k).map(|_| self.operation(catalogue, late)).collect();
        let body =
            json!({"cursor": self.cursor, "generation": self.generation, "ops": ops}).to_string();
        let path = format!("/api/carts/{}/sync", self.cart);
        let start = Instant::now();
        let answer = conn.request("POST", &path, body.as_bytes()).await;
        let latency = start.elapsed();
        let result = match answer {
            Err(e) => Err(format!("io: {}", e.kind())),
            Ok((status, body)) if !(200..300).contains(&status) => {
                Err(format!("{status} {}", error_code(&body)))
            }
            Ok((_, body)) => self.check(&body, k),
        };
        Outcome {
            latency,
            ops: if result.is_ok() { k } else { 0 },
            result,
        }
    }

    fn check(&mut self, body: &[u8], k: usize) -> Result<(), String> {
        let reply: Reply =
            serde_json::from_slice(body).map_err(|e| format!("check: reply unreadable: {e}"))?;
        let expected = self.cursor + k as i64;
        let same_generation = reply.generation == self.generation;
        let (cursor, got) = (reply.cursor, reply.ops.len());
        self.cursor = reply.cursor;
        self.generation = reply.generation;
        if cursor != expected {
            return Err(format!("check: cursor {cursor}, expected {expected}"));
        }
        if same_generation && got != k {
            return Err(format!(
                "check: {got} operations in the reply, expected {k}"
            ));
        }
        Ok(())
    }

    /// A fresh operation, stamped later than every one before it (unless `late`).
    fn operation(&mut self, catalogue: &Catalogue, late: bool) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.clock = if now > self.clock.0 {
            (now, 0)
        } else {
            (self.clock.0, self.clock.1 + 1)
        };
        self.next_op += 1;
        let (op, seen) = self.edit(catalogue);
        let stamp = if late {
            json!({"ms": self.clock.0 - 600_000, "counter": self.clock.1, "device": format!("{}-offline", self.name)})
        } else {
            json!({"ms": self.clock.0, "counter": self.clock.1, "device": self.name})
        };
        json!({"id": format!("{}:{}", self.name, self.next_op), "stamp": stamp, "seen": seen, "op": op})
    }

    /// A shopper's edit, and for an add the quantity the line had. Roughly: 40 % add,
    /// 20 % quantity change, 12 % remove, 6 % swap variant, 10 % coupons, 12 % delivery/address.
    fn edit(&mut self, catalogue: &Catalogue) -> (Value, Option<u32>) {
        let roll = self.rng.below(100);
        let skus = &catalogue.skus;
        if self.lines.is_empty() || roll < 40 {
            return self.add(skus);
        }
        let line = self.rng.below(self.lines.len());
        let (sku, quantity) = self.lines[line];
        match roll {
            40..60 => {
                let q = 1 + self.rng.below(5) as u32;
                self.lines[line].1 = q;
                (
                    json!({"op": "set_quantity", "sku": skus[sku], "quantity": q}),
                    None,
                )
            }
            60..72 => {
                self.lines.swap_remove(line);
                (json!({"op": "remove", "sku": skus[sku]}), None)
            }
            72..78 => {
                let with = self.sku_not_in_cart(skus.len());
                self.lines[line] = (with, quantity);
                (
                    json!({"op": "replace", "sku": skus[sku], "with": skus[with]}),
                    None,
                )
            }
            78..88 => (self.coupon(&catalogue.coupons), None),
            88..96 if !catalogue.pickups.is_empty() && self.rng.below(3) == 0 => (
                json!({"op": "choose_delivery", "pickup": catalogue.pickups[self.rng.below(catalogue.pickups.len())]}),
                None,
            ),
            88..96 => {
                let level = ["standard", "express", "same_day", "scheduled"][self.rng.below(4)];
                (json!({"op": "choose_delivery", "level": level}), None)
            }
            _ if catalogue.postcodes.is_empty() => {
                (json!({"op": "set_address", "address": null}), None)
            }
            _ => (
                json!({"op": "set_address", "address": {"postcode": catalogue.postcodes[self.rng.below(catalogue.postcodes.len())]}}),
                None,
            ),
        }
    }

    /// Adds one more of a line (one in three) or a new line; a full cart loses a line instead.
    fn add(&mut self, skus: &[String]) -> (Value, Option<u32>) {
        if !self.lines.is_empty() && self.rng.below(3) == 0 {
            let line = self.rng.below(self.lines.len());
            let (sku, seen) = self.lines[line];
            if seen < 9 {
                self.lines[line].1 += 1;
                return (
                    json!({"op": "add", "sku": skus[sku], "quantity": 1}),
                    Some(seen),
                );
            }
        }
        if self.lines.len() >= MAX_LINES {
            let (sku, _) = self.lines.swap_remove(self.rng.below(self.lines.len()));
            return (json!({"op": "remove", "sku": skus[sku]}), None);
        }
        let sku = self.sku_not_in_cart(skus.len());
        let quantity = 1 + (self.rng.below(4) == 0) as u32;
        self.lines.push((sku, quantity));
        (
            json!({"op": "add", "sku": skus[sku], "quantity": quantity}),
            Some(0),
        )
    }

    fn sku_not_in_cart(&mut self, count: usize) -> usize {
        loop {
            let sku = self.rng.below(count);
            if self.lines.iter().all(|&(s, _)| s != sku) {
                return sku;
            }
        }
    }

    fn coupon(&mut self, codes: &[String]) -> Value {
        let unused: Vec<usize> = (0..codes.len())
            .filter(|c| !self.coupons.contains(c))
            .collect();
        if !self.coupons.is_empty() && (unused.is_empty() || self.rng.below(3) == 0) {
            let code = self.coupons.swap_remove(self.rng.below(self.coupons.len()));
            return json!({"op": "remove_coupon", "code": codes[code]});
        }
        match unused.get(self.rng.below(unused.len().max(1))) {
            Some(&code) => {
                self.coupons.push(code);
                json!({"op": "apply_coupon", "code": codes[code]})
            }
            None => json!({"op": "choose_delivery"}),
        }
    }
}

/// Latencies (µs) of pushes and of pulls, operations pushed, errors by kind.
#[derive(Default)]
struct Tally {
    push: Vec<u32>,
    pull: Vec<u32>,
    ops: u64,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, pull: bool, outcome: Outcome) {
        let micros = outcome.latency.as_micros().min(u32::MAX as u128) as u32;
        if pull {
            self.pull.push(micros)
        } else {
            self.push.push(micros)
        }
        self.ops += outcome.ops as u64;
        if let Err(e) = outcome.result {
            *self.errors.entry(e).or_default() += 1;
        }
    }

    fn merge(&mut self, other: Tally) {
        self.push.extend(other.push);
        self.pull.extend(other.pull);
        self.ops += other.ops;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

/// Prints the results; returns whether the run is valid (no errors).
fn report(args: &Args, t: &mut Tally, elapsed: f64, usage: &UsageDelta) -> bool {
    t.push.sort_unstable();
    t.pull.sort_unstable();
    let mut all: Vec<u32> = t.push.iter().chain(&t.pull).copied().collect();
    all.sort_unstable();
    let requests = all.len() as u64;
    let errors: u64 = t.errors.values().sum();
    let (ops_s, req_s) = (t.ops as f64 / elapsed, requests as f64 / elapsed);
    let p = |v: &[u32], q: f64| percentile(v, q);
    println!(
        "sync_load {}: {} carts, {} connections, {} ops per push, 1 pull in {}, 1 late push in {}, prefill {}, {:.1} s",
        args.label,
        args.carts,
        args.connections,
        args.ops_per_push,
        args.pull_every,
        args.late_every,
        args.prefill,
        elapsed
    );
    println!(
        "  requests   {requests} ({} pushes, {} pulls), {req_s:.0}/s",
        t.push.len(),
        t.pull.len()
    );
    println!("  operations {} pushed, {ops_s:.0}/s", t.ops);
    println!(
        "  latency ms p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        p(&all, 50.0),
        p(&all, 90.0),
        p(&all, 99.0),
        p(&all, 100.0)
    );
    println!(
        "    pushes   p50 {:.2}  p99 {:.2};  pulls p50 {:.2}  p99 {:.2}",
        p(&t.push, 50.0),
        p(&t.push, 99.0),
        p(&t.pull, 50.0),
        p(&t.pull, 99.0)
    );
    let server = usage.server.map_or("-".to_owned(), |s| format!("{s:.2}"));
    // Anything else busy on the machine meanwhile (other builds) makes the run noisy.
    let other = (usage.machine_busy - usage.server.unwrap_or(0.0) - usage.postgres - usage.client)
        .max(0.0)
        / elapsed;
    println!(
        "  cpu s      server {server}, postgres processes {:.2}, client {:.2}; machine {:.2} ({:.2} cores busy, other processes ≈ {other:.2} cores)",
        usage.postgres,
        usage.client,
        usage.machine_busy,
        usage.machine_busy / elapsed
    );
    if errors == 0 {
        println!("  errors     none");
    } else {
        println!("  errors     {errors} — INVALID RUN");
        for (kind, count) in &t.errors {
            println!("    {count:>8}  {kind}");
        }
    }
    println!(
        "summary label={} carts={} connections={} k={} pull_every={} late_every={} prefill={} seconds={elapsed:.1} requests={requests} ops={} ops_s={ops_s:.0} req_s={req_s:.0} \
         p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={errors} cores_busy={:.2} client_cpu_s={:.2} server_cpu_s={server} postgres_cpu_s={:.2} other_cores={other:.2}",
        args.label,
        args.carts,
        args.connections,
        args.ops_per_push,
        args.pull_every,
        args.late_every,
        args.prefill,
        t.ops,
        p(&all, 50.0),
        p(&all, 90.0),
        p(&all, 99.0),
        p(&all, 100.0),
        usage.machine_busy / elapsed,
        usage.client,
        usage.postgres
    );
    errors == 0
}
