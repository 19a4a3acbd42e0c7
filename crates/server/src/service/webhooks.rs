//! Events to the retailer's other systems (issue 17): written to the outbox in the
//! transaction of the change they describe ([`order_event`], [`fulfilment_event`]; the
//! contract and the signature are `omnicart_api::events`), and delivered after it by the
//! dispatcher ([`dispatch_due`], [`spawn_dispatcher`]) to every endpoint of
//! `OMNICART_WEBHOOK_URLS`.
//!
//! **The rules.**
//! - *Exactly what committed.* An event is a row of the change's own transaction: a
//!   rolled-back change emits nothing, and a process killed after the commit leaves the event
//!   for the next dispatcher (this process's after a restart, or another's).
//! - *At least once.* A delivery is marked delivered only on a 2xx answer; anything else
//!   (another status, a refused connection, no answer within [`SEND_TIMEOUT`]) is tried
//!   again with the same id and body, after [`Webhooks::retry_delay`] (the base, doubled per
//!   failure, at most [`MAX_RETRY_MS`]). After `max_attempts` failures the delivery is dead
//!   (the dead-letter state) until `POST /api/integration/events/{id}/replay`.
//! - *Per-order order.* An order's next event to an endpoint waits until the one before it
//!   is delivered (or dead): a receiver sees `sequence` 1, 2, 3 … of an order in turn, while
//!   other orders' events go ahead. Several dispatchers (processes) claim a delivery before
//!   sending it, so it is in flight once at a time.
//! - *Signed.* `omnicart-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
//!   under `OMNICART_WEBHOOK_SECRET` ([`signature`]).

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use omnicart_api::events::{EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER};
use omnicart_api::{FulfilmentOrderView, OrderEventData};
use omnicart_order::Order;
use sha2::Sha256;
use tokio::task::JoinSet;

use crate::error::AppError;
use crate::ids::{hex, now_unix};
use crate::service::orders::order_view;
use crate::store::outbox::{self, Due, NewEvent, Outcome, now_ms};
use crate::store::{Db, StoreError, WriteTx};

/// How long a receiver has to answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a dispatcher holds a claimed delivery: longer than a send can take.
const CLAIM_MS: i64 = 15_000;
/// The longest wait between two attempts.
pub const MAX_RETRY_MS: i64 = 3_600_000;
/// Deliveries sent per round, at once (each to a different order or endpoint).
const BATCH: i64 = 64;
/// How often a dispatcher looks for due deliveries when nothing woke it (events written by
/// another process, retries coming due).
const POLL: Duration = Duration::from_millis(500);

/// The webhook configuration (`OMNICART_WEBHOOK_*`, [`crate::config`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhooks {
    pub urls: Vec<String>,
    pub secret: String,
    /// Attempts before a delivery is dead.
    pub max_attempts: i64,
    /// The wait after the first failure, in milliseconds.
    pub retry_base_ms: i64,
}

impl Webhooks {
    /// Milliseconds before the next try of a delivery that failed `attempts` times (this one
    /// included): the base, doubled per failure after the first, at most [`MAX_RETRY_MS`].
    pub fn retry_delay(&self, attempts: i64) -> i64 {
        let doublings = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(30);
        self.retry_base_ms
            .saturating_mul(1 << doublings)
            .min(MAX_RETRY_MS)
    }
}

/// The data of an order's events.
pub fn order_data(order: &Order) -> Result<OrderEventData, StoreError> {
    Ok(OrderEventData {
        order: order_view(order),
        customer_id: order.customer_id.clone(),
        tax_lines: order
            .tax_lines()
            .map_err(|e| StoreError::Corrupt(format!("order tax lines: {e}")))?,
        captured: order.payment.captured(),
        refunded: order.payment.refunded(),
    })
}

/// Writes the order's event `kind` (`order.placed`, `order.cancelled`, `order.updated`, …)
/// in the change's transaction. [`crate::store::orders::update`] writes one for every change of
/// an order; placement writes `order.placed`.
pub async fn order_event(
    tx: &mut WriteTx,
    kind: &str,
    order_id: &str,
    order: &Order,
) -> Result<(), StoreError> {
    let data = order_data(order)?;
    outbox::append(
        tx,
        &NewEvent {
            kind,
            order_id,
            order_number: &order.number.to_string(),
            data: &data,
        },
    )
    .await?;
    Ok(())
}

/// Writes `fulfilment.<state>` for the fulfilment order in the change's transaction.
pub async fn fulfilment_event(
    tx: &mut WriteTx,
    order_id: &str,
    view: &FulfilmentOrderView,
) -> Result<(), StoreError> {
    let kind = format!("fulfilment.{}", view.state);
    outbox::append(
        tx,
        &NewEvent {
            kind: &kind,
            order_id,
            order_number: &view.order_number,
            data: view,
        },
    )
    .await?;
    Ok(())
}

