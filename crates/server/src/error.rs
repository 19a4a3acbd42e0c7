//! [`AppError`]: why a request failed, as the services report it: an HTTP status, a stable
//! code (`omnicart_api::code`, or an engine error's), a message for people, and the structured
//! fields of the error body (`op_index`, `current`, `Retry-After`). The services return it;
//! `http::error` writes it as the one JSON error shape.

use axum::http::StatusCode;
use omnicart_api::{Alternatives, ErrorBody, ErrorDetail, ShortLine, code};
use omnicart_engine::{ErrorCode, Money};
use serde_json::Value;

use crate::store::StoreError;

#[derive(Debug)]
pub struct AppError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) op_index: Option<usize>,
    pub(crate) current: Option<Value>,
    pub(crate) retry_after_seconds: Option<i64>,
    /// The structured fields of a refused checkout (boxed: most errors have none, and every
    /// `Result` carries this type).
    pub(crate) refusal: Option<Box<Refusal>>,
}

/// What a refused checkout tells the client besides its code: the fields of
/// `omnicart_api::ErrorDetail` of the same names.
#[derive(Debug, Default)]
pub struct Refusal {
    pub total: Option<Money>,
    pub lines: Vec<ShortLine>,
    pub alternatives: Option<Alternatives>,
    pub promotions: Vec<String>,
    pub reason: Option<String>,
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
            refusal: None,
        }
    }

    /// Attaches a refused checkout's structured fields.
    pub fn with_refusal(mut self, refusal: Refusal) -> AppError {
        self.refusal = Some(Box::new(refusal));
        self
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

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error body with `message` as written (the HTTP layer replaces a 5xx's).
    pub(crate) fn into_body(self, request_id: Option<String>) -> ErrorBody<Value> {
        let refusal = self.refusal.map(|r| *r).unwrap_or_default();
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                op_index: self.op_index,
                current: self.current,
                total: refusal.total,
                lines: refusal.lines,
                alternatives: refusal.alternatives,
                promotions: refusal.promotions,
                reason: refusal.reason,
                request_id,
            },
        }
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
