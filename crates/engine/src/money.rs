//! Money: an exact decimal amount in a [`Currency`], held at the currency's minor unit.
//!
//! Amounts are `rust_decimal::Decimal`, never floating point. Arithmetic is checked. A `Money`
//! never carries more decimals than its currency's minor unit; code that produces finer amounts
//! (percentages, allocations) must round explicitly with a named [`RoundingStrategy`].
//! Across every boundary (JSON, JS) an amount is a string such as `"1299.00"`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ErrorCode;

/// An ISO 4217 currency this engine knows, with its minor unit (number of decimals).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Currency {
    code: &'static str,
    minor_units: u32,
}

/// The currencies omnicart prices in. Adding one is a row here.
const CURRENCIES: &[(&str, u32)] = &[
    ("EUR", 2),
    ("USD", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("BHD", 3),
    ("KWD", 3),
];

impl Currency {
    pub const EUR: Currency = Currency {
        code: "EUR",
        minor_units: 2,
    };

    /// Looks a currency up by its ISO code (upper case, e.g. `"EUR"`).
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, minor_units)| Currency { code, minor_units })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.chars().take(8).collect()))
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Decimals of the minor unit: 2 for EUR (cents), 0 for JPY.
    pub fn minor_units(self) -> u32 {
        self.minor_units
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("{amount} has more decimals than {currency} allows ({minor_units})")]
    TooPrecise {
        amount: Decimal,
        currency: Currency,
        minor_units: u32,
    },
    #[error("{0:?} is not a decimal amount such as \"12.50\"")]
    NotAnAmount(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl ErrorCode for MoneyError {
    fn code(&self) -> &'static str {
        match self {
            MoneyError::UnknownCurrency(_) => "unknown_currency",
            MoneyError::TooPrecise { .. } => "amount_too_precise",
            MoneyError::NotAnAmount(_) => "invalid_amount",
            MoneyError::CurrencyMismatch(..) => "currency_mismatch",
            MoneyError::Overflow => "amount_overflow",
        }
    }
}

/// An exact amount of a currency, at the currency's minor unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Exact constructor: fails if `amount` has more decimals than the currency's minor unit.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let minor_units = currency.minor_units;
        let normalized = amount.normalize();
        if normalized.scale() > minor_units {
            return Err(MoneyError::TooPrecise {
                amount,
                currency,
                minor_units,
            });
        }
        let mut amount = normalized;
        amount.rescale(minor_units);
        Ok(Money { amount, currency })
    }

    /// Rounding constructor: rounds `amount` to the minor unit with the given strategy. Every
    /// place that rounds names its strategy; there is no default.
    pub fn rounded(amount: Decimal, currency: Currency, strategy: RoundingStrategy) -> Money {
        // Most amounts on a quote are already whole minor units, at the minor unit's scale.
        if amount.scale() == currency.minor_units {
            return Money { amount, currency };
        }
        let mut amount = amount.round_dp_with_strategy(currency.minor_units, strategy);
        amount.rescale(currency.minor_units);
        Money { amount, currency }
    }

    /// The amount as text (`"1299.00"`, as `Display` writes it), written into `buf`.
    pub fn amount_text<'b>(&self, buf: &'b mut [u8; 48]) -> std::borrow::Cow<'b, str> {
        decimal_text(self.amount, buf)
    }

    /// Parses a decimal string such as `"1299.00"`. Scientific notation and floats are refused.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let amount = parse_decimal(text)
            .ok_or_else(|| MoneyError::NotAnAmount(text.chars().take(40).collect()))?;
        Money::new(amount, currency)
    }

    /// An amount given in minor units (cents): `from_minor(1490, EUR)` is 14.90 EUR. Integer
    /// arithmetic in minor units is exact, and cheap on hot paths (the delivery calculator).
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money {
            amount: Decimal::new(minor, currency.minor_units),
            currency,
        }
    }

    /// The amount in minor units, or `None` beyond ±9.2 × 10^18 of them.
    pub fn to_minor(self) -> Option<i64> {
        // Every constructor keeps `amount` at the minor unit's scale, so the mantissa is it.
        i64::try_from(self.amount.mantissa()).ok()
    }

    pub fn zero(currency: Currency) -> Money {
        Money::rounded(Decimal::ZERO, currency, RoundingStrategy::ToZero)
    }

    pub fn amount(self) -> Decimal {
        self.amount
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_negative(self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::exact(amount, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::exact(amount, self.currency))
    }

    /// Multiplying by a whole quantity is exact: no rounding happens.
    pub fn checked_mul_quantity(self, quantity: u32) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(Decimal::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::exact(amount, self.currency))
    }

    /// Re-states an amount already known to be at most minor-unit precise (sums and whole
    /// multiples of such amounts) at exactly the minor unit's scale, e.g. `0` as `0.00`.
    fn exact(mut amount: Decimal, currency: Currency) -> Money {
        debug_assert!(amount.normalize().scale() <= currency.minor_units);
        amount.rescale(currency.minor_units);
        Money { amount, currency }
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// The one reader of decimal strings from outside (prices, amounts, percentages, tax rates):
/// plain digits with an optional sign and point, at most 32 characters. Scientific notation,
/// spaces and separators are refused, never guessed at.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let plain = !text.is_empty()
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    plain.then(|| Decimal::from_str(text).ok()).flatten()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// `{"amount": "1299.00", "currency": "EUR"}`: the amount is a string, never a JSON number.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        let mut buf = [0u8; 48];
        st.serialize_field("amount", decimal_text(self.amount, &mut buf).as_ref())?;
        st.serialize_field("currency", &self.currency)?;
        st.end()
    }
}

