//! After checkout: the confirmation with the order number, "My orders" (newest first, a page
//! at a time) and an order's page (status timeline, lines, shipments with their windows and,
//! once their fulfilment orders move, each one's state, tracking number and steps,
//! totals, payment, a ready pickup's code to show at the counter, cancelling while the order
//! may still be cancelled (confirmed first, its result or refusal announced), and its returns:
//! `returns.rs`). A guest opens an order with the token the checkout gave (in the link, and
//! remembered in this browser).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use omnicart_api::{OrderSummary, OrderView, ShipmentProgress, code};

use crate::api::{self, ApiError, Requests};
use crate::checkout::guest_token;
use crate::format;
use crate::routes::returns::{ReturnDraft, Returns};
use crate::routes::visits::InstallationVisits;
use crate::store::use_store;

/// Order states a shopper may still cancel from.
const CANCELLABLE: [&str; 2] = ["placed", "confirmed"];

fn state_label(state: &str) -> String {
    crate::store::capitalize(&state.replace('_', " "))
}

fn date(t: &omnicart_engine::Timestamp) -> String {
    let text = t.to_string();
    text.get(..16).unwrap_or(&text).replace('T', " ")
}

#[component]
pub fn ConfirmationPage() -> impl IntoView {
    let store = use_store();
    let params = use_params_map();
    let query = use_query_map();
    let number = move || params.with(|p| p.get("number").unwrap_or_default());
    let link = move || match query.with(|q| q.get("token")) {
        Some(token) => format!(
            "/orders/{}?token={}",
            number(),
            String::from(js_sys::encode_uri_component(&token))
        ),
        None => format!("/orders/{}", number()),
    };
    let visit_token = move || {
        query
            .with_untracked(|q| q.get("token"))
            .or_else(|| guest_token(&number()))
    };
    // Opened again (a reload): the cart the server emptied is pulled here too.
    spawn_local(store.pull());
    view! {
        <section class="narrow confirmation" aria-labelledby="confirmation-title">
            <h1 id="confirmation-title">"Thank you: your order is placed"</h1>
            <p>"Your order number"</p>
            <p class="order-number" data-testid="order-number">{number}</p>
            <p>"We have sent a confirmation by email. Quote the number if you call us."</p>
            <p><A href=link attr:class="primary">"View your order"</A></p>
            {move || store.customer.get().map(|_| view! { <p><A href="/orders">"My orders"</A></p> })}
            <InstallationVisits number=number() token=visit_token()/>
        </section>
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let store = use_store();
    let requests = Requests::of_owner();
    let orders = RwSignal::new(Vec::<OrderSummary>::new());
    let next = RwSignal::new(Some(1u32));
    let error = RwSignal::new(None::<ApiError>);
    let loading = RwSignal::new(false);
    let load = move || {
        let Some(page) = next.get_untracked() else {
            return;
        };
        loading.set(true);
        spawn_local(async move {
            match api::orders(page, requests).await {
                Ok(list) => {
                    orders.update(|o| o.extend(list.orders));
                    next.set(list.next_page);
                    error.set(None);
                }
                Err(e) if e.is_aborted() => return,
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    // Once the customer is known (a reload asks the server first).
    Effect::new(move |_| {
        if store.customer.with(Option::is_some) && orders.with_untracked(Vec::is_empty) {
            load();
        }
    });
    let rows = move || {
        orders.get().into_iter().map(|o| view! {
            <li class="card order-row">
                <A href=format!("/orders/{}", o.number) attr:class="card-link">
                    <span class="card-name">{format!("Order {}", o.number)}</span>
                    <span>{format!("{} · {} item{}", date(&o.placed_at), o.item_count, if o.item_count == 1 { "" } else { "s" })}</span>
                    <span><span class="status">{state_label(&o.state)}</span>" · "<strong>{format::money(o.total)}</strong></span>
                </A>
            </li>
        }).collect_view()
    };
    view! {
        <section aria-labelledby="orders-title">
            <h1 id="orders-title">"My orders"</h1>
            {move || store.customer.with(Option::is_none).then(|| view! { <p><A href="/sign-in">"Sign in"</A>" to see your orders."</p> })}
            <ul class="grid" data-testid="orders">{rows}</ul>
            {move || (loading.get()).then(|| view! { <p class="loading" role="status">"Loading your orders…"</p> })}
            {move || error.get().map(|e| view! { <p class="notice" role="alert">{load_error(&e)}</p> })}
            {move || (!loading.get() && store.customer.with(Option::is_some) && orders.with(Vec::is_empty) && error.with(Option::is_none) && next.get().is_none())
                .then(|| view! { <p>"No orders yet."</p> })}
            {move || (next.get().is_some() && !orders.with(Vec::is_empty)).then(|| view! {
                <button type="button" class="secondary" disabled=loading on:click=move |_| load()>"Show more orders"</button>
            })}
        </section>
    }
}

fn load_error(e: &ApiError) -> String {
    if e.is_offline() {
        "You seem to be offline; your orders will load when you are back online.".into()
    } else if e.code == code::NOT_FOUND {
        "We could not find this order.".into()
    } else {
        crate::store::capitalize(&e.message)
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let requests = Requests::of_owner();
    let number = params.with_untracked(|p| p.get("number").unwrap_or_default());
    let token = query
        .with_untracked(|q| q.get("token"))
        .or_else(|| guest_token(&number));
    let order = RwSignal::new(None::<Result<OrderView, ApiError>>);
    // Outside the order's view, which is rebuilt whenever the order is read again.
    let draft = ReturnDraft::new();
    let fetch = {
        let (number, token) = (number.clone(), token.clone());
        move || {
            let (number, token) = (number.clone(), token.clone());
            spawn_local(async move {
                match api::order(&number, token.as_deref(), requests).await {
                    Err(e) if e.is_aborted() => {}
                    result => order.set(Some(result)),
                }
            });
        }
    };
    fetch();
    let retry = fetch.clone();
    view! {
        <section aria-labelledby="order-title" class="order">
            <h1 id="order-title">{format!("Order {number}")}</h1>
            {move || match order.get() {
                None => view! { <p class="loading" role="status">"Loading your order…"</p> }.into_any(),
                Some(Err(e)) => {
                    let retry = retry.clone();
                    view! {
                        <p class="notice" role="alert">{load_error(&e)}</p>
                        <button type="button" class="secondary" on:click=move |_| retry()>"Try again"</button>
                    }.into_any()
                }
                Some(Ok(view)) => view! { <OrderDetails view order token=token.clone() draft/> }.into_any(),
            }}
        </section>
    }
}

/// Where one shipment stands: its state, the carrier's tracking number once it has one, and
/// its steps with their times.
fn shipment_progress(p: &ShipmentProgress) -> impl IntoView + use<> {
    let pickup = p.pickup_code.clone().map(|code| {
        view! {
            <p class="pickup-code">"Ready for you: show this code at the counter "
                <strong data-testid="pickup-code">{code}</strong>
            </p>
        }
    });
    let tracking = p.tracking_number.clone().map(|number| {
        let carrier = p.carrier.clone().unwrap_or_default();
        view! { <p data-testid="tracking">{format!("{carrier} tracking number ")}<strong>{number}</strong></p> }
    });
    let steps = p
        .timeline
        .iter()
        .map(|e| view! { <li>{state_label(&e.state)}" · "<span class="fine-print">{date(&e.at)}</span></li> })
        .collect_view();
    view! {
        <p class="status" data-testid="shipment-state">{state_label(&p.state)}</p>
        {pickup}
        {tracking}
        <ol class="timeline">{steps}</ol>
    }
}

#[component]
fn OrderDetails(
    view: OrderView,
    order: RwSignal<Option<Result<OrderView, ApiError>>>,
    token: Option<String>,
    draft: ReturnDraft,
) -> impl IntoView {
    let timeline = view
        .timeline
        .iter()
        .map(|t| view! { <li><strong>{t.label.clone()}</strong>" · "<span class="fine-print">{date(&t.at)}</span></li> })
        .collect_view();
    let lines = view
        .lines
        .iter()
        .map(|l| view! { <li><span>{format!("{} × {}", l.quantity.get(), l.name)}</span><span>{format::money(l.total)}</span></li> })
        .collect_view();
    let snapshot = use_store().snapshot.get_value();
    let name = |sku: &omnicart_engine::Sku| {
        snapshot
            .variant(sku)
            .map(|(p, v)| format!("{} {}", p.name, v.name))
            .unwrap_or_else(|| sku.to_string())
    };
    let sku_name = |sku: &str| {
        omnicart_engine::Sku::new(sku)
            .map(|s| name(&s))
            .unwrap_or_else(|_| sku.to_owned())
    };
    let shipments = view.shipments.iter().map(|s| {
        let items: Vec<String> = s.lines.iter().map(|l| format!("{} × {}", l.quantity, name(&l.sku))).collect();
        let progress = s.progress.as_ref().map(shipment_progress);
        view! { <li data-testid="shipment"><strong>{format!("From {}", s.location_name)}</strong>" · "{s.label.clone()}<br/><span class="fine-print">{items.join(", ")}</span>{progress}</li> }
    }).collect_view();
    let currency = view.totals.total.currency();
    let price = move |amount: &str| {
        omnicart_engine::Money::parse(amount, currency)
            .map(format::money)
            .unwrap_or_else(|_| amount.to_owned())
    };
    let substitutes = view.substitutions.iter().map(|s| {
        let (was, instead) = (sku_name(&s.sku), sku_name(&s.substitute_sku));
        let text = format!("{} × {instead} instead of {was}, for {} (ordered for {})", s.quantity, price(&s.charged), price(&s.original));
        let buttons = (s.state == "proposed").then(|| view! {
            <Substitute number=view.number.clone() id=s.id.clone() order token=token.clone()/>
        });
        view! { <li data-testid="substitute">{text}<br/><span class="fine-print">{state_label(&s.state)}</span>{buttons}</li> }
    }).collect_view();
    let t = &view.totals;
    let cancellable = CANCELLABLE.contains(&view.state.as_str());
    view! {
        <p class="status" data-testid="order-state">{state_label(&view.state)}</p>
        <h2>"Status"</h2>
        <ol class="timeline" data-testid="timeline">{timeline}</ol>
        <h2>"Items"</h2>
        <ul class="review-lines">{lines}</ul>
        <h2>{if view.pickup_location.is_some() { "Collection" } else { "Delivery" }}</h2>
        <ul class="shipments">{shipments}</ul>
        {(!view.substitutions.is_empty()).then(|| view! {
            <h2>"Substitutes"</h2>
            <ul class="shipments">{substitutes}</ul>
        })}
        <InstallationVisits number=view.number.clone() token=token.clone()/>
        <dl class="totals">
            <div><dt>"Subtotal"</dt><dd>{format::money(t.subtotal)}</dd></div>
            {(!t.discount_total.amount().is_zero()).then(|| view! { <div class="discount"><dt>"Discounts"</dt><dd>"−"{format::money(t.discount_total)}</dd></div> })}
            <div><dt>"Delivery"</dt><dd>{format::charge(t.delivery)}</dd></div>
            <div class="grand"><dt>"Total"</dt><dd data-testid="order-total">{format::money(t.total)}</dd></div>
            <div class="fine-print"><dt>{if t.prices_include_tax { "Including VAT" } else { "VAT" }}</dt><dd>{format::money(t.tax_total)}</dd></div>
        </dl>
        <p>{format!("Payment: {}", state_label(&view.payment.state))}</p>
        {(!view.payment.refunded.amount().is_zero()).then(|| view! {
            <p data-testid="refunded">{format!("Refunded: {}", format::money(view.payment.refunded))}</p>
        })}
        {(view.state == "cancelled").then(|| view! {
            <p class="notice" role="status" data-testid="cancelled">"This order is cancelled: nothing is charged."</p>
        })}
        {cancellable.then(|| view! { <Cancel number=view.number.clone() order token=token.clone()/> })}
        <Returns view=view.clone() order token draft/>
    }
}

#[component]
fn Cancel(
    number: String,
    order: RwSignal<Option<Result<OrderView, ApiError>>>,
    token: Option<String>,
) -> impl IntoView {
    let requests = Requests::of_owner();
    let store = use_store();
    let busy = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let cancel = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (number, token) = (number.clone(), token.clone());
        spawn_local(async move {
            match api::cancel_order(&number, token.as_deref(), requests).await {
                Ok(view) => {
                    order.set(Some(Ok(view)));
                    // The order's codes are the customer's again.
                    store.orders_changed().await;
                }
                Err(e) if e.is_aborted() => return,
                Err(e) if e.code == code::INVALID_TRANSITION => error.set(Some(
                    "This order can no longer be cancelled: it is being prepared.".into(),
                )),
                Err(e) => error.set(Some(load_error(&e))),
            }
            confirming.set(false);
            busy.set(false);
        });
    };
    view! {
        <p class="field-error" role="alert" data-testid="cancel-error">{move || error.get()}</p>
        {move || if confirming.get() {
            let cancel = cancel.clone();
            view! {
                <div role="group" aria-labelledby="cancel-question" class="confirm">
                    <p id="cancel-question">"Cancel this order? Nothing will be charged and the items go back on sale."</p>
                    <button type="button" class="primary" disabled=busy on:click=cancel>
                        {move || if busy.get() { "Cancelling…" } else { "Yes, cancel the order" }}
                    </button>
                    <button type="button" class="secondary" disabled=busy on:click=move |_| confirming.set(false)>"Keep the order"</button>
                </div>
            }.into_any()
        } else {
            view! {
                <button type="button" class="secondary" on:click=move |_| { error.set(None); confirming.set(true) }>"Cancel order"</button>
            }.into_any()
        }}
    }
}

/// Accept or decline a proposed substitute; the order is read again (a declined line may come
/// from elsewhere now).
#[component]
fn Substitute(
    number: String,
    id: String,
    order: RwSignal<Option<Result<OrderView, ApiError>>>,
    token: Option<String>,
) -> impl IntoView {
    let requests = Requests::of_owner();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let answer = move |accept: bool| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (number, id, token) = (number.clone(), id.clone(), token.clone());
        spawn_local(async move {
            let answered =
                api::answer_substitution(&number, &id, accept, token.as_deref(), requests).await;
            match answered {
                Ok(_) => {
                    let view = api::order(&number, token.as_deref(), requests).await;
                    if !matches!(&view, Err(e) if e.is_aborted()) {
                        order.set(Some(view));
                    }
                }
                Err(e) if e.is_aborted() => return,
                Err(e) if e.code == code::SUBSTITUTE_UNAVAILABLE => error.set(Some(
                    "The substitute is gone meanwhile; decline it and we look elsewhere.".into(),
                )),
                Err(e) => error.set(Some(load_error(&e))),
            }
            busy.set(false);
        });
    };
    let (accept, decline) = (answer.clone(), answer);
    view! {
        <p class="field-error" role="alert">{move || error.get()}</p>
        <button type="button" disabled=busy on:click=move |_| accept(true)>"Accept"</button>
        " "
        <button type="button" class="secondary" disabled=busy on:click=move |_| decline(false)>"Decline"</button>
    }
}
