//! Placement, `POST /api/checkout`: the cart priced again by the engine, stock and promotion
//! uses reserved, the payment authorized, the order created, the cart emptied; every request
//! idempotent by its key.
//!
//! **Three steps, so no provider call holds the database.** A provider takes hundreds of
//! milliseconds and SQLite has one writer, so the authorization runs outside any
//! transaction:
//! 1. *Reserve* (one transaction, holding the cart's lock): re-quote the cart with the
//!    server's snapshot, the caller's context, the promotions' uses counted in the
//!    database and the stock of the cart's SKUs as the database has it (one query;
//!    [`LiveStock`]), so the plan sources from where units are left; record a checkout
//!    attempt (one live attempt per cart); refuse a plan the stock read cannot cover
//!    (`out_of_stock`, with the backorder date incoming supply gives and the levels and
//!    stores still possible), then a total other than the one the shopper saw
//!    (`price_changed`); reserve the plan's units per stock record and claim one use (and
//!    the discount's budget) per limited promotion, each a conditional update, which decides
//!    (`out_of_stock`, `promotion_exhausted`). A refusal rolls everything back: nothing held.
//! 2. *Authorize* through the [`PaymentProvider`], keyed by the attempt's id, bounded by
//!    [`AUTHORIZE_TIMEOUT`].
//! 3. *Place* (one transaction): move the attempt to `ordered` only if it is still live and
//!    not expired, insert the order (a fresh random number on a collision), its
//!    confirmation with its invoice in the mail outbox ([`mail`]), its `order.placed` event
//!    in the outbox, the cart emptied through its operation log, and
//!    the idempotent answer. A decline releases the attempt; a timeout or a failure voids,
//!    then releases.
//!
//! **Invariants.** No reservation or claimed use without an order or a live attempt (one
//! younger than [`ATTEMPT_TTL_SECONDS`]); an authorization without an order is voided: by
//! the request that got it when step 3 fails, or by the [`sweep`] (at start and every
//! [`SWEEP_EVERY`]), which voids every expired live attempt's authorization and only then
//! releases what it holds. Step 3 and the sweeper move the attempt by conditional updates
//! with opposite expiry conditions, so exactly one of them wins. Money moves last: nothing is
//! authorized before stock and uses are held.
//!
//! **Challenges** (as Stripe's `requires_action`). The provider may answer step 2 with a
//! challenge for the shopper (a 3-D Secure step): the attempt stays live, holding its stock
//! and uses, its expiry moved to [`CHALLENGE_TTL_SECONDS`] from now (a person's time, not a
//! provider's) by a conditional update that loses to the sweeper, and what step 3 needs is
//! kept beside it (`checkout_challenges`); the answer is `202` with the challenge, stored
//! under the key in that transaction. [`complete`] (`POST /api/checkout/{id}/complete`,
//! the caller who started it only, with a key of its own) claims the challenge for its key,
//! so one completion runs and every other gets its stored answer; then, if the attempt is
//! still live, asks the provider for the challenge's answer and goes on as a checkout does
//! after step 2 (`settle`): step 3, or a decline (`authentication_failed`) releasing
//! everything. A completion after the sweeper released the attempt is `attempt_expired`;
//! the sweeper voids an abandoned challenge like any expired attempt, and a new checkout of
//! the cart by the same caller replaces one still waiting (`give_way`: claimed, voided,
//! released), so a closed page does not lock the cart for the challenge's ten minutes.
//!
//! **Idempotency** (as Stripe's): the key is claimed per caller (a customer, or for a guest
//! the cart) with the request's hash; the first answer is stored, a placed order's in the
//! transaction that creates it, a refusal's after it, and replayed byte for byte for
//! [`IDEMPOTENCY_KEY_TTL_SECONDS`]. Another body with the key is `idempotency_mismatch`; a
//! retry while the first runs is `in_progress`. A server failure (5xx) stores nothing: it
//! left nothing behind, so the retry runs again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use omnicart_api::checkout::{CHALLENGE_TTL_SECONDS, MAX_CHALLENGE_RESULT_BYTES};
use omnicart_api::checkout::{IDEMPOTENCY_KEY_TTL_SECONDS, MAX_FIELD_CHARS, MAX_STREET_LINES};
use omnicart_api::{
    Alternatives, CartView, ChallengeCompletion, ChallengeReply, CheckoutReply, CheckoutRequest,
    ShortLine, checkout::MAX_IDEMPOTENCY_KEY_BYTES, code,
};
use omnicart_engine::fulfilment::delivery::DeliveryQuote;
use omnicart_engine::fulfilment::{StockLevels, StockStatus};
use omnicart_engine::promotion::Amount;
use omnicart_engine::{
    Cart, CartOp, DeliveryChoice, Money, ProductKind, Quote, Usage, quote_with_delivery,
};
use omnicart_order::{Fulfilment, Order, OrderNumber, Placement, StockDemand};

use crate::AppState;
use crate::error::{AppError, Refusal};
use crate::ids::{now_millis, now_unix, random_id, session_token, sha256_hex};
use crate::payment::{Authorization, Authorize, Challenge, PaymentError, PaymentProvider};
use crate::service::orders::{order_view, trimmed_contact};
use crate::service::stock::{Available, LiveStock};
use crate::service::{Caller, carts, mail, webhooks};
use crate::store::challenges::{self, ChallengeRow, NewChallenge};
use crate::store::checkout::{self as held, NewAttempt, ORDERED, RELEASED, RESERVED};
use crate::store::idempotency::{self, Claim, Stored};
use crate::store::mail as store_mail;
use crate::store::orders::{self, NewOrder};
use crate::store::{WriteTx, cart_log};

