//! [`AppError`]: one error shape for every failure the API returns.
//!
//! Every error is `{"error": {"code": "...", "message": "..."}}` with a stable `code`
//! (`omnicart_api::ErrorBody`); a refused operation of a batch adds `op_index`, a stale write
//! `current` (the cart as stored). A 5xx is logged with its details and answered with a
//! generic message and the request's id (`request_id`, the `x-request-id` of the response),
//! so a report of it can be found in the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use omnicart_api::{ErrorBody, ErrorDetail, code};
use omnicart_engine::ErrorCode;
use serde_json::Value;

use crate::store::StoreError;

#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: &'static str,
    message: String,
    op_index: Option<usize>,
    current: Option<Value>,
    retry_after_seconds: Option<i64>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
            op_index: None,
            current: None,
            retry_after_seconds: None,
        }
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
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
            code::INTERNAL,
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

    /// Tells the client when to try again (`Retry-After`, in seconds).
    pub fn with_retry_after(mut self, seconds: i64) -> AppError {
        self.retry_after_seconds = Some(seconds);
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (message, request_id) = if self.status.is_server_error() {
            // Logged inside the request's span, so the line carries the request id.
            tracing::error!(code = self.code, detail = %self.message, "request failed");
            let message = "something went wrong on our side; please try again".to_owned();
            (message, super::request_id::current())
        } else {
            (self.message, None)
        };
        let error = ErrorDetail {
            code: self.code.to_owned(),
            message,
            op_index: self.op_index,
            current: self.current,
            request_id,
        };
        let mut response = (self.status, axum::Json(ErrorBody { error })).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        AppError::internal(format!("database: {e}"))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        AppError::internal(e)
    }
}
