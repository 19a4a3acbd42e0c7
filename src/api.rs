//! The HTTP client for the omnicart API: `gloo-net`'s `fetch` with the session cookie, JSON in
//! and out, and the API's one error shape decoded into [`ApiError`]. The bodies are
//! `omnicart-api`'s, the one contract with the server; network failure is [`OFFLINE`].
//!
//! JSON goes through the browser's own `JSON.parse`/`JSON.stringify` and `serde-wasm-bindgen`
//! rather than `serde_json` (so `gloo-net`'s `json` methods are not used): the same types, tens
//! of kilobytes less Wasm for every shopper. The replies' priced carts are read as
//! [`IgnoredAny`]: the page quotes for itself and never links the quote's deserializer.
//!
//! A page or component ties its requests to itself with [`Requests`]: they are aborted when it
//! is cleaned up, and an aborted request is [`ABORTED`], never [`OFFLINE`].

use gloo_net::http::{Request, RequestBuilder};
use leptos::prelude::{LocalStorage, StoredValue, WithValue, on_cleanup};
use omnicart_api::checkout::ShortLine;
use omnicart_api::{
    Alternatives, AppointmentList, AppointmentView, BookRequest, CartView, Challenge,
    ChallengeCompletion, ChallengeReply, CheckoutReply, CheckoutRequest, ErrorBody, ErrorDetail,
    IDEMPOTENCY_KEY, Me, OrderList, OrderView, RescheduleRequest, ReturnRequest, SignIn, SignUp,
    SlotList, SubstitutionDecision, SubstitutionView, SurveyAnswer, SurveyView, SyncReply,
    SyncRequest, UnsubscribeRequest, Unsubscribed, routes,
};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use web_sys::{AbortController, AbortSignal, RequestCredentials};

use omnicart_engine::replica::Operation;
use omnicart_engine::{Money, QuoteLine, Snapshot};

/// The server could not be reached (no network, or no answer).
pub const OFFLINE: &str = "offline";
/// The page or component that made the request is gone: nobody is waiting for the answer.
pub const ABORTED: &str = "aborted";
/// A 2xx answer that is not the JSON expected.
pub const BAD_RESPONSE: &str = "bad_response";
/// An error answer without the API's error body (a proxy's, say).
pub const HTTP_ERROR: &str = "http_error";
/// Sign-out refused by the page: edits are not saved yet.
pub const UNSAVED_CHANGES: &str = "unsaved_changes";

/// Parses JSON with the browser's parser into a Rust type.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// Writes a Rust value as JSON with the browser's serializer.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .ok()
        .and_then(|v| js_sys::JSON::stringify(&v).ok())
        .and_then(|s| s.as_string())
        .expect("plain data serializes to JSON")
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The HTTP status; 0 when there was no answer, or the page refused before asking.
    pub status: u16,
    /// One of `omnicart_api::code`, an engine error's code, or one of this module's.
    pub code: String,
    pub message: String,
    /// Which operation of the request was refused, where one was.
    pub op_index: Option<usize>,
}

impl ApiError {
    /// An error the page makes itself (no request, or no answer to one).
    pub fn local(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 0,
            code: code.into(),
            message: message.into(),
            op_index: None,
        }
    }

    fn offline() -> ApiError {
        ApiError::local(OFFLINE, "You seem to be offline.")
    }

    fn aborted() -> ApiError {
        ApiError::local(ABORTED, "The request was cancelled.")
    }

    /// The server could not be reached (no network, or no answer).
    pub fn is_offline(&self) -> bool {
        self.code == OFFLINE
    }

    /// The request was abandoned with the page that made it: nothing to tell the shopper.
    pub fn is_aborted(&self) -> bool {
        self.code == ABORTED
    }

    /// For a refused sync: which operation of the request was refused, and why.
    pub fn operation(&self) -> Option<(usize, &str)> {
        Some((self.op_index?, self.message.as_str()))
    }
}

/// The requests of one page or component: aborted when its reactive owner is cleaned up (the
/// shopper left the page), so no answer is waited for, or acted on, that nobody will see.
#[derive(Clone, Copy)]
pub struct Requests {
    controller: StoredValue<Option<AbortController>, LocalStorage>,
}

impl Requests {
    /// Ties requests to the current owner (call it in a component's body).
    pub fn of_owner() -> Requests {
        let controller = StoredValue::new_local(AbortController::new().ok());
        // Cleanups run before the owner's stored values are dropped: the controller is there.
        on_cleanup(move || {
            controller.with_value(|c| {
                if let Some(c) = c {
                    c.abort();
                }
            })
        });
        Requests { controller }
    }