/// How long an attempt may hold stock and uses before the sweeper releases it.
pub const ATTEMPT_TTL_SECONDS: i64 = 120;
/// The longest a provider's authorization may take (well inside the attempt's life).
pub const AUTHORIZE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the sweeper runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// Order numbers drawn before giving up (ten billion numbers: a second draw is rare).
const NUMBER_DRAWS: usize = 8;

/// An answer to send as it is (and as it was stored).
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

/// Loads stock and promotion usage from the catalogue if the database has none (once per
/// process; at start, and before the first checkout of an app built without it).
pub async fn prepare(state: &AppState) -> Result<(), AppError> {
    state
        .prepared
        .get_or_try_init(|| held::seed(&state.db, &state.catalogue.snapshot))
        .await?;
    Ok(())
}

/// `POST /api/checkout` with the idempotency key `key`.
pub async fn place(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    request: CheckoutRequest,
) -> Result<Answer, AppError> {
    let key = match key.map(str::trim) {
        Some(k) if !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_BYTES => k,
        _ => {
            let message =
                format!("send an Idempotency-Key header of 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes");
            return Err(AppError::new(
                StatusCode::BAD_REQUEST,
                code::IDEMPOTENCY_KEY_REQUIRED,
                message,
            ));
        }
    };
    prepare(state).await?;
    let scope = match &caller.customer_id {
        Some(id) => id.clone(),
        None => format!("cart:{}", request.cart_id),
    };
    let hash = sha256_hex(&serde_json::to_vec(&request).map_err(AppError::internal)?);
    let now = now_unix();
    match idempotency::claim(
        &state.db,
        &scope,
        key,
        &hash,
        now,
        now - IDEMPOTENCY_KEY_TTL_SECONDS,
    )
    .await?
    {
        Claim::Fresh => {}
        Claim::Answered { status, body } => {
            let status = StatusCode::from_u16(status).map_err(AppError::internal)?;
            return Ok(Answer { status, body });
        }
        Claim::Mismatch => {
            let message = "this Idempotency-Key was used with another request; use a new key";
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::IDEMPOTENCY_MISMATCH,
                message,
            ));
        }
        Claim::Running => {
            let message = "a request with this Idempotency-Key is still running";
            return Err(
                AppError::new(StatusCode::CONFLICT, code::IN_PROGRESS, message).with_retry_after(1),
            );
        }
    }
    let keyed = Keyed { scope: &scope, key };
    match attempt(state, caller, &request, &keyed).await {
        Ok(answer) => Ok(answer),
        Err(e) if e.status.is_server_error() || e.code == code::IN_PROGRESS => {
            idempotency::forget(&state.db, &scope, key).await?;
            Err(e)
        }
        Err(e) => {
            let status = e.status;
            let body = serde_json::to_string(&e.into_body(None)).map_err(AppError::internal)?;
            let mut tx = state.db.begin_write().await?;
            idempotency::answer(&mut tx, &scope, key, status.as_u16(), &body).await?;
            tx.commit().await?;
            Ok(Answer { status, body })
        }
    }
}

pub(crate) struct Keyed<'a> {
    pub(crate) scope: &'a str,
    pub(crate) key: &'a str,
}

/// What step 1 holds for the payment and the order.
struct Reserved {
    attempt_id: String,
    cart: Cart,
    quote: Quote,
    fulfilment: Fulfilment,
}

async fn attempt(
    state: &AppState,
    caller: &Caller,
    request: &CheckoutRequest,
    keyed: &Keyed<'_>,
) -> Result<Answer, AppError> {
    let provider = state
        .payments
        .get(&request.payment.provider)
        .cloned()
        .ok_or_else(|| {
            let message = format!("no payment provider {:?}", request.payment.provider);
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::UNKNOWN_PAYMENT_PROVIDER,
                message,
            )
        })?;
    check_contact(request)?;
    let reserved = match reserve(state, caller, request).await {
        Err(e)
            if e.code == code::IN_PROGRESS && give_way(state, caller, &request.cart_id).await? =>
        {
            reserve(state, caller, request).await?
        }
        reserved => reserved?,
    };
    let authorization = Authorize {
        key: reserved.attempt_id.clone(),
        amount: reserved.quote.total,
        token: request.payment.token.clone(),
    };
    let authorized = tokio::time::timeout(AUTHORIZE_TIMEOUT, provider.authorize(&authorization))
        .await
        .unwrap_or(Err(PaymentError::Timeout));
    let placing = Placing {
        caller,
        request,
        keyed,
        reserved: &reserved,
    };
    let paid = match authorized {
        Ok(Authorization::ActionRequired(challenge)) => {
            return await_challenge(state, provider.as_ref(), &placing, challenge).await;
        }
        Ok(Authorization::Authorized(_)) => Ok(()),
        Err(e) => Err(e),
    };
    settle(state, provider.as_ref(), &placing, paid).await
}

/// A checkout and what step 1 reserved for it: what step 3 places.
struct Placing<'a> {
    caller: &'a Caller,
    request: &'a CheckoutRequest,
    keyed: &'a Keyed<'a>,
    reserved: &'a Reserved,
}

