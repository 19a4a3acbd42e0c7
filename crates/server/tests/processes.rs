//! The built `omnicart-server` binary as separate processes over one database: two servers
//! on one PostgreSQL selling the last unit and sharing the wrong-password counts, and a
//! server killed with `kill -9` during a stream of checkouts, and one killed with events
//! committed but not yet delivered to a webhook receiver. Driven over loopback by a minimal HTTP/1.1 client; every process a
//! test starts is killed when its guard drops, even when the test fails.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use omnicart_api::checkout::test_cards;
use omnicart_server::AppState;
use omnicart_server::store::Db;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SKU: &str = "SON-BEAM-30";
/// How long a server may take to start on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `omnicart-server`, killed (SIGKILL) and reaped on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts the binary on a free loopback port over `database_url` with `catalogue`, and
    /// waits until it answers.
    async fn start(database_url: &str, catalogue: &std::path::Path) -> Server {
        Server::start_with(database_url, catalogue, &[]).await
    }

    /// [`Server::start`] with more variables set.
    async fn start_with(
        database_url: &str,
        catalogue: &std::path::Path,
        vars: &[(&str, &str)],
    ) -> Server {
        let addr = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_omnicart-server"))
            .envs(vars.iter().copied())
            .env("OMNICART_ADDR", addr.to_string())
            .env("DATABASE_URL", database_url)
            .env("OMNICART_CATALOGUE", catalogue)
            .env(
                "OMNICART_INSTALLERS",
                concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo-installers.json"),
            )
            .env("OMNICART_DIST", catalogue.with_file_name("no-dist"))
            .env("OMNICART_MAIL_DIR", catalogue.with_file_name("mail"))
            .env_remove("OMNICART_SMTP_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start omnicart-server");
        let mut server = Server { child, addr };
        let started = std::time::Instant::now();
        loop {
            if let Ok(reply) = call(addr, "GET", "/api/snapshot", None, &[]).await
                && reply.status == 200
            {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("omnicart-server exited: {status}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "omnicart-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: the process ends between any two instructions.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

struct Reply {
    status: u16,
    json: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// One request on its own connection (`Connection: close`), read to its end.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> std::io::Result<Reply> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await?;
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    Ok(Reply { status, json })
}

/// The demo catalogue with `units` of [`SKU`] at one warehouse, written beside the test.
fn catalogue(dir: &tempfile::TempDir, units: u32) -> std::path::PathBuf {
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(common::DEMO_CATALOGUE).unwrap()).unwrap();
    let stock = json["network"]["stock"].as_array_mut().unwrap();
    stock.retain(|s| s["sku"] != SKU);
    stock.push(json!({"sku": SKU, "location": "wh-bad-hersfeld", "on_hand": units}));
    let path = dir.path().join("catalogue.json");
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

/// A guest cart of one [`SKU`] for Berlin, and the checkout body with the server's total.
async fn ready_cart(addr: SocketAddr) -> String {
    let created = call(addr, "POST", "/api/carts", None, &[]).await.unwrap();
    assert_eq!(created.status, 201, "{:?}", created.json);
    let cart = created.json["id"].as_str().unwrap().to_owned();
    let ops = json!({"version": 1, "ops": [
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]});
    let path = format!("/api/carts/{cart}/ops");
    let edited = call(addr, "POST", &path, Some(&ops.to_string()), &[])
        .await
        .unwrap();
    assert_eq!(edited.status, 200, "{:?}", edited.json);
    let probe = body(&cart, &json!({"amount": "0.01", "currency": "EUR"}));
    let key = format!("probe-{cart}");
    let refused = call(
        addr,
        "POST",
        "/api/checkout",
        Some(&probe),
        &[("idempotency-key", &key)],
    )
    .await
    .unwrap();
    assert_eq!(refused.code(), "price_changed", "{:?}", refused.json);
    body(&cart, &refused.json["error"]["total"])
}

fn body(cart: &str, total: &Value) -> String {
    json!({
        "cart_id": cart,
        "expected_total": total,
        "contact": {"email": "shopper@example.com", "name": "A Shopper"},
        "shipping_address": {"name": "A Shopper", "street": ["Invalidenstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": test_cards::SUCCESS}
    })
    .to_string()
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

const ORPHAN_RESERVATIONS: &str = "SELECT COUNT(*) FROM stock_reservations r WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.attempt_id = r.attempt_id)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgresql_sell_the_last_unit_once() {
    if !common::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(&dir).await;
    let db = Db::connect(&url).await.unwrap();
    let catalogue = catalogue(&dir, 1);
    // One after the other: the first migrates and loads the stock, the second finds both.
    let first = Server::start(&url, &catalogue).await;
    let second = Server::start(&url, &catalogue).await;
    let servers = [first.addr, second.addr];
    let mut bodies = Vec::new();
    for i in 0..100 {
        let addr = servers[i % 2];
        bodies.push((addr, ready_cart(addr).await));
    }
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, (addr, body))| {
            tokio::spawn(async move {
                let key = format!("last-{i}");
                call(
                    addr,
                    "POST",
                    "/api/checkout",
                    Some(&body),
                    &[("idempotency-key", &key)],
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let (mut placed, mut out_of_stock) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match (reply.status, reply.code()) {
            (201, _) => placed += 1,
            (409, "out_of_stock") => out_of_stock += 1,
            (status, code) => panic!("{status} {code}: {:?}", reply.json),
        }
    }
    assert_eq!((placed, out_of_stock), (1, 99));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM orders").await, 1);
    let reserved = format!("SELECT reserved FROM stock WHERE sku = '{SKU}'");
    assert_eq!(count(&db, &reserved).await, 1);
    assert_eq!(count(&db, ORPHAN_RESERVATIONS).await, 0);
    drop((first, second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_every_answered_order_exists_with_its_reservations() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(&dir).await;
    let db = Db::connect(&url).await.unwrap();
    let catalogue = catalogue(&dir, 1000);
    let mut server = Server::start(&url, &catalogue).await;
    let addr = server.addr;
    let mut bodies = Vec::new();
    for _ in 0..60 {
        bodies.push(ready_cart(addr).await);
    }
    // Four streams of checkouts; the server is killed once ten orders have been answered.
    let (answered, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let streams: Vec<_> = bodies
        .chunks(15)
        .map(|chunk| {
            let (chunk, answered) = (chunk.to_vec(), answered.clone());
            tokio::spawn(async move {
                for (i, body) in chunk.iter().enumerate() {
                    let key = format!("stream-{i}");
                    let Ok(reply) = call(
                        addr,
                        "POST",
                        "/api/checkout",
                        Some(body),
                        &[("idempotency-key", &key)],
                    )
                    .await
                    else {
                        return;
                    };
                    if reply.status == 201 {
                        let _ = answered.send(reply.json);
                    }
                }
            })
        })
        .collect();
    drop(answered);
    let mut placed = Vec::new();
    while let Some(order) = answers.recv().await {
        placed.push(order);
        if placed.len() == 10 {
            server.kill();
        }
    }
    for stream in streams {
        stream.await.unwrap();
    }
    assert!(
        placed.len() >= 10,
        "only {} orders before the kill",
        placed.len()
    );
    let restarted = Server::start(&url, &catalogue).await;
    // The sweeper, once the killed process's attempts have expired.
    sqlx::query("UPDATE checkout_attempts SET expires_at = 0 WHERE state = 'reserved'")
        .execute(db.pool())
        .await
        .unwrap();
    let state = AppState::new(
        db.clone(),
        omnicart_server::catalogue::Catalogue::load(&catalogue).unwrap(),
    )
    .unwrap();
    omnicart_server::service::checkout::sweep(&state)
        .await
        .unwrap();
    for order in &placed {
        let number = order["order"]["number"].as_str().unwrap();
        let token = order["guest_token"].as_str().unwrap();
        let path = format!("/api/orders/{number}?token={token}");
        let opened = call(restarted.addr, "GET", &path, None, &[]).await.unwrap();
        assert_eq!(
            opened.status, 200,
            "order {number} answered 201: {:?}",
            opened.json
        );
        let held = format!(
            "SELECT COUNT(*) FROM stock_reservations r JOIN orders o ON o.attempt_id = r.attempt_id WHERE o.number = '{number}'"
        );
        assert_eq!(count(&db, &held).await, 1, "order {number} holds its unit");
    }
    assert_eq!(
        count(&db, ORPHAN_RESERVATIONS).await,
        0,
        "reservations without an order"
    );
    let reserved = format!("SELECT reserved FROM stock WHERE sku = '{SKU}'");
    let orders = count(&db, "SELECT COUNT(*) FROM orders").await;
    assert_eq!(
        count(&db, &reserved).await,
        orders,
        "one unit per order, none leaked"
    );
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgresql_share_the_sign_in_failure_counts() {
    if !common::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(&dir).await;
    let db = Db::connect(&url).await.unwrap();
    omnicart_server::seed_demo_customers(&db).await.unwrap();
    let catalogue = catalogue(&dir, 1);
    let first = Server::start(&url, &catalogue).await;
    let second = Server::start(&url, &catalogue).await;
    let sign_in = |addr, password: &str| {
        let body = json!({"email": common::MIKE.0, "password": password}).to_string();
        async move {
            call(addr, "POST", "/api/auth/sign-in", Some(&body), &[])
                .await
                .unwrap()
        }
    };
    // Six wrong passwords on one server, four on the other: ten from this address in all.
    for addr in [[first.addr; 6].as_slice(), &[second.addr; 4]].concat() {
        let reply = sign_in(addr, "not the password").await;
        assert_eq!(reply.code(), "invalid_credentials", "{:?}", reply.json);
    }
    // Each server alone has seen fewer than ten; both lock this address out.
    for addr in [first.addr, second.addr] {
        let locked = sign_in(addr, common::MIKE.1).await;
        assert_eq!(
            (locked.status, locked.code()),
            (429, "too_many_attempts"),
            "{:?}",
            locked.json
        );
    }
    // Ten failures and the two refused attempts, counted before their passwords were checked.
    let stored = "SELECT CAST(SUM(failures) AS BIGINT) FROM sign_in_failures";
    assert_eq!(count(&db, stored).await, 12);
    drop((first, second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_before_a_kill_9_are_delivered_after_the_restart() {
    use common::receiver::{Receiver, SECRET, receiver};
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(&dir).await;
    let db = Db::connect(&url).await.unwrap();
    let catalogue = catalogue(&dir, 100);
    let r = Receiver::default();
    // The receiver is down: every event is committed and none is delivered.
    r.down.store(true, Ordering::SeqCst);
    let hook = receiver(&r).await;
    let vars = [
        ("OMNICART_WEBHOOK_URLS", hook.as_str()),
        ("OMNICART_WEBHOOK_SECRET", SECRET),
        ("OMNICART_WEBHOOK_RETRY_MS", "50"),
    ];
    let mut server = Server::start_with(&url, &catalogue, &vars).await;
    for i in 0..3 {
        let body = ready_cart(server.addr).await;
        let key = format!("order-{i}");
        let placed = call(
            server.addr,
            "POST",
            "/api/checkout",
            Some(&body),
            &[("idempotency-key", &key)],
        )
        .await
        .unwrap();
        assert_eq!(placed.status, 201, "{:?}", placed.json);
    }
    server.kill();
    let written = count(&db, "SELECT COUNT(*) FROM outbox").await;
    assert!(
        written >= 6,
        "an order.placed and a fulfilment.open per order: {written}"
    );
    let delivered = "SELECT COUNT(*) FROM event_deliveries WHERE delivered_at IS NOT NULL";
    assert_eq!(count(&db, delivered).await, 0);
    let refused: std::collections::HashSet<String> = r
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.id.clone())
        .collect();
    r.down.store(false, Ordering::SeqCst);
    let _restarted = Server::start_with(&url, &catalogue, &vars).await;
    let started = std::time::Instant::now();
    while count(&db, delivered).await < written {
        assert!(
            started.elapsed() < START_TIMEOUT,
            "not delivered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = r.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|s| s.signed), "{seen:#?}");
    let accepted: Vec<_> = seen.iter().filter(|s| s.accepted).collect();
    let ids: std::collections::HashSet<&str> = accepted.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len() as i64, written, "every event once accepted");
    // A delivery tried before the kill comes again with the same id.
    assert!(
        refused.iter().all(|id| ids.contains(id.as_str())),
        "{refused:?}"
    );
}
