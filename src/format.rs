//! Display formatting for the shopper: money with a symbol and thousands separators, delivery
//! charges ("Free"), distances and stock. Formatting only; every amount comes from the engine,
//! exact.

use omnicart_engine::Money;

/// `€1,399.00`. Amounts are already at the currency's minor unit.
pub fn money(m: Money) -> String {
    let text = m.amount().to_string();
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let symbol = match m.currency().code() {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "JPY" => "¥",
        other => return format!("{sign}{grouped}{} {other}", dot(fraction)),
    };
    format!("{sign}{symbol}{grouped}{}", dot(fraction))
}

/// A delivery charge: `€4.90`, or `Free` when nothing is to pay.
pub fn charge(m: Money) -> String {
    if m.amount().is_zero() {
        "Free".to_owned()
    } else {
        money(m)
    }
}

/// `0.6 km`, `12.4 km`: whole metres rounded to a tenth of a kilometre.
pub fn distance(metres: u32) -> String {
    let tenths = (u64::from(metres) + 50) / 100;
    format!("{}.{} km", tenths / 10, tenths % 10)
}

/// `3 in stock`, or `Only 1 left` when the engine calls it low stock.
pub fn store_stock(available: u32, low: bool) -> String {
    if low {
        format!("Only {available} left")
    } else {
        format!("{available} in stock")
    }
}

fn dot(fraction: &str) -> String {
    if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use omnicart_engine::{Currency, Money};

    #[test]
    fn formats_with_symbol_and_grouping() {
        let eur = |s| super::money(Money::parse(s, Currency::EUR).unwrap());
        assert_eq!(eur("1399"), "€1,399.00");
        assert_eq!(eur("0.5"), "€0.50");
        assert_eq!(eur("1198790.01"), "€1,198,790.01");
        assert_eq!(eur("-12.30"), "-€12.30");
        let chf = Money::parse("12", Currency::from_code("CHF").unwrap()).unwrap();
        assert_eq!(super::money(chf), "12.00 CHF");
    }

    #[test]
    fn formats_delivery_distance_and_stock() {
        let eur = |s| Money::parse(s, Currency::EUR).unwrap();
        assert_eq!(super::charge(eur("0")), "Free");
        assert_eq!(super::charge(eur("14.9")), "€14.90");
        assert_eq!(super::distance(0), "0.0 km");
        assert_eq!(super::distance(649), "0.6 km");
        assert_eq!(super::distance(950), "1.0 km");
        assert_eq!(super::distance(12_449), "12.4 km");
        assert_eq!(super::distance(584_000), "584.0 km");
        assert_eq!(super::store_stock(3, false), "3 in stock");
        assert_eq!(super::store_stock(1, true), "Only 1 left");
    }
}
