//! The mail outbox delivered through SMTP (`lettre`), to a small SMTP server on loopback run
//! by the test: a placed order's confirmation arrives once, to the shopper, with the order
//! number and the engine's tax lines; a relay that refuses (4xx) or drops the connection
//! leaves the mail in the outbox until its retry time, and a later round sends it; two
//! senders at once send each mail once.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::{TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_server::AppState;
use omnicart_server::config::Config;
use omnicart_server::service::mail::{Mailer, deliver_pending};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// How the test's SMTP server treats each connection.
#[derive(Clone, Copy)]
enum Relay {
    /// Takes every mail.
    Accept,
    /// Refuses every mail for now: `451` to `MAIL FROM`.
    Refuse,
    /// Closes the connection before its greeting.
    Drop,
}

/// A mail as the SMTP server received it.
#[derive(Debug)]
struct Received {
    to: Vec<String>,
    data: String,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// The mails received since the last call.
fn received(inbox: &Inbox) -> Vec<Received> {
    std::mem::take(&mut *inbox.lock().unwrap())
}

/// Starts an SMTP server on a free loopback port; its `smtp://` URL and what it receives.
async fn smtp_server(relay: Relay) -> (String, Inbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let inbox = Inbox::default();
    let received = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            if !matches!(relay, Relay::Drop) {
                tokio::spawn(session(socket, relay, received.clone()));
            }
        }
    });
    (url, inbox)
}

/// One SMTP session (RFC 5321's commands a client sends without TLS or AUTH).
async fn session(socket: tokio::net::TcpStream, relay: Relay, inbox: Inbox) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
    if !reply("220 test.invalid ESMTP\r\n").await {
        return;
    }
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-test.invalid\r\n250 8BITMIME\r\n",
            "HELO" | "RSET" | "NOOP" => "250 OK\r\n",
            "MAIL" if matches!(relay, Relay::Refuse) => "451 4.3.0 try again later\r\n",
            "MAIL" => "250 OK\r\n",
            "RCPT" => {
                let address = line.split_once(':').map_or("", |(_, a)| a.trim());
                to.push(address.trim_matches(['<', '>']).to_owned());
                "250 OK\r\n"
            }
            "DATA" => {
                reply("354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    // Dot-stuffing undone (RFC 5321 4.5.2).
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push('\n');
                }
                let to = std::mem::take(&mut to);
                inbox.lock().unwrap().push(Received { to, data });
                "250 queued\r\n"
            }
            "QUIT" => {
                reply("221 bye\r\n").await;
                return;
            }
            _ => "502 not implemented\r\n",
        };
        if !reply(answer).await {
            return;
        }
    }
}

/// The server's mailer as `OMNICART_SMTP_URL=url` configures it.
fn mailer(url: &str) -> Mailer {
    let config =
        Config::from_lookup(|name| (name == "OMNICART_SMTP_URL").then(|| url.to_owned())).unwrap();
    assert_eq!(config.smtp_url.as_deref(), Some(url));
    Mailer::from_config(&config).unwrap()
}

