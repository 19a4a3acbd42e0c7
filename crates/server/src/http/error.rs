//! How an [`AppError`] is answered: one error shape for every failure the API returns.
//!
//! Every error is `{"error": {"code": "...", "message": "..."}}` with a stable `code`
//! (`omnicart_api::ErrorBody`); a refused operation of a batch adds `op_index`, a stale write
//! `current` (the cart as stored). A 5xx is logged with its details and answered with a
//! generic message and the request's id (`request_id`, the `x-request-id` of the response),
//! so a report of it can be found in the log.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use omnicart_api::{ErrorBody, ErrorDetail};

use crate::error::AppError;

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
            total: self.refusal.total,
            lines: self.refusal.lines,
            alternatives: self.refusal.alternatives,
            promotions: self.refusal.promotions,
            reason: self.refusal.reason,
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
