//! The shopper's messages beyond the confirmation (issue 17), all through the mail outbox in
//! the transaction of what they announce:
//!
//! - **Shipped and delivered**: a parcel's tracking when it ships, and a note when it arrives
//!   ([`on_fulfilment`], from `service::fulfilment::apply`); ready for pickup is
//!   `service::pickup`'s, refunds are the returns' own.
//! - **Abandoned-cart reminders** ([`remind_idle_carts`], run every [`REMIND_EVERY`]): a
//!   signed-in customer's cart with items, unchanged for `OMNICART_REMINDER_AFTER_MINUTES`,
//!   gets a reminder, and another after each further idle period, at most
//!   `OMNICART_REMINDER_MAX` while it stays unchanged; a change starts the count again.
//!   Placing the order empties the cart, so it gets none after; a customer who opted out gets
//!   none. Each reminder carries an unsubscribe link that works without signing in
//!   ([`unsubscribe`]). Two processes' reminders of one cart are counted once: the count is a
//!   conditional update in the mail's transaction.
//! - **The feedback survey** ([`invite`]): once an order is delivered or collected, one mail
//!   with a link to rate the order and its products; answered once ([`answer`]); answers are
//!   listed for staff.

use std::time::Duration;

use axum::http::StatusCode;
use omnicart_api::{
    SurveyAnswer, SurveyList, SurveyProduct, SurveyRecord, SurveyView, code,
    messages::MAX_COMMENT_CHARS,
};
use omnicart_engine::Cart;
use omnicart_order::{FulfilmentOrder, FulfilmentState, Order};

use crate::AppState;
use crate::error::AppError;
use crate::ids::{now_unix, session_token, sha256_hex};
use crate::service::mail::escape;
use crate::store::mail::{self, Mail};
use crate::store::messages as store;
use crate::store::{StoreError, WriteTx, parse_json};

/// How often the reminder sweep runs.
pub const REMIND_EVERY: Duration = Duration::from_secs(60);
/// Carts looked at per sweep.
const BATCH: i64 = 200;

/// The reminder settings (`OMNICART_REMINDER_*`) and the shop's address for links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminders {
    /// Seconds a cart stays unchanged before a reminder (and between two).
    pub idle_seconds: i64,
    /// Reminders at most while the cart stays unchanged (0: none).
    pub max: i64,
    /// The shop's address as shoppers reach it (`https://shop.example`), for the links.
    pub public_url: String,
}

/// The mail of a fulfilment order that just moved: shipped (with its tracking) or delivered.
pub async fn on_fulfilment(
    tx: &mut WriteTx,
    order_id: &str,
    order: &Order,
    f: &FulfilmentOrder,
) -> Result<(), StoreError> {
    let number = order.number.to_string();
    let (subject, text) = match (f.state(), f.parcel()) {
        (FulfilmentState::Shipped, Some(p)) => (
            format!("Order {number}: a parcel is on its way"),
            format!(
                "a parcel of your order {number} is on its way with {}: tracking number {}.",
                p.carrier, p.tracking_number
            ),
        ),
        (FulfilmentState::Delivered, _) => (
            format!("Order {number}: a parcel was delivered"),
            format!("a parcel of your order {number} was delivered."),
        ),
        _ => return Ok(()),
    };
    let mail = Mail {
        recipient: order.contact.email.clone(),
        subject,
        html: format!("<p>{}</p>", escape(&text)),
        text: format!("Hello {},\n\n{text}\n", order.contact.name),
    };
    mail::insert(tx, order_id, &mail).await
}

/// Sends the order's feedback survey, once: when it is delivered or collected.
pub async fn invite(
    tx: &mut WriteTx,
    public_url: &str,
    order_id: &str,
    order: &Order,
) -> Result<(), StoreError> {
    let token = session_token();
    if !store::insert_survey(tx, order_id, &sha256_hex(token.as_bytes()), now_unix()).await? {
        return Ok(());
    }
    let number = order.number.to_string();
    let link = format!("{public_url}/survey?token={token}");
    let mail = Mail {
        recipient: order.contact.email.clone(),
        subject: format!("How was your order {number}?"),
        text: format!(
            "Hello {},\n\nhow did we do? Rate your order {number} and what you bought:\n{link}\n",
            order.contact.name
        ),
        html: format!(
            "<p>How did we do? <a href=\"{}\">Rate your order {number}</a> and what you bought.</p>",
            escape(&link)
        ),
    };
    mail::insert(tx, order_id, &mail).await
}

