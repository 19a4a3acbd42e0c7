//! Order numbers a person can read out on the phone: eleven digits in groups, `4829-1034-775`,
//! the last one a check digit (Damm's algorithm), so a mistyped digit or two swapped neighbours
//! are caught before anyone looks the order up.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::OrderError;

/// Digits before the check digit: ten billion numbers, drawn at random by the server (which
/// retries on the rare collision), so numbers say nothing about how many orders there are.
pub const NUMBER_DIGITS: usize = 10;
/// How many distinct numbers there are.
pub const NUMBER_SPACE: u64 = 10_000_000_000;

/// An order number: [`NUMBER_DIGITS`] digits and a check digit. One that exists is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderNumber(u64);

impl OrderNumber {
    /// The number made from `seed` (any value: the server passes randomness; it is reduced
    /// into [`NUMBER_SPACE`]).
    pub fn from_seed(seed: u64) -> OrderNumber {
        OrderNumber(seed % NUMBER_SPACE)
    }

    /// Reads a number as a person may type it: digits, with any spaces or dashes between.
    pub fn parse(text: &str) -> Result<OrderNumber, OrderError> {
        let invalid = || OrderError::InvalidNumber(text.chars().take(40).collect());
        let mut digits = [0u8; NUMBER_DIGITS + 1];
        let mut n = 0;
        for c in text.chars() {
            match c {
                '0'..='9' if n < digits.len() => {
                    digits[n] = c as u8 - b'0';
                    n += 1;
                }
                ' ' | '-' => {}
                _ => return Err(invalid()),
            }
        }
        if n != digits.len() || check_digit(&digits[..NUMBER_DIGITS]) != digits[NUMBER_DIGITS] {
            return Err(invalid());
        }
        let value = digits[..NUMBER_DIGITS]
            .iter()
            .fold(0u64, |v, &d| v * 10 + u64::from(d));
        Ok(OrderNumber(value))
    }

    fn digits(self) -> [u8; NUMBER_DIGITS + 1] {
        let mut digits = [0u8; NUMBER_DIGITS + 1];
        let mut rest = self.0;
        for d in digits[..NUMBER_DIGITS].iter_mut().rev() {
            *d = (rest % 10) as u8;
            rest /= 10;
        }
        digits[NUMBER_DIGITS] = check_digit(&digits[..NUMBER_DIGITS]);
        digits
    }
}

/// Damm's check digit: a quasigroup of order 10 with no two equal neighbours, so every single
/// wrong digit and every swap of two adjacent digits changes it.
fn check_digit(digits: &[u8]) -> u8 {
    const TABLE: [[u8; 10]; 10] = [
        [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
        [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
        [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
        [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
        [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
        [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
        [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
        [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
        [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
        [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
    ];
    digits
        .iter()
        .fold(0, |interim, &d| TABLE[usize::from(interim)][usize::from(d)])
}

/// `4829-1034-775`: groups of four, the last group ending in the check digit.
impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; NUMBER_DIGITS + 3];
        let mut n = 0;
        for (i, d) in self.digits().into_iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                text[n] = b'-';
                n += 1;
            }
            text[n] = b'0' + d;
            n += 1;
        }
        f.write_str(std::str::from_utf8(&text[..n]).expect("ASCII digits"))
    }
}

impl Serialize for OrderNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OrderNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderNumber, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        OrderNumber::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_written_in_groups_and_read_back_as_typed() {
        let number = OrderNumber::from_seed(4_829_103_477);
        let text = number.to_string();
        assert_eq!(text.len(), 13, "{text}");
        assert_eq!(&text[..10], "4829-1034-");
        assert_eq!(OrderNumber::parse(&text), Ok(number));
        assert_eq!(OrderNumber::parse(&text.replace('-', " ")), Ok(number));
        assert_eq!(OrderNumber::parse(&text.replace('-', "")), Ok(number));
    }

    #[test]
    fn leading_zeros_are_kept() {
        let number = OrderNumber::from_seed(7);
        assert!(number.to_string().starts_with("0000-0000-07"), "{number}");
        assert_eq!(OrderNumber::parse(&number.to_string()), Ok(number));
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for text in ["", "1234", "4829-1034-77a", "4829-1034-7755", "４８２９"] {
            assert!(OrderNumber::parse(text).is_err(), "{text}");
        }
    }
}
