//! The cart: lines with their discounts explained, quantity, replace-by-another-option and
//! remove; coupon codes with the reason when one does not apply; savings; upsell hints with
//! one-click add; delivery or pickup, chosen here and kept in the cart. Everything is quoted in
//! the page by the engine on every edit.
//! Services (installation, set-up) attached to a line are rows right under it, charged per
//! unit of it, with "Add a service" on each line for those offered and not taken.
//! Rows are keyed by SKU (services by line and SKU, delivery choices by level or store), so an
//! edit re-renders values, not elements: focus stays put.

use leptos::prelude::*;
use leptos_router::components::A;
use omnicart_engine::fulfilment::Level;
use omnicart_engine::{CartOp, DeliveryChoice, Quantity, Quote, QuoteLine, Sku};

use crate::components::{DestinationForm, QuantityStepper};
use crate::format;
use crate::store::{Store, use_store};

#[component]
pub fn CartPage() -> impl IntoView {
    let store = use_store();
    // A memo, so the page's body is built again only when the cart turns empty, non-empty or
    // unpriceable, not on every edit (that would replace the elements and lose focus).
    let state = Memo::new(move |_| {
        store.quote.with(|q| match q {
            Err(message) => Err(message.clone()),
            Ok(q) if q.lines.is_empty() => Ok(false),
            Ok(_) => Ok(true),
        })
    });
    let keys = move || {
        store.quote.with(|q| {
            q.as_ref()
                .map(|q| q.lines.iter().map(line_key).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    view! {
        <section aria-labelledby="cart-title" class="cart">
            <h1 id="cart-title">"Your cart"</h1>
            {move || match state.get() {
                Err(message) => view! { <p class="notice" role="alert">{message}</p> }.into_any(),
                Ok(false) => view! { <div class="empty"><p>"Your cart is empty."</p><A href="/">"Start shopping"</A></div> }.into_any(),
                Ok(true) => view! {
                    <ul class="lines" data-testid="cart-lines">
                        <For each=keys key=|k| k.clone() children=move |k| {
                            if k.starts_with("service:") { view! { <ServiceLineRow key=k/> }.into_any() } else { view! { <CartLineRow key=k/> }.into_any() }
                        }/>
                    </ul>
                    <Hints/>
                    <Coupons/>
                    <Delivery/>
                    <Totals/>
                    <A href="/checkout" attr:class="primary checkout-link">"Checkout"</A>
                }.into_any(),
            }}
        </section>
    }
}

fn line_key(l: &QuoteLine) -> String {
    match (&l.attached_to, l.gift) {
        (Some(parent), _) => format!("service:{parent}:{}", l.sku),
        (None, true) => format!("gift:{}", l.sku),
        (None, false) => l.sku.to_string(),
    }
}

/// The line's discounts, kept up to date.
fn adjustments(line: Memo<Option<QuoteLine>>) -> impl Fn() -> AnyView {
    move || {
        line.with(|l| l.as_ref().map(|l| l.adjustments.clone()).unwrap_or_default())
            .into_iter()
            .map(|a| view! { <li class="adjustment">{a.label}<span>"−"{format::money(a.amount)}</span></li> })
            .collect_view()
            .into_any()
    }
}

fn line_of(store: Store, key: &str) -> Option<QuoteLine> {
    store.quote.with(|q| {
        q.as_ref()
            .ok()?
            .lines
            .iter()
            .find(|l| line_key(l) == key)
            .cloned()
    })
}

#[component]
fn CartLineRow(key: String) -> impl IntoView {
    let store = use_store();
    let line = Memo::new({
        let key = key.clone();
        move |_| line_of(store, &key)
    });
    let Some(first) = line.get_untracked() else {
        return ().into_any();
    };
    let sku = first.sku.clone();
    let field = move |f: fn(&QuoteLine) -> String| {
        move || line.with(|l| l.as_ref().map(f).unwrap_or_default())
    };
    let controls = (!first.gift).then(|| {
        let remove_sku = sku.clone();
        view! {
            <div class="line-controls">
                <Replace sku=sku.clone() product_id=first.product_id.clone()/>
                <QuantityStepper sku=sku.clone() label=first.name.clone()/>
                <button type="button" class="link-button" aria-label=format!("Remove {}", first.name)
                    on:click=move |_| store.edit(CartOp::Remove { sku: remove_sku.clone() })>"Remove"</button>
            </div>
            <ServiceOffers sku=sku.clone() name=first.name.clone()/>
        }
    });
    view! {
        <li class="line" class:gift=first.gift data-sku=sku.to_string()>
            <div class="line-main">
                <A href=format!("/product/{}", first.product_id) attr:class="line-name">{first.name.clone()}</A>
                {first.gift.then(|| view! { <span class="tag">"Free gift"</span> })}
                <span class="line-unit">{field(|l| format!("{} × {}", l.quantity.get(), format::money(l.unit_price)))}</span>
                <ul class="adjustments">{adjustments(line)}</ul>
            </div>
            {controls}
            <span class="line-total" data-testid="line-total">{field(|l| format::money(l.net))}</span>
        </li>
    }
    .into_any()
}

/// A service attached to a line: charged per unit of that line, taken off with "Remove".
#[component]
fn ServiceLineRow(key: String) -> impl IntoView {
    let store = use_store();
    let line = Memo::new({
        let key = key.clone();
        move |_| line_of(store, &key)
    });
    let Some(first) = line.get_untracked() else {
        return ().into_any();
    };
    let service = first.sku.clone();
    let Some(parent) = first.attached_to.clone() else {
        return ().into_any();
    };
    let parent_name = store
        .snapshot
        .get_value()
        .variant(&parent)
        .map(|(p, _)| p.name.clone())
        .unwrap_or_else(|| parent.to_string());
    let field = move |f: fn(&QuoteLine) -> String| {
        move || line.with(|l| l.as_ref().map(f).unwrap_or_default())
    };
    let detach = {
        let (parent, service) = (parent.clone(), service.clone());
        move |_| {
            store.edit(CartOp::DetachService {
                sku: parent.clone(),
                service: service.clone(),
            })
        }
    };
    view! {
        <li class="line service-line" data-sku=service.to_string() data-for=parent.to_string()>
            <div class="line-main">
                <span class="line-name">{first.name.clone()}</span>
                <span class="fine-print">{format!("With your {parent_name}")}</span>
                <span class="line-unit">{field(|l| format!("{} × {}", l.quantity.get(), format::money(l.unit_price)))}</span>
                <ul class="adjustments">{adjustments(line)}</ul>
            </div>
            <div class="line-controls">
                <button type="button" class="link-button" aria-label=format!("Remove {} from {parent_name}", first.name)
                    on:click=detach>"Remove"</button>
            </div>
            <span class="line-total" data-testid="line-total">{field(|l| format::money(l.net))}</span>
        </li>
    }
    .into_any()
}

/// "Add a service" under a line: the services offered with its product and not yet attached,
/// one click each. Nothing when the product offers none.
#[component]
fn ServiceOffers(sku: Sku, name: String) -> impl IntoView {
    let store = use_store();
    let snapshot = store.snapshot.get_value();
    let offered: Vec<(Sku, String, String)> = snapshot
        .services_for(&sku)
        .into_iter()
        .map(|(p, v)| {
            (
                v.sku.clone(),
                format!("{} ({})", p.name, v.name),
                snapshot
                    .price(&v.sku)
                    .map(format::money)
                    .unwrap_or_default(),
            )
        })
        .collect();
    if offered.is_empty() {
        return ().into_any();
    }
    let attached = {
        let sku = sku.clone();
        Memo::new(move |_| {
            store
                .cart
                .with(|c| c.line(&sku).map(|l| l.services.clone()).unwrap_or_default())
        })
    };
    let items = move || {
        offered
            .iter()
            .filter(|(s, _, _)| !attached.with(|a| a.contains(s)))
            .map(|(service, label, price)| {
                let (sku, service) = (sku.clone(), service.clone());
                view! {
                    <li class="service">
                        <span>{label.clone()}" · "{price.clone()}</span>
                        <button type="button" class="secondary" aria-label=format!("Add {label} to {name}")
                            on:click=move |_| store.edit(CartOp::AttachService { sku: sku.clone(), service: service.clone() })>"Add"</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <details class="service-offers">
            <summary>"Add a service"</summary>
            <ul class="services">{items}</ul>
        </details>
    }
    .into_any()
}

/// Swap a line for another option of the same product (e.g. 55" → 65"), keeping its place.
#[component]
fn Replace(sku: omnicart_engine::Sku, product_id: String) -> impl IntoView {
    let store = use_store();
    let snapshot = store.snapshot.get_value();
    let product = snapshot.product(&product_id);
    let product_name = product.map(|p| p.name.clone()).unwrap_or_default();
    let alternatives: Vec<_> = product
        .map(|p| {
            p.variants
                .iter()
                .map(|v| (v.sku.clone(), v.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    (alternatives.len() > 1).then(|| {
        let id = format!("replace-{sku}");
        let options = alternatives
            .into_iter()
            .map(
                |(s, name)| view! { <option value=s.to_string() selected=s == sku>{name}</option> },
            )
            .collect_view();
        view! {
            <label for=id.clone()>{format!("{product_name}: option")}</label>
            <select id=id on:change=move |ev| {
                if let Ok(with) = omnicart_engine::Sku::new(&event_target_value(&ev)) {
                    store.edit(CartOp::Replace { sku: sku.clone(), with });
                }
            }>{options}</select>
        }
    })
}

/// "Add a PlayStation 5: save €90.00", with the item one click away.
#[component]
fn Hints() -> impl IntoView {
    let store = use_store();
    let hints = move || {
        store
            .quote
            .with(|q| q.as_ref().map(|q| q.hints.clone()).unwrap_or_default())
    };
    move || {
        let hints = hints();
        (!hints.is_empty()).then(|| {
            let items = hints
                .into_iter()
                .map(|h| {
                    // The saving on top of what the cart already gets.
                    let saving = h.saving.map(|s| format!("save {} more", format::money(s)));
                    let text = match (&h.add, h.missing_amount) {
                        (Some(add), _) => format!("Add {}", add.name),
                        (None, Some(missing)) => format!("Spend {} more", format::money(missing)),
                        _ => h.message.clone(),
                    };
                    let button = h.add.map(|add| {
                        let label = format!("Add {} to cart", add.name);
                        let quantity = Quantity::new(add.quantity.into()).unwrap_or(Quantity::ONE);
                        view! {
                            <button type="button" class="secondary" aria-label=label
                                on:click=move |_| store.edit(CartOp::Add { sku: add.sku.clone(), quantity })>"Add"</button>
                        }
                    });
                    view! {
                        <li class="hint">
                            <span><strong>{text}</strong>{saving.map(|s| format!(": {s}"))}<br/>
                                <span class="fine-print">{h.label}</span></span>
                            {button}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="hints" aria-labelledby="hints-title" data-testid="hints">
                    <h2 id="hints-title">"Offers you're close to"</h2>
                    <ul>{items}</ul>
                </section>
            }
        })
    }
}

/// Coupon entry. An unknown code is refused at once and stays in the field to be corrected; a
/// known code that does not apply yet stays on the cart with the reason.
#[component]
fn Coupons() -> impl IntoView {
    let store = use_store();
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match store.try_edit(CartOp::ApplyCoupon {
            code: code.get_untracked(),
        }) {
            Ok(()) => {
                code.set(String::new());
                error.set(None);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let entered = move || {
        store
            .quote
            .with(|q| q.as_ref().map(|q| q.coupons.clone()).unwrap_or_default())
    };
    view! {
        <section class="coupons" aria-labelledby="coupon-title">
            <h2 id="coupon-title" class="visually-hidden">"Discount codes"</h2>
            <form on:submit=submit class="coupon-form">
                <label for="coupon">"Discount code"</label>
                <div class="inline">
                    <input id="coupon" autocomplete="off" autocapitalize="characters" aria-describedby="coupon-error"
                        prop:value=code on:input=move |ev| code.set(event_target_value(&ev))/>
                    <button type="submit" class="secondary">"Apply"</button>
                </div>
                <p id="coupon-error" class="field-error" role="alert">{move || error.get()}</p>
            </form>
            <ul class="codes" data-testid="coupons">
                {move || entered().into_iter().map(|c| {
                    let remove = c.code.clone();
                    let status = if c.applied { "Applied".to_owned() } else { c.reason.clone().unwrap_or_default() };
                    view! {
                        <li class="code" class:applied=c.applied>
                            <span><strong>{c.code.clone()}</strong>" · "{status}</span>
                            <button type="button" class="link-button" aria-label=format!("Remove code {}", c.code)
                                on:click=move |_| store.edit(CartOp::RemoveCoupon { code: remove.clone() })>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
pub(crate) fn Totals() -> impl IntoView {
    let store = use_store();
    let q = move || store.quote.get().ok();
    let row = move |f: fn(&Quote) -> String| move || q().map(|q| f(&q)).unwrap_or_default();
    let order_adjustments = move || {
        q().map(|q| q.order_adjustments).unwrap_or_default().into_iter()
            .map(|a| view! { <div class="discount"><dt>{a.label}</dt><dd>"−"{format::money(a.amount)}</dd></div> })
            .collect_view()
    };
    // Before a delivery is chosen, the delivery offers the cart qualifies for.
    let delivery_offers = move || {
        q().filter(|q| q.delivery.is_none())
            .map(|q| q.delivery_promotions)
            .unwrap_or_default()
            .into_iter()
            .map(|d| view! { <div class="discount"><dt>"Delivery"</dt><dd>{d.label}</dd></div> })
            .collect_view()
    };
    let delivery = move || {
        q().and_then(|q| q.delivery).map(|d| {
            let was = (d.total.amount() != d.charge.amount()).then(|| {
                view! { <s class="was"><span class="visually-hidden">"was "</span>{format::money(d.charge)}</s>" " }
            });
            view! {
                <div class="delivery-line" data-testid="delivery-line">
                    <dt>{delivery_title(store)}</dt><dd>{was}{format::charge(d.total)}</dd>
                </div>
            }
        })
    };
    let savings = move || {
        q().filter(|q| !q.discount_total.amount().is_zero())
            .map(|q| format::money(q.discount_total))
    };
    view! {
        <dl class="totals" aria-live="polite">
            <div><dt>"Items"</dt><dd>{row(|q| q.item_count.to_string())}</dd></div>
            <div><dt>"Subtotal"</dt><dd>{row(|q| format::money(q.subtotal))}</dd></div>
            {move || q().filter(|q| !q.line_discount_total.amount().is_zero()).map(|q| view! {
                <div class="discount"><dt>"Item discounts"</dt><dd>"−"{format::money(q.line_discount_total)}</dd></div>
            })}
            {order_adjustments}
            {delivery_offers}
            {delivery}
            <div class="grand"><dt>"Total"</dt><dd data-testid="cart-total">{row(|q| format::money(q.total))}</dd></div>
            {move || savings().map(|s| view! { <div class="savings"><dt>"You save"</dt><dd data-testid="cart-savings">{s}</dd></div> })}
            <div class="fine-print"><dt>"Including VAT"</dt><dd>{row(|q| format::money(q.tax_total))}</dd></div>
        </dl>
        {move || q().is_some_and(|q| q.delivery.is_none()).then(|| view! {
            <p class="fine-print">"Choose delivery or collection above to add it to the total."</p>
        })}
    }
}

/// "Delivery (Express)" or "Collect at omnicart Berlin Alexanderplatz".
pub(crate) fn delivery_title(store: Store) -> String {
    match store.cart.with(|c| c.delivery().cloned()) {
        Some(DeliveryChoice::Level(level)) => format!("Delivery ({})", level.name()),
        Some(DeliveryChoice::Pickup(id)) => {
            let name = store.delivery.with(|d| {
                d.as_ref()?
                    .as_ref()
                    .ok()?
                    .pickup
                    .iter()
                    .find(|p| p.location == id)
                    .map(|p| p.name.clone())
            });
            format!("Collect at {}", name.unwrap_or(id))
        }
        None => "Delivery".to_owned(),
    }
}

/// Pickup stores offered in the cart, nearest first (the chosen one is always listed).
const PICKUP_CHOICES: usize = 3;

/// One way to get the cart, as a radio button shows it.
#[derive(Clone, Debug, PartialEq)]
struct Choice {
    key: String,
    choice: DeliveryChoice,
    title: String,
    /// Before a delivery promotion, when one lowers it.
    was: Option<String>,
    price: String,
    detail: String,
}

fn choice_key(c: &DeliveryChoice) -> String {
    match c {
        DeliveryChoice::Level(level) => format!("level-{}", level_key(*level)),
        DeliveryChoice::Pickup(id) => format!("pickup-{id}"),
    }
}

fn level_key(level: Level) -> &'static str {
    match level {
        Level::Standard => "standard",
        Level::Express => "express",
        Level::SameDay => "same-day",
        Level::Scheduled => "scheduled",
    }
}

/// The delivery options and the nearest pickup stores for the cart at the destination.
fn choices(store: Store) -> Vec<Choice> {
    let chosen = store.cart.with(|c| c.delivery().cloned());
    store.delivery.with(|d| {
        let Some(Ok(d)) = d else { return Vec::new() };
        let options = d.options.iter().map(|o| {
            let choice = DeliveryChoice::Level(o.level);
            Choice {
                key: choice_key(&choice),
                choice,
                title: o.level_name.to_owned(),
                was: (o.total.amount() != o.charge.amount()).then(|| format::money(o.charge)),
                price: format::charge(o.total),
                detail: format!("{} · {}", o.label, o.carrier_name),
            }
        });
        let pickups = d.pickup.iter().enumerate().filter(|(i, p)| {
            *i < PICKUP_CHOICES
                || chosen
                    .as_ref()
                    .is_some_and(|c| *c == DeliveryChoice::Pickup(p.location.clone()))
        });
        let pickups = pickups.map(|(_, p)| {
            let choice = DeliveryChoice::Pickup(p.location.clone());
            Choice {
                key: choice_key(&choice),
                choice,
                title: format!("Collect at {}", p.name),
                was: None,
                price: "Free".to_owned(),
                detail: format!(
                    "{} · Ready: {}",
                    format::distance(p.distance_m),
                    p.ready_label
                ),
            }
        });
        options.chain(pickups).collect()
    })
}

/// Where to deliver, and how: radio buttons for each offered option and the nearest stores,
/// bound to the cart's delivery choice (an edit like any other: priced at once and synced).
#[component]
pub(crate) fn Delivery() -> impl IntoView {
    let store = use_store();
    let choices = Memo::new(move |_| choices(store));
    let keys = move || choices.with(|c| c.iter().map(|c| c.key.clone()).collect::<Vec<_>>());
    let chosen = Memo::new(move |_| store.cart.with(|c| c.delivery().map(choice_key)));
    let state = Memo::new(move |_| {
        store
            .delivery
            .with(|d| d.as_ref().map(|d| d.as_ref().err().cloned()))
    });
    // A choice the cart keeps that is not offered any more (the cart or the address changed).
    let missing = move || {
        let chosen = chosen.get()?;
        let offered = choices.with(|c| c.iter().any(|c| c.key == chosen));
        (!offered && state.get() == Some(None)).then(|| match store.cart.with(|c| c.delivery().cloned()) {
            Some(DeliveryChoice::Level(level)) => format!("{} delivery is not available for this cart any more; choose another option.", level.name()),
            _ => "The store you chose cannot have this cart ready any more; choose another option.".to_owned(),
        })
    };
    view! {
        <section class="delivery" aria-labelledby="cart-delivery-title">
            <h2 id="cart-delivery-title">"Delivery"</h2>
            <DestinationForm/>
            {move || match state.get() {
                None => ().into_any(),
                Some(Some(message)) => view! { <p class="notice" role="alert">{message}</p> }.into_any(),
                Some(None) => view! {
                    <fieldset class="delivery-choice" data-testid="delivery-choice">
                        <legend>"How would you like to get your order?"</legend>
                        <p class="field-error" role="alert" data-testid="delivery-missing">{missing}</p>
                        <ul>
                            <For each=keys key=|k| k.clone() children=move |k| view! { <ChoiceRow key=k choices chosen/> }/>
                        </ul>
                        {move || choices.with(Vec::is_empty).then(|| view! { <p>{nothing_offered(store)}</p> })}
                    </fieldset>
                }.into_any(),
            }}
        </section>
    }
}

/// Why no choice is listed: nothing in the cart is shipped (services only), or nothing can
/// reach this address.
fn nothing_offered(store: Store) -> &'static str {
    let goods = store.delivery.with(|d| {
        d.as_ref()
            .and_then(|d| d.as_ref().ok())
            .is_some_and(|d| !d.lines.is_empty())
    });
    if goods {
        "Nothing can be delivered or collected here; try another postcode."
    } else {
        "Nothing in your cart needs delivery."
    }
}

#[component]
fn ChoiceRow(
    key: String,
    choices: Memo<Vec<Choice>>,
    chosen: Memo<Option<String>>,
) -> impl IntoView {
    let store = use_store();
    let row = Memo::new({
        let key = key.clone();
        move |_| choices.with(|c| c.iter().find(|c| c.key == key).cloned())
    });
    let Some(first) = row.get_untracked() else {
        return ().into_any();
    };
    let field =
        move |f: fn(&Choice) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let id = format!("delivery-{key}");
    let checked = move || chosen.get().as_deref() == Some(key.as_str());
    let was = move || {
        row.with(|r| r.as_ref().and_then(|r| r.was.clone()))
            .map(|was| {
                view! { <s class="was"><span class="visually-hidden">"was "</span>{was}</s>" " }
            })
    };
    view! {
        <li class="choice" class:pickup=matches!(first.choice, DeliveryChoice::Pickup(_))>
            <input type="radio" name="delivery-choice" id=id.clone() value=id.clone() prop:checked=checked
                on:change=move |_| {
                    if let Some(choice) = row.with_untracked(|r| r.as_ref().map(|r| r.choice.clone())) {
                        store.edit(CartOp::ChooseDelivery { choice: Some(choice) });
                    }
                }/>
            <label for=id>
                <span class="choice-title">{field(|c| c.title.clone())}</span>
                <span class="choice-price">{was}{field(|c| c.price.clone())}</span>
                <span class="choice-detail">{field(|c| c.detail.clone())}</span>
            </label>
        </li>
    }
    .into_any()
}