/// One sweep: reminds each idle cart that is due one; how many reminders were written.
pub async fn remind_idle_carts(
    state: &AppState,
    settings: &Reminders,
    now: i64,
) -> Result<usize, AppError> {
    if settings.max == 0 {
        return Ok(0);
    }
    let mut sent = 0;
    for cart in store::idle_carts(&state.db, now - settings.idle_seconds, BATCH).await? {
        let due = cart.sent < settings.max
            && (cart.sent == 0 || cart.last_sent_at <= now - settings.idle_seconds);
        if !due {
            continue;
        }
        let body: Cart = parse_json(&cart.body, "cart body")?;
        if body.is_empty() {
            continue;
        }
        let mut tx = state.db.begin_write().await?;
        if !store::count_reminder(&mut tx, &cart, now).await? {
            continue;
        }
        let token = session_token();
        store::insert_unsubscribe(&mut tx, &sha256_hex(token.as_bytes()), &cart.customer_id)
            .await?;
        let mail = reminder(state, settings, &cart, &body, &token);
        mail::insert_unordered(&mut tx, &mail).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

fn reminder(
    state: &AppState,
    settings: &Reminders,
    cart: &store::IdleCart,
    body: &Cart,
    token: &str,
) -> Mail {
    let snapshot = &state.catalogue.snapshot;
    let items: Vec<String> = body
        .lines()
        .iter()
        .map(|l| format!("{} x {}", l.quantity.get(), snapshot.display_name(&l.sku)))
        .collect();
    let base = &settings.public_url;
    let unsubscribe = format!("{base}/unsubscribe?token={token}");
    Mail {
        recipient: cart.email.clone(),
        subject: "Your cart is waiting".into(),
        text: format!(
            "Hello {},\n\nyou left these in your cart:\n{}\n\nYour cart: {base}/cart\n\n\
             No more of these reminders: {unsubscribe}\n",
            cart.name,
            items.join("\n")
        ),
        html: format!(
            "<p>You left these in your cart:</p><ul>{}</ul><p><a href=\"{}/cart\">Your cart</a></p>\
             <p><small><a href=\"{}\">No more of these reminders</a></small></p>",
            items
                .iter()
                .map(|i| format!("<li>{}</li>", escape(i)))
                .collect::<String>(),
            escape(base),
            escape(&unsubscribe)
        ),
    }
}

/// Runs [`remind_idle_carts`] every [`REMIND_EVERY`] for as long as the process lives.
pub fn spawn_reminders(state: AppState, settings: Reminders) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REMIND_EVERY);
        loop {
            every.tick().await;
            match remind_idle_carts(&state, &settings, now_unix()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reminders = n, "cart reminders written"),
                Err(e) => tracing::warn!(error = ?e, "cart reminder sweep failed"),
            }
        }
    })
}

/// `POST /api/unsubscribe`: no more reminders to the link's customer.
pub async fn unsubscribe(state: &AppState, token: &str) -> Result<(), AppError> {
    if store::opt_out(&state.db, &sha256_hex(token.trim().as_bytes()), now_unix()).await? {
        Ok(())
    } else {
        Err(AppError::not_found("unsubscribe link"))
    }
}

/// The order of a survey link, and whether it was answered; 404 for an unknown link.
async fn surveyed(state: &AppState, token: &str) -> Result<(Order, bool), AppError> {
    let not_found = || AppError::not_found("survey");
    let (order_id, answered) = store::survey(&state.db, &sha256_hex(token.as_bytes()))
        .await?
        .ok_or_else(not_found)?;
    let number = crate::store::orders::number_of(&state.db, &order_id).await?;
    let row = crate::store::orders::by_number(&state.db, &number)
        .await?
        .ok_or_else(not_found)?;
    Ok((row.order, answered))
}

fn products(order: &Order) -> Vec<SurveyProduct> {
    order
        .lines
        .iter()
        .filter(|l| !l.gift)
        .map(|l| SurveyProduct {
            sku: l.sku.to_string(),
            name: l.name.clone(),
        })
        .collect()
}

/// `GET /api/surveys/{token}`.
pub async fn read(state: &AppState, token: &str) -> Result<SurveyView, AppError> {
    let (order, answered) = surveyed(state, token).await?;
    Ok(SurveyView {
        order_number: order.number.to_string(),
        products: products(&order),
        answered,
    })
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::INVALID_REQUEST,
        message,
    )
}

/// `POST /api/surveys/{token}`: ratings 1 to 5, comments of at most
/// [`MAX_COMMENT_CHARS`], products of the order only, each once.
pub async fn answer(state: &AppState, token: &str, answer: &SurveyAnswer) -> Result<(), AppError> {
    let (order, _) = surveyed(state, token).await?;
    let ok_rating = |r: u8| (1..=5).contains(&r);
    let ok_comment = |c: &str| c.chars().count() <= MAX_COMMENT_CHARS;
    if !ok_rating(answer.rating) || !ok_comment(&answer.comment) {
        return Err(invalid(format!(
            "a rating is 1 to 5 and a comment at most {MAX_COMMENT_CHARS} characters"
        )));
    }
    let bought = products(&order);
    let mut seen = std::collections::HashSet::new();
    for p in &answer.products {
        if !bought.iter().any(|b| b.sku == p.sku) || !seen.insert(&p.sku) {
            return Err(invalid(format!(
                "{} is not a product of this order, or twice",
                p.sku
            )));
        }
        if !ok_rating(p.rating) || !ok_comment(&p.comment) {
            return Err(invalid(format!("{}: a rating is 1 to 5", p.sku)));
        }
    }
    let json = serde_json::to_string(answer).map_err(AppError::internal)?;
    if store::answer(&state.db, &sha256_hex(token.as_bytes()), &json, now_unix()).await? {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::CONFLICT,
            code::ALREADY_ANSWERED,
            "this order's survey was answered already: thank you",
        ))
    }
}

/// `GET /api/integration/surveys`: the answers, newest first (at most 500).
pub async fn answers(state: &AppState) -> Result<SurveyList, AppError> {
    let mut surveys = Vec::new();
    for (order_number, answered_at, json) in store::answers(&state.db, 500).await? {
        surveys.push(SurveyRecord {
            order_number,
            answered_at,
            answer: parse_json(&json, "survey answer")?,
        });
    }
    Ok(SurveyList { surveys })
}
