//! The quote as JS objects, written field by field: the shape `serde-wasm-bindgen` gives the
//! engine's `Serialize` (json_compatible: `None` is `null`, `attached_to` absent when `None`,
//! keys in declaration order), which a browser test checks on every kind of quote. Through
//! serde, converting a 200-line quote cost tens of thousands of calls from Wasm to JS; this
//! makes a few per line: lines, adjustments and amounts are built by small JS functions in one
//! call each, the other objects are written with keys made once and passed by reference, and
//! the currency and each promotion's id and label are made once per quote.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use js_sys::{Array, Object};
use omnicart_engine::{Adjustment, Currency, Money, Quote, QuoteLine};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A plain object, written by key.
    type Plain;
    #[wasm_bindgen(method, indexing_setter, js_name = set)]
    fn put(this: &Plain, key: &JsValue, value: &JsValue);
}

// The objects every quote has hundreds of, built in JS in one call each: a call from Wasm to
// JS costs more than building an object there.
#[wasm_bindgen(inline_js = r#"
export function money(amount, currency) {
  return { amount, currency };
}
export function adjustment(promotion_id, label, amount, currency) {
  return { promotion_id, label, amount: { amount, currency } };
}
export function line(sku, product_id, name, quantity, unit_price, gross, adjustments, net, order_discount, tax, tax_rate, total, gift, attached_to, currency) {
  const line = {
    sku, product_id, name, quantity, unit_price: { amount: unit_price, currency }, gross: { amount: gross, currency },
    adjustments, net: { amount: net, currency }, order_discount: { amount: order_discount, currency },
    tax: { amount: tax, currency }, tax_rate, total: { amount: total, currency }, gift,
  };
  if (attached_to !== undefined) line.attached_to = attached_to;
  return line;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = money)]
    fn js_money(amount: &str, currency: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = adjustment)]
    fn js_adjustment(
        promotion_id: &JsValue,
        label: &JsValue,
        amount: &str,
        currency: &JsValue,
    ) -> JsValue;
    #[wasm_bindgen(js_name = line)]
    #[allow(clippy::too_many_arguments)]
    fn js_line(
        sku: &str,
        product_id: &str,
        name: &str,
        quantity: u32,
        unit_price: &str,
        gross: &str,
        adjustments: &JsValue,
        net: &str,
        order_discount: &str,
        tax: &str,
        tax_rate: &str,
        total: &str,
        gift: bool,
        attached_to: &JsValue,
        currency: &JsValue,
    ) -> JsValue;
}

/// `object[key] = value`, both borrowed (no clone of either handle).
fn set(o: &Object, key: &JsValue, value: &JsValue) {
    o.unchecked_ref::<Plain>().put(key, value);
}

/// The keys of the quote's objects that are written from Rust, as JS strings.
struct Keys {
    currency: JsValue,
    snapshot_version: JsValue,
    prices_include_tax: JsValue,
    lines: JsValue,
    item_count: JsValue,
    subtotal: JsValue,
    line_discount_total: JsValue,
    order_adjustments: JsValue,
    discount_total: JsValue,
    delivery: JsValue,
    delivery_promotions: JsValue,
    tax_total: JsValue,
    total: JsValue,
    applied: JsValue,
    rejected: JsValue,
    coupons: JsValue,
    hints: JsValue,
    sku: JsValue,
    name: JsValue,
    quantity: JsValue,
    adjustments: JsValue,
    promotion_id: JsValue,
    label: JsValue,
    charge: JsValue,
    discount: JsValue,
    code: JsValue,
    reason: JsValue,
    reason_code: JsValue,
    message: JsValue,
    missing_amount: JsValue,
    add: JsValue,
    saving: JsValue,
}

impl Keys {
    fn new() -> Keys {
        let k = JsValue::from_str;
        Keys {
            currency: k("currency"),
            snapshot_version: k("snapshot_version"),
            prices_include_tax: k("prices_include_tax"),
            lines: k("lines"),
            item_count: k("item_count"),
            subtotal: k("subtotal"),
            line_discount_total: k("line_discount_total"),
            order_adjustments: k("order_adjustments"),
            discount_total: k("discount_total"),
            delivery: k("delivery"),
            delivery_promotions: k("delivery_promotions"),
            tax_total: k("tax_total"),
            total: k("total"),
            applied: k("applied"),
            rejected: k("rejected"),
            coupons: k("coupons"),
            hints: k("hints"),
            sku: k("sku"),
            name: k("name"),
            quantity: k("quantity"),
            adjustments: k("adjustments"),
            promotion_id: k("promotion_id"),
            label: k("label"),
            charge: k("charge"),
            discount: k("discount"),
            code: k("code"),
            reason: k("reason"),
            reason_code: k("reason_code"),
            message: k("message"),
            missing_amount: k("missing_amount"),
            add: k("add"),
            saving: k("saving"),
        }
    }
}

thread_local! {
    static KEYS: Keys = Keys::new();
}

/// Hashes a promotion id by its address: ids are shared `Arc<str>`s, one per promotion.
#[derive(Default)]
struct ByAddress(u64);

