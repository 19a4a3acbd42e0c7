//! The extractors of the API: [`ApiJson`] (a JSON body, refused in the API's error shape) and
//! [`Caller`] (who is asking, from the session cookie).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use omnicart_api::code;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::http::AppError;
use crate::ids::{now_unix, sha256_hex};
use crate::service;
use crate::service::Caller;
use crate::store::orders::History;
use crate::store::{sessions, tokens};

/// The cookie that holds the session token (the contract's: clients and the OpenAPI document
/// name it too).
pub use omnicart_api::SESSION_COOKIE;

/// `axum::Json`, but its rejections are [`AppError`]s, so malformed JSON, wrong shapes and
/// oversized bodies get the same error shape as everything else.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        let code = match &rejection {
            JsonRejection::JsonSyntaxError(_) => code::MALFORMED_JSON,
            JsonRejection::JsonDataError(_) => code::INVALID_REQUEST,
            JsonRejection::MissingJsonContentType(_) => code::UNSUPPORTED_MEDIA_TYPE,
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => code::BODY_TOO_LARGE,
            _ => code::INVALID_BODY,
        };
        AppError::new(rejection.status(), code, rejection.body_text())
    }
}

/// Who is asking: the session of an `Authorization: Bearer` token
/// ([`crate::service::tokens`]) or else of the session cookie. Never fails for a missing or
/// expired cookie session (the caller is then anonymous); a bearer token that is unknown,
/// expired or revoked (or whose session ended) is 401 `invalid_token`.
impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        let now = now_unix();
        let session_hash = match bearer_token(&parts.headers) {
            Some(bearer) => {
                let token = tokens::find(&state.db, &sha256_hex(bearer.as_bytes()), now).await?;
                match token {
                    None => return Err(service::tokens::invalid_token()),
                    // A guest cart's token: anonymous, like the cart's id.
                    Some(tokens::Token {
                        session_hash: None, ..
                    }) => return Ok(Caller::default()),
                    Some(tokens::Token {
                        session_hash: Some(hash),
                        ..
                    }) => hash,
                }
            }
            None => match session_cookie(&parts.headers) {
                Some(token) => sha256_hex(token.as_bytes()),
                None => return Ok(Caller::default()),
            },
        };
        let bearer = bearer_token(&parts.headers).is_some();
        let owner = sessions::owner(&state.db, &session_hash, now).await?;
        if owner.is_none() && bearer {
            return Err(service::tokens::invalid_token());
        }
        let Some(owner) = owner else {
            return Ok(Caller::default());
        };
        Ok(Caller {
            customer_id: Some(owner.customer_id),
            segments: owner.segments,
            history: History {
                orders: owner.orders,
                used_coupons: owner.used_coupons,
            },
        })
    }
}

/// The token of an `Authorization: Bearer …` header, if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The session token of the request's cookie, if it has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}