    fn signal(self) -> Option<AbortSignal> {
        self.controller
            .try_with_value(|c| c.as_ref().map(AbortController::signal))
            .flatten()
    }
}

// The catalogue and the store's own requests (`/api/me`, carts, sync) take no `Requests`: they
// belong to the app, which lives as long as the page, not to a page the shopper can leave, and a
// sync must finish (or fail) to keep the device's log consistent.

pub async fn snapshot() -> Result<Snapshot, ApiError> {
    request(Request::get(routes::SNAPSHOT), None, None).await
}

pub async fn me() -> Result<Me, ApiError> {
    request(Request::get(routes::ME), None, None).await
}

/// Signs in; `body.cart_id` is this device's anonymous cart, which the server joins to the
/// customer's (and deletes). The answer's `cart_id` is the customer's cart.
pub async fn sign_in(body: &SignIn, requests: Requests) -> Result<Me, ApiError> {
    let body = to_json(body);
    request(Request::post(routes::SIGN_IN), Some(body), Some(requests)).await
}

/// Creates an account and signs in, keeping the device's anonymous cart like sign-in does.
pub async fn sign_up(body: &SignUp, requests: Requests) -> Result<Me, ApiError> {
    let body = to_json(body);
    request(Request::post(routes::SIGN_UP), Some(body), Some(requests)).await
}

pub async fn sign_out(requests: Requests) -> Result<(), ApiError> {
    send(Request::post(routes::SIGN_OUT), None, Some(requests))
        .await
        .map(|_| ())
}

/// A new anonymous cart (the customer's own cart when signed in). Its priced cart is not read.
pub async fn create_cart() -> Result<CartView<IgnoredAny>, ApiError> {
    request(Request::post(routes::CARTS), None, None).await
}

/// Pushes `ops` and pulls what the device lacks after `cursor` (at most
/// [`omnicart_api::MAX_OPS_PER_REQUEST`] operations). The reply's priced cart is not read.
pub async fn sync(
    cart_id: &str,
    cursor: i64,
    generation: i64,
    ops: &[Operation],
) -> Result<SyncReply<IgnoredAny>, ApiError> {
    let body = to_json(&SyncRequest {
        cursor,
        generation,
        ops: ops.iter().collect::<Vec<_>>(),
    });
    let url = routes::with_id(routes::CART_SYNC, cart_id);
    request(Request::post(&url), Some(body), None).await
}

/// What a checkout refusal carries besides its code: the fields of [`ErrorDetail`] the
/// checkout page shows. The server's new quote in `current` is read as [`PricedLines`] only.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Refusal {
    pub total: Option<Money>,
    pub priced: Option<PricedLines>,
    pub lines: Vec<ShortLine>,
    pub alternatives: Option<Alternatives>,
    pub reason: Option<String>,
}

/// The part of the server's quote a price change shows: its lines and total (the rest of the
/// quote is skipped, so the page links no deserializer for it).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PricedLines {
    pub lines: Vec<QuoteLine>,
    pub total: Money,
}

/// What a checkout came to: the order, or a challenge the shopper passes first (202).
#[derive(Clone, Debug, PartialEq)]
pub enum Placed {
    Order(Box<CheckoutReply>),
    Challenge(Challenge),
}

/// `POST /api/checkout` with the attempt's idempotency `key`. A refusal is the error and what
/// it carries.
pub async fn checkout(
    body: &CheckoutRequest,
    key: &str,
    requests: Requests,
) -> Result<Placed, (ApiError, Refusal)> {
    let builder = Request::post(routes::CHECKOUT).header(IDEMPOTENCY_KEY, key);
    let answer = answer(builder, Some(to_json(body)), Some(requests))
        .await
        .map_err(|e| (e, Refusal::default()))?;
    if answer.status == 202 {
        return from_json::<ChallengeReply>(&answer.text)
            .map(|reply| Placed::Challenge(reply.challenge))
            .map_err(|e| (bad_response(e), Refusal::default()));
    }
    order_placed(&answer).map(|reply| Placed::Order(Box::new(reply)))
}

/// `POST /api/checkout/{id}/complete`: the shopper's `result` of a challenge, with its own
/// idempotency `key`.
pub async fn complete_challenge(
    id: &str,
    result: &str,
    key: &str,
    requests: Requests,
) -> Result<CheckoutReply, (ApiError, Refusal)> {
    let url = routes::with_id(routes::CHECKOUT_COMPLETE, id);
    let body = to_json(&ChallengeCompletion {
        result: result.to_owned(),
    });
    let builder = Request::post(&url).header(IDEMPOTENCY_KEY, key);
    let answer = answer(builder, Some(body), Some(requests))
        .await
        .map_err(|e| (e, Refusal::default()))?;
    order_placed(&answer)
}

