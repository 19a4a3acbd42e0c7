//! The product page: variants, price, quantity, add to cart, and the services offered with it.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use omnicart_engine::{CartOp, Product, Quantity, Sku};

use crate::format;
use crate::store::use_store;

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let store = use_store();
    move || {
        let id = params.read().get("id").unwrap_or_default();
        match store.snapshot.get_value().product(&id) {
            Some(product) => view! { <ProductDetail product=product.clone()/> }.into_any(),
            None => view! {
                <section><h1>"Product not found"</h1><p><A href="/">"Back to the shop"</A></p></section>
            }
            .into_any(),
        }
    }
}

#[component]
fn ProductDetail(product: Product) -> impl IntoView {
    let store = use_store();
    let snapshot = store.snapshot.get_value();
    let selected = RwSignal::new(product.variants[0].sku.clone());
    let quantity = RwSignal::new(1u32);
    let added = RwSignal::new(false);
    let offers = {
        let snapshot = snapshot.clone();
        move || {
            let offers = snapshot.offers_for(&selected.get());
            (!offers.is_empty()).then(|| {
                let items = offers.into_iter().map(|p| view! { <li>{p.label.clone()}</li> }).collect_view();
                view! {
                    <section class="offers" aria-labelledby="offers-title" data-testid="offers">
                        <h2 id="offers-title">"Offers"</h2>
                        <ul>{items}</ul>
                    </section>
                }
            })
        }
    };
    let price = move || snapshot.price(&selected.get()).map(format::money);
    let options = product
        .variants
        .iter()
        .map(|v| {
            let sku = v.sku.clone();
            let checked = {
                let sku = sku.clone();
                move || selected.get() == sku
            };
            let id = format!("variant-{}", v.sku);
            let price = store.snapshot.get_value().price(&v.sku).map(format::money).unwrap_or_default();
            view! {
                <li class="variant">
                    <input type="radio" name="variant" id=id.clone() prop:checked=checked
                        on:change=move |_| { selected.set(sku.clone()); added.set(false); }/>
                    <label for=id>{v.name.clone()}" · "{price}</label>
                </li>
            }
        })
        .collect_view();
    let add = move |_| {
        let quantity = Quantity::new(quantity.get_untracked().into()).unwrap_or(Quantity::ONE);
        store.edit(CartOp::Add { sku: selected.get_untracked(), quantity });
        added.set(store.notice.get_untracked().is_none());
    };
    let services: Vec<_> = store.snapshot.get_value().services_for(&product.variants[0].sku).into_iter()
        .map(|(p, v)| (p.name.clone(), v.name.clone(), v.sku.clone()))
        .collect();
    let services_title = (!services.is_empty()).then(|| view! { <h2>"Services"</h2> });
    let services = services.into_iter().map(|(p, v, sku)| service_row(p, v, sku)).collect_view();
    view! {
        <article class="product" aria-labelledby="product-title">
            <p class="card-brand">{product.brand.clone()}</p>
            <h1 id="product-title">{product.name.clone()}</h1>
            <p class="description">{product.description.clone()}</p>
            <p class="price" data-testid="product-price" aria-live="polite">{price}</p>
            {offers}
            <fieldset class="variants">
                <legend>"Choose an option"</legend>
                <ul>{options}</ul>
            </fieldset>
            <div class="buy">
                <label for="add-qty">"Quantity"</label>
                <select id="add-qty" on:change=move |ev| quantity.set(event_target_value(&ev).parse().unwrap_or(1))>
                    {(1..=10).map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                </select>
                <button type="button" class="primary" on:click=add>"Add to cart"</button>
            </div>
            <p class="added" role="status">{move || added.get().then(|| view! {
                "Added to your cart. "<A href="/cart">"View cart"</A>
            })}</p>
            {services_title}
            <ul class="services">{services}</ul>
        </article>
    }
}

fn service_row(name: String, variant: String, sku: Sku) -> impl IntoView {
    let store = use_store();
    let price = store.snapshot.get_value().price(&sku).map(format::money).unwrap_or_default();
    let in_cart = {
        let sku = sku.clone();
        Memo::new(move |_| store.quantity_in_cart(&sku).is_some())
    };
    let label = format!("{name} ({variant})");
    view! {
        <li class="service">
            <span>{label.clone()}" · "{price}</span>
            <button type="button" class="secondary" disabled=in_cart aria-label=format!("Add {label}")
                on:click=move |_| store.edit(CartOp::Add { sku: sku.clone(), quantity: Quantity::ONE })>
                {move || if in_cart.get() { "In cart" } else { "Add" }}
            </button>
        </li>
    }
}
