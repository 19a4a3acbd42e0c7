//! The catalogue: products by category, each with its lowest price.

use leptos::prelude::*;
use leptos_router::components::A;
use omnicart_engine::{Product, ProductKind};

use crate::format;
use crate::store::use_store;

#[component]
pub fn Home() -> impl IntoView {
    let store = use_store();
    let snapshot = store.snapshot.get_value();
    let category = RwSignal::new(None::<String>);
    let chips = snapshot
        .categories()
        .iter()
        .map(|c| {
            let id = c.id.clone();
            let pressed = {
                let id = id.clone();
                move || category.get().as_deref() == Some(id.as_str())
            };
            view! {
                <li><button type="button" class="chip" aria-pressed=move || pressed().to_string()
                    on:click=move |_| category.update(|c| *c = if c.as_deref() == Some(id.as_str()) { None } else { Some(id.clone()) })>
                    {c.name.clone()}
                </button></li>
            }
        })
        .collect_view();
    let products = move || {
        let snapshot = store.snapshot.get_value();
        let wanted = category.get();
        snapshot
            .products()
            .iter()
            .filter(|p| wanted.as_ref().is_none_or(|c| &p.category == c))
            .filter(|p| wanted.is_some() || p.kind == ProductKind::Goods)
            .map(|p| product_card(p, &store.snapshot.get_value()))
            .collect_view()
    };
    view! {
        <section aria-labelledby="catalogue-title">
            <h1 id="catalogue-title">"Shop electronics"</h1>
            <ul class="chips" aria-label="Categories">{chips}</ul>
            <ul class="grid" data-testid="product-grid">{products}</ul>
        </section>
    }
}

fn product_card(product: &Product, snapshot: &omnicart_engine::Snapshot) -> impl IntoView + use<> {
    let from = product
        .variants
        .iter()
        .filter_map(|v| snapshot.price(&v.sku))
        .min_by_key(|m| m.amount());
    let prefix = if product.variants.len() > 1 {
        "from "
    } else {
        ""
    };
    let href = format!("/product/{}", product.id);
    let (brand, name) = (product.brand.clone(), product.name.clone());
    let price = from.map(|m| format!("{prefix}{}", format::money(m)));
    let options = match product.variants.len() {
        1 => String::new(),
        n => format!("{n} options"),
    };
    view! {
        <li class="card">
            <A href=href attr:class="card-link">
                <span class="card-brand">{brand}</span>
                <span class="card-name">{name}</span>
                <span class="card-price">{price}</span>
                <span class="card-variants">{options}</span>
            </A>
        </li>
    }
}
