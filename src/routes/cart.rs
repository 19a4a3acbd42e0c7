//! The cart: lines with quantity, replace-by-another-option and remove; totals priced in the
//! page by the engine on every edit.

use leptos::prelude::*;
use leptos_router::components::A;
use omnicart_engine::{CartOp, QuoteLine};

use crate::components::QuantityStepper;
use crate::format;
use crate::store::use_store;

#[component]
pub fn CartPage() -> impl IntoView {
    let store = use_store();
    let body = move || match store.quote.get() {
        Err(message) => view! { <p class="notice" role="alert">{message}</p> }.into_any(),
        Ok(quote) if quote.lines.is_empty() => view! {
            <div class="empty"><p>"Your cart is empty."</p><A href="/">"Start shopping"</A></div>
        }
        .into_any(),
        Ok(quote) => {
            let lines = quote.lines.into_iter().map(|line| view! { <CartLineRow line/> }).collect_view();
            view! {
                <ul class="lines" data-testid="cart-lines">{lines}</ul>
                <dl class="totals" aria-live="polite">
                    <div><dt>"Items"</dt><dd>{quote.item_count}</dd></div>
                    <div><dt>"Subtotal"</dt><dd>{format::money(quote.subtotal)}</dd></div>
                    <div class="grand"><dt>"Total"</dt><dd data-testid="cart-total">{format::money(quote.total)}</dd></div>
                </dl>
                <p class="fine-print">"Prices include VAT. Delivery options come at checkout."</p>
            }
            .into_any()
        }
    };
    view! {
        <section aria-labelledby="cart-title">
            <h1 id="cart-title">"Your cart"</h1>
            {body}
        </section>
    }
}

#[component]
fn CartLineRow(line: QuoteLine) -> impl IntoView {
    let store = use_store();
    let snapshot = store.snapshot.get_value();
    let sku = line.sku.clone();
    let alternatives: Vec<_> = snapshot
        .product(&line.product_id)
        .map(|p| p.variants.iter().map(|v| (v.sku.clone(), v.name.clone())).collect())
        .unwrap_or_default();
    let replace = (alternatives.len() > 1).then(|| {
        let id = format!("replace-{}", line.sku);
        let from = sku.clone();
        let options = alternatives
            .into_iter()
            .map(|(s, name)| view! { <option value=s.to_string() selected=s == from>{name}</option> })
            .collect_view();
        view! {
            <label for=id.clone()>"Option"</label>
            <select id=id on:change=move |ev| {
                if let Ok(with) = omnicart_engine::Sku::new(&event_target_value(&ev)) {
                    store.edit(CartOp::Replace { sku: from.clone(), with });
                }
            }>{options}</select>
        }
    });
    let remove_sku = sku.clone();
    let name = line.name.clone();
    view! {
        <li class="line" data-sku=line.sku.to_string()>
            <div class="line-main">
                <A href=format!("/product/{}", line.product_id) attr:class="line-name">{name}</A>
                <span class="line-unit">{format::money(line.unit_price)}" each"</span>
            </div>
            <div class="line-controls">
                {replace}
                <QuantityStepper sku=sku label=line.name.clone()/>
                <button type="button" class="link-button" aria-label=format!("Remove {}", line.name)
                    on:click=move |_| store.edit(CartOp::Remove { sku: remove_sku.clone() })>"Remove"</button>
            </div>
            <span class="line-total" data-testid="line-total">{format::money(line.total)}</span>
        </li>
    }
}
