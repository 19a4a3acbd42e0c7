//! The product page: variants, price, quantity, add to cart, the services offered with it,
//! stock, delivery options for the chosen variant and quantity at the shopper's destination,
//! and "check in store". Delivery is computed by the engine in the page, like every price.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use omnicart_engine::fulfilment::{Date, DeliveryOption, DeliveryQuote, StockStatus, StoreStock};
use omnicart_engine::{
    Cart, CartOp, Destination, Product, Quantity, Sku, availability, find_in_store,
    quote_with_delivery,
};

use crate::components::DestinationForm;
use crate::format;
use crate::store::{Store, capitalize, now, use_store};

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
    let snapshot = use_store().snapshot.get_value();
    let selected = RwSignal::new(product.variants[0].sku.clone());
    let quantity = RwSignal::new(1u32);
    let added = RwSignal::new(false);
    // Services ticked before the item is in the cart are attached when it is added.
    let wanted = RwSignal::new(Vec::<Sku>::new());
    let price = move || snapshot.price(&selected.get()).map(format::money);
    let first_variant = product.variants[0].sku.clone();
    view! {
        <article class="product" aria-labelledby="product-title">
            <p class="card-brand">{product.brand.clone()}</p>
            <h1 id="product-title">{product.name.clone()}</h1>
            <p class="price" data-testid="product-price" aria-live="polite">{price}</p>
            <VariantChoice product=product.clone() selected added/>
            <Buy selected quantity added wanted/>
            <ProductDelivery selected quantity/>
            <Offers selected/>
            <Services sku=first_variant selected wanted/>
            <p class="description">{product.description.clone()}</p>
        </article>
    }
}

/// The promotions offered on the chosen variant, if any.
#[component]
fn Offers(selected: RwSignal<Sku>) -> impl IntoView {
    let snapshot = use_store().snapshot.get_value();
    move || {
        let offers = snapshot.offers_for(&selected.get());
        (!offers.is_empty()).then(|| {
            let items = offers
                .into_iter()
                .map(|p| {
                    let only = only_elsewhere(p);
                    view! {
                        <li>{p.label.clone()}{only.map(|o| view! { " "<span class="fine-print">{o}</span> })}</li>
                    }
                })
                .collect_view();
            view! {
                <section class="offers" aria-labelledby="offers-title" data-testid="offers">
                    <h2 id="offers-title">"Offers"</h2>
                    <ul>{items}</ul>
                </section>
            }
        })
    }
}

/// "(in store only)": where an offer limited to other channels than this website applies.
fn only_elsewhere(promotion: &omnicart_engine::promotion::Promotion) -> Option<String> {
    use omnicart_engine::promotion::{Channel, Condition};
    let channels = promotion.conditions.iter().find_map(|c| match c {
        Condition::Channel { channels } => Some(channels),
        _ => None,
    })?;
    if channels.contains(&Channel::Web) {
        return None;
    }
    let names: Vec<&str> = channels
        .iter()
        .map(|c| match c {
            Channel::Store => "in store",
            Channel::App => "in the app",
            Channel::CallCentre => "by phone",
            Channel::Web => "online",
        })
        .collect();
    Some(format!("({} only)", names.join(" or ")))
}

/// One radio button per variant, with its price.
#[component]
fn VariantChoice(
    product: Product,
    selected: RwSignal<Sku>,
    added: RwSignal<bool>,
) -> impl IntoView {
    let snapshot = use_store().snapshot.get_value();
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
            let price = snapshot
                .price(&v.sku)
                .map(format::money)
                .unwrap_or_default();
            view! {
                <li class="variant">
                    <input type="radio" name="variant" id=id.clone() prop:checked=checked
                        on:change=move |_| { selected.set(sku.clone()); added.set(false); }/>
                    <label for=id>{v.name.clone()}" · "{price}</label>
                </li>
            }
        })
        .collect_view();
    view! {
        <fieldset class="variants">
            <legend>"Choose an option"</legend>
            <ul>{options}</ul>
        </fieldset>
    }
}

/// Quantity and "Add to cart" (with the services wanted, for a line new to the cart), and the
/// confirmation.
#[component]
fn Buy(
    selected: RwSignal<Sku>,
    quantity: RwSignal<u32>,
    added: RwSignal<bool>,
    wanted: RwSignal<Vec<Sku>>,
) -> impl IntoView {
    let store = use_store();
    let add = move |_| {
        let quantity = Quantity::new(quantity.get_untracked().into()).unwrap_or(Quantity::ONE);
        let sku = selected.get_untracked();
        let fresh = store.quantity_in_cart(&sku).is_none();
        store.edit(CartOp::Add {
            sku: sku.clone(),
            quantity,
        });
        if fresh && store.notice.get_untracked().is_none() {
            for service in wanted.get_untracked() {
                store.edit(CartOp::AttachService {
                    sku: sku.clone(),
                    service,
                });
            }
        }
        added.set(store.notice.get_untracked().is_none());
    };
    view! {
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
    }
}

