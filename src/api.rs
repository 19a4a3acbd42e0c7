//! The HTTP client for the omnicart API: `fetch` with the session cookie, JSON in and out, and
//! the API's one error shape decoded into [`ApiError`]. Network failure is `code == "offline"`.
//!
//! JSON goes through the browser's own `JSON.parse`/`JSON.stringify` and `serde-wasm-bindgen`
//! rather than `serde_json`: the same types, tens of kilobytes less Wasm for every shopper.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, Response};

use omnicart_engine::{Cart, CartOp, Snapshot};

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
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The cart as stored, sent with a 409 (stale write).
    pub current: Option<CartView>,
}

impl ApiError {
    fn offline() -> ApiError {
        ApiError { status: 0, code: "offline".into(), message: "You seem to be offline.".into(), current: None }
    }

    pub fn is_offline(&self) -> bool {
        self.status == 0
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Deserialize)]
struct ErrorFields {
    code: String,
    message: String,
    #[serde(default)]
    current: Option<CartView>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Me {
    pub customer: Customer,
    pub cart_id: String,
    #[serde(default)]
    pub segments: Vec<String>,
    #[serde(default)]
    pub first_order: bool,
}

/// A cart as the server stores it. The server's quote in the same answer is not read: the
/// page quotes for itself (and not decoding it keeps the Wasm smaller).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CartView {
    pub id: String,
    pub version: i64,
    pub cart: Cart,
}

#[derive(Serialize)]
struct Credentials<'a> {
    email: &'a str,
    password: &'a str,
}

#[derive(Serialize)]
struct Edit<'a> {
    version: i64,
    ops: &'a [CartOp],
}

pub async fn snapshot() -> Result<Snapshot, ApiError> {
    request("GET", "/api/snapshot", None).await
}

pub async fn me() -> Result<Me, ApiError> {
    request("GET", "/api/me", None).await
}

pub async fn sign_in(email: &str, password: &str) -> Result<Me, ApiError> {
    let body = to_json(&Credentials { email, password });
    request("POST", "/api/auth/sign-in", Some(body)).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    send("POST", "/api/auth/sign-out", None).await.map(|_| ())
}

pub async fn create_cart() -> Result<CartView, ApiError> {
    request("POST", "/api/carts", None).await
}

pub async fn cart(id: &str) -> Result<CartView, ApiError> {
    request("GET", &format!("/api/carts/{id}"), None).await
}

pub async fn edit_cart(id: &str, version: i64, ops: &[CartOp]) -> Result<CartView, ApiError> {
    let body = to_json(&Edit { version, ops });
    request("POST", &format!("/api/carts/{id}/ops"), Some(body)).await
}

async fn request<T: DeserializeOwned>(method: &str, url: &str, body: Option<String>) -> Result<T, ApiError> {
    let text = send(method, url, body).await?;
    from_json(&text).map_err(|e| ApiError {
        status: 200,
        code: "bad_response".into(),
        message: format!("Unexpected answer from the server: {e}"),
        current: None,
    })
}

/// Sends a request and returns the body of a 2xx answer, or the decoded error.
async fn send(method: &str, url: &str, body: Option<String>) -> Result<String, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(|_| ApiError::offline())?;
    headers.set("Accept", "application/json").ok();
    if let Some(body) = &body {
        headers.set("Content-Type", "application/json").ok();
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(ApiError::offline)?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| ApiError::offline())?
        .unchecked_into();
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        return Ok(text);
    }
    Err(match from_json::<ErrorBody>(&text) {
        Ok(ErrorBody { error }) => ApiError { status, code: error.code, message: error.message, current: error.current },
        Err(_) => ApiError { status, code: "http_error".into(), message: format!("The server answered {status}."), current: None },
    })
}