/// An answer that places an order: the order, or the refusal and what it carries.
// The error the checkout functions above return (clippy does not weigh an `async fn`'s):
// made once per press of a button, so its size costs nothing worth a box.
#[allow(clippy::result_large_err)]
fn order_placed(answer: &Answer) -> Result<CheckoutReply, (ApiError, Refusal)> {
    if answer.ok {
        return from_json(&answer.text).map_err(|e| (bad_response(e), Refusal::default()));
    }
    let error = answer.error();
    let detail = answer
        .refusal::<CartView<Option<PricedLines>>>()
        .ok()
        .map(|d| Refusal {
            total: d.total,
            priced: d.current.and_then(|c| c.quote),
            lines: d.lines,
            alternatives: d.alternatives,
            reason: d.reason,
        })
        .unwrap_or_default();
    Err((error, detail))
}

/// The caller's orders, newest first, page `page` (from 1).
pub async fn orders(page: u32, requests: Requests) -> Result<OrderList, ApiError> {
    let url = format!("{}?page={page}", routes::ORDERS);
    request(Request::get(&url), None, Some(requests)).await
}

/// One order; a guest passes the order's `token`.
pub async fn order(
    number: &str,
    token: Option<&str>,
    requests: Requests,
) -> Result<OrderView, ApiError> {
    let url = with_token(routes::with_number(routes::ORDER, number), token);
    request(Request::get(&url), None, Some(requests)).await
}

/// Cancels an order (`invalid_transition` once it is in fulfilment).
pub async fn cancel_order(
    number: &str,
    token: Option<&str>,
    requests: Requests,
) -> Result<OrderView, ApiError> {
    let url = with_token(routes::with_number(routes::ORDER_CANCEL, number), token);
    request(Request::post(&url), None, Some(requests)).await
}

/// Asks to return units of a delivered order (201: the page reads the order again for its
/// returns, so the answer's body is not decoded; `not_returnable`, `invalid_return`,
/// `unknown_line` refused).
pub async fn request_return(
    number: &str,
    token: Option<&str>,
    body: &ReturnRequest,
    requests: Requests,
) -> Result<(), ApiError> {
    let url = with_token(routes::with_number(routes::ORDER_RETURNS, number), token);
    send(Request::post(&url), Some(to_json(body)), Some(requests))
        .await
        .map(|_| ())
}

/// The order's installation visits.
pub async fn appointments(
    number: &str,
    token: Option<&str>,
    requests: Requests,
) -> Result<AppointmentList, ApiError> {
    let url = with_token(
        routes::with_number(routes::ORDER_APPOINTMENTS, number),
        token,
    );
    request(Request::get(&url), None, Some(requests)).await
}

/// The free installation slots for the order.
pub async fn appointment_slots(
    number: &str,
    token: Option<&str>,
    requests: Requests,
) -> Result<SlotList, ApiError> {
    let path = routes::with_number(routes::ORDER_APPOINTMENT_SLOTS, number);
    request(Request::get(&with_token(path, token)), None, Some(requests)).await
}

/// Books (`id` `None`) or moves (`Some`) a visit to `day` and `slot`; `line` is the service
/// line's index in the order.
pub async fn book_visit(
    number: &str,
    token: Option<&str>,
    id: Option<&str>,
    (line, day, slot): (usize, String, String),
    requests: Requests,
) -> Result<AppointmentView, ApiError> {
    let (path, body) = match id {
        None => (
            routes::with_number(routes::ORDER_APPOINTMENTS, number),
            to_json(&BookRequest { line, day, slot }),
        ),
        Some(id) => (
            routes::with_id(
                &routes::with_number(routes::APPOINTMENT_RESCHEDULE, number),
                id,
            ),
            to_json(&RescheduleRequest { day, slot }),
        ),
    };
    request(
        Request::post(&with_token(path, token)),
        Some(body),
        Some(requests),
    )
    .await
}

/// Cancels a booked visit.
pub async fn cancel_visit(
    number: &str,
    token: Option<&str>,
    id: &str,
    requests: Requests,
) -> Result<AppointmentView, ApiError> {
    let path = routes::with_id(&routes::with_number(routes::APPOINTMENT_CANCEL, number), id);
    request(
        Request::post(&with_token(path, token)),
        None,
        Some(requests),
    )
    .await
}

