//! [`Integration`]: the extractor of the staff and integration endpoints (fulfilment,
//! inventory, an agent's order edits, returns received). An ERP, WMS, point of sale or
//! call-centre tool sends its key in `X-Integration-Key` (`omnicart_api::INTEGRATION_KEY_HEADER`);
//! keys are configured by name (`OMNICART_INTEGRATION_KEYS`, [`crate::config`]) and held as
//! SHA-256 digests, so the process never keeps a secret it could log. A missing or unknown key
//! is 401 `integration_key_required`; a shopper's session never opens these endpoints.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use omnicart_api::{INTEGRATION_KEY_HEADER, code};

use crate::AppState;
use crate::http::AppError;
use crate::ids::sha256_hex;

/// The integration a request came from, by the name its key was configured under (it is
/// recorded as the actor of what the request changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integration {
    pub name: Arc<str>,
}

/// The configured keys: the SHA-256 of each secret (hex, as sessions are stored), to its
/// integration's name.
#[derive(Clone, Debug, Default)]
pub struct Integrations {
    by_digest: HashMap<String, Arc<str>>,
}

impl Integrations {
    /// Accepts `secret` as the key of integration `name`.
    pub fn insert(&mut self, name: &str, secret: &str) {
        self.by_digest
            .insert(sha256_hex(secret.as_bytes()), Arc::from(name));
    }

    /// The integration whose key `presented` is.
    pub fn find(&self, presented: &str) -> Option<Integration> {
        self.by_digest
            .get(&sha256_hex(presented.as_bytes()))
            .map(|name| Integration { name: name.clone() })
    }
}

impl FromRequestParts<AppState> for Integration {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        parts
            .headers
            .get(INTEGRATION_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|key| state.integrations.find(key.trim()))
            .ok_or_else(|| {
                AppError::new(
                    StatusCode::UNAUTHORIZED,
                    code::INTEGRATION_KEY_REQUIRED,
                    format!(
                        "this endpoint needs a known integration key in {INTEGRATION_KEY_HEADER}"
                    ),
                )
            })
    }
}

/// The integration whose key the request carries, on the routes a shopper and staff share
/// (edits, appointments): `None` without the header (the shopper asks); a key that is not a
/// known integration's is 401, never the shopper's way in.
pub fn agent(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Integration>, AppError> {
    let Some(value) = headers.get(INTEGRATION_KEY_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|key| state.integrations.find(key.trim()))
        .map(Some)
        .ok_or_else(|| {
            AppError::new(
                StatusCode::UNAUTHORIZED,
                code::INTEGRATION_KEY_REQUIRED,
                format!("{INTEGRATION_KEY_HEADER} holds no known integration key"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_finds_its_integration_and_nothing_else_does() {
        let mut keys = Integrations::default();
        keys.insert("wms", "wms-secret-0123456789abcdef");
        keys.insert("erp", "erp-secret-0123456789abcdef");
        assert_eq!(
            keys.find("wms-secret-0123456789abcdef")
                .unwrap()
                .name
                .as_ref(),
            "wms"
        );
        assert_eq!(
            keys.find("erp-secret-0123456789abcdef")
                .unwrap()
                .name
                .as_ref(),
            "erp"
        );
        assert_eq!(keys.find("wms-secret-0123456789abcde"), None);
        assert_eq!(keys.find(""), None);
    }
}
