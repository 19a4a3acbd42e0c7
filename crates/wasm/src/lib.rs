//! omnicart-wasm: the engine as a JS class. Thin on purpose: it converts JS values to engine
//! types with serde, calls the engine, and converts results and errors back (the quote, the
//! hottest result, by hand: `quote_js.rs`). No logic lives here.
//!
//! API boundary: the npm package `pkg/` (see `pkg/README.md`). Errors are thrown as JS `Error`s
//! with a stable `code` property (the engine's `ErrorCode`), or `"invalid_input"` when a value
//! does not have the documented shape.

use omnicart_engine::{
    Cart, CartOp, Destination, ErrorCode, QuoteContext, Sku, Snapshot, Timestamp,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

mod quote_js;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A decimal amount as a string ("1299.00") in a currency ("EUR"). Never a JS number. */
export interface Money { amount: string; currency: string }
export interface Category { id: string; name: string }
export interface Variant {
  sku: string; name: string; price: string; weight_grams?: number;
  /** Packed size in cm: [length, width, height]. */
  dimensions_cm?: [number, number, number];
  attributes?: Record<string, string>;
}
export interface Product {
  id: string; name: string; brand: string; category: string; kind: "goods" | "service";
  description?: string; tags?: string[]; services?: string[]; tax_class?: string; variants: Variant[];
}
export type Channel = "web" | "app" | "store" | "call_centre";
/** Which lines: every line, or lines whose SKU / product / category / tag is listed. */
export type Target = "any" | { skus: string[] } | { products: string[] } | { categories: string[] } | { tags: string[] };
export type Condition =
  | { type: "subtotal_at_least"; amount: string }
  | { type: "quantity_at_least"; target: Target; quantity: number }
  | { type: "cart_contains"; target: Target }
  | { type: "customer_segment"; segments: string[] }
  | { type: "channel"; channels: Channel[] }
  | { type: "coupon"; code: string }
  | { type: "schedule"; starts_at?: string; ends_at?: string }
  | { type: "first_order" };
export type Pick = "cheapest" | "dearest";
export type DeliveryDiscount = "free" | { percent: string } | { amount: string };
export type Action =
  | { type: "percent_off"; target: Target; percent: string; units?: number; pick?: Pick }
  | { type: "amount_off"; target: Target; amount: string; units?: number; pick?: Pick }
  | { type: "fixed_price"; target: Target; price: string; units?: number; pick?: Pick }
  | { type: "buy_x_get_y"; buy: Target; buy_quantity: number; get: Target; get_quantity: number; percent: string; pick?: Pick; max_repeats?: number }
  | { type: "bundle"; components: { target: Target; quantity: number }[]; price: string }
  | { type: "order_percent_off"; percent: string }
  | { type: "order_amount_off"; amount: string }
  | { type: "tiered_spend"; tiers: { threshold: string; amount_off: string }[] }
  | { type: "delivery_discount"; discount: DeliveryDiscount }
  | { type: "gift_item"; sku: string; quantity: number };
export interface Promotion {
  id: string; label: string; priority?: number; exclusive?: boolean;
  combines_with?: { line?: boolean; order?: boolean; delivery?: boolean };
  conditions?: Condition[]; action: Action;
  caps?: { max_discount?: string; max_applications?: number; max_quantity_per_line?: number };
  usage_limit?: number; budget?: string;
  /** Its coupon is refused (`coupon_already_used`) when `QuoteContext.used_coupons` lists it. */
  once_per_customer?: boolean;
}
/** The catalogue snapshot served by `GET /api/snapshot`. */
export interface Snapshot {
  version: string; currency: string; categories: Category[]; products: Product[];
  pricing?: { prices_include_tax?: boolean; rounding?: "half_up" | "half_even"; default_region?: string;
              tax_rates?: { region: string; tax_class: string; rate: string }[] };
  price_lists?: { id: string; channel?: Channel; currency: string; prices: Record<string, string> }[];
  promotions?: Promotion[];
  network?: Network;
}
/** A local date "2026-11-24" and a local time "14:00". */
export type LocalDate = string;
export type LocalTime = string;
export type Level = "standard" | "express" | "same_day" | "scheduled";
export interface Point { lat: number; lon: number }
export interface Network {
  time_zone?: { utc_offset_minutes?: number; dst?: "none" | "eu" | "us" };
  calendars?: { id: string; closed?: string; holidays?: LocalDate[] }[];
  locations?: {
    id: string; name: string; kind: "warehouse" | "store" | "dark_store"; point: Point; address?: string;
    postcode?: string; calendar: string; hours: { days: string; open: LocalTime; close: LocalTime }[];
    handling_minutes?: number; cutoff?: LocalTime; daily_capacity?: number; booked?: Record<LocalDate, number>;
    ships?: boolean; pickup?: boolean; transfer_days?: number;
  }[];
  stock?: { sku: string; location: string; on_hand: number; reserved?: number; safety?: number;
            incoming?: { date: LocalDate; quantity: number }[] }[];
  carriers?: { id: string; name: string; kind: "fleet" | "courier"; calendar: string; services: {
    id: string; name: string; level: Level; transit_days?: [number, number]; pickup_cutoff?: LocalTime;
    window: [LocalTime, LocalTime];
    zones: { id: string; max_km?: number; postcodes?: string[]; rates: { max_grams?: number; price: string }[] }[];
    per_km?: string; dim_divisor?: number; max_item_grams?: number; max_length_cm?: number;
    bulky?: { min_length_cm: number; min_grams?: number; surcharge: string };
    free_above?: string; value_tiers?: { min_value: string; price: string }[]; origins?: string[];
    slots?: { start: LocalTime; end: LocalTime; capacity: number }[];
    booked?: { date: LocalDate; start: LocalTime; count: number }[]; available?: boolean;
  }[] }[];
  postcodes?: Record<string, Point>;
  sourcing?: { split_penalty?: string; delay_cost_per_day?: string; max_shipments?: number; low_stock?: number; horizon_days?: number };
}
/** A line; `services` are attached to it (installation with a TV), each charged per unit. */
export interface CartLine { sku: string; quantity: number; services?: string[] }
export type DeliveryChoice = { level: Level } | { pickup: string };
export interface Cart { lines: CartLine[]; coupons?: string[]; delivery?: DeliveryChoice; address?: Destination }
export type CartOp =
  | { op: "add"; sku: string; quantity: number }
  | { op: "set_quantity"; sku: string; quantity: number }
  | { op: "remove"; sku: string }
  | { op: "replace"; sku: string; with: string }
  | { op: "apply_coupon"; code: string }
  | { op: "remove_coupon"; code: string }
  /** Choose a delivery level or a pickup location; neither clears the choice. */
  | { op: "choose_delivery"; level?: Level; pickup?: string }
  /** Where to deliver (kept with the cart, so every device quotes the same); none forgets it. */
  | { op: "set_address"; address?: Destination }
  /** Attach a service the catalogue offers with the line's product; `service_not_offered` otherwise. */
  | { op: "attach_service"; sku: string; service: string }
  | { op: "detach_service"; sku: string; service: string };
/** Who is buying, where and when. Every field is optional. */
export interface QuoteContext {
  channel?: Channel; currency?: string; region?: string;
  /** ISO 8601, e.g. new Date().toISOString(): the engine reads no clock. */
  now?: string;
  segments?: string[]; first_order?: boolean; used_coupons?: string[];
  usage?: Record<string, { remaining_uses?: number; remaining_budget?: string }>;
  delivery_charge?: string;
}
export interface Adjustment { promotion_id: string; label: string; amount: Money }
export interface QuoteLine {
  sku: string; product_id: string; name: string; quantity: number; unit_price: Money;
  gross: Money; adjustments: Adjustment[]; net: Money; order_discount: Money; tax: Money;
  /** The rate `tax` was computed at, a decimal fraction such as "0.19" ("0" without rates, and on a gift). */
  tax_rate: string;
  total: Money; gift: boolean;
  /** A service attached to the line of this SKU (it follows that line, with its quantity). */
  attached_to?: string;
}
export interface Rejection { promotion_id: string; label: string; code: string; reason: string }
export interface CouponOutcome { code: string; applied: boolean; reason_code: string | null; reason: string | null }
export interface UpsellHint {
  promotion_id: string; label: string; message: string; missing_amount: Money | null;
  add: { sku: string; name: string; quantity: number } | null; saving: Money | null;
}
export interface Quote {
  currency: string; snapshot_version: string; prices_include_tax: boolean; lines: QuoteLine[];
  item_count: number; subtotal: Money; line_discount_total: Money; order_adjustments: Adjustment[];
  discount_total: Money;
  delivery: { charge: Money; adjustments: Adjustment[]; total: Money } | null;
  delivery_promotions: { promotion_id: string; label: string; discount: DeliveryDiscount }[];
  tax_total: Money; total: Money; applied: Adjustment[]; rejected: Rejection[];
  coupons: CouponOutcome[]; hints: UpsellHint[];
}
/** Where to deliver: coordinates (from navigator.geolocation) or a postcode, or both. */
export interface Destination { lat?: number; lon?: number; postcode?: string }
export type StockStatus = "in_stock" | "low_stock" | "backorder" | "unavailable";
export interface Availability {
  sku: string; available: number; status: StockStatus; backorder_date: LocalDate | null;
  incoming: { date: LocalDate; quantity: number }[];
  locations: { location: string; name: string; kind: string; available: number; on_hand: number; reserved: number;
               safety: number; incoming: { date: LocalDate; quantity: number }[] }[];
}
export interface StoreStock {
  location: string; name: string; address: string; distance_m: number; available: number; status: StockStatus;
  ready_by: string; ready_label: string;
}
export interface DeliveryOption {
  level: Level; level_name: string; service_id: string; service_name: string; carrier_id: string; carrier_name: string;
  charge: Money; adjustments: Adjustment[]; total: Money; earliest: string; latest: string; label: string;
  backorder: boolean;
  shipments: { location: string; location_name: string; distance_m: number; lines: CartLine[]; ships_on: LocalDate; charge: Money }[];
  slots: { start: string; end: string; label: string }[];
}
export interface DeliveryQuote {
  destination: Point; postcode: string | null;
  lines: { sku: string; quantity: number; status: StockStatus; available: number; date: LocalDate | null }[];
  options: DeliveryOption[];
  unavailable: { service_id: string; service_name: string; carrier_name: string; level: Level; code: string; reason: string }[];
  pickup: { location: string; name: string; address: string; distance_m: number; ready_by: string; ready_label: string;
            source: "store" | "incoming" | "transfer"; transfer_from: string | null }[];
}
/** A hybrid logical clock reading. */
export interface Stamp { ms: number; counter: number; device: string }
/** One cart edit as devices exchange them (see the engine's `replica` module for the merge rules). */
export interface Operation { id: string; stamp: Stamp; seen?: number; op: CartOp }
/** The compacted start of a cart's log, as the sync API sends it (`base`): start a replica from it. */
export interface ReplicaBase { cart: Cart; renamed?: [string, string][] }
/** Every error the engine throws is an Error with a stable machine code. */
export interface OmnicartError extends Error { code: string; opIndex?: number }
"#;

/// A pricing engine loaded with one catalogue snapshot.
#[wasm_bindgen]
pub struct Engine {
    snapshot: Snapshot,
}

#[wasm_bindgen]
impl Engine {
    /// Validates and loads a snapshot object (as served by `GET /api/snapshot`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Snapshot")] snapshot: JsValue,
    ) -> Result<Engine, JsValue> {
        let snapshot = from_js::<Snapshot>(snapshot, "snapshot_invalid")?;
        Ok(Engine { snapshot })
    }

    /// The version label of the loaded snapshot.
    #[wasm_bindgen(getter, js_name = snapshotVersion)]
    pub fn snapshot_version(&self) -> String {
        self.snapshot.version().to_owned()
    }

    /// Quotes a cart: prices, promotions with reasons, tax, totals exact to the cent, and
    /// upsell hints. `context` (optional) says who, where and when: pass `now` as an ISO string.
    #[wasm_bindgen(unchecked_return_type = "Quote")]
    pub fn quote(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "QuoteContext")] context: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let cart = from_js::<Cart>(cart, "invalid_input")?;
        let context = match context {
            Some(context) => from_js::<QuoteContext>(context.into(), "invalid_input")?,
            None => QuoteContext::default(),
        };
        let quote =
            omnicart_engine::quote(&self.snapshot, &cart, &context).map_err(|e| error(&e, None))?;
        Ok(quote_js::quote(&quote))
    }

    /// The network's stock of one SKU: available to promise per location and in total,
    /// status, incoming supply.
    #[wasm_bindgen(unchecked_return_type = "Availability")]
    pub fn availability(&self, sku: &str) -> Result<JsValue, JsValue> {
        let sku = Sku::new(sku).map_err(|e| error(&e, None))?;
        to_js(&omnicart_engine::availability(&self.snapshot, &sku).map_err(|e| error(&e, None))?)
    }

    /// Stores that have the SKU now, nearest to `destination` first, with a ready-by time.
    /// `now` (ISO string) defaults to this device's clock.
    #[wasm_bindgen(js_name = findInStore, unchecked_return_type = "StoreStock[]")]
    pub fn find_in_store(
        &self,
        sku: &str,
        #[wasm_bindgen(unchecked_param_type = "Destination")] destination: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] now: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let sku = Sku::new(sku).map_err(|e| error(&e, None))?;
        let destination = from_js::<Destination>(destination, "invalid_destination")?;
        let stores =
            omnicart_engine::find_in_store(&self.snapshot, &sku, &destination, instant(now)?)
                .map_err(|e| error(&e, None))?;
        to_js(&stores)
    }

    /// Delivery options per service level (cost, dates, plan), the reasons other services
    /// cannot deliver, and pickup stores, for a cart and a destination. Delivery promotions
    /// the quote finds for `context` are applied to each option.
    #[wasm_bindgen(js_name = deliveryOptions, unchecked_return_type = "DeliveryQuote")]
    pub fn delivery_options(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Destination")] destination: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] now: Option<String>,
        #[wasm_bindgen(unchecked_optional_param_type = "QuoteContext")] context: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let (_, delivery) = self.priced(cart, destination, now, context)?;
        to_js(&delivery)
    }

    /// The quote including the cart's chosen delivery, and the delivery options:
    /// `{ quote, delivery }`.
    #[wasm_bindgen(js_name = quoteWithDelivery, unchecked_return_type = "{ quote: Quote; delivery: DeliveryQuote }")]
    pub fn quote_with_delivery(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Destination")] destination: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] now: Option<String>,
        #[wasm_bindgen(unchecked_optional_param_type = "QuoteContext")] context: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let (quote, delivery) = self.priced(cart, destination, now, context)?;
        let both = js_sys::Object::new();
        js_sys::Reflect::set(&both, &"quote".into(), &quote_js::quote(&quote))?;
        js_sys::Reflect::set(&both, &"delivery".into(), &to_js(&delivery)?)?;
        Ok(both.into())
    }

    /// Applies edits to a cart, all or nothing, and returns the new cart. The input is not
    /// modified. A failing edit throws with `code` and `opIndex`.
    #[wasm_bindgen(js_name = applyOps, unchecked_return_type = "Cart")]
    pub fn apply_ops(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CartOp[]")] ops: JsValue,
    ) -> Result<JsValue, JsValue> {
        let mut cart = from_js::<Cart>(cart, "invalid_input")?;
        let ops = from_js::<Vec<CartOp>>(ops, "invalid_input")?;
        cart.apply_all(&self.snapshot, &ops)
            .map_err(|(i, e)| error(&e, Some(i)))?;
        to_js(&cart)
    }
}

