//! Display formatting for the shopper: money with a symbol and thousands separators.
//! Formatting only; every amount comes from the engine, exact.

use omnicart_engine::Money;

/// `€1,399.00`. Amounts are already at the currency's minor unit.
pub fn money(m: Money) -> String {
    let text = m.amount().to_string();
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
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

fn dot(fraction: &str) -> String {
    if fraction.is_empty() { String::new() } else { format!(".{fraction}") }
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
}