/// What follows the provider's answer, for a checkout (step 2) and a challenge's completion
/// alike: authorized, step 3 (voided and released if it fails); declined, released; no
/// answer or a failure, voided and released.
async fn settle(
    state: &AppState,
    provider: &dyn PaymentProvider,
    placing: &Placing<'_>,
    paid: Result<(), PaymentError>,
) -> Result<Answer, AppError> {
    let attempt_id = &placing.reserved.attempt_id;
    match paid {
        Ok(()) => match create_order(state, placing).await {
            Ok(answer) => Ok(answer),
            Err(e) => {
                abandon(state, provider, attempt_id).await;
                Err(e)
            }
        },
        Err(PaymentError::Declined(reason)) => {
            let mut tx = state.db.begin_write().await?;
            held::release(&mut tx, attempt_id, RESERVED, RELEASED).await?;
            tx.commit().await?;
            let message = format!("the payment was declined ({reason})");
            let refusal = Refusal {
                reason: Some(reason),
                ..Refusal::default()
            };
            Err(AppError::new(
                StatusCode::PAYMENT_REQUIRED,
                code::PAYMENT_DECLINED,
                message,
            )
            .with_refusal(refusal))
        }
        Err(PaymentError::Timeout | PaymentError::Failed(_)) => {
            abandon(state, provider, attempt_id).await;
            let message = "the payment provider did not answer; nothing was charged";
            Err(AppError::new(
                StatusCode::GATEWAY_TIMEOUT,
                code::PAYMENT_TIMEOUT,
                message,
            ))
        }
    }
}

/// Voids the attempt's authorization, then releases what it holds. If the void fails the
/// attempt stays live, and the sweeper voids and releases it once it expires.
async fn abandon(state: &AppState, provider: &dyn PaymentProvider, attempt_id: &str) {
    if let Err(e) = provider.void(attempt_id).await {
        tracing::warn!(attempt_id, ?e, "void failed; the sweeper will retry");
        return;
    }
    let released = async {
        let mut tx = state.db.begin_write().await?;
        held::release(&mut tx, attempt_id, RESERVED, RELEASED).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = released.await {
        tracing::warn!(attempt_id, ?e, "release failed; the sweeper will retry");
    }
}

/// What a challenge keeps for step 3: the checkout and what step 1 reserved.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptPlacement {
    request: CheckoutRequest,
    cart: Cart,
    quote: Quote,
    fulfilment: Fulfilment,
}

/// A challenge of this caller's cart still waiting for the shopper (the page was closed, or
/// another card is tried) gives way to a new checkout that step 1 would otherwise refuse as
/// `in_progress`, as a new PaymentIntent replaces an abandoned one: claimed so no completion
/// runs, then voided and released (its completion answers `attempt_expired`). `true`: it
/// did. One a completion is running for is left alone.
async fn give_way(state: &AppState, caller: &Caller, cart_id: &str) -> Result<bool, AppError> {
    let Some(waiting) = challenges::waiting(&state.db, cart_id).await? else {
        return Ok(false);
    };
    let replaced = format!("replaced:{}", random_id(""));
    if waiting.customer_id != caller.customer_id
        || challenges::claim(&state.db, &waiting.attempt_id, &replaced)
            .await?
            .is_some()
    {
        return Ok(false);
    }
    let Some(provider) = state.payments.get(&waiting.provider) else {
        return Ok(false);
    };
    abandon(state, provider.as_ref(), &waiting.attempt_id).await;
    Ok(true)
}

/// Step 2 asked for a challenge: the attempt kept for the shopper (see the module docs) and
/// the challenge answered; voided and released if that fails (or the sweeper was first).
async fn await_challenge(
    state: &AppState,
    provider: &dyn PaymentProvider,
    placing: &Placing<'_>,
    challenge: Challenge,
) -> Result<Answer, AppError> {
    let kept = keep_for_challenge(state, placing, challenge).await;
    if kept.is_err() {
        abandon(state, provider, &placing.reserved.attempt_id).await;
    }
    kept
}

async fn keep_for_challenge(
    state: &AppState,
    placing: &Placing<'_>,
    challenge: Challenge,
) -> Result<Answer, AppError> {
    let reserved = placing.reserved;
    let now = now_unix();
    let expires_at = now + CHALLENGE_TTL_SECONDS;
    let reply = ChallengeReply {
        challenge: omnicart_api::Challenge {
            id: reserved.attempt_id.clone(),
            kind: challenge.kind.to_owned(),
            url: challenge.url,
            amount: reserved.quote.total,
            expires_at: omnicart_engine::Timestamp::from_unix(expires_at),
        },
    };
    let body = serde_json::to_string(&reply).map_err(AppError::internal)?;
    let placement = serde_json::to_string(&KeptPlacement {
        request: placing.request.clone(),
        cart: reserved.cart.clone(),
        quote: reserved.quote.clone(),
        fulfilment: reserved.fulfilment.clone(),
    })
    .map_err(AppError::internal)?;
    let mut tx = state.db.begin_write().await?;
    if !challenges::extend_attempt(&mut tx, &reserved.attempt_id, now, expires_at).await? {
        return Err(took_too_long());
    }
    let keyed = placing.keyed;
    let new = NewChallenge {
        attempt_id: &reserved.attempt_id,
        scope: keyed.scope,
        placement: &placement,
        now,
    };
    challenges::insert(&mut tx, &new).await?;
    let status = StatusCode::ACCEPTED;
    idempotency::answer(&mut tx, keyed.scope, keyed.key, status.as_u16(), &body).await?;
    tx.commit().await?;
    Ok(Answer { status, body })
}

