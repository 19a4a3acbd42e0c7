//! Exchanges: the rule that settles the price difference between what a shopper returns and
//! the replacement shipped in its place.
//!
//! **The rule.** The returned units are worth what the return rule refunds for them
//! (`returns::units_share` of the line's total, tax included; no delivery charge, since the
//! order is not withdrawn). The replacement is priced by the engine at the order's price rule
//! (the catalogue's prices now, the promotions as of placement, as an edit is). The difference
//! is settled exactly, in integer minor units: a dearer replacement charges the difference
//! (authorized and captured), a cheaper one refunds it, an equal one moves no money.
//! Not yet used by the server: the exchange flow (request, reservation, fulfilment order)
//! is still to be built on it.

/// How an exchange's price difference is settled, in minor units of the order's currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeSettlement {
    /// The replacement is dearer: authorize and capture this much more.
    Charge(i64),
    /// The replacement is cheaper: refund this much to the original payment.
    Refund(i64),
    /// Same price: no money moves.
    Even,
}

/// Why an exchange's amounts cannot be settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeError {
    /// An amount below zero: a programmer's or a pricing error, never settled.
    NegativeAmount,
}

impl ExchangeError {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ExchangeError::NegativeAmount => "invalid_amount",
        }
    }
}

impl ExchangeSettlement {
    /// The settlement of returned units worth `returned` for a replacement priced `replacement`.
    pub fn of(returned: i64, replacement: i64) -> Result<ExchangeSettlement, ExchangeError> {
        if returned < 0 || replacement < 0 {
            return Err(ExchangeError::NegativeAmount);
        }
        Ok(match replacement.cmp(&returned) {
            std::cmp::Ordering::Greater => ExchangeSettlement::Charge(replacement - returned),
            std::cmp::Ordering::Less => ExchangeSettlement::Refund(returned - replacement),
            std::cmp::Ordering::Equal => ExchangeSettlement::Even,
        })
    }

    /// The money moved towards the retailer: positive charged, negative refunded.
    pub fn net(self) -> i64 {
        match self {
            ExchangeSettlement::Charge(amount) => amount,
            ExchangeSettlement::Refund(amount) => -amount,
            ExchangeSettlement::Even => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settlements_follow_the_difference_exactly() {
        let rows = [
            (4_999, 5_999, ExchangeSettlement::Charge(1_000)),
            (5_999, 4_999, ExchangeSettlement::Refund(1_000)),
            (4_999, 4_999, ExchangeSettlement::Even),
            (0, 1, ExchangeSettlement::Charge(1)),
            (1, 0, ExchangeSettlement::Refund(1)),
        ];
        for (returned, replacement, expected) in rows {
            let got = ExchangeSettlement::of(returned, replacement).unwrap();
            assert_eq!(got, expected, "{returned} for {replacement}");
            assert_eq!(returned + got.net(), replacement, "the difference is exact");
        }
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(
            ExchangeSettlement::of(-1, 10),
            Err(ExchangeError::NegativeAmount)
        );
        assert_eq!(
            ExchangeSettlement::of(10, -1).map_err(ExchangeError::code),
            Err("invalid_amount")
        );
    }
}
