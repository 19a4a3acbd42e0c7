//! Customer accounts: email + password (argon2), sessions in an HttpOnly cookie.
//!
//! `POST /api/auth/sign-up` `{email, password, name, cart_id?}`, `POST /api/auth/sign-in`
//! `{email, password, cart_id?}`, `POST /api/auth/sign-out`, `GET /api/me`. The [`Caller`]
//! extractor tells every handler who is asking; it never fails for a missing or expired
//! session (the caller is then anonymous), only for a database error.
//!
//! **The guest cart.** `cart_id` names the device's anonymous cart. On sign-up or sign-in it
//! joins the customer's cart by the server's [`CartMerge`] strategy (`OMNICART_CART_MERGE`):
//! `merge` (the default) adds the guest's operations to the customer's log, so the carts merge
//! by the engine's rules (the same TV in both stays one TV; the later edit of a line wins);
//! `keep_customer` drops the guest cart; `keep_anonymous` makes the customer's cart equal to
//! the guest's. The guest cart is then deleted. A `cart_id` that is not an anonymous cart
//! (someone else's, or gone) is ignored: sign-in never reveals or touches another cart.
//! After sign-out the device starts a new anonymous cart (`POST /api/carts`).
//!
//! **Guessing passwords.** After [`MAX_FAILURES`] wrong passwords for one email within
//! [`FAILURE_WINDOW_SECONDS`], sign-in for that email answers 429 (`too_many_attempts`, with
//! `Retry-After`) until the window has passed, right password or not. Counted per server
//! process ([`Throttle`]).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_engine::replica::{Operation, ops_towards};
use omnicart_engine::{Cart, CartOp, QuoteContext, Timestamp};
use serde::{Deserialize, Serialize};

use crate::db::{self, Db};
use crate::error::{ApiJson, AppError};
use crate::ids::{now_millis, now_unix, random_id, session_token, sha256_hex};
use crate::{AppState, carts, sync};

pub const SESSION_COOKIE: &str = "omnicart_session";
const SESSION_SECONDS: i64 = 30 * 24 * 3600;

/// Who is asking: a signed-in customer, or nobody in particular.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub customer_id: Option<String>,
    /// The customer's segments, read with the session (promotions may target them).
    pub segments: Vec<String>,
}

#[derive(Serialize)]
pub struct Me {
    pub customer: CustomerView,
    /// The customer's cart, shared by all their devices.
    pub cart_id: String,
    /// Customer segments promotions can target (e.g. `vip`).
    pub segments: Vec<String>,
    /// Whether the customer has yet to place an order (first-order promotions). No order has
    /// been placed by anyone until the order lifecycle lands, so this is true for now.
    pub first_order: bool,
}

#[derive(Serialize)]
pub struct CustomerView {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    password: String,
    /// The device's anonymous cart, to join the customer's.
    #[serde(default)]
    cart_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignUp {
    email: String,
    password: String,
    name: String,
    #[serde(default)]
    cart_id: Option<String>,
}

/// What becomes of a guest cart when its shopper signs in (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CartMerge {
    #[default]
    Merge,
    KeepCustomer,
    KeepAnonymous,
}

impl std::str::FromStr for CartMerge {
    type Err = String;

    fn from_str(s: &str) -> Result<CartMerge, String> {
        match s {
            "merge" => Ok(CartMerge::Merge),
            "keep_customer" => Ok(CartMerge::KeepCustomer),
            "keep_anonymous" => Ok(CartMerge::KeepAnonymous),
            other => Err(format!(
                "unknown cart merge strategy {other:?} (merge, keep_customer or keep_anonymous)"
            )),
        }
    }
}

/// Wrong passwords allowed for one email within [`FAILURE_WINDOW_SECONDS`].
pub const MAX_FAILURES: u32 = 10;
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;
/// Most emails the throttle remembers (each key is a plausible email, at most 254 bytes).
const MAX_TRACKED: usize = 100_000;

/// Failed sign-ins per email: (failures, when the first of them was).
#[derive(Default)]
pub struct Throttle(std::sync::Mutex<std::collections::HashMap<String, (u32, i64)>>);

