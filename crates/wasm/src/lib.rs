//! omnicart-wasm: the engine as a JS class. Thin on purpose: it converts JS values to engine
//! types with serde, calls the engine, and converts results and errors back. No logic lives here.
//!
//! API boundary: the npm package `pkg/` (see `pkg/README.md`). Errors are thrown as JS `Error`s
//! with a stable `code` property (the engine's `ErrorCode`), or `"invalid_input"` when a value
//! does not have the documented shape.

use omnicart_engine::{Cart, CartOp, ErrorCode, Snapshot};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A decimal amount as a string ("1299.00") in a currency ("EUR"). Never a JS number. */
export interface Money { amount: string; currency: string }
export interface Category { id: string; name: string }
export interface Variant {
  sku: string; name: string; price: string; weight_grams?: number;
  attributes?: Record<string, string>;
}
export interface Product {
  id: string; name: string; brand: string; category: string; kind: "goods" | "service";
  description?: string; tags?: string[]; services?: string[]; variants: Variant[];
}
/** The catalogue snapshot served by `GET /api/snapshot`. */
export interface Snapshot { version: string; currency: string; categories: Category[]; products: Product[] }
export interface CartLine { sku: string; quantity: number }
export interface Cart { lines: CartLine[] }
export type CartOp =
  | { op: "add"; sku: string; quantity: number }
  | { op: "set_quantity"; sku: string; quantity: number }
  | { op: "remove"; sku: string }
  | { op: "replace"; sku: string; with: string };
export interface QuoteLine {
  sku: string; product_id: string; name: string; quantity: number;
  unit_price: Money; line_total: Money;
}
export interface Quote {
  currency: string; snapshot_version: string; lines: QuoteLine[]; item_count: number;
  subtotal: Money; total: Money;
}
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
    pub fn new(#[wasm_bindgen(unchecked_param_type = "Snapshot")] snapshot: JsValue) -> Result<Engine, JsValue> {
        let snapshot = from_js::<Snapshot>(snapshot, "snapshot_invalid")?;
        Ok(Engine { snapshot })
    }

    /// The version label of the loaded snapshot.
    #[wasm_bindgen(getter, js_name = snapshotVersion)]
    pub fn snapshot_version(&self) -> String {
        self.snapshot.version().to_owned()
    }

    /// Prices a cart: line totals, subtotal and total, exact to the cent.
    #[wasm_bindgen(unchecked_return_type = "Quote")]
    pub fn price(&self, #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue) -> Result<JsValue, JsValue> {
        let cart = from_js::<Cart>(cart, "invalid_input")?;
        let quote = omnicart_engine::price(&self.snapshot, &cart).map_err(|e| error(&e, None))?;
        to_js(&quote)
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
        cart.apply_all(&self.snapshot, &ops).map_err(|(i, e)| error(&e, Some(i)))?;
        to_js(&cart)
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
