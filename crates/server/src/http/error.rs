//! How an [`AppError`] is answered: one error shape for every failure the API returns.
//!
//! Every error is `{"error": {"code": "...", "message": "..."}}` with a stable `code`
//! (`omnicart_api::ErrorBody`); a refused operation of a batch adds `op_index`, a stale write
//! `current` (the cart as stored). A 5xx is logged with its details and answered with a
//! generic message and the request's id (`request_id`, the `x-request-id` of the response),
//! so a report of it can be found in the log.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

impl IntoResponse for AppError {
    fn into_response(mut self) -> Response {
        let request_id = if self.status.is_server_error() {
            // Logged inside the request's span, so the line carries the request id.
            tracing::error!(code = self.code, detail = %self.message, "request failed");
            self.message = "something went wrong on our side; please try again".to_owned();
            super::request_id::current()
        } else {
            None
        };
        let retry_after = self.retry_after_seconds;
        let status = self.status;
        let mut response = (status, axum::Json(self.into_body(request_id))).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
