//! Sign-in for customers: email + password (argon2), sessions in an HttpOnly cookie.
//!
//! `POST /api/auth/sign-in`, `POST /api/auth/sign-out`, `GET /api/me`. The [`Caller`]
//! extractor tells every handler who is asking; it never fails for a missing or expired
//! session (the caller is then anonymous), only for a database error.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_engine::{QuoteContext, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{ApiJson, AppError};
use crate::ids::{now_unix, random_id, session_token, sha256_hex};
use crate::{AppState, carts};

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
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sign-in", post(sign_in))
        .route("/auth/sign-out", post(sign_out))
        .route("/me", get(me))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        let Some(token) = session_cookie(&parts.headers) else { return Ok(Caller::default()) };
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT s.customer_id, c.segments FROM sessions s JOIN customers c ON c.id = s.customer_id
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(now_unix())
        .fetch_optional(&state.db)
        .await?;
        Ok(row.map_or_else(Caller::default, |(id, segments)| Caller { customer_id: Some(id), segments: split_segments(&segments) }))
    }
}

async fn sign_in(State(state): State<AppState>, ApiJson(body): ApiJson<SignIn>) -> Result<Response, AppError> {
    let email = body.email.trim().to_lowercase();
    let row: Option<(String, String)> = sqlx::query_as("SELECT id, password_hash FROM customers WHERE email = ?")
        .bind(&email)
        .fetch_optional(&state.db)
        .await?;
    // Verify against a fixed hash when the email is unknown, so timing does not reveal accounts.
    let (customer_id, hash) = row.unwrap_or_else(|| (String::new(), state.dummy_hash.clone()));
    if !verify_password(&body.password, &hash) || customer_id.is_empty() {
        return Err(AppError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong email or password"));
    }
    let token = session_token();
    let now = now_unix();
    sqlx::query("INSERT INTO sessions (token_hash, customer_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(sha256_hex(token.as_bytes()))
        .bind(&customer_id)
        .bind(now)
        .bind(now + SESSION_SECONDS)
        .execute(&state.db)
        .await?;
    let me = me_of(&state, &customer_id).await?;
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}");
    Ok(([(header::SET_COOKIE, header_value(&cookie)?)], Json(me)).into_response())
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = session_cookie(&headers) {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(sha256_hex(token.as_bytes()))
            .execute(&state.db)
            .await?;
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, header_value(&cookie)?)], StatusCode::NO_CONTENT).into_response())
}

async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, AppError> {
    let Some(customer_id) = caller.customer_id else {
        return Err(AppError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in to see your account"));
    };
    Ok(Json(me_of(&state, &customer_id).await?))
}

async fn me_of(state: &AppState, customer_id: &str) -> Result<Me, AppError> {
    let (id, email, name, segments): (String, String, String, String) =
        sqlx::query_as("SELECT id, email, name, segments FROM customers WHERE id = ?")
            .bind(customer_id)
            .fetch_one(&state.db)
            .await?;
    let cart = carts::customer_cart(&state.db, customer_id).await?;
    Ok(Me { customer: CustomerView { id, email, name }, cart_id: cart.id, segments: split_segments(&segments), first_order: true })
}

/// What promotions may know about the caller: the server's clock, the customer's segments and
/// first-order status. The page builds the same context from `GET /api/me`, so both agree.
pub fn quote_context(caller: &Caller) -> QuoteContext {
    QuoteContext { now: Some(Timestamp::from_unix(now_unix())), segments: caller.segments.clone(), first_order: true, ..QuoteContext::default() }
}

/// Segments are stored comma-separated.
fn split_segments(stored: &str) -> Vec<String> {
    stored.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Creates a customer (used for demo data and tests; public sign-up arrives with accounts).
pub async fn create_customer(db: &sqlx::SqlitePool, email: &str, name: &str, segments: &str, password: &str) -> Result<String, AppError> {
    let id = random_id("cus_");
    sqlx::query("INSERT INTO customers (id, email, name, segments, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(&id)
        .bind(email.trim().to_lowercase())
        .bind(name)
        .bind(segments)
        .bind(hash_password(password)?)
        .bind(now_unix())
        .execute(db)
        .await?;
    Ok(id)
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(AppError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(AppError::internal)?.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
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