/// The services offered with the product (those of `sku`, its first variant), if any.
#[component]
fn Services(sku: Sku, selected: RwSignal<Sku>, wanted: RwSignal<Vec<Sku>>) -> impl IntoView {
    let store = use_store();
    let services: Vec<_> = store
        .snapshot
        .get_value()
        .services_for(&sku)
        .into_iter()
        .map(|(p, v)| (format!("{} ({})", p.name, v.name), v.sku.clone()))
        .collect();
    (!services.is_empty()).then(|| {
        let rows = services
            .into_iter()
            .map(|(label, sku)| service_row(label, sku, selected, wanted))
            .collect_view();
        let hint = move || {
            if store.quantity_in_cart(&selected.get()).is_some() {
                "Ticking or unticking changes the item in your cart."
            } else {
                "Booked with the item when you add it to the cart, once per unit."
            }
        };
        view! {
            <fieldset class="services-choice">
                <legend>"Services"</legend>
                <p class="fine-print" id="services-hint">{hint}</p>
                <ul class="services">{rows}</ul>
            </fieldset>
        }
    })
}

/// What the delivery part of the page shows for one SKU and quantity at one destination.
#[derive(Clone, Debug, PartialEq)]
struct Preview {
    sku: Sku,
    delivery: Result<DeliveryQuote, String>,
    stores: Result<Vec<StoreStock>, String>,
}

/// Delivery options as if the cart held only this line, and the stores that have the SKU.
fn preview(store: Store, sku: Sku, quantity: u32, destination: &Destination) -> Preview {
    let snapshot = store.snapshot.get_value();
    let now = now();
    let message = |e: &dyn std::fmt::Display| capitalize(&e.to_string());
    let quantity = Quantity::new(quantity.into()).unwrap_or(Quantity::ONE);
    let mut cart = Cart::new();
    let delivery = cart
        .apply(
            &snapshot,
            &CartOp::Add {
                sku: sku.clone(),
                quantity,
            },
        )
        .map_err(|e| message(&e))
        .and_then(|()| {
            quote_with_delivery(&snapshot, &cart, &store.context(), destination, now)
                .map_err(|e| message(&e))
        })
        .map(|(_, delivery)| delivery);
    let stores = find_in_store(&snapshot, &sku, destination, now).map_err(|e| message(&e));
    Preview {
        sku,
        delivery,
        stores,
    }
}

/// The stock of the chosen variant: of its line in the delivery preview, else the network's.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Stock {
    status: StockStatus,
    available: u32,
    /// For a backorder: when it can be promised.
    date: Option<Date>,
}

impl Stock {
    fn label(self) -> String {
        match self.status {
            StockStatus::InStock => "In stock".to_owned(),
            StockStatus::LowStock => format!("Low stock: only {} left", self.available),
            StockStatus::Backorder => self.date.map_or("On backorder".to_owned(), |d| {
                format!("On backorder until {}", d.label())
            }),
            StockStatus::Unavailable => "Currently unavailable".to_owned(),
        }
    }
}

#[component]
fn ProductDelivery(selected: RwSignal<Sku>, quantity: RwSignal<u32>) -> impl IntoView {
    let store = use_store();
    let preview = Memo::new(move |_| {
        let (sku, quantity) = (selected.get(), quantity.get());
        store
            .destination
            .with(|d| d.as_ref().map(|d| preview(store, sku, quantity, d)))
    });
    let status = move || {
        let stock = preview.with(|p| match p {
            Some(Preview {
                delivery: Ok(d), ..
            }) => d.lines.first().map(|l| Stock {
                status: l.status,
                available: l.available,
                date: l.date,
            }),
            _ => None,
        });
        let stock = stock.or_else(|| {
            let a = availability(&store.snapshot.get_value(), &selected.get()).ok()?;
            Some(Stock {
                status: a.status,
                available: a.available,
                date: a.backorder_date,
            })
        });
        stock.map(Stock::label)
    };
    let sku = move || preview.with(|p| p.as_ref().map(|p| p.sku.to_string()));
    view! {
        <section class="delivery-preview" aria-labelledby="delivery-title" data-testid="delivery-options" data-sku=sku>
            <h2 id="delivery-title">"Delivery"</h2>
            <p class="stock" data-testid="stock-status">{status}</p>
            <DestinationForm/>
            {move || preview.with(|p| p.is_none()).then(|| view! {
                <p class="fine-print">"Use your location or enter a postcode to see delivery dates, charges and stores."</p>
            })}
            <DeliveryOptions preview/>
            <Unavailable preview/>
        </section>
        <section class="stores" aria-labelledby="stores-title" data-testid="stores">
            <h2 id="stores-title">"Check in store"</h2>
            <StoreList preview/>
        </section>
    }
}

