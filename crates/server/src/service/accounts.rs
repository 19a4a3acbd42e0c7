//! Customer accounts: sign-up and sign-in (email + password, argon2), sessions, and what
//! becomes of the device's guest cart.
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
use axum::http::StatusCode;
use omnicart_api::{
    Customer, MAX_EMAIL_BYTES, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Me, SignIn,
    SignUp, code,
};
use omnicart_engine::replica::{Operation, Stamp, ops_towards};
use omnicart_engine::{Cart, CartOp};

use crate::AppState;
use crate::error::AppError;
use crate::ids::{now_millis, now_unix, random_id, session_token, sha256_hex};
use crate::service::{Caller, customer_profile};
use crate::store::accounts::{self, InsertError, NewCustomer};
use crate::store::cart_log::{self, StoredLog};
use crate::store::carts::{self, CartRecord};
use crate::store::{Db, StoreError, orders, sessions};

/// How long a session lasts.
pub const SESSION_SECONDS: i64 = 30 * 24 * 3600;

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

/// A session just opened: its token (for the cookie) and who it is.
pub struct SignedIn {
    pub token: String,
    pub me: Me,
}

/// `POST /api/auth/sign-up`: creates the account and signs in.
pub async fn sign_up(state: &AppState, body: SignUp) -> Result<SignedIn, AppError> {
    let email = body.email.trim().to_lowercase();
    let name = body.name.trim();
    if !plausible_email(&email) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_EMAIL,
            "enter an email address like name@example.com",
        ));
    }
    let chars = body.password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        let message = format!("choose a password of at least {MIN_PASSWORD_CHARS} characters");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::WEAK_PASSWORD,
            message,
        ));
    }
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_NAME,
            format!("enter your name (up to {MAX_NAME_CHARS} characters)"),
        ));
    }
    if accounts::id_by_email(&state.db, &email).await?.is_some() {
        return Err(CreateAccountError::EmailTaken.into());
    }
    // Two sign-ups racing for one email: the unique index lets one in, the other is
    // `EmailTaken` too.
    let customer_id = create_customer(&state.db, &email, name, "", &body.password).await?;
    start_session(state, &customer_id, body.cart_id.as_deref()).await
}

/// `POST /api/auth/sign-in`.
pub async fn sign_in(state: &AppState, body: SignIn) -> Result<SignedIn, AppError> {
    let email = body.email.trim().to_lowercase();
    let wrong = || {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_CREDENTIALS,
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
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::TOO_MANY_ATTEMPTS,
            message,
        )
        .with_retry_after(wait));
    }
    // Verify against a fixed hash when the email is unknown, so timing does not reveal accounts.
    let (customer_id, hash) = match accounts::credentials(&state.db, &email).await? {
        Some(found) => (found.customer_id, found.password_hash),
        None => (String::new(), state.dummy_hash.clone()),
    };
    if !verify_password(body.password, hash).await? || customer_id.is_empty() {
        state.throttle.failed(&email, now);
        return Err(wrong());
    }
    state.throttle.succeeded(&email);
    start_session(state, &customer_id, body.cart_id.as_deref()).await
}

/// `POST /api/auth/sign-out`: ends the session of `token`, if there is one.
pub async fn sign_out(state: &AppState, token: Option<&str>) -> Result<(), AppError> {
    if let Some(token) = token {
        let hash = sha256_hex(token.as_bytes());
        crate::store::tokens::delete_for_session(&state.db, &hash).await?;
        sessions::delete(&state.db, &hash).await?;
    }
    Ok(())
}

/// `GET /api/me`.
pub async fn me(state: &AppState, caller: &Caller) -> Result<Me, AppError> {
    let Some(customer_id) = &caller.customer_id else {
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            code::NOT_SIGNED_IN,
            "sign in to see your account",
        ));
    };
    me_of(&state.db, customer_id).await
}

async fn me_of(db: &Db, customer_id: &str) -> Result<Me, AppError> {
    let customer = accounts::customer(db, customer_id).await?;
    let cart = carts::customer_cart(db, customer_id).await?;
    // The profile the server quotes this customer's carts with, for the page to do the same.
    let history = orders::history_of(db, customer_id).await?;
    let profile = customer_profile(customer.segments, &history);
    Ok(Me {
        customer: Customer {
            id: customer.id,
            email: customer.email,
            name: customer.name,
        },
        cart_id: cart.id,
        segments: profile.segments,
        first_order: profile.first_order,
        used_coupons: profile.used_coupons,
    })
}

/// Opens a session for the customer and joins the device's guest cart to theirs.
async fn start_session(
    state: &AppState,
    customer_id: &str,
    guest_cart: Option<&str>,
) -> Result<SignedIn, AppError> {
    let token = session_token();
    let now = now_unix();
    let token_hash = sha256_hex(token.as_bytes());
    sessions::insert(
        &state.db,
        &token_hash,
        customer_id,
        now,
        now + SESSION_SECONDS,
    )
    .await?;
    if let Some(guest) = guest_cart {
        let customer_cart = carts::customer_cart(&state.db, customer_id).await?;
        join_guest_cart(&state.db, guest, &customer_cart, state.cart_merge).await?;
    }
    let me = me_of(&state.db, customer_id).await?;
    Ok(SignedIn { token, me })
}

