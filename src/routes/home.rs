//! The catalogue: products by category, each with its lowest price; searched by name and
//! brand, filtered by category, sorted by price.

use leptos::prelude::*;
use leptos_router::components::A;
use omnicart_engine::{Product, ProductKind, sort_vec};

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
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort::Featured);
    // The grid's products (indices into the snapshot's list, with their lowest price), in the
    // order shown.
    let found = Memo::new(move |_| {
        let snapshot = store.snapshot.get_value();
        let wanted = category.get();
        let words: Vec<String> = search
            .get()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut found: Vec<(usize, Option<omnicart_engine::Money>)> = snapshot
            .products()
            .iter()
            .enumerate()
            .filter(|(_, p)| wanted.as_ref().is_none_or(|c| &p.category == c))
            .filter(|(_, p)| wanted.is_some() || !words.is_empty() || p.kind == ProductKind::Goods)
            .filter(|(_, p)| {
                let haystack = format!("{} {}", p.brand, p.name).to_lowercase();
                words.iter().all(|w| haystack.contains(w.as_str()))
            })
            .map(|(i, p)| (i, lowest_price(p, &snapshot)))
            .collect();
        let cents =
            |(_, price): &(usize, Option<omnicart_engine::Money>)| price.and_then(|m| m.to_minor());
        match sort.get() {
            Sort::Featured => {}
            Sort::PriceUp => sort_vec(&mut found, &|a, b| cents(a).cmp(&cents(b))),
            Sort::PriceDown => sort_vec(&mut found, &|a, b| cents(b).cmp(&cents(a))),
        }
        found
    });
    let products_view = move || {
        let snapshot = store.snapshot.get_value();
        found.with(|found| {
            found
                .iter()
                .map(|&(i, from)| product_card(&snapshot.products()[i], from))
                .collect_view()
        })
    };
    let products = Memo::new(move |_| found.with(Vec::len));
    view! {
        <section aria-labelledby="catalogue-title">
            <h1 id="catalogue-title">"Shop electronics"</h1>
            <div class="finder">
                <label for="search">"Search products"</label>
                <input id="search" type="search" autocomplete="off" placeholder="TV, PlayStation, Sonora…"
                    prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                <label for="sort">"Sort by"</label>
                <select id="sort" on:change=move |ev| sort.set(Sort::from_value(&event_target_value(&ev)))>
                    <option value="featured">"Featured"</option>
                    <option value="price-up">"Price: low to high"</option>
                    <option value="price-down">"Price: high to low"</option>
                </select>
            </div>
            <ul class="chips" aria-label="Categories">{chips}</ul>
            <p class="visually-hidden" role="status" aria-live="polite">
                {move || format!("{} products", products.get())}
            </p>
            {move || (products.get() == 0).then(|| view! {
                <p class="notice" data-testid="no-results">"No product matches your search."</p>
            })}
            <ul class="grid" data-testid="product-grid">{move || products_view()}</ul>
        </section>
    }
}

/// The order the grid is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// The catalogue's own order.
    Featured,
    PriceUp,
    PriceDown,
}

impl Sort {
    fn from_value(value: &str) -> Sort {
        match value {
            "price-up" => Sort::PriceUp,
            "price-down" => Sort::PriceDown,
            _ => Sort::Featured,
        }
    }
}

/// The lowest price of any of `product`'s variants.
fn lowest_price(
    product: &Product,
    snapshot: &omnicart_engine::Snapshot,
) -> Option<omnicart_engine::Money> {
    product
        .variants
        .iter()
        .filter_map(|v| snapshot.price(&v.sku))
        .min_by_key(|m| m.amount())
}

fn product_card(product: &Product, from: Option<omnicart_engine::Money>) -> impl IntoView + use<> {
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