impl Hasher for ByAddress {
    fn write(&mut self, _: &[u8]) {
        unreachable!("only addresses are hashed");
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

struct Writer<'k> {
    k: &'k Keys,
    /// The quote's currency, and its code as a JS string.
    code: Currency,
    currency: JsValue,
    /// Each promotion's id and label, by the id's address.
    promotions: HashMap<usize, (JsValue, JsValue), BuildHasherDefault<ByAddress>>,
}

/// The quote as the plain object the package's `Quote` type describes.
pub(crate) fn quote(q: &Quote) -> JsValue {
    KEYS.with(|k| {
        let mut w = Writer {
            k,
            code: q.currency,
            currency: JsValue::from_str(q.currency.code()),
            promotions: HashMap::default(),
        };
        w.quote(q).into()
    })
}

fn str(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn opt(value: Option<JsValue>) -> JsValue {
    value.unwrap_or(JsValue::NULL)
}

impl Writer<'_> {
    fn quote(&mut self, q: &Quote) -> Object {
        let k = self.k;
        let o = Object::new();
        set(&o, &k.currency, &self.currency);
        set(&o, &k.snapshot_version, &str(&q.snapshot_version));
        set(
            &o,
            &k.prices_include_tax,
            &JsValue::from_bool(q.prices_include_tax),
        );
        set(&o, &k.lines, &self.array(&q.lines, Self::line));
        set(
            &o,
            &k.item_count,
            &JsValue::from_f64(f64::from(q.item_count)),
        );
        set(&o, &k.subtotal, &self.money(&q.subtotal));
        set(
            &o,
            &k.line_discount_total,
            &self.money(&q.line_discount_total),
        );
        set(
            &o,
            &k.order_adjustments,
            &self.array(&q.order_adjustments, Self::adjustment),
        );
        set(&o, &k.discount_total, &self.money(&q.discount_total));
        let delivery = q.delivery.as_ref().map(|d| {
            let o = Object::new();
            set(&o, &k.charge, &self.money(&d.charge));
            set(
                &o,
                &k.adjustments,
                &self.array(&d.adjustments, Self::adjustment),
            );
            set(&o, &k.total, &self.money(&d.total));
            o.into()
        });
        set(&o, &k.delivery, &opt(delivery));
        let promotions = self.array(&q.delivery_promotions, |w, p| {
            let o = Object::new();
            w.promotion(&o, &p.promotion_id, &p.label);
            // Rare and small: the discount's enum shape is left to serde.
            set(
                &o,
                &k.discount,
                &crate::to_js(&p.discount).unwrap_or(JsValue::NULL),
            );
            o.into()
        });
        set(&o, &k.delivery_promotions, &promotions);
        set(&o, &k.tax_total, &self.money(&q.tax_total));
        set(&o, &k.total, &self.money(&q.total));
        set(&o, &k.applied, &self.array(&q.applied, Self::adjustment));
        let rejected = self.array(&q.rejected, |w, r| {
            let o = Object::new();
            w.promotion(&o, &r.promotion_id, &r.label);
            set(&o, &k.code, &str(&r.code));
            set(&o, &k.reason, &str(&r.reason));
            o.into()
        });
        set(&o, &k.rejected, &rejected);
        let coupons = self.array(&q.coupons, |_, c| {
            let o = Object::new();
            set(&o, &k.code, &str(&c.code));
            set(&o, &k.applied, &JsValue::from_bool(c.applied));
            set(&o, &k.reason_code, &opt(c.reason_code.as_deref().map(str)));
            set(&o, &k.reason, &opt(c.reason.as_deref().map(str)));
            o.into()
        });
        set(&o, &k.coupons, &coupons);
        let hints = self.array(&q.hints, |w, h| {
            let o = Object::new();
            w.promotion(&o, &h.promotion_id, &h.label);
            set(&o, &k.message, &str(&h.message));
            set(
                &o,
                &k.missing_amount,
                &opt(h.missing_amount.as_ref().map(|m| w.money(m))),
            );
            let add = h.add.as_ref().map(|a| {
                let o = Object::new();
                set(&o, &k.sku, &str(a.sku.as_str()));
                set(&o, &k.name, &str(&a.name));
                set(&o, &k.quantity, &JsValue::from_f64(f64::from(a.quantity)));
                o.into()
            });
            set(&o, &k.add, &opt(add));
            set(&o, &k.saving, &opt(h.saving.as_ref().map(|m| w.money(m))));
            o.into()
        });
        set(&o, &k.hints, &hints);
        o
    }

    fn line(&mut self, l: &QuoteLine) -> JsValue {
        // The engine prices a line in one currency: its amounts share the unit price's.
        debug_assert!(
            [&l.gross, &l.net, &l.order_discount, &l.tax, &l.total]
                .iter()
                .all(|m| m.currency() == l.unit_price.currency())
        );
        let other = self.other_currency(l.unit_price.currency());
        let adjustments = self.array(&l.adjustments, Self::adjustment);
        let mut bufs = [[0u8; 48]; 7];
        let [b0, b1, b2, b3, b4, b5, b6] = &mut bufs;
        let attached_to = l
            .attached_to
            .as_ref()
            .map_or(JsValue::UNDEFINED, |s| str(s.as_str()));
        js_line(
            l.sku.as_str(),
            &l.product_id,
            &l.name,
            l.quantity.get(),
            &l.unit_price.amount_text(b0),
            &l.gross.amount_text(b1),
            &adjustments,
            &l.net.amount_text(b2),
            &l.order_discount.amount_text(b3),
            &l.tax.amount_text(b4),
            &omnicart_engine::money::decimal_text(l.tax_rate, b6),
            &l.total.amount_text(b5),
            l.gift,
            &attached_to,
            other.as_ref().unwrap_or(&self.currency),
        )
    }

    fn adjustment(&mut self, a: &Adjustment) -> JsValue {
        let other = self.other_currency(a.amount.currency());
        let mut buf = [0u8; 48];
        let (id, label) = self
            .promotions
            .entry(a.promotion_id.as_ptr() as usize)
            .or_insert_with(|| (str(&a.promotion_id), str(&a.label)));
        js_adjustment(
            id,
            label,
            &a.amount.amount_text(&mut buf),
            other.as_ref().unwrap_or(&self.currency),
        )
    }

    /// `promotion_id` and `label`, made once per promotion and quote.
    fn promotion(&mut self, o: &Object, id: &std::sync::Arc<str>, label: &str) {
        let (id, label) = self
            .promotions
            .entry(id.as_ptr() as usize)
            .or_insert_with(|| (str(id), str(label)));
        set(o, &self.k.promotion_id, id);
        set(o, &self.k.label, label);
    }

    fn money(&self, m: &Money) -> JsValue {
        let mut buf = [0u8; 48];
        let other = self.other_currency(m.currency());
        js_money(
            &m.amount_text(&mut buf),
            other.as_ref().unwrap_or(&self.currency),
        )
    }

    /// A currency's code as a JS string when it is not the quote's (never, for the amounts the
    /// engine writes today; the quote's is made once).
    fn other_currency(&self, c: Currency) -> Option<JsValue> {
        (c != self.code).then(|| str(c.code()))
    }

    fn array<T>(
        &mut self,
        items: &[T],
        mut write: impl FnMut(&mut Self, &T) -> JsValue,
    ) -> JsValue {
        let out = Array::new_with_length(items.len() as u32);
        for (i, item) in items.iter().enumerate() {
            out.set(i as u32, write(self, item));
        }
        out.into()
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use omnicart_engine::{Cart, QuoteContext, Snapshot};
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn stringify(v: &JsValue) -> String {
        js_sys::JSON::stringify(v).unwrap().as_string().unwrap()
    }

    /// The hand-written quote is, key for key and in the same order, what serde gives, on quotes
    /// with every part: line, order and delivery adjustments, a gift, an attached service,
    /// rejections, coupons applied and refused, hints of both kinds, a delivery promotion.
    #[wasm_bindgen_test]
    fn the_quote_has_the_shape_serde_gives_it() {
        let snapshot: Snapshot = serde_wasm_bindgen::from_value(
            js_sys::JSON::parse(include_str!("../../server/data/demo-catalogue.json")).unwrap(),
        )
        .unwrap();
        let carts = [
            r#"{"lines":[{"sku":"LUM-OLED-C4-55","quantity":1,"services":["SVC-INSTALL-TV"]},{"sku":"CBL-HDMI21-2M","quantity":3},{"sku":"PS5-SLIM-DISC","quantity":1}],"coupons":["welcome10","cable20","NOPE"]}"#,
            r#"{"lines":[{"sku":"CBL-HDMI21-1M","quantity":1}]}"#,
            r#"{"lines":[{"sku":"SON-BEAM-30","quantity":2},{"sku":"XBX-SERIES-S","quantity":1}],"coupons":["STREAM20"]}"#,
            r#"{"lines":[]}"#,
        ];
        let contexts = [
            r#"{"now":"2026-12-05T10:00:00Z","first_order":true,"delivery_charge":"4.90"}"#,
            r#"{"now":"2026-11-29T10:00:00Z","channel":"store","segments":["vip"]}"#,
            r#"{}"#,
        ];
        let mut compared = 0;
        for cart in carts {
            for context in contexts {
                let cart: Cart = serde_json_free(cart);
                let context: QuoteContext = serde_json_free(context);
                let Ok(quote) = omnicart_engine::quote(&snapshot, &cart, &context) else {
                    continue;
                };
                assert_eq!(
                    stringify(&super::quote(&quote)),
                    stringify(&crate::to_js(&quote).unwrap()),
                    "{cart:?} {context:?}"
                );
                compared += 1;
            }
        }
        assert!(compared >= 10, "quotes compared: {compared}");
    }

    /// A value from JSON text, through JS (the adapter has no JSON parser of its own).
    fn serde_json_free<T: serde::de::DeserializeOwned>(text: &str) -> T {
        serde_wasm_bindgen::from_value(js_sys::JSON::parse(text).unwrap()).unwrap()
    }
}