/// Writes `return.<state>` for the return in the change's transaction (requested, received,
/// refund_failed, refunded).
pub async fn return_event(
    tx: &mut WriteTx,
    order_id: &str,
    view: &omnicart_api::ReturnView,
) -> Result<(), StoreError> {
    let kind = format!("return.{}", view.state);
    outbox::append(
        tx,
        &NewEvent {
            kind: &kind,
            order_id,
            order_number: &view.order_number,
            data: view,
        },
    )
    .await?;
    Ok(())
}

/// The signature header's value for `body` at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

/// What one round delivered: how many, and each one's delay from commit to delivery (ms).
#[derive(Debug, Default)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
    pub delays_ms: Vec<i64>,
}

/// Sends the deliveries that are due, each claimed first, all of the round at once (they are
/// of different orders or endpoints, so order within an order holds).
pub async fn dispatch_due(
    db: &Db,
    client: &reqwest::Client,
    config: &Arc<Webhooks>,
) -> Result<Round, AppError> {
    let now = now_ms();
    let due = outbox::due(db, now, BATCH).await?;
    if due.is_empty() {
        return Ok(Round::default());
    }
    let mut sends = JoinSet::new();
    for due in outbox::claim(db, due, now, now + CLAIM_MS).await? {
        let client = client.clone();
        let config = Arc::clone(config);
        sends.spawn(async move {
            let result = send(&client, &config.secret, &due).await;
            (due, result, now_ms())
        });
    }
    let mut round = Round::default();
    let mut outcomes = Vec::new();
    while let Some(joined) = sends.join_next().await {
        let (due, result, at) = joined.map_err(AppError::internal)?;
        let outcome = match result {
            Ok(()) => {
                round.delivered += 1;
                round.delays_ms.push(at - due.created_ms);
                Outcome::Delivered(at)
            }
            Err(error) => {
                let attempts = due.attempts + 1;
                let dead = attempts >= config.max_attempts;
                tracing::warn!(
                    event = due.event_id,
                    url = due.url,
                    error,
                    attempts,
                    dead,
                    "webhook not delivered"
                );
                round.failed += 1;
                Outcome::Failed {
                    retry_at_ms: at + config.retry_delay(attempts),
                    dead,
                    error,
                }
            }
        };
        outcomes.push((due, outcome));
    }
    outbox::record(db, &outcomes).await?;
    Ok(round)
}

async fn send(client: &reqwest::Client, secret: &str, due: &Due) -> Result<(), String> {
    let answer = client
        .post(&due.url)
        .timeout(SEND_TIMEOUT)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature(secret, now_unix(), &due.body))
        .header(EVENT_ID_HEADER, &due.event_id)
        .header(EVENT_TYPE_HEADER, &due.kind)
        .body(due.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", answer.status()))
    }
}

/// Registers the configured endpoints, then delivers for as long as the process lives: at
/// once after a commit that wrote an event, else every [`POLL`].
pub async fn spawn_dispatcher(
    db: Db,
    config: Webhooks,
) -> Result<tokio::task::JoinHandle<()>, StoreError> {
    outbox::register_endpoints(&db, &config.urls).await?;
    let client = reqwest::Client::builder()
        .connect_timeout(SEND_TIMEOUT)
        .build()
        .map_err(|e| StoreError::Corrupt(format!("webhook client: {e}")))?;
    let config = Arc::new(config);
    Ok(tokio::spawn(async move {
        let woken = Arc::clone(db.events());
        loop {
            if db.pool().is_closed() {
                return;
            }
            match dispatch_due(&db, &client, &config).await {
                // A full round: there may be more at once.
                Ok(round) if round.delivered + round.failed > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(?e, "webhook dispatcher failed"),
            }
            let _ = tokio::time::timeout(POLL, woken.notified()).await;
        }
    }))
}

/// The events of the staff's list, newest first: of one order (its number) and with a
/// delivery in one state (`pending`, `delivered`, `dead`) when given.
pub async fn list(
    db: &Db,
    order: Option<&str>,
    state: Option<&str>,
) -> Result<omnicart_api::EventList, AppError> {
    if let Some(name) = state
        && !matches!(name, "pending" | "delivered" | "dead")
    {
        return Err(AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            omnicart_api::code::UNKNOWN_STATE,
            format!("{name:?} is not a delivery's state (pending, delivered or dead)"),
        ));
    }
    let order_id = match order {
        Some(number) => match crate::store::orders::by_number(db, number).await? {
            Some(row) => Some(row.id),
            None => return Ok(omnicart_api::EventList { events: Vec::new() }),
        },
        None => None,
    };
    let events = outbox::list(db, order_id.as_deref(), state, LIST_LIMIT).await?;
    Ok(omnicart_api::EventList { events })
}

/// Events listed at most.
const LIST_LIMIT: i64 = 200;

/// Makes every delivery of the event due again, with its id and body unchanged.
pub async fn replay(db: &Db, event_id: &str) -> Result<omnicart_api::EventRecord, AppError> {
    if !outbox::replay(db, event_id).await? {
        return Err(AppError::not_found("event"));
    }
    outbox::get(db, event_id)
        .await?
        .ok_or_else(|| AppError::not_found("event"))
}