/// The operations one device has seen, merged into a cart by the engine's rules: replicas that
/// have seen the same operations hold the same cart, whatever order they arrived in.
#[wasm_bindgen]
pub struct CartReplica {
    log: omnicart_engine::replica::OpLog,
}

#[wasm_bindgen]
impl CartReplica {
    #[wasm_bindgen(constructor)]
    pub fn new() -> CartReplica {
        CartReplica {
            log: omnicart_engine::replica::OpLog::new(),
        }
    }

    /// A replica that starts from a compacted base (the sync API's `base`, after which its
    /// `ops` follow).
    #[wasm_bindgen(js_name = fromBase)]
    pub fn from_base(
        #[wasm_bindgen(unchecked_param_type = "ReplicaBase")] base: JsValue,
    ) -> Result<CartReplica, JsValue> {
        let base = from_js::<omnicart_engine::replica::Base>(base, "invalid_input")?;
        Ok(CartReplica {
            log: omnicart_engine::replica::OpLog::with_base(base),
        })
    }

    /// Adds operations (each once, by id); returns how many were new.
    pub fn insert(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Operation[]")] ops: JsValue,
    ) -> Result<u32, JsValue> {
        let ops = from_js::<Vec<omnicart_engine::replica::Operation>>(ops, "invalid_operation")?;
        let mut added = 0;
        for op in ops {
            added += u32::from(self.log.insert(op).map_err(|e| error(&e, None))?);
        }
        Ok(added)
    }