/// `POST /api/checkout/{id}/complete`: the shopper's result of the challenge `id`, with the
/// idempotency key `key` (see the module docs).
pub async fn complete(
    state: &AppState,
    caller: &Caller,
    id: &str,
    key: Option<&str>,
    completion: ChallengeCompletion,
) -> Result<Answer, AppError> {
    let key = checked_key(key)?;
    if completion.result.is_empty() || completion.result.len() > MAX_CHALLENGE_RESULT_BYTES {
        let message = format!("result: 1 to {MAX_CHALLENGE_RESULT_BYTES} bytes");
        return Err(invalid(message));
    }
    let challenge = challenges::find(&state.db, id)
        .await?
        .filter(|c| c.customer_id == caller.customer_id)
        .ok_or_else(|| AppError::not_found("challenge"))?;
    let mut hashed = format!("complete {id} ").into_bytes();
    hashed.extend(serde_json::to_vec(&completion).map_err(AppError::internal)?);
    let keyed = Keyed {
        scope: &challenge.scope,
        key,
    };
    if let Some(first) = claim_key(state, &keyed, &sha256_hex(&hashed)).await? {
        return Ok(first);
    }
    match completed(state, caller, &challenge, &keyed, &completion.result).await {
        Ok(answer) => Ok(answer),
        Err(e) if e.status.is_server_error() || e.code == code::IN_PROGRESS => {
            challenges::unclaim(&state.db, id, key).await?;
            idempotency::forget(&state.db, keyed.scope, key).await?;
            Err(e)
        }
        Err(e) => keep_refusal(state, &keyed, e).await,
    }
}

/// A completion whose key is claimed: the challenge claimed for that key (or the answer of
/// the completion that has it), then, if the attempt still holds, the provider's answer
/// settled as a checkout's.
async fn completed(
    state: &AppState,
    caller: &Caller,
    challenge: &ChallengeRow,
    keyed: &Keyed<'_>,
    result: &str,
) -> Result<Answer, AppError> {
    let attempt_id = &challenge.attempt_id;
    if let Some(holder) = challenges::claim(&state.db, attempt_id, keyed.key).await? {
        return first_completion(state, challenge, keyed, &holder).await;
    }
    // Read again now that it is claimed: the sweeper may have released it since.
    let now = now_unix();
    let live = challenges::find(&state.db, attempt_id).await?;
    if !live.is_some_and(|c| c.live_at(now)) {
        return Err(attempt_expired());
    }
    let provider = state
        .payments
        .get(&challenge.provider)
        .cloned()
        .ok_or_else(|| AppError::internal(format!("no provider {:?}", challenge.provider)))?;
    let kept: KeptPlacement =
        serde_json::from_str(&challenge.placement).map_err(AppError::internal)?;
    let reserved = Reserved {
        attempt_id: attempt_id.clone(),
        cart: kept.cart,
        quote: kept.quote,
        fulfilment: kept.fulfilment,
    };
    let paid = tokio::time::timeout(AUTHORIZE_TIMEOUT, provider.complete(attempt_id, result))
        .await
        .unwrap_or(Err(PaymentError::Timeout))
        .map(|_reference| ());
    let placing = Placing {
        caller,
        request: &kept.request,
        keyed,
        reserved: &reserved,
    };
    settle(state, provider.as_ref(), &placing, paid).await
}

/// Another completion (its key `holder`) has the challenge: its answer, kept under this key
/// too; `in_progress` while it runs; `attempt_expired` if it left none and the hold ran out.
async fn first_completion(
    state: &AppState,
    challenge: &ChallengeRow,
    keyed: &Keyed<'_>,
    holder: &str,
) -> Result<Answer, AppError> {
    match idempotency::stored(&state.db, keyed.scope, holder).await? {
        Stored::Answered { status, body } => {
            let mut tx = state.db.begin_write().await?;
            idempotency::answer(&mut tx, keyed.scope, keyed.key, status, &body).await?;
            tx.commit().await?;
            let status = StatusCode::from_u16(status).map_err(AppError::internal)?;
            Ok(Answer { status, body })
        }
        Stored::Missing if !challenge.live_at(now_unix()) => Err(attempt_expired()),
        Stored::Running | Stored::Missing => Err(in_progress(
            "this challenge is being completed by another request",
        )),
    }
}

/// The idempotency key of a request, checked.
pub(crate) fn checked_key(key: Option<&str>) -> Result<&str, AppError> {
    match key.map(str::trim) {
        Some(k) if !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_BYTES => Ok(k),
        _ => {
            let message =
                format!("send an Idempotency-Key header of 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes");
            Err(AppError::new(
                StatusCode::BAD_REQUEST,
                code::IDEMPOTENCY_KEY_REQUIRED,
                message,
            ))
        }
    }
}

/// Claims `keyed` for a request hashing to `hash`: `Some` first answer to send again, or
/// `None` to run; the key used for another request, or still running, is refused.
pub(crate) async fn claim_key(
    state: &AppState,
    keyed: &Keyed<'_>,
    hash: &str,
) -> Result<Option<Answer>, AppError> {
    let now = now_unix();
    let expired_before = now - IDEMPOTENCY_KEY_TTL_SECONDS;
    match idempotency::claim(&state.db, keyed.scope, keyed.key, hash, now, expired_before).await? {
        Claim::Fresh => Ok(None),
        Claim::Answered { status, body } => {
            let status = StatusCode::from_u16(status).map_err(AppError::internal)?;
            Ok(Some(Answer { status, body }))
        }
        Claim::Mismatch => {
            let message = "this Idempotency-Key was used with another request; use a new key";
            Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::IDEMPOTENCY_MISMATCH,
                message,
            ))
        }
        Claim::Running => Err(in_progress(
            "a request with this Idempotency-Key is still running",
        )),
    }
}