/// Joins an anonymous cart to a customer's by `strategy` and deletes it, in one transaction
/// that locks the guest cart first: a push to it racing the sign-in either lands before (and
/// is joined) or finds the cart gone (404, and the device carries its edit over), never lost
/// in between. Anything but an anonymous cart is left alone.
async fn join_guest_cart(
    db: &Db,
    guest_id: &str,
    customer: &CartRecord,
    strategy: CartMerge,
) -> Result<(), AppError> {
    if guest_id == customer.id {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    let Some(mut guest) = cart_log::lock(&mut tx, guest_id).await? else {
        return Ok(());
    };
    if guest.owner().is_some() {
        return Ok(());
    }
    let guest_cart = guest.cart()?;
    let guest_ops = match strategy {
        CartMerge::Merge => guest_operations(guest.log().await?),
        CartMerge::KeepCustomer | CartMerge::KeepAnonymous => Vec::new(),
    };
    guest.delete_if_anonymous().await?;
    let locked = cart_log::lock(&mut tx, &customer.id)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    let ops = match strategy {
        CartMerge::KeepAnonymous => {
            let mut ops = unstamped(ops_towards(&locked.cart()?, &guest_cart));
            locked.stamp_after(&mut ops, now_millis())?;
            ops
        }
        CartMerge::Merge | CartMerge::KeepCustomer => guest_ops,
    };
    if !ops.is_empty() {
        locked.append(&ops).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A guest cart's log, to add to a customer's: its operations as they are (ids and stamps are
/// unique to their device), and its compacted part, if any, as additions ("at least this
/// many", rule 1) and choices stamped just before its oldest kept operation, so the guest's
/// later edits (a removal, a lower quantity, another delivery choice) still come after them.
fn guest_operations(log: StoredLog) -> Vec<Operation> {
    let StoredLog { base, ops: kept } = log;
    let mut ops = match base {
        Some(base) => {
            let mut from_base = unstamped(ops_towards(&Cart::new(), &base.cart));
            let oldest = kept.iter().map(|op| &op.stamp).min();
            let ms = oldest.map_or_else(now_millis, |s| s.ms.saturating_sub(1));
            cart_log::stamp_server_ops(
                &mut from_base,
                Stamp {
                    ms,
                    counter: 0,
                    device: cart_log::SERVER_DEVICE.into(),
                },
            );
            from_base
        }
        None => Vec::new(),
    };
    ops.extend(kept);
    ops
}

/// Edits the server makes, as log operations to be stamped (an add records that it starts
/// from 0).
fn unstamped(ops: Vec<CartOp>) -> Vec<Operation> {
    ops.into_iter()
        .map(|op| {
            let seen = matches!(op, CartOp::Add { .. }).then_some(0);
            cart_log::server_op(op, seen)
        })
        .collect()
}

/// An address that can receive mail, roughly: one `@`, something before it, a dotted domain.
fn plausible_email(email: &str) -> bool {
    email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
        })
}

/// Why an account could not be created.
#[derive(Debug)]
pub enum CreateAccountError {
    /// Another account has this email.
    EmailTaken,
    /// Hashing the password failed.
    Hashing(String),
    Store(StoreError),
}

impl std::fmt::Display for CreateAccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreateAccountError::EmailTaken => f.write_str("an account with this email exists"),
            CreateAccountError::Hashing(detail) => write!(f, "hashing a password: {detail}"),
            CreateAccountError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CreateAccountError {}

impl From<StoreError> for CreateAccountError {
    fn from(e: StoreError) -> CreateAccountError {
        CreateAccountError::Store(e)
    }
}

impl From<CreateAccountError> for AppError {
    fn from(e: CreateAccountError) -> AppError {
        match e {
            CreateAccountError::EmailTaken => AppError::new(
                StatusCode::CONFLICT,
                code::EMAIL_TAKEN,
                "an account with this email exists: sign in instead",
            ),
            other => AppError::internal(other),
        }
    }
}

/// Creates a customer (sign-up, and the demo data).
pub async fn create_customer(
    db: &Db,
    email: &str,
    name: &str,
    segments: &str,
    password: &str,
) -> Result<String, CreateAccountError> {
    let id = random_id("cus_");
    let hash = hashing(password.to_owned(), |p| hash_password(&p))
        .await
        .and_then(|h| h)
        .map_err(CreateAccountError::Hashing)?;
    let customer = NewCustomer {
        id: &id,
        email: &email.trim().to_lowercase(),
        name,
        segments,
        password_hash: &hash,
    };
    match accounts::insert(db, customer).await {
        Ok(()) => Ok(id),
        Err(InsertError::EmailTaken) => Err(CreateAccountError::EmailTaken),
        Err(InsertError::Store(e)) => Err(CreateAccountError::Store(e)),
    }
}

/// An argon2 hash of `password` with a fresh salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| e.to_string())?
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
    .map_err(AppError::internal)
}

/// Argon2 takes tens of milliseconds of CPU by design: it runs on the blocking pool, at most
/// [`HASHERS`] at a time, so a burst of sign-ins queues here instead of stalling every
/// request on the async workers (carts and sync go on).
async fn hashing<T: Send + 'static, R: Send + 'static>(
    input: T,
    work: fn(T) -> R,
) -> Result<R, String> {
    static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHERS);
    let _turn = TURNS.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || work(input))
        .await
        .map_err(|e| e.to_string())
}

/// Password hashes computed at once (this machine class has 2 cores).
const HASHERS: usize = 2;

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