/// The survey of a mailed link.
pub async fn survey(token: &str, requests: Requests) -> Result<SurveyView, ApiError> {
    let path = routes::SURVEY.replacen(
        "{token}",
        &String::from(js_sys::encode_uri_component(token)),
        1,
    );
    request(Request::get(&path), None, Some(requests)).await
}

/// Answers the survey of a mailed link (`already_answered` the second time).
pub async fn answer_survey(
    token: &str,
    answer: &SurveyAnswer,
    requests: Requests,
) -> Result<SurveyView, ApiError> {
    let path = routes::SURVEY.replacen(
        "{token}",
        &String::from(js_sys::encode_uri_component(token)),
        1,
    );
    request(Request::post(&path), Some(to_json(answer)), Some(requests)).await
}

/// No more reminders, by the token of a reminder's link.
pub async fn unsubscribe(token: &str, requests: Requests) -> Result<Unsubscribed, ApiError> {
    let body = to_json(&UnsubscribeRequest {
        token: token.to_owned(),
    });
    request(
        Request::post(routes::UNSUBSCRIBE),
        Some(body),
        Some(requests),
    )
    .await
}

/// Answers a substitute a location proposed for a line of the order (`accept` or decline);
/// answers the substitution as it now stands.
pub async fn answer_substitution(
    number: &str,
    id: &str,
    accept: bool,
    token: Option<&str>,
    requests: Requests,
) -> Result<SubstitutionView, ApiError> {
    let url = routes::with_number(routes::ORDER_SUBSTITUTION, number);
    let url = with_token(routes::with_id(&url, id), token);
    let body = to_json(&SubstitutionDecision { accept });
    request(Request::post(&url), Some(body), Some(requests)).await
}

fn with_token(url: String, token: Option<&str>) -> String {
    match token {
        Some(t) => format!(
            "{url}?token={}",
            String::from(js_sys::encode_uri_component(t))
        ),
        None => url,
    }
}

fn bad_response(e: String) -> ApiError {
    ApiError {
        status: 200,
        code: BAD_RESPONSE.into(),
        message: format!("Unexpected answer from the server: {e}"),
        op_index: None,
    }
}

async fn request<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<String>,
    requests: Option<Requests>,
) -> Result<T, ApiError> {
    let text = send(builder, body, requests).await?;
    from_json(&text).map_err(bad_response)
}

/// Sends a request and returns the body of a 2xx answer, or the decoded error.
async fn send(
    builder: RequestBuilder,
    body: Option<String>,
    requests: Option<Requests>,
) -> Result<String, ApiError> {
    let answer = answer(builder, body, requests).await?;
    if answer.ok {
        return Ok(answer.text);
    }
    Err(answer.error())
}

/// An answer of the server: its status and body.
struct Answer {
    status: u16,
    ok: bool,
    text: String,
}

impl Answer {
    /// The API's error body of a refusal, read with `Current` for its `current`.
    fn refusal<Current: DeserializeOwned>(&self) -> Result<ErrorDetail<Current>, ApiError> {
        from_json::<ErrorBody<Current>>(&self.text)
            .map(|b| b.error)
            .map_err(|_| ApiError {
                status: self.status,
                code: HTTP_ERROR.into(),
                message: format!("The server answered {}.", self.status),
                op_index: None,
            })
    }

    fn error(&self) -> ApiError {
        match self.refusal::<IgnoredAny>() {
            Ok(error) => ApiError {
                status: self.status,
                code: error.code,
                message: error.message,
                op_index: error.op_index,
            },
            Err(e) => e,
        }
    }
}

/// Sends a request and returns the answer, whatever its status; `Err` only for no answer.
async fn answer(
    builder: RequestBuilder,
    body: Option<String>,
    requests: Option<Requests>,
) -> Result<Answer, ApiError> {
    let signal = requests.and_then(Requests::signal);
    let aborted = || signal.as_ref().is_some_and(AbortSignal::aborted);
    let builder = builder
        .credentials(RequestCredentials::SameOrigin)
        .header("Accept", "application/json")
        .abort_signal(signal.as_ref());
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    }
    .map_err(|_| ApiError::offline())?;
    let response = match request.send().await {
        Ok(response) => response,
        Err(_) if aborted() => return Err(ApiError::aborted()),
        Err(_) => return Err(ApiError::offline()),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if aborted() {
        return Err(ApiError::aborted());
    }
    Ok(Answer {
        status,
        ok: response.ok(),
        text,
    })
}