/// A refusal kept as the key's answer (and sent as it was kept).
pub(crate) async fn keep_refusal(
    state: &AppState,
    keyed: &Keyed<'_>,
    e: AppError,
) -> Result<Answer, AppError> {
    let status = e.status;
    let body = serde_json::to_string(&e.into_body(None)).map_err(AppError::internal)?;
    let mut tx = state.db.begin_write().await?;
    idempotency::answer(&mut tx, keyed.scope, keyed.key, status.as_u16(), &body).await?;
    tx.commit().await?;
    Ok(Answer { status, body })
}

fn in_progress(message: &str) -> AppError {
    AppError::new(StatusCode::CONFLICT, code::IN_PROGRESS, message).with_retry_after(1)
}

fn attempt_expired() -> AppError {
    let message =
        "the time to confirm this payment ran out: nothing was charged; place the order again";
    AppError::new(StatusCode::CONFLICT, code::ATTEMPT_EXPIRED, message)
}

/// Step 3 lost to the sweeper: the attempt expired before it.
fn took_too_long() -> AppError {
    let message = "the payment took too long; nothing was charged";
    AppError::new(StatusCode::GATEWAY_TIMEOUT, code::PAYMENT_TIMEOUT, message)
}

/// Step 1 (see the module docs).
async fn reserve(
    state: &AppState,
    caller: &Caller,
    request: &CheckoutRequest,
) -> Result<Reserved, AppError> {
    let usage = usage(state).await?;
    let mut tx = state.db.begin_write().await?;
    let (cart, version) = locked_cart(&mut tx, caller, &request.cart_id).await?;
    // Read again under the cart's lock (a customer has one cart): an order placed since the
    // session was read ends the first order and uses up its coupons.
    let caller = &match &caller.customer_id {
        Some(id) => caller.with_history(orders::history(tx.conn(), id).await?),
        None => caller.clone(),
    };
    let LiveStock { levels, available } =
        LiveStock::read(tx.conn(), &state.catalogue.snapshot, &cart).await?;
    let priced = price(state, caller, &cart, &usage, levels)?;
    let attempt_id = random_id("att_");
    let now = now_unix();
    let attempt = NewAttempt {
        id: &attempt_id,
        cart_id: &request.cart_id,
        customer_id: caller.customer_id.as_deref(),
        provider: &request.payment.provider,
        now,
        expires_at: now + ATTEMPT_TTL_SECONDS,
    };
    let current = || CartView {
        id: request.cart_id.clone(),
        version,
        cart: cart.clone(),
        quote: Some(priced.quote.clone()),
    };
    if !held::insert_attempt(&mut tx, &attempt).await? {
        // Another checkout of the cart is live. A total the shopper did not see, priced with
        // what that checkout holds counted as the cart's, would be refused after it too: say
        // so now (and leave a challenge that checkout waits on alone). Read after rolling
        // back: on PostgreSQL the refused insert ended the transaction.
        drop(tx);
        let mut conn = state.db.pool().acquire().await?;
        let own = LiveStock::read_as_own(
            &mut conn,
            &state.catalogue.snapshot,
            &cart,
            &request.cart_id,
        )
        .await?;
        let priced = price(state, caller, &cart, &usage, own.levels)?;
        let current = || CartView {
            quote: Some(priced.quote.clone()),
            ..current()
        };
        check_total(request, &priced.quote, current)?;
        let message = "this cart is being checked out already";
        return Err(
            AppError::new(StatusCode::CONFLICT, code::IN_PROGRESS, message).with_retry_after(1),
        );
    }
    // Before the total: a cart the stock cannot serve as chosen is out of stock, whatever
    // its total became without the delivery. (Every refusal rolls the attempt back.)
    let short = short_before_reserving(state, caller, &cart, &usage, &priced, &available)?;
    if !short.is_empty() {
        drop(tx);
        return Err(out_of_stock(state, &short, &priced, &available));
    }
    check_total(request, &priced.quote, current)?;
    let fulfilment = priced.fulfilment.clone().ok_or_else(delivery_unavailable)?;
    check_address(request, &fulfilment)?;
    let short = reserve_units(&mut tx, &attempt_id, &fulfilment).await?;
    if !short.is_empty() {
        drop(tx);
        let LiveStock { levels, available } = LiveStock::read_now(state, &cart).await?;
        let priced = price(state, caller, &cart, &usage, levels)?;
        return Err(out_of_stock(state, &short, &priced, &available));
    }
    let exhausted = claim_uses(&mut tx, &attempt_id, &priced.quote, &usage).await?;
    if !exhausted.is_empty() {
        drop(tx);
        return Err(promotion_exhausted(state, caller, request, &cart, version, exhausted).await?);
    }
    tx.commit().await?;
    Ok(Reserved {
        attempt_id,
        cart,
        quote: priced.quote,
        fulfilment,
    })
}

/// Reserves the fulfilment's units per stock record; the demands refused. The conditional
/// updates decide: another checkout may have taken units since the stock was read
/// (PostgreSQL; SQLite has one writer).
async fn reserve_units(
    tx: &mut WriteTx,
    attempt_id: &str,
    fulfilment: &Fulfilment,
) -> Result<Vec<StockDemand>, AppError> {
    Ok(held::reserve_all(tx, attempt_id, &StockDemand::of(&fulfilment.shipments)).await?)
}