/// `d` as its `Display` writes it, written into `buf` without allocating: every amount of a
/// quote crosses to JSON or JS as text, and the general formatter divides the 96-bit mantissa
/// once per digit. Mantissas beyond `u64` take the general formatter. Public for the Wasm
/// adapter's quote writer (a line's `tax_rate`).
pub fn decimal_text(d: Decimal, buf: &mut [u8; 48]) -> std::borrow::Cow<'_, str> {
    let (Ok(mut m), scale) = (
        u64::try_from(d.mantissa().unsigned_abs()),
        d.scale() as usize,
    ) else {
        return d.to_string().into();
    };
    let mut at = buf.len();
    let mut digits = 0;
    while m > 0 || digits <= scale {
        if digits == scale && scale > 0 {
            at -= 1;
            buf[at] = b'.';
        }
        at -= 1;
        buf[at] = b'0' + (m % 10) as u8;
        m /= 10;
        digits += 1;
    }
    if d.is_sign_negative() {
        at -= 1;
        buf[at] = b'-';
    }
    std::str::from_utf8(&buf[at..])
        .expect("ASCII digits")
        .into()
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            amount: String,
            currency: Currency,
        }
        let raw = Raw::deserialize(d)?;
        Money::parse(&raw.amount, raw.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> Money {
        Money::parse(s, Currency::EUR).unwrap()
    }

    #[test]
    fn amounts_are_held_at_the_minor_unit() {
        assert_eq!(eur("12.5").amount().to_string(), "12.50");
        assert_eq!(eur("7").amount().to_string(), "7.00");
        assert_eq!(eur("1.230").amount().to_string(), "1.23");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(
            Money::parse("1500", jpy).unwrap().amount().to_string(),
            "1500"
        );
    }

    #[test]
    fn finer_than_the_minor_unit_is_refused_not_rounded() {
        let err = Money::parse("0.005", Currency::EUR).unwrap_err();
        assert_eq!(err.code(), "amount_too_precise");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(
            Money::parse("1.5", jpy).unwrap_err().code(),
            "amount_too_precise"
        );
    }

    #[test]
    fn floats_and_garbage_are_not_amounts() {
        for bad in ["", "1e3", "abc", "NaN", "1,50", " 1.00", "12.00 EUR"] {
            assert_eq!(
                Money::parse(bad, Currency::EUR).unwrap_err().code(),
                "invalid_amount",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rounding_names_its_strategy() {
        let half = Decimal::from_str("0.125").unwrap();
        let up = Money::rounded(half, Currency::EUR, RoundingStrategy::MidpointAwayFromZero);
        let even = Money::rounded(half, Currency::EUR, RoundingStrategy::MidpointNearestEven);
        assert_eq!(
            (up.amount().to_string(), even.amount().to_string()),
            ("0.13".into(), "0.12".into())
        );
    }

    #[test]
    fn arithmetic_is_exact_and_checks_currency() {
        assert_eq!(eur("0.10").checked_add(eur("0.20")).unwrap(), eur("0.30"));
        assert_eq!(eur("33.33").checked_mul_quantity(3).unwrap(), eur("99.99"));
        assert_eq!(
            eur("0.00")
                .checked_mul_quantity(5)
                .unwrap()
                .amount()
                .to_string(),
            "0.00"
        );
        assert_eq!(
            eur("0.50")
                .checked_add(eur("0.50"))
                .unwrap()
                .amount()
                .to_string(),
            "1.00"
        );
        let usd = Money::parse("1.00", Currency::from_code("USD").unwrap()).unwrap();
        assert_eq!(
            eur("1.00").checked_add(usd).unwrap_err().code(),
            "currency_mismatch"
        );
        let huge = Money::new(Decimal::MAX, Currency::from_code("JPY").unwrap()).unwrap();
        assert_eq!(
            huge.checked_mul_quantity(2).unwrap_err().code(),
            "amount_overflow"
        );
    }

    proptest::proptest! {
        /// Amounts are written as `Decimal`'s `Display` writes them, signs, zeros and all.
        #[test]
        fn amounts_are_written_as_decimals_display_them(m in proptest::num::i128::ANY, scale in 0u32..=28, small in proptest::bool::ANY, negative in proptest::bool::ANY) {
            let m = if small { m % 1_000_000_000 } else { m % (1i128 << 95) };
            let mut d = Decimal::from_i128_with_scale(m, scale);
            d.set_sign_negative(negative);
            let mut buf = [0u8; 48];
            let text = decimal_text(d, &mut buf).into_owned();
            proptest::prop_assert_eq!(text, d.to_string());
        }
    }

    #[test]
    fn zeros_and_signs_are_written_as_display_writes_them() {
        for (m, scale, negative) in [
            (0, 0, false),
            (0, 2, false),
            (0, 2, true),
            (5, 2, true),
            (100, 2, false),
            (7, 0, true),
            (1, 28, false),
        ] {
            let mut d = Decimal::new(m, scale);
            d.set_sign_negative(negative);
            let mut buf = [0u8; 48];
            assert_eq!(
                decimal_text(d, &mut buf),
                d.to_string(),
                "{m} at scale {scale}, negative {negative}"
            );
        }
    }

    #[test]
    fn serializes_amount_as_string() {
        let json = serde_json::to_string(&eur("1299")).unwrap();
        assert_eq!(json, r#"{"amount":"1299.00","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, eur("1299.00"));
        assert!(serde_json::from_str::<Money>(r#"{"amount":12.5,"currency":"EUR"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"XXX"}"#).is_err());
    }
}
