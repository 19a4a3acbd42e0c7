//! Identifiers and limits that cross every boundary: [`Sku`] and [`Quantity`].

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// The most units of one SKU a cart line may hold. A limit on everything (TigerBeetle style):
/// a storefront that accepts 10^9 TVs has a bug, not a customer.
pub const MAX_LINE_QUANTITY: u32 = 999;

/// Longest SKU accepted.
pub const MAX_SKU_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("a SKU is 1 to {MAX_SKU_LEN} characters of A-Z, a-z, 0-9, '-', '_' or '.'; got {0:?}")]
    InvalidSku(String),
    #[error("quantity must be between 1 and {MAX_LINE_QUANTITY}; got {0}")]
    QuantityOutOfRange(i64),
}

impl ErrorCode for SkuError {
    fn code(&self) -> &'static str {
        match self {
            SkuError::InvalidSku(_) => "invalid_sku",
            SkuError::QuantityOutOfRange(_) => "invalid_quantity",
        }
    }
}

/// A stock keeping unit: one sellable variant. Case-sensitive, validated on construction.
/// Shared text: every quote line, delivery option and gift copies SKUs, and a clone only counts
/// a reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct Sku(Arc<str>);

impl Serialize for Sku {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Sku {
    pub fn new(text: &str) -> Result<Sku, SkuError> {
        let ok = !text.is_empty()
            && text.len() <= MAX_SKU_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Sku(Arc::from(text)))
        } else {
            Err(SkuError::InvalidSku(
                text.chars().take(MAX_SKU_LEN + 1).collect(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = SkuError;
    fn try_from(s: String) -> Result<Sku, SkuError> {
        Sku::new(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0.to_string()
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number of units on a cart line: 1 to [`MAX_LINE_QUANTITY`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const ONE: Quantity = Quantity(1);

    pub fn new(n: i64) -> Result<Quantity, SkuError> {
        if (1..=i64::from(MAX_LINE_QUANTITY)).contains(&n) {
            Ok(Quantity(n as u32))
        } else {
            Err(SkuError::QuantityOutOfRange(n))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = SkuError;
    fn try_from(n: i64) -> Result<Quantity, SkuError> {
        Quantity::new(n)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_validated() {
        assert!(Sku::new("LUM-OLED55.C4_b").is_ok());
        for bad in ["", "has space", "ünï", "a/b", &"x".repeat(65)] {
            assert_eq!(Sku::new(bad).unwrap_err().code(), "invalid_sku", "{bad:?}");
        }
    }

    #[test]
    fn quantities_are_bounded() {
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(999).unwrap().get(), 999);
        for bad in [0, -1, 1000, 1_000_000_000, i64::MIN] {
            assert_eq!(Quantity::new(bad).unwrap_err().code(), "invalid_quantity");
        }
    }

    #[test]
    fn json_rejects_fractions_and_out_of_range() {
        assert!(serde_json::from_str::<Quantity>("2").is_ok());
        for bad in [
            "0",
            "1.5",
            "-3",
            "1000000000",
            "\"2\"",
            "99999999999999999999",
        ] {
            assert!(serde_json::from_str::<Quantity>(bad).is_err(), "{bad}");
        }
    }
}