/// The units the stock read cannot cover, before anything is reserved: those of the chosen
/// fulfilment (a plan waiting for incoming supply holds nothing on hand), or, when the live
/// quote cannot fulfil the choice at all but the catalogue's stock could, those of the plan
/// the catalogue's stock makes (where the units would have come from). None: go on.
fn short_before_reserving(
    state: &AppState,
    caller: &Caller,
    cart: &Cart,
    usage: &BTreeMap<String, Usage>,
    priced: &Priced,
    available: &Available,
) -> Result<Vec<StockDemand>, AppError> {
    let shipments = match &priced.fulfilment {
        Some(fulfilment) => fulfilment.shipments.clone(),
        None => match price(state, caller, cart, usage, StockLevels::default())?.fulfilment {
            Some(fulfilment) => fulfilment.shipments,
            None => return Ok(Vec::new()),
        },
    };
    Ok(available.short(&StockDemand::of(&shipments)))
}

/// The cart, locked, if the caller may see it.
async fn locked_cart(
    tx: &mut WriteTx,
    caller: &Caller,
    cart_id: &str,
) -> Result<(Cart, i64), AppError> {
    let locked = cart_log::lock(tx, cart_id)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    if !caller.may_see(locked.owner()) {
        return Err(AppError::not_found("cart"));
    }
    let cart = locked.cart()?;
    if cart.is_empty() {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::CART_EMPTY,
            "the cart is empty",
        ));
    }
    Ok((cart, locked.version()))
}

/// The promotions' uses and budgets left, as the engine takes them.
async fn usage(state: &AppState) -> Result<BTreeMap<String, Usage>, AppError> {
    usage_of(state, held::usage(&state.db).await?)
}

/// The uses and budgets `rows` leave, as the engine takes them.
pub(crate) fn usage_of(
    state: &AppState,
    rows: Vec<held::UsageRow>,
) -> Result<BTreeMap<String, Usage>, AppError> {
    let currency = state.catalogue.snapshot.currency();
    rows.into_iter()
        .map(|row| {
            let budget = row
                .budget_minor
                .map(|b| {
                    Money::from_minor((b - row.spent_minor).max(0), currency)
                        .amount()
                        .to_string()
                })
                .map(Amount::try_from)
                .transpose()
                .map_err(AppError::internal)?;
            let usage = Usage {
                remaining_uses: row
                    .use_limit
                    .map(|l| u32::try_from((l - row.used).max(0)).unwrap_or(u32::MAX)),
                remaining_budget: budget,
            };
            Ok((row.promotion_id, usage))
        })
        .collect()
}

/// The engine's final quote, its delivery quote, and the fulfilment the cart chose.
struct Priced {
    quote: Quote,
    delivery: DeliveryQuote,
    fulfilment: Option<Fulfilment>,
}

/// The cart quoted with the caller's context, the promotions' uses left and `stock` (the
/// database's, for the SKUs it lists; the catalogue's for the rest).
fn price(
    state: &AppState,
    caller: &Caller,
    cart: &Cart,
    usage: &BTreeMap<String, Usage>,
    stock: StockLevels,
) -> Result<Priced, AppError> {
    let snapshot = &state.catalogue.snapshot;
    let mut context = caller.quote_context();
    context.usage = usage.clone();
    context.stock = stock;
    let now = context.now.expect("the server's context has its clock");
    let destination = carts::destination_of(snapshot, cart).ok_or_else(delivery_unavailable)?;
    let (quote, delivery) = quote_with_delivery(snapshot, cart, &context, &destination, now)
        .map_err(|e| AppError::domain(&e))?;
    let goods = |sku: &omnicart_engine::Sku| {
        snapshot
            .variant(sku)
            .is_some_and(|(p, _)| p.kind == ProductKind::Goods)
    };
    let fulfilment = match cart.delivery() {
        Some(DeliveryChoice::Level(level)) => delivery
            .options
            .iter()
            .find(|o| o.level == *level)
            .map(Fulfilment::delivered),
        Some(DeliveryChoice::Pickup(id)) => delivery
            .pickup
            .iter()
            .find(|p| p.location == *id)
            .map(|p| Fulfilment::collected(p, &quote, goods)),
        None => None,
    };
    Ok(Priced {
        quote,
        delivery,
        fulfilment,
    })
}

fn delivery_unavailable() -> AppError {
    let message = "choose a delivery level or a pickup store the cart can have";
    AppError::new(StatusCode::CONFLICT, code::DELIVERY_UNAVAILABLE, message)
}

/// The server's total against the one the shopper saw.
fn check_total(
    request: &CheckoutRequest,
    quote: &Quote,
    current: impl Fn() -> CartView,
) -> Result<(), AppError> {
    if quote.total == request.expected_total {
        return Ok(());
    }
    let current = serde_json::to_value(current()).map_err(AppError::internal)?;
    let exhausted: Vec<String> = quote
        .rejected
        .iter()
        .filter(|r| r.code == "usage_exhausted")
        .map(|r| r.promotion_id.to_string())
        .collect();
    let (code, message) = if exhausted.is_empty() {
        (
            code::PRICE_CHANGED,
            format!("the total is now {}", quote.total),
        )
    } else {
        (
            code::PROMOTION_EXHAUSTED,
            format!("an offer has run out; the total is now {}", quote.total),
        )
    };
    let refusal = Refusal {
        total: Some(quote.total),
        promotions: exhausted,
        ..Refusal::default()
    };
    Err(AppError::new(StatusCode::CONFLICT, code, message)
        .with_current(current)
        .with_refusal(refusal))
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::INVALID_CHECKOUT,
        message,
    )
}

