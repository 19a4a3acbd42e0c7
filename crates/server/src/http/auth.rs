//! `POST /api/auth/sign-up`, `/sign-in`, `/sign-out`, `/token` (a bearer token) and `GET /api/me`; the rules are
//! [`crate::service::accounts`]'s. The session travels in an HttpOnly, SameSite=Lax cookie
//! ([`SESSION_COOKIE`]), `Secure` where the shop is served over HTTPS.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{Me, SignIn, SignUp, TokenReply, TokenRequest, routes};

use crate::AppState;
use crate::http::extract::{SESSION_COOKIE, bearer_token, session_cookie};
use crate::http::{ApiJson, AppError, api_path};
use crate::service::Caller;
use crate::service::accounts::{self, SESSION_SECONDS, SignedIn};
use crate::service::limits::ClientAddr;
use crate::service::tokens;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::SIGN_UP), post(sign_up))
        .route(api_path(routes::SIGN_IN), post(sign_in))
        .route(api_path(routes::SIGN_OUT), post(sign_out))
        .route(api_path(routes::TOKEN), post(token))
        .route(api_path(routes::ME), get(me))
}

async fn sign_up(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<Response, AppError> {
    let signed_in = accounts::sign_up(&state, client, body).await?;
    let mut response = session_response(&state, signed_in)?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, AppError> {
    let signed_in = accounts::sign_in(&state, client, body).await?;
    session_response(&state, signed_in)
}

/// A bearer token (`crate::service::tokens`).
async fn token(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<TokenReply>, AppError> {
    let cookie = session_cookie(&headers);
    Ok(Json(
        tokens::issue(&state, client, cookie.as_deref(), body).await?,
    ))
}

/// Ends the cookie's session (and its tokens), and revokes the bearer token sent.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(bearer) = bearer_token(&headers) {
        tokens::revoke(&state, &bearer).await?;
    }
    accounts::sign_out(&state, session_cookie(&headers).as_deref()).await?;
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
    Ok(Json(accounts::me(&state, &caller).await?))
}

/// `Me` and the session cookie.
fn session_response(state: &AppState, signed_in: SignedIn) -> Result<Response, AppError> {
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{}",
        signed_in.token,
        secure(state)
    );
    Ok((
        [(header::SET_COOKIE, header_value(&cookie)?)],
        Json(signed_in.me),
    )
        .into_response())
}

/// The cookie attribute that keeps a session off plain HTTP, when configured.
fn secure(state: &AppState) -> &'static str {
    if state.secure_cookies { "; Secure" } else { "" }
}

fn header_value(text: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(text).map_err(AppError::internal)
}