    /// The cart the operations make.
    #[wasm_bindgen(unchecked_return_type = "Cart")]
    pub fn cart(&self) -> Result<JsValue, JsValue> {
        to_js(&self.log.cart())
    }

    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        self.log.len() as u32
    }
}

impl Default for CartReplica {
    fn default() -> CartReplica {
        CartReplica::new()
    }
}

impl Engine {
    fn priced(
        &self,
        cart: JsValue,
        destination: JsValue,
        now: Option<String>,
        context: Option<js_sys::Object>,
    ) -> Result<
        (
            omnicart_engine::Quote,
            omnicart_engine::fulfilment::DeliveryQuote,
        ),
        JsValue,
    > {
        let cart = from_js::<Cart>(cart, "invalid_input")?;
        let destination = from_js::<Destination>(destination, "invalid_destination")?;
        let now = instant(now)?;
        let mut context = match context {
            Some(context) => from_js::<QuoteContext>(context.into(), "invalid_input")?,
            None => QuoteContext::default(),
        };
        context.now.get_or_insert(now);
        omnicart_engine::quote_with_delivery(&self.snapshot, &cart, &context, &destination, now)
            .map_err(|e| error(&e, None))
    }
}

/// An ISO instant from JS, or this device's clock: the adapter may read a clock, the engine
/// never does.
fn instant(now: Option<String>) -> Result<Timestamp, JsValue> {
    match now {
        Some(text) => Timestamp::parse(&text).map_err(|e| error(&e, None)),
        None => Ok(Timestamp::from_unix((js_sys::Date::now() / 1000.0) as i64)),
    }
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, code: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| js_error(code, &e.to_string(), None))
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    // json_compatible: maps become plain objects, so results look like the HTTP API's JSON.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error("internal", &e.to_string(), None))
}

fn error<E: ErrorCode + std::fmt::Display>(e: &E, op_index: Option<usize>) -> JsValue {
    js_error(e.code(), &e.to_string(), op_index)
}

fn js_error(code: &str, message: &str, op_index: Option<usize>) -> JsValue {
    let err = js_sys::Error::new(message);
    // Reflect::set on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
    if let Some(i) = op_index {
        let _ = js_sys::Reflect::set(&err, &"opIndex".into(), &(i as u32).into());
    }
    err.into()
}