/// The demo catalogue with installation at a reduced rate, so an invoice has two rates.
async fn app() -> (TestApp, AppState) {
    app_with_catalogue(|j| {
        let rates = j["pricing"]["tax_rates"].as_array_mut().unwrap();
        rates.push(json!({"region": "DE", "tax_class": "reduced", "rate": "0.07"}));
        for product in j["products"].as_array_mut().unwrap() {
            let installs = product["variants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["sku"] == "SVC-INSTALL-TV");
            if installs {
                product["tax_class"] = json!("reduced");
            }
        }
    })
    .await
}

/// A guest order of `sku` (with installation when `installed`), delivered to Berlin; the
/// checkout's reply.
async fn order(app: &TestApp, sku: &str, install: bool) -> Value {
    let cart = app.anonymous_cart().await;
    let mut ops = vec![
        json!({"op": "add", "sku": sku, "quantity": 1}),
        json!({"op": "set_address", "address": {"postcode": "10115"}}),
        json!({"op": "choose_delivery", "level": "standard"}),
    ];
    if install {
        ops.push(json!({"op": "attach_service", "sku": sku, "service": "SVC-INSTALL-TV"}));
    }
    app.edit_now(&cart, &Value::from(ops), None).await;
    let total = app.server_total(&cart, None).await;
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(&format!("order-{cart}"), &body, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json
}

/// The invoice lines the order's own lines give: "VAT 19% (included): 219.49 EUR", by rate.
fn expected_tax_lines(order: &Value) -> Vec<String> {
    let mut by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for line in order["lines"].as_array().unwrap() {
        let rate: Decimal = line["tax_rate"].as_str().unwrap().parse().unwrap();
        let tax: Decimal = line["tax"]["amount"].as_str().unwrap().parse().unwrap();
        *by_rate.entry(rate).or_default() += tax;
    }
    let sum: Decimal = by_rate.values().sum();
    let total: Decimal = order["totals"]["tax_total"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(sum, total, "the order's lines add up to its tax total");
    by_rate
        .into_iter()
        .filter(|(_, tax)| !tax.is_zero())
        .map(|(rate, tax)| {
            let percent = (rate * Decimal::ONE_HUNDRED).normalize();
            format!("VAT {percent}% (included): {tax} EUR")
        })
        .collect()
}

async fn unsent(state: &AppState) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL")
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_confirmation_arrives_once_by_smtp_with_the_engines_tax_lines() {
    let (app, state) = app().await;
    let (url, inbox) = smtp_server(Relay::Accept).await;
    let smtp = mailer(&url);
    let placed = order(&app, "LUM-OLED-C4-55", true).await;
    let order = &placed["order"];
    let number = order["number"].as_str().unwrap();
    let taxes = expected_tax_lines(order);
    assert_eq!(taxes.len(), 2, "two rates: {taxes:?}");

    assert_eq!(deliver_pending(&state.db, &smtp).await.unwrap(), 1);
    assert_eq!(deliver_pending(&state.db, &smtp).await.unwrap(), 0);
    let inbox = received(&inbox);
    assert_eq!(inbox.len(), 1, "sent once: {inbox:?}");
    let mail = &inbox[0];
    assert_eq!(mail.to, ["shopper@example.com"]);
    assert!(
        mail.data.contains("To: shopper@example.com"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains(&format!("Subject: Your order {number}")),
        "{}",
        mail.data
    );
    for line in &taxes {
        assert!(mail.data.contains(line), "{line}\n{}", mail.data);
    }
    let tax = order["totals"]["tax_total"]["amount"].as_str().unwrap();
    assert!(mail.data.contains(&format!("Tax total: {tax} EUR")));
    assert_eq!(unsent(&state).await, 0);
}

/// The outbox's retry times reached, as if the retry delay had passed.
async fn time_passes(state: &AppState) {
    sqlx::query("UPDATE mail_outbox SET next_attempt_at = 0 WHERE sent_at IS NULL")
        .execute(state.db.pool())
        .await
        .unwrap();
}

async fn attempts(state: &AppState) -> (i64, Option<String>) {
    sqlx::query_as("SELECT attempts, last_error FROM mail_outbox")
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_relay_that_refuses_or_hangs_up_leaves_the_mail_for_a_later_retry() {
    let (app, state) = app().await;
    let placed = order(&app, "SON-BEAM-30", false).await;
    let number = placed["order"]["number"].as_str().unwrap();
    let (url, inbox) = smtp_server(Relay::Accept).await;
    let good = mailer(&url);
    for (tried, relay) in [(1, Relay::Refuse), (2, Relay::Drop)] {
        time_passes(&state).await;
        let (url, refusing) = smtp_server(relay).await;
        assert_eq!(deliver_pending(&state.db, &mailer(&url)).await.unwrap(), 0);
        assert!(received(&refusing).is_empty());
        assert_eq!(unsent(&state).await, 1, "still in the outbox");
        let (count, error) = attempts(&state).await;
        assert_eq!(count, tried);
        assert!(error.is_some_and(|e| !e.is_empty()));
        // Not before its retry time, even with the relay back.
        assert_eq!(deliver_pending(&state.db, &good).await.unwrap(), 0);
    }
    time_passes(&state).await;
    assert_eq!(deliver_pending(&state.db, &good).await.unwrap(), 1);
    let inbox = received(&inbox);
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].data.contains(number));
    assert_eq!(unsent(&state).await, 0);
}

#[tokio::test]
async fn two_senders_at_once_send_each_mail_once() {
    let (app, state) = app().await;
    order(&app, "SON-BEAM-30", false).await;
    order(&app, "SON-BEAM-30", false).await;
    let (url, inbox) = smtp_server(Relay::Accept).await;
    let (a, b) = (mailer(&url), mailer(&url));
    let (sent_a, sent_b) = tokio::join!(
        deliver_pending(&state.db, &a),
        deliver_pending(&state.db, &b)
    );
    assert_eq!(sent_a.unwrap() + sent_b.unwrap(), 2);
    assert_eq!(received(&inbox).len(), 2, "each once");
    assert_eq!(unsent(&state).await, 0);
}

#[test]
fn a_failed_mail_waits_twice_as_long_each_time_up_to_an_hour() {
    use omnicart_server::service::mail::retry_delay;
    let delays: Vec<i64> = (0..6).map(retry_delay).collect();
    assert_eq!(delays, [10, 20, 40, 80, 160, 320]);
    assert_eq!(retry_delay(9), 3600);
    assert_eq!(retry_delay(i64::MAX), 3600);
}
