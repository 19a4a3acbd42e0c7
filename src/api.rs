//! The HTTP client for the omnicart API: `fetch` with the session cookie, JSON in and out, and
//! the API's one error shape decoded into [`ApiError`]. Network failure is `code == "offline"`.
//!
//! JSON goes through the browser's own `JSON.parse`/`JSON.stringify` and `serde-wasm-bindgen`
//! rather than `serde_json`: the same types, tens of kilobytes less Wasm for every shopper.

use omnicart_api::ErrorBody;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, Response};

use omnicart_engine::Snapshot;
use omnicart_engine::replica::{Base, Operation};

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
    /// Which operation of the request was refused, where one was.
    pub op_index: Option<usize>,
}

impl ApiError {
    fn offline() -> ApiError {
        ApiError {
            status: 0,
            code: "offline".into(),
            message: "You seem to be offline.".into(),
            op_index: None,
        }
    }

    /// The server could not be reached (no network, or no answer).
    pub fn is_offline(&self) -> bool {
        self.status == 0
    }

    /// For a refused sync: which operation of the request was refused, and why.
    pub fn operation(&self) -> Option<(usize, &str)> {
        Some((self.op_index?, self.message.as_str()))
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
}

/// Who is signed in (`GET /api/me`, and the answer to sign-in and sign-up).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Me {
    pub customer: Customer,
    /// The customer's cart, shared by all their devices.
    pub cart_id: String,
    #[serde(default)]
    pub segments: Vec<String>,
    #[serde(default)]
    pub first_order: bool,
}

/// A cart just created. The rest of the answer (the cart, the server's quote) is not read:
/// the page has the cart's log and quotes for itself.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NewCart {
    pub id: String,
}

/// The server's answer to a sync (`POST /api/carts/{id}/sync`). Its priced cart is not read.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SyncReply {
    /// Where this device now stands in the cart's log: send it with the next sync.
    pub cursor: i64,
    /// The log's compaction generation: send it with the next sync.
    #[serde(default)]
    pub generation: i64,
    /// The compacted start of the log, when the device's generation was another one.
    #[serde(default)]
    pub base: Option<Base>,
    /// Operations after the request's cursor (after `base` if there is one), this device's
    /// own included.
    #[serde(default)]
    pub ops: Vec<Operation>,
}

#[derive(Serialize)]
struct Credentials<'a> {
    email: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    /// The device's anonymous cart, for the server to join to the customer's.
    #[serde(skip_serializing_if = "Option::is_none")]
    cart_id: Option<&'a str>,
}

#[derive(Serialize)]
struct SyncRequest<'a> {
    cursor: i64,
    generation: i64,
    ops: &'a [Operation],
}

pub async fn snapshot() -> Result<Snapshot, ApiError> {
    request("GET", "/api/snapshot", None).await
}

pub async fn me() -> Result<Me, ApiError> {
    request("GET", "/api/me", None).await
}

/// Signs in; `cart_id` is this device's anonymous cart, which the server joins to the
/// customer's (and deletes). The answer's `cart_id` is the customer's cart.
pub async fn sign_in(email: &str, password: &str, cart_id: Option<&str>) -> Result<Me, ApiError> {
    let body = to_json(&Credentials {
        email,
        password,
        name: None,
        cart_id,
    });
    request("POST", "/api/auth/sign-in", Some(body)).await
}

/// Creates an account and signs in, keeping the device's anonymous cart like sign-in does.
pub async fn sign_up(
    name: &str,
    email: &str,
    password: &str,
    cart_id: Option<&str>,
) -> Result<Me, ApiError> {
    let body = to_json(&Credentials {
        email,
        password,
        name: Some(name),
        cart_id,
    });
    request("POST", "/api/auth/sign-up", Some(body)).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    send("POST", "/api/auth/sign-out", None).await.map(|_| ())
}

/// A new anonymous cart (the customer's own cart when signed in).
pub async fn create_cart() -> Result<NewCart, ApiError> {
    request("POST", "/api/carts", None).await
}

/// Pushes `ops` and pulls what the device lacks after `cursor` (at most 100 operations).
pub async fn sync(
    cart_id: &str,
    cursor: i64,
    generation: i64,
    ops: &[Operation],
) -> Result<SyncReply, ApiError> {
    let body = to_json(&SyncRequest {
        cursor,
        generation,
        ops,
    });
    request("POST", &format!("/api/carts/{cart_id}/sync"), Some(body)).await
}

async fn request<T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Option<String>,
) -> Result<T, ApiError> {
    let text = send(method, url, body).await?;
    from_json(&text).map_err(|e| ApiError {
        status: 200,
        code: "bad_response".into(),
        message: format!("Unexpected answer from the server: {e}"),
        op_index: None,
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
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        return Ok(text);
    }
    Err(match from_json::<ErrorBody<IgnoredAny>>(&text) {
        Ok(ErrorBody { error }) => ApiError {
            status,
            code: error.code,
            message: error.message,
            op_index: error.op_index,
        },
        Err(_) => ApiError {
            status,
            code: "http_error".into(),
            message: format!("The server answered {status}."),
            op_index: None,
        },
    })
}