fn check_field(name: &str, value: &str) -> Result<(), AppError> {
    let chars = value.trim().chars().count();
    if chars == 0 || chars > MAX_FIELD_CHARS {
        return Err(invalid(format!(
            "{name}: 1 to {MAX_FIELD_CHARS} characters"
        )));
    }
    Ok(())
}

fn check_contact(request: &CheckoutRequest) -> Result<(), AppError> {
    let contact = &request.contact;
    check_field("contact.name", &contact.name)?;
    check_field("contact.email", &contact.email)?;
    if !contact.email.contains('@') {
        return Err(invalid("contact.email: not an email address"));
    }
    if let Some(phone) = &contact.phone {
        check_field("contact.phone", phone)?;
    }
    if let Some(address) = &request.shipping_address {
        for (name, value) in [
            ("name", &address.name),
            ("postcode", &address.postcode),
            ("city", &address.city),
            ("country", &address.country),
        ] {
            check_field(&format!("shipping_address.{name}"), value)?;
        }
        if address.street.is_empty() || address.street.len() > MAX_STREET_LINES {
            return Err(invalid(format!(
                "shipping_address.street: 1 to {MAX_STREET_LINES} lines"
            )));
        }
        for line in &address.street {
            check_field("shipping_address.street", line)?;
        }
    }
    Ok(())
}

fn check_address(request: &CheckoutRequest, fulfilment: &Fulfilment) -> Result<(), AppError> {
    match (
        fulfilment.pickup_location.is_some(),
        request.shipping_address.is_some(),
    ) {
        (false, false) => Err(invalid("shipping_address: required for delivery")),
        (true, true) => Err(invalid("shipping_address: leave it out for a pickup")),
        _ => Ok(()),
    }
}

/// Claims one use per limited promotion the quote applies; the ids that had none left.
/// Only the promotions with a usage row (a use limit or a budget: `usage` lists them all,
/// the rows being made from the catalogue at start) are claimed; the others cost no query.
async fn claim_uses(
    tx: &mut WriteTx,
    attempt_id: &str,
    quote: &Quote,
    usage: &BTreeMap<String, Usage>,
) -> Result<Vec<String>, AppError> {
    let mut exhausted = Vec::new();
    let limited = quote
        .applied
        .iter()
        .filter(|a| usage.contains_key(&*a.promotion_id));
    for applied in limited {
        let amount = applied
            .amount
            .to_minor()
            .ok_or_else(|| AppError::internal("discount out of range"))?;
        if !held::claim_use_if_limited(tx, attempt_id, &applied.promotion_id, amount).await? {
            exhausted.push(applied.promotion_id.to_string());
        }
    }
    Ok(exhausted)
}

/// `out_of_stock`, naming the short lines (with the date incoming supply can promise each,
/// if any) and what the cart can still have by the live quote `priced`: the delivery levels
/// and pickup stores whose units `available` covers.
fn out_of_stock(
    state: &AppState,
    short: &[StockDemand],
    priced: &Priced,
    available: &Available,
) -> AppError {
    let snapshot = &state.catalogue.snapshot;
    let goods = |sku: &omnicart_engine::Sku| {
        snapshot
            .variant(sku)
            .is_some_and(|(p, _)| p.kind == ProductKind::Goods)
    };
    let delivery = &priced.delivery;
    let covers = |f: &Fulfilment| available.short(&StockDemand::of(&f.shipments)).is_empty();
    let levels = delivery
        .options
        .iter()
        .filter(|o| covers(&Fulfilment::delivered(o)))
        .map(|o| o.level)
        .collect();
    let pickup_locations = delivery
        .pickup
        .iter()
        .filter(|p| covers(&Fulfilment::collected(p, &priced.quote, goods)))
        .map(|p| p.location.clone())
        .collect();
    let lines = short
        .iter()
        .map(|d| ShortLine {
            sku: d.sku.clone(),
            location: d.location.clone(),
            requested: d.quantity,
            available: u32::try_from(available.of(&d.location, &d.sku).max(0)).unwrap_or(0),
            available_on: delivery
                .lines
                .iter()
                .find(|l| l.sku == d.sku && l.status == StockStatus::Backorder)
                .and_then(|l| l.date),
        })
        .collect();
    let refusal = Refusal {
        lines,
        alternatives: Some(Alternatives {
            levels,
            pickup_locations,
        }),
        ..Refusal::default()
    };
    let message = "some items are no longer in stock where they would come from";
    AppError::new(StatusCode::CONFLICT, code::OUT_OF_STOCK, message).with_refusal(refusal)
}

/// `promotion_exhausted`, with the cart quoted again with the uses left now.
async fn promotion_exhausted(
    state: &AppState,
    caller: &Caller,
    request: &CheckoutRequest,
    cart: &Cart,
    version: i64,
    exhausted: Vec<String>,
) -> Result<AppError, AppError> {
    let stock = LiveStock::read_now(state, cart).await?.levels;
    let priced = price(state, caller, cart, &usage(state).await?, stock)?;
    let total = priced.quote.total;
    let view = CartView {
        id: request.cart_id.clone(),
        version,
        cart: cart.clone(),
        quote: Some(priced.quote),
    };
    let current = serde_json::to_value(view).map_err(AppError::internal)?;
    let refusal = Refusal {
        total: Some(total),
        promotions: exhausted,
        ..Refusal::default()
    };
    let message = format!("an offer has run out; the total is now {total}");
    Ok(
        AppError::new(StatusCode::CONFLICT, code::PROMOTION_EXHAUSTED, message)
            .with_current(current)
            .with_refusal(refusal),
    )
}

