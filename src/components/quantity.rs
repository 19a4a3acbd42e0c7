//! A quantity stepper: −, a number field, +. What the shopper types stays in the field until it
//! is a valid quantity; an invalid entry is explained, never silently changed.

use leptos::prelude::*;
use omnicart_engine::{CartOp, MAX_LINE_QUANTITY, Quantity, Sku};

use crate::store::use_store;

#[component]
pub fn QuantityStepper(sku: Sku, #[prop(into)] label: String) -> impl IntoView {
    let store = use_store();
    let current = {
        let sku = sku.clone();
        Memo::new(move |_| store.quantity_in_cart(&sku).map_or(0, Quantity::get))
    };
    let typed = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let set = {
        let sku = sku.clone();
        move |n: i64| match Quantity::new(n) {
            Ok(quantity) => {
                error.set(None);
                typed.set(None);
                store.edit(CartOp::SetQuantity {
                    sku: sku.clone(),
                    quantity,
                });
            }
            Err(_) if n < 1 => error.set(Some("Use Remove to take it out of the cart.".into())),
            Err(_) => error.set(Some(format!("At most {MAX_LINE_QUANTITY} per order."))),
        }
    };
    let commit = {
        let set = set.clone();
        move || {
            if let Some(text) = typed.get_untracked() {
                match text.trim().parse::<i64>() {
                    Ok(n) => set(n),
                    Err(_) => error.set(Some("Enter a whole number.".into())),
                }
            }
        }
    };
    let input_id = format!("qty-{sku}");
    let error_id = format!("qty-error-{sku}");
    let (dec, inc) = (set.clone(), set);
    view! {
        <div class="stepper">
            <label class="visually-hidden" for=input_id.clone()>{format!("Quantity of {label}")}</label>
            <button type="button" aria-label=format!("One fewer {label}") disabled=move || { current.get() <= 1 }
                on:click=move |_| dec(i64::from(current.get_untracked()) - 1)>"−"</button>
            <input id=input_id type="number" inputmode="numeric" min="1" max=MAX_LINE_QUANTITY.to_string()
                aria-describedby=error_id.clone()
                prop:value=move || typed.get().unwrap_or_else(|| current.get().to_string())
                on:input=move |ev| typed.set(Some(event_target_value(&ev)))
                on:change={let commit = commit.clone(); move |_| commit()}
                on:keydown=move |ev| { if ev.key() == "Enter" { commit() } } />
            <button type="button" aria-label=format!("One more {label}") disabled=move || { current.get() >= MAX_LINE_QUANTITY }
                on:click=move |_| inc(i64::from(current.get_untracked()) + 1)>"+"</button>
            <p id=error_id class="field-error" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}
