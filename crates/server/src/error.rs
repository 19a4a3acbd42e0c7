//! One error shape for every failure the API returns, and the JSON extractor that uses it.
//!
//! Every error is `{"error": {"code": "...", "message": "..."}}` with a stable `code`; a stale
//! write adds `"current"` (the cart as stored). 5xx details are logged, never sent.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use omnicart_api::{ErrorBody, ErrorDetail};
use omnicart_engine::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: &'static str,
    message: String,
    op_index: Option<usize>,
    current: Option<Value>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
            op_index: None,
            current: None,
        }
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// A domain error from the engine: the request was well-formed but cannot be carried out.
    pub fn domain(e: &(impl ErrorCode + std::fmt::Display)) -> AppError {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
    }

    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            detail.to_string(),
        )
    }

    /// Attaches the current state of the resource (e.g. the stored cart on a stale write).
    pub fn with_current(mut self, current: Value) -> AppError {
        self.current = Some(current);
        self
    }

    /// Names the operation of a batch that was refused (`error.op_index`).
    pub fn with_op_index(mut self, index: usize) -> AppError {
        self.op_index = Some(index);
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let message = if self.status.is_server_error() {
            tracing::error!(code = self.code, detail = %self.message, "request failed");
            "something went wrong on our side; please try again".to_owned()
        } else {
            self.message
        };
        let error = ErrorDetail {
            code: self.code.to_owned(),
            message,
            op_index: self.op_index,
            current: self.current,
            request_id: None,
        };
        (self.status, axum::Json(ErrorBody { error })).into_response()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        AppError::internal(format!("database: {e}"))
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        let code = match &rejection {
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::JsonDataError(_) => "invalid_request",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            _ => "invalid_body",
        };
        AppError::new(rejection.status(), code, rejection.body_text())
    }
}

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
