//! The extractors of the API: [`ApiJson`] (a JSON body, refused in the API's error shape),
//! [`Caller`] (who is asking, from the session cookie) and [`ClientAddr`] (from where: the
//! socket's peer, or what a trusted proxy forwarded).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, Path, Query, RawPathParams, Request,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use omnicart_api::code;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::http::AppError;
use crate::ids::{now_unix, sha256_hex};
use crate::service;
use crate::service::Caller;
use crate::service::limits::ClientAddr;
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
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| {
                let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    code::BODY_TOO_LARGE
                } else {
                    code::INVALID_BODY
                };
                AppError::new(rejection.status(), code, rejection.body_text())
            })?;
        // No text the API takes may hold a NUL: PostgreSQL cannot store one, and no id, email
        // or name has one. JSON writes it only as this escape.
        if bytes.windows(NUL_ESCAPE.len()).any(|w| w == NUL_ESCAPE) {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::INVALID_REQUEST,
                "text may not contain the NUL character (\\u0000)",
            ));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

const NUL_ESCAPE: &[u8] = b"\\u0000";

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

/// `axum::extract::Path`, refused in the one error shape: a path segment that does not decode
/// (invalid UTF-8, `%AA`) names nothing that exists, so it is 404 `not_found` like any other
/// unknown id.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        // A NUL names nothing (and PostgreSQL cannot even compare one).
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await
            && raw.iter().any(|(_, value)| value.contains('\0'))
        {
            return Err(AppError::not_found("resource"));
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(AppError::new(
                StatusCode::NOT_FOUND,
                code::NOT_FOUND,
                format!("no such resource ({})", rejection.body_text()),
            )),
        }
    }
}

/// `axum::extract::Query`, refused in the one error shape: a query that does not read (a
/// page that is not a number) asks for something that does not exist, 404 `not_found`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(AppError::not_found("resource"));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(AppError::new(
                StatusCode::NOT_FOUND,
                code::NOT_FOUND,
                format!("no such resource ({})", rejection.body_text()),
            )),
        }
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

/// The peer of the request's socket (`ConnectInfo`, given by `axum::serve` with
/// `into_make_service_with_connect_info`), or the client a trusted proxy names in
/// `X-Forwarded-For`. A request without a socket (the router called in-process) is
/// [`ClientAddr::UNKNOWN`]. Never fails.
impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientAddr, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientAddr::UNKNOWN);
        };
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(state.trusted_proxies.client(peer.ip(), &forwarded))
    }
}