/// Step 3 (see the module docs).
async fn create_order(state: &AppState, placing: &Placing<'_>) -> Result<Answer, AppError> {
    let Placing {
        caller,
        request,
        keyed,
        reserved,
    } = *placing;
    let mut tx = state.db.begin_write().await?;
    let now = now_unix();
    if !held::move_attempt(&mut tx, &reserved.attempt_id, RESERVED, ORDERED, Some(now)).await? {
        return Err(took_too_long());
    }
    let guest_token = caller.customer_id.is_none().then(session_token);
    let order_id = random_id("ord_");
    let order = insert_order(
        &mut tx,
        caller,
        request,
        reserved,
        &order_id,
        guest_token.as_deref(),
    )
    .await?;
    crate::service::edits::record_placement(&mut tx, &order_id, caller, &reserved.cart).await?;
    let confirmation = mail::invoice(&order)?;
    store_mail::insert(&mut tx, &order_id, &confirmation).await?;
    webhooks::order_event(&mut tx, "order.placed", &order_id, &order).await?;
    for row in crate::store::fulfilment::of_order_tx(&mut tx, &order_id).await? {
        let view = super::fulfilment::view(&row);
        webhooks::fulfilment_event(&mut tx, &order_id, &view).await?;
    }
    empty_cart(&mut tx, &request.cart_id, &reserved.cart).await?;
    let reply = CheckoutReply {
        order: order_view(&order),
        guest_token,
    };
    let body = serde_json::to_string(&reply).map_err(AppError::internal)?;
    idempotency::answer(
        &mut tx,
        keyed.scope,
        keyed.key,
        StatusCode::CREATED.as_u16(),
        &body,
    )
    .await?;
    tx.commit().await?;
    Ok(Answer {
        status: StatusCode::CREATED,
        body,
    })
}

async fn insert_order(
    tx: &mut WriteTx,
    caller: &Caller,
    request: &CheckoutRequest,
    reserved: &Reserved,
    order_id: &str,
    guest_token: Option<&str>,
) -> Result<Order, AppError> {
    let token_hash = guest_token.map(|t| sha256_hex(t.as_bytes()));
    for _ in 0..NUMBER_DRAWS {
        let order = Order::place(Placement {
            number: OrderNumber::from_seed(random_seed()),
            customer_id: caller.customer_id.clone(),
            contact: trimmed_contact(&request.contact),
            shipping_address: request.shipping_address.clone(),
            quote: reserved.quote.clone(),
            fulfilment: reserved.fulfilment.clone(),
            provider: request.payment.provider.clone(),
            payment_key: reserved.attempt_id.clone(),
            at: omnicart_engine::Timestamp::from_unix(now_unix()),
        })
        .map_err(|e| AppError::internal(format!("placing: {e}")))?;
        let new = NewOrder {
            id: order_id,
            attempt_id: &reserved.attempt_id,
            guest_token_hash: token_hash.as_deref(),
            order: &order,
        };
        if orders::insert(tx, &new).await? {
            crate::service::fulfilment::open_for(tx, order_id, &order, order.placed_at).await?;
            return Ok(order);
        }
    }
    Err(AppError::internal("no free order number"))
}

fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    u64::from_le_bytes(bytes)
}

/// Takes the ordered lines and the coupons off the cart, through its log, so every device
/// sees the empty cart.
async fn empty_cart(tx: &mut WriteTx, cart_id: &str, ordered: &Cart) -> Result<(), AppError> {
    let Some(locked) = cart_log::lock(tx, cart_id).await? else {
        return Ok(());
    };
    let now = locked.cart()?;
    let removes = ordered
        .lines()
        .iter()
        .filter(|l| now.line(&l.sku).is_some())
        .map(|l| CartOp::Remove { sku: l.sku.clone() });
    let coupons = now
        .coupons()
        .iter()
        .map(|c| CartOp::RemoveCoupon { code: c.clone() });
    let mut ops: Vec<_> = removes
        .chain(coupons)
        .map(|op| cart_log::server_op(op, None))
        .collect();
    if ops.is_empty() {
        return Ok(());
    }
    locked.stamp_after(&mut ops, now_millis())?;
    locked.append(&ops).await?;
    Ok(())
}

/// Voids and releases every live attempt that expired (a crashed or stalled placement) and
/// forgets idempotency claims that will never be answered. Returns how many were released.
pub async fn sweep(state: &AppState) -> Result<usize, AppError> {
    let now = now_unix();
    let mut released = 0;
    for (attempt_id, provider) in held::expired_attempts(&state.db, now).await? {
        if let Some(provider) = state.payments.get(&provider)
            && let Err(e) = provider.void(&attempt_id).await
        {
            tracing::warn!(attempt_id, ?e, "sweeper: void failed; next sweep retries");
            continue;
        }
        let mut tx = state.db.begin_write().await?;
        released += usize::from(held::release(&mut tx, &attempt_id, RESERVED, RELEASED).await?);
        tx.commit().await?;
    }
    idempotency::prune(
        &state.db,
        now - IDEMPOTENCY_KEY_TTL_SECONDS,
        now - 2 * ATTEMPT_TTL_SECONDS,
    )
    .await?;
    Ok(released)
}

/// Runs [`sweep`] now and every [`SWEEP_EVERY`], for as long as the process lives.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    let state = Arc::new(state);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if state.db.pool().is_closed() {
                return;
            }
            match sweep(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "sweeper released expired checkout attempts"),
                Err(e) => tracing::warn!(?e, "sweeper failed"),
            }
        }
    })
}