impl Throttle {
    /// Seconds until `email` may try again, if it is locked out.
    fn locked(&self, email: &str, now: i64) -> Option<i64> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(email)
            .filter(|(n, since)| *n >= MAX_FAILURES && now - since < FAILURE_WINDOW_SECONDS)
            .map(|(_, since)| since + FAILURE_WINDOW_SECONDS - now)
    }

    fn failed(&self, email: &str, now: i64) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| now - *since < FAILURE_WINDOW_SECONDS);
        }
        if map.len() >= MAX_TRACKED {
            // Still full within one window: keep the locked emails, forget those still short
            // of the limit (they start counting again).
            map.retain(|_, (n, _)| *n >= MAX_FAILURES);
        }
        let entry = map.entry(email.to_owned()).or_insert((0, now));
        if now - entry.1 >= FAILURE_WINDOW_SECONDS {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    fn succeeded(&self, email: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(email);
    }
}

/// Shortest password accepted at sign-up (NIST SP 800-63B's minimum), and the longest.
pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sign-up", post(sign_up))
        .route("/auth/sign-in", post(sign_in))
        .route("/auth/sign-out", post(sign_out))
        .route("/me", get(me))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        let Some(token) = session_cookie(&parts.headers) else {
            return Ok(Caller::default());
        };
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT s.customer_id, c.segments FROM sessions s JOIN customers c ON c.id = s.customer_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(now_unix())
        .fetch_optional(&state.db)
        .await?;
        Ok(row.map_or_else(Caller::default, |(id, segments)| Caller {
            customer_id: Some(id),
            segments: split_segments(&segments),
        }))
    }
}

async fn sign_up(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<Response, AppError> {
    let email = body.email.trim().to_lowercase();
    let name = body.name.trim();
    if !plausible_email(&email) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
            "enter an email address like name@example.com",
        ));
    }
    let chars = body.password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        let message = format!("choose a password of at least {MIN_PASSWORD_CHARS} characters");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            message,
        ));
    }
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            "enter your name (up to 100 characters)",
        ));
    }
    let taken = || {
        AppError::new(
            StatusCode::CONFLICT,
            "email_taken",
            "an account with this email exists: sign in instead",
        )
    };
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.db)
        .await?;
    if exists.is_some() {
        return Err(taken());
    }
    // Two sign-ups racing for one email: the unique index lets one in.
    let customer_id = match create_customer(&state.db, &email, name, "", &body.password).await {
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            return Err(taken());
        }
        Err(e) => return Err(e.into()),
        Ok(id) => id,
    };
    let mut response = start_session(&state, &customer_id, body.cart_id.as_deref()).await?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

async fn sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, AppError> {
    let email = body.email.trim().to_lowercase();
    let wrong = || {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        )
    };
    // No account has such an email or password: answered before any hashing or counting.
    if !plausible_email(&email) || body.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(wrong());
    }
    let now = now_unix();
    if let Some(wait) = state.throttle.locked(&email, now) {
        let minutes = (wait + 59) / 60;
        let message = format!(
            "too many wrong passwords for this email; try again in {minutes} minute{}",
            if minutes == 1 { "" } else { "s" }
        );
        let error = AppError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message);
        return Ok((
            [(header::RETRY_AFTER, header_value(&wait.to_string())?)],
            error,
        )
            .into_response());
    }
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, password_hash FROM customers WHERE email = $1")
            .bind(&email)
            .fetch_optional(&state.db)
            .await?;
    // Verify against a fixed hash when the email is unknown, so timing does not reveal accounts.
    let (customer_id, hash) = row.unwrap_or_else(|| (String::new(), state.dummy_hash.clone()));
    if !verify_password(body.password, hash).await? || customer_id.is_empty() {
        state.throttle.failed(&email, now);
        return Err(wrong());
    }
    state.throttle.succeeded(&email);
    start_session(&state, &customer_id, body.cart_id.as_deref()).await
}

