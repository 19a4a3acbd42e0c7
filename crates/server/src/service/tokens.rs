//! Bearer tokens (`POST /api/auth/token`): the session cookie's alternative for a page on
//! another origin (`http::cors`). A token acts as a session (signed in with credentials, or
//! the caller's cookie session) and goes with it at sign-out, or stands for a guest cart;
//! it expires after [`TOKEN_SECONDS`]. Stored hashed ([`crate::store::tokens`]); the
//! `Caller` extractor accepts `Authorization: Bearer …` and refuses an unknown, expired or
//! revoked token with 401 `invalid_token`.

use axum::http::StatusCode;
use omnicart_api::{SignIn, TokenReply, TokenRequest, code};

use crate::AppState;
use crate::error::AppError;
use crate::ids::{now_unix, session_token, sha256_hex};
use crate::service::limits::ClientAddr;
use crate::service::{Caller, accounts, carts};
use crate::store::{sessions, tokens};

/// How long a token works (a day; its session lasts longer, and takes it along when it ends).
pub const TOKEN_SECONDS: i64 = 24 * 3600;

/// Issues a token for `request`'s credentials, else the session of `cookie`, else the guest
/// cart `request.cart_id`.
pub async fn issue(
    state: &AppState,
    client: ClientAddr,
    cookie: Option<&str>,
    request: TokenRequest,
) -> Result<TokenReply, AppError> {
    let now = now_unix();
    let (session_hash, customer_id, cart_id) = match (request.email, request.password) {
        (Some(email), Some(password)) => {
            let sign_in = SignIn {
                email,
                password,
                cart_id: request.cart_id,
            };
            let signed_in = accounts::sign_in(state, client, sign_in).await?;
            let me = signed_in.me;
            let hash = sha256_hex(signed_in.token.as_bytes());
            (Some(hash), Some(me.customer.id), Some(me.cart_id))
        }
        (None, None) => match session_of(state, cookie, now).await? {
            Some((hash, customer)) => (Some(hash), Some(customer), None),
            None => {
                let Some(cart) = request.cart_id else {
                    return Err(AppError::new(
                        StatusCode::UNAUTHORIZED,
                        code::NOT_SIGNED_IN,
                        "sign in (email and password, or the session cookie) or name a guest cart",
                    ));
                };
                // A guest's token opens an anonymous cart only: a customer's is not found.
                let view = carts::read(state, &Caller::default(), &cart).await?;
                (None, None, Some(view.id))
            }
        },
        _ => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::INVALID_REQUEST,
                "send both email and password, or neither",
            ));
        }
    };
    let token = format!("tok_{}", session_token());
    let expires_at = now + TOKEN_SECONDS;
    let token_hash = sha256_hex(token.as_bytes());
    tokens::insert(
        &state.db,
        &token_hash,
        session_hash.as_deref(),
        cart_id.as_deref().filter(|_| session_hash.is_none()),
        now,
        expires_at,
    )
    .await?;
    Ok(TokenReply {
        token,
        expires_at,
        customer_id,
        cart_id,
    })
}

/// The live session of `cookie`: its hash and customer.
async fn session_of(
    state: &AppState,
    cookie: Option<&str>,
    now: i64,
) -> Result<Option<(String, String)>, AppError> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let hash = sha256_hex(cookie.as_bytes());
    let owner = sessions::owner(&state.db, &hash, now).await?;
    Ok(owner.map(|owner| (hash, owner.customer_id)))
}

/// Revokes the token `bearer` (sign-out with a token).
pub async fn revoke(state: &AppState, bearer: &str) -> Result<(), AppError> {
    tokens::delete(&state.db, &sha256_hex(bearer.as_bytes())).await?;
    Ok(())
}

/// The refusal of an unknown, expired or revoked token.
pub fn invalid_token() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        code::INVALID_TOKEN,
        "the bearer token is unknown, expired or revoked; ask for a new one",
    )
}