#[component]
fn DeliveryOptions(preview: Memo<Option<Preview>>) -> impl IntoView {
    move || {
        preview.with(|p| match p.as_ref().map(|p| &p.delivery) {
            None => ().into_any(),
            Some(Err(message)) => {
                view! { <p class="notice" role="alert">{message.clone()}</p> }.into_any()
            }
            Some(Ok(d)) if d.options.is_empty() => {
                view! { <p>"No delivery service can bring this to you; see below."</p> }.into_any()
            }
            Some(Ok(d)) => {
                let items = d.options.iter().map(option_item).collect_view();
                view! { <ul class="delivery-list">{items}</ul> }.into_any()
            }
        })
    }
}

/// "Express, €14.90, Tue 24 Nov", with the charge before a promotion struck through.
fn option_item(o: &DeliveryOption) -> impl IntoView + use<> {
    let was = (o.total.amount() != o.charge.amount()).then(|| {
        view! { <s class="was"><span class="visually-hidden">"was "</span>{format::money(o.charge)}</s>" " }
    });
    let backorder = o.backorder.then_some(" · waits for incoming stock");
    view! {
        <li class="delivery-option" data-testid="delivery-option" data-level=o.level_name>
            <span class="option-main">
                <strong>{o.level_name}</strong>", "{was}
                <span class="charge">{format::charge(o.total)}</span>", "
                <span class="when">{o.label.clone()}</span>
            </span>" "
            <span class="fine-print carrier">"by "{o.carrier_name.clone()}{backorder}</span>
        </li>
    }
}

/// The services that cannot deliver, and why, folded away.
#[component]
fn Unavailable(preview: Memo<Option<Preview>>) -> impl IntoView {
    let reasons = Memo::new(move |_| {
        preview.with(|p| match p.as_ref().map(|p| &p.delivery) {
            Some(Ok(d)) => d
                .unavailable
                .iter()
                .map(|u| u.reason.clone())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    });
    view! {
        <details class="why-not" data-testid="unavailable" hidden=move || reasons.with(Vec::is_empty)>
            <summary>"Why not other options?"</summary>
            <ul>{move || reasons.get().into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
        </details>
    }
}

#[component]
fn StoreList(preview: Memo<Option<Preview>>) -> impl IntoView {
    move || {
        preview.with(|p| match p.as_ref().map(|p| &p.stores) {
            None => view! { <p class="fine-print">"Tell us where you are to see the nearest stores."</p> }.into_any(),
            Some(Err(message)) => view! { <p class="notice" role="alert">{message.clone()}</p> }.into_any(),
            Some(Ok(stores)) if stores.is_empty() => view! { <p>"No store has this in stock right now."</p> }.into_any(),
            Some(Ok(stores)) => {
                let items = stores.iter().map(store_item).collect_view();
                view! { <ul class="store-list">{items}</ul> }.into_any()
            }
        })
    }
}

fn store_item(s: &StoreStock) -> impl IntoView + use<> {
    let stock = format::store_stock(s.available, s.status == StockStatus::LowStock);
    view! {
        <li class="store" data-testid="store" data-location=s.location.clone()>
            <span class="store-name">{s.name.clone()}</span>
            <span class="fine-print">{s.address.clone()}</span>
            <span class="store-facts">
                <span class="distance">{format::distance(s.distance_m)}</span>" · "
                <span class="store-stock" class:low=s.status == StockStatus::LowStock>{stock}</span>" · "
                <span>"Ready: "{s.ready_label.clone()}</span>
            </span>
        </li>
    }
}

fn service_row(
    label: String,
    service: Sku,
    selected: RwSignal<Sku>,
    wanted: RwSignal<Vec<Sku>>,
) -> impl IntoView {
    let store = use_store();
    let price = store
        .snapshot
        .get_value()
        .price(&service)
        .map(format::money)
        .unwrap_or_default();
    // Ticked: attached to the chosen variant's line if it is in the cart, else wanted for it.
    let checked = {
        let service = service.clone();
        move || {
            let sku = selected.get();
            match store
                .cart
                .with(|c| c.line(&sku).map(|l| l.services.contains(&service)))
            {
                Some(attached) => attached,
                None => wanted.with(|w| w.contains(&service)),
            }
        }
    };
    let toggle = {
        let service = service.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            let sku = selected.get_untracked();
            if store.quantity_in_cart(&sku).is_some() {
                let op = if on {
                    CartOp::AttachService {
                        sku,
                        service: service.clone(),
                    }
                } else {
                    CartOp::DetachService {
                        sku,
                        service: service.clone(),
                    }
                };
                store.edit(op);
            } else {
                wanted.update(|w| {
                    w.retain(|s| *s != service);
                    if on {
                        w.push(service.clone());
                    }
                });
            }
        }
    };
    let id = format!("service-{service}");
    view! {
        <li class="service">
            <input type="checkbox" id=id.clone() prop:checked=checked on:change=toggle aria-describedby="services-hint"/>
            <label for=id>{label}" · "{price}</label>
        </li>
    }
}
