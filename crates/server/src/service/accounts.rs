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
//! **Guessing passwords** slows the guesser, not the customer. Wrong passwords are counted
//! in the database per (email, client address) (`store::sign_in_failures`), so every server
//! process on it shares the counts. After [`MAX_FAILURES`] within [`FAILURE_WINDOW_SECONDS`]
//! that pair answers 429 (`too_many_attempts`, with `Retry-After`) until its window has
//! passed; the same email from another address still signs in. Against guesses spread over
//! many addresses, an email whose failures add up to [`BACKOFF_AFTER`] (each address counted
//! up to [`MAX_FAILURES`]) waits [`backoff_seconds`] after its latest failure before the next
//! attempt, at most [`MAX_BACKOFF_SECONDS`]: the right password waits, it is never locked
//! out. Each attempt is counted before its password is checked and a right password clears
//! its own pair's count, so no race verifies more than [`MAX_FAILURES`] guesses per pair.
//! Sessions are never touched: a signed-in device keeps working. Requests are rate-limited
//! before all this ([`crate::service::limits`]).

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
use crate::service::limits::ClientAddr;
use crate::service::{Caller, customer_profile};
use crate::store::accounts::{self, InsertError, NewCustomer};
use crate::store::cart_log::{self, StoredLog};
use crate::store::carts::{self, CartRecord};
use crate::store::{Db, StoreError, orders, sessions, sign_in_failures};

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

/// Wrong passwords allowed for one email from one client address within
/// [`FAILURE_WINDOW_SECONDS`].
pub const MAX_FAILURES: i64 = 10;
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;
/// Failures for one email (each address counting at most [`MAX_FAILURES`]) before its
/// back-off begins: five addresses locked out.
pub const BACKOFF_AFTER: i64 = 5 * MAX_FAILURES;
/// The longest back-off between two attempts for one email.
pub const MAX_BACKOFF_SECONDS: i64 = 60;

/// The back-off of an email with `capped_total` failures in the window: none below
/// [`BACKOFF_AFTER`], then 1 s doubling with every further [`MAX_FAILURES`], at most
/// [`MAX_BACKOFF_SECONDS`]. Counted from the email's latest failure.
pub fn backoff_seconds(capped_total: i64) -> i64 {
    if capped_total < BACKOFF_AFTER {
        return 0;
    }
    let doublings = ((capped_total - BACKOFF_AFTER) / MAX_FAILURES).min(6);
    (1i64 << doublings).min(MAX_BACKOFF_SECONDS)
}

/// 429 `too_many_attempts` for `wait` seconds.
fn too_many_attempts(wait: i64) -> AppError {
    let wait = wait.max(1);
    let message = if wait >= 60 {
        let minutes = (wait + 59) / 60;
        format!(
            "too many wrong passwords for this email; try again in {minutes} minute{}",
            if minutes == 1 { "" } else { "s" }
        )
    } else {
        format!("too many wrong passwords for this email; try again in {wait} s")
    };
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::TOO_MANY_ATTEMPTS,
        message,
    )
    .with_retry_after(wait)
}

/// Counts this attempt as a failure before the password is checked (the right one clears it
/// again), so racing attempts, in this process or another, cannot verify more than
/// [`MAX_FAILURES`] guesses per pair and window. Refuses the attempt while the email is in
/// its back-off or the pair is past its limit (see the module docs).
async fn count_attempt(db: &Db, email: &str, client: &str, now: i64) -> Result<(), AppError> {
    let cutoff = now - FAILURE_WINDOW_SECONDS;
    let email_failures = sign_in_failures::of_email(db, email, cutoff, MAX_FAILURES).await?;
    let backoff = backoff_seconds(email_failures.capped_total);
    let wait = email_failures.last_at + backoff - now;
    if backoff > 0 && wait > 0 {
        return Err(too_many_attempts(wait));
    }
    let pair = sign_in_failures::record(db, email, client, now, cutoff).await?;
    if pair.failures == 1 {
        // A new window: now and then forget the windows that have passed.
        sign_in_failures::prune(db, cutoff).await?;
    }
    if pair.failures > MAX_FAILURES {
        return Err(too_many_attempts(
            pair.first_at + FAILURE_WINDOW_SECONDS - now,
        ));
    }
    Ok(())
}

/// A session just opened: its token (for the cookie) and who it is.
pub struct SignedIn {
    pub token: String,
    pub me: Me,
}

/// `POST /api/auth/sign-up`: creates the account and signs in.
pub async fn sign_up(
    state: &AppState,
    client: ClientAddr,
    body: SignUp,
) -> Result<SignedIn, AppError> {
    state.limits.sign_up(client, &body.email)?;
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
pub async fn sign_in(
    state: &AppState,
    client: ClientAddr,
    body: SignIn,
) -> Result<SignedIn, AppError> {
    state.limits.sign_in(client, &body.email)?;
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
    let client = client.key();
    count_attempt(&state.db, &email, &client, now).await?;
    // Verify against a fixed hash when the email is unknown, so timing does not reveal accounts.
    let (customer_id, hash) = match accounts::credentials(&state.db, &email).await? {
        Some(found) => (found.customer_id, found.password_hash),
        None => (String::new(), state.dummy_hash.clone()),
    };
    if !verify_password(body.password, hash).await? || customer_id.is_empty() {
        return Err(wrong());
    }
    sign_in_failures::clear(&state.db, &email, &client).await?;
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
    fn the_back_off_starts_late_doubles_and_stays_bounded() {
        assert_eq!(backoff_seconds(0), 0);
        assert_eq!(backoff_seconds(BACKOFF_AFTER - 1), 0);
        assert_eq!(backoff_seconds(BACKOFF_AFTER), 1);
        assert_eq!(backoff_seconds(BACKOFF_AFTER + MAX_FAILURES), 2);
        assert_eq!(backoff_seconds(BACKOFF_AFTER + 3 * MAX_FAILURES), 8);
        assert_eq!(backoff_seconds(i64::MAX), MAX_BACKOFF_SECONDS);
        assert!(too_many_attempts(0).retry_after_seconds == Some(1));
    }
}