/// Opens a session for the customer, joins the device's guest cart to theirs, and answers
/// with `Me` and the session cookie.
async fn start_session(
    state: &AppState,
    customer_id: &str,
    guest_cart: Option<&str>,
) -> Result<Response, AppError> {
    let token = session_token();
    let now = now_unix();
    sqlx::query("INSERT INTO sessions (token_hash, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(sha256_hex(token.as_bytes()))
        .bind(customer_id)
        .bind(now)
        .bind(now + SESSION_SECONDS)
        .execute(&state.db)
        .await?;
    if let Some(guest) = guest_cart {
        let customer_cart = carts::customer_cart(&state.db, customer_id).await?;
        join_guest_cart(&state.db, guest, &customer_cart, state.cart_merge).await?;
    }
    let me = me_of(state, customer_id).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{}",
        secure(state)
    );
    Ok(([(header::SET_COOKIE, header_value(&cookie)?)], Json(me)).into_response())
}

/// Joins an anonymous cart to a customer's by `strategy` and deletes it, in one transaction
/// that locks the guest cart first: a push to it racing the sign-in either lands before (and
/// is joined) or finds the cart gone (404, and the device carries its edit over), never lost
/// in between. Anything but an anonymous cart is left alone.
async fn join_guest_cart(
    db: &Db,
    guest_id: &str,
    customer: &carts::CartRecord,
    strategy: CartMerge,
) -> Result<(), AppError> {
    if guest_id == customer.id {
        return Ok(());
    }
    let mut tx = db::begin_write(db).await?;
    let Some(guest) = sync::lock(&mut tx, guest_id, None).await? else {
        return Ok(());
    };
    if guest.owner.is_some() {
        return Ok(());
    }
    let locked = sync::lock(&mut tx, &customer.id, None)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    let ops = match strategy {
        CartMerge::KeepCustomer => Vec::new(),
        CartMerge::Merge => guest_operations(&mut tx, guest_id).await?,
        CartMerge::KeepAnonymous => {
            let mut ops = unstamped(ops_towards(&locked.cart()?, &guest.cart()?));
            locked.stamp_after(&mut ops, now_millis())?;
            ops
        }
    };
    if !ops.is_empty() {
        sync::append_locked(&mut tx, &customer.id, &ops, locked).await?;
    }
    sqlx::query("DELETE FROM carts WHERE id = $1 AND owner IS NULL")
        .bind(guest_id)
        .execute(&mut **tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A guest cart's log, to add to a customer's: its operations as they are (ids and stamps are
/// unique to their device), and its compacted part, if any, as additions ("at least this
/// many", rule 1) and choices stamped just before its oldest kept operation, so the guest's
/// later edits (a removal, a lower quantity, another delivery choice) still come after them.
async fn guest_operations(tx: &mut db::Tx, cart_id: &str) -> Result<Vec<Operation>, AppError> {
    let base: Option<String> = sqlx::query_scalar("SELECT base FROM carts WHERE id = $1")
        .bind(cart_id)
        .fetch_one(&mut **tx)
        .await?;
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM cart_ops WHERE cart_id = $1 AND folded = 0 ORDER BY seq",
    )
    .bind(cart_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut kept = Vec::with_capacity(bodies.len());
    for body in bodies {
        kept.push(
            serde_json::from_str::<Operation>(&body)
                .map_err(|e| AppError::internal(format!("stored operation: {e}")))?,
        );
    }
    let mut ops = match base {
        Some(base) => {
            let base: omnicart_engine::replica::Base =
                serde_json::from_str(&base).map_err(AppError::internal)?;
            let mut from_base = unstamped(ops_towards(&Cart::new(), &base.cart));
            let oldest = kept.iter().map(|op| &op.stamp).min();
            sync::stamp_server_ops(
                &mut from_base,
                oldest.map_or_else(now_millis, |s| s.ms.saturating_sub(1)),
                0,
            );
            from_base
        }
        None => Vec::new(),
    };
    ops.extend(kept);
    Ok(ops)
}

/// Edits the server makes, as log operations to be stamped (an add records that it starts
/// from 0).
fn unstamped(ops: Vec<CartOp>) -> Vec<Operation> {
    ops.into_iter()
        .map(|op| {
            let seen = matches!(op, CartOp::Add { .. }).then_some(0);
            sync::server_op(op, seen)
        })
        .collect()
}

/// An address that can receive mail, roughly: one `@`, something before it, a dotted domain.
fn plausible_email(email: &str) -> bool {
    email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
        })
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = session_cookie(&headers) {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(sha256_hex(token.as_bytes()))
            .execute(&state.db)
            .await?;
    }
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(&state)
    );
    Ok((
        [(header::SET_COOKIE, header_value(&cookie)?)],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, AppError> {
    let Some(customer_id) = caller.customer_id else {
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "not_signed_in",
            "sign in to see your account",
        ));
    };
    Ok(Json(me_of(&state, &customer_id).await?))
}

async fn me_of(state: &AppState, customer_id: &str) -> Result<Me, AppError> {
    let (id, email, name, segments): (String, String, String, String) =
        sqlx::query_as("SELECT id, email, name, segments FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_one(&state.db)
            .await?;
    let cart = carts::customer_cart(&state.db, customer_id).await?;
    Ok(Me {
        customer: CustomerView { id, email, name },
        cart_id: cart.id,
        segments: split_segments(&segments),
        first_order: true,
    })
}

/// What promotions may know about the caller: the server's clock, the customer's segments and
/// first-order status. The page builds the same context from `GET /api/me`, so both agree.
pub fn quote_context(caller: &Caller) -> QuoteContext {
    QuoteContext {
        now: Some(Timestamp::from_unix(now_unix())),
        segments: caller.segments.clone(),
        first_order: true,
        ..QuoteContext::default()
    }
}

/// Segments are stored comma-separated.
fn split_segments(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Creates a customer (sign-up, and the demo data). Fails with the database's unique
/// violation if the email is taken.
pub async fn create_customer(
    db: &Db,
    email: &str,
    name: &str,
    segments: &str,
    password: &str,
) -> Result<String, sqlx::Error> {
    let id = random_id("cus_");
    let hash = hashing(password.to_owned(), |p| hash_password(&p))
        .await
        .and_then(|h| h)
        .map_err(|e| sqlx::Error::Protocol(format!("hashing a password: {e:?}")))?;
    sqlx::query("INSERT INTO customers (id, email, name, segments, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(email.trim().to_lowercase())
        .bind(name)
        .bind(segments)
        .bind(hash)
        .bind(now_unix())
        .execute(db)
        .await?;
    Ok(id)
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(AppError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(AppError::internal)?
        .to_string())
}

/// Whether `password` is the one `hash` was made from (off the async workers, see [`hashing`]).
async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    hashing((password, hash), |(password, hash)| {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
}

/// Argon2 takes tens of milliseconds of CPU by design: it runs on the blocking pool, at most
/// [`HASHERS`] at a time, so a burst of sign-ins queues here instead of stalling every
/// request on the async workers (carts and sync go on).
async fn hashing<T: Send + 'static, R: Send + 'static>(
    input: T,
    work: fn(T) -> R,
) -> Result<R, AppError> {
    static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHERS);
    let _turn = TURNS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || work(input))
        .await
        .map_err(AppError::internal)
}

/// Password hashes computed at once (this machine class has 2 cores).
const HASHERS: usize = 2;

/// The cookie attribute that keeps a session off plain HTTP, when configured.
fn secure(state: &AppState) -> &'static str {
    if state.secure_cookies { "; Secure" } else { "" }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn header_value(text: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(text).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_stays_bounded_and_keeps_the_locked_emails() {
        let throttle = Throttle::default();
        let now = 1_000_000;
        for _ in 0..MAX_FAILURES {
            throttle.failed("locked@example.com", now);
        }
        for i in 0..MAX_TRACKED {
            throttle.failed(&format!("guess{i}@example.com"), now);
        }
        let size = throttle.0.lock().unwrap().len();
        assert!(size <= MAX_TRACKED, "{size} emails remembered");
        assert!(
            throttle.locked("locked@example.com", now + 1).is_some(),
            "a locked email stays locked"
        );
        assert!(throttle.locked("guess7@example.com", now + 1).is_none());
    }
}
