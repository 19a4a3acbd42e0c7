//! "Place order": the request built from the form, the engine's total the shopper saw, one
//! idempotency key per attempt (`Draft::key_for`), and what each answer means to the shopper,
//! decided on `error.code`. The button is disabled while a request is in flight, and a second
//! press is ignored then too.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use omnicart_api::checkout::TEST_GATEWAY;
use omnicart_api::{CheckoutRequest, Contact, PaymentMethod, PostalAddress, code};
use omnicart_engine::fulfilment::Level;
use omnicart_engine::{CartOp, DeliveryChoice, Money};

use crate::api::{self, ApiError, Refusal, Requests};
use crate::checkout::{Attempt, Draft, remember_guest_order, use_draft};
use crate::format;
use crate::routes::checkout::{card_digits, is_pickup};
use crate::store::{Store, sleep, use_store};

/// How often an `in_progress` answer is asked again (a second apart) before telling the shopper.
const IN_PROGRESS_RETRIES: usize = 5;

/// What the last press came to, for the shopper.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Message(String),
    /// The server's total differs: shown beside the one the shopper saw, to confirm again.
    PriceChanged {
        was: Money,
        now: Money,
        lines: Vec<String>,
    },
    /// Some lines cannot be had as chosen: what can.
    OutOfStock {
        lines: Vec<String>,
        switch: Vec<(DeliveryChoice, String)>,
    },
}

#[derive(Clone, Copy)]
struct Placing {
    store: Store,
    draft: Draft,
    busy: RwSignal<bool>,
    outcome: RwSignal<Option<Outcome>>,
    /// The server's new total, once the shopper has seen it: the next press agrees to it.
    agreed: RwSignal<Option<Money>>,
    requests: Requests,
}

impl Placing {
    fn new() -> Placing {
        Placing {
            store: use_store(),
            draft: use_draft(),
            busy: RwSignal::new(false),
            outcome: RwSignal::new(None),
            agreed: RwSignal::new(None),
            requests: Requests::of_owner(),
        }
    }
}

/// The cart is empty but an attempt never got its answer (lost with the connection, and the
/// emptied cart pulled since): the same request with the same key asks the server what became
/// of it, and a placed order's answer is replayed.
#[component]
pub fn ResumeAttempt(attempt: Attempt) -> impl IntoView {
    let placing = Placing::new();
    let navigate = use_navigate();
    let press = move |_| {
        let Ok(request) = api::from_json::<CheckoutRequest>(&attempt.body) else {
            placing.draft.finish();
            return;
        };
        if placing.busy.get_untracked() {
            return;
        }
        placing.busy.set(true);
        let (navigate, key) = (navigate.clone(), attempt.key.clone());
        spawn_local(async move {
            if let Some(url) = send(placing, &request, &key).await {
                navigate(&url, Default::default());
            }
        });
    };
    view! {
        <div class="notice place" role="status">
            <p>"Your last order may have been placed: we did not get the answer."</p>
            <div role="alert" data-testid="checkout-outcome">{move || placing.outcome.get().map(|o| outcome_view(placing, o))}</div>
            <button type="button" class="primary" disabled=placing.busy on:click=press>"Check my order"</button>
        </div>
    }
}

#[component]
pub fn PlaceOrder() -> impl IntoView {
    let placing = Placing::new();
    let navigate = use_navigate();
    let total = move || {
        placing
            .store
            .quote
            .with(|q| q.as_ref().ok().map(|q| q.total))
    };
    let press = move |_| {
        if placing.busy.get_untracked() {
            return;
        }
        placing.busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            if let Some(url) = place(placing).await {
                navigate(&url, Default::default());
                placing.store.pull().await;
            }
        });
    };
    let label = move || {
        if placing.busy.get() {
            "Placing your order…".to_owned()
        } else {
            let amount = placing.agreed.get().or_else(total);
            format!(
                "Place order · {}",
                amount.map(format::money).unwrap_or_default()
            )
        }
    };
    view! {
        <div class="place" aria-live="polite">
            <div role="alert" data-testid="checkout-outcome">{move || placing.outcome.get().map(|o| outcome_view(placing, o))}</div>
            <button type="button" class="primary place-order" data-testid="place-order"
                disabled=move || placing.busy.get() || total().is_none() on:click=press>{label}</button>
            <p class="fine-print">"The server prices your order once more as it places it; that total is final."</p>
        </div>
    }
}

fn outcome_view(placing: Placing, outcome: Outcome) -> AnyView {
    match outcome {
        Outcome::Message(text) => view! { <p class="notice">{text}</p> }.into_any(),
        Outcome::PriceChanged { was, now, lines } => view! {
            <div class="notice price-changed" data-testid="price-changed">
                <p>"The price changed since you reviewed your order: the total was "
                    <s>{format::money(was)}</s>", it is now "<strong>{format::money(now)}</strong>"."</p>
                <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                <p>"Press “Place order” again to buy at the new total."</p>
            </div>
        }
        .into_any(),
        Outcome::OutOfStock { lines, switch } => view! {
            <div class="notice" data-testid="out-of-stock">
                <p>"Not enough stock for:"</p>
                <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                {switch.into_iter().map(|(choice, label)| view! {
                    <button type="button" class="secondary" on:click=move |_| {
                        placing.store.edit(CartOp::ChooseDelivery { choice: Some(choice.clone()) });
                        placing.outcome.set(None);
                    }>{label}</button>
                }).collect_view()}
            </div>
        }
        .into_any(),
    }
}

/// One press: the order placed (the confirmation's address), or `None` with the outcome set.
async fn place(p: Placing) -> Option<String> {
    let done = |outcome: Option<Outcome>| {
        p.busy.set(false);
        p.outcome.set(outcome);
        None
    };
    p.outcome.set(None);
    if !p.store.flush().await {
        let text = "You seem to be offline: your cart changes are not saved yet. Nothing you typed is lost; try again when you are back online.";
        return done(Some(Outcome::Message(text.into())));
    }
    let expected = p.agreed.get_untracked().or_else(|| {
        p.store
            .quote
            .with_untracked(|q| q.as_ref().ok().map(|q| q.total))
    });
    let request = match expected.map(|total| request(p, total)) {
        Some(Ok(request)) => request,
        Some(Err(text)) => return done(Some(Outcome::Message(text))),
        None => return done(None),
    };
    let key = p.draft.key_for(&api::to_json(&request));
    send(p, &request, &key).await
}

/// Sends one attempt's request with its key, asking again while it is `in_progress`.
async fn send(p: Placing, request: &CheckoutRequest, key: &str) -> Option<String> {
    let done = |outcome: Option<Outcome>| {
        p.busy.set(false);
        p.outcome.set(outcome);
        None
    };
    for _ in 0..IN_PROGRESS_RETRIES {
        match api::checkout(request, key, p.requests).await {
            Ok(reply) => {
                p.draft.placed();
                let number = reply.order.number;
                let token = reply.guest_token.map(|token| {
                    remember_guest_order(&number, &token);
                    format!(
                        "?token={}",
                        String::from(js_sys::encode_uri_component(&token))
                    )
                });
                return Some(format!(
                    "/checkout/placed/{number}{}",
                    token.unwrap_or_default()
                ));
            }
            Err((e, _)) if e.code == code::IN_PROGRESS => sleep(1_000).await,
            Err((e, _)) if e.is_aborted() => return None,
            Err((e, refusal)) => {
                let outcome = refused(p, &e, refusal, request.expected_total);
                return done(Some(outcome));
            }
        }
    }
    done(Some(Outcome::Message(
        "Your order is still being placed. Press “Place order” again in a moment: it will not be placed twice.".into(),
    )))
}

fn request(p: Placing, expected_total: Money) -> Result<CheckoutRequest, String> {
    let cart_id = p
        .store
        .cart_id()
        .ok_or("Your cart is not saved yet; try again in a moment.")?;
    let token = card_digits(&p.draft.card.get_untracked()).ok_or("Enter your card number.")?;
    let f = p.draft.form.get_untracked();
    let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let shipping_address = (!is_pickup(p.store)).then(|| PostalAddress {
        name: f.name.trim().to_owned(),
        street: vec![f.street.trim().to_owned()],
        postcode: f.postcode.trim().to_owned(),
        city: f.city.trim().to_owned(),
        country: f.country.trim().to_uppercase(),
    });
    Ok(CheckoutRequest {
        cart_id,
        expected_total,
        contact: Contact {
            email: f.email.trim().to_owned(),
            name: f.name.trim().to_owned(),
            phone: optional(&f.phone),
        },
        shipping_address,
        payment: PaymentMethod {
            provider: TEST_GATEWAY.to_owned(),
            token,
        },
    })
}

/// What a refusal means to the shopper. Final refusals end the attempt (the next press has a
/// new key); a timeout, `offline` and server failures keep it, so the retry is the same
/// attempt.
fn refused(p: Placing, e: &ApiError, refusal: Refusal, was: Money) -> Outcome {
    let retry = e.is_offline()
        || e.status >= 500
        || [code::PAYMENT_TIMEOUT, code::IN_PROGRESS].contains(&e.code.as_str());
    if !retry {
        p.draft.finish();
    }
    let message = |text: &str| Outcome::Message(text.to_owned());
    match e.code.as_str() {
        api::OFFLINE => message(
            "You seem to be offline. Nothing you typed is lost: press “Place order” again when you are back online.",
        ),
        code::PRICE_CHANGED | code::PROMOTION_EXHAUSTED => {
            let now = refusal
                .total
                .or(refusal.priced.as_ref().map(|q| q.total))
                .unwrap_or(was);
            p.agreed.set(Some(now));
            Outcome::PriceChanged {
                was,
                now,
                lines: changed_lines(p.store, &refusal),
            }
        }
        code::PAYMENT_DECLINED => Outcome::Message(format!(
            "Your card was declined: {}. Nothing was charged; your cart and details are kept. Try another card.",
            decline_reason(refusal.reason.as_deref())
        )),
        code::PAYMENT_TIMEOUT => message(
            "The payment provider did not answer in time. Nothing was charged; you can try again.",
        ),
        code::OUT_OF_STOCK => out_of_stock(p.store, refusal),
        _ if e.status >= 500 => message(
            "Something went wrong on our side. Nothing you typed is lost; please try again.",
        ),
        _ => Outcome::Message(crate::store::capitalize(&e.message)),
    }
}

fn decline_reason(reason: Option<&str>) -> &'static str {
    match reason {
        Some("insufficient_funds") => "insufficient funds",
        _ => "the bank refused the payment",
    }
}

/// "Lumina OLED C4 55": €1,299.00 → €1,399.00" for each line whose price differs.
fn changed_lines(store: Store, refusal: &Refusal) -> Vec<String> {
    let Some(priced) = &refusal.priced else {
        return Vec::new();
    };
    store.quote.with_untracked(|q| {
        let Ok(q) = q else { return Vec::new() };
        priced
            .lines
            .iter()
            .filter_map(|new| {
                let old = q
                    .lines
                    .iter()
                    .find(|l| l.sku == new.sku && l.gift == new.gift);
                match old {
                    Some(old) if old.net == new.net => None,
                    Some(old) => Some(format!(
                        "{}: {} → {}",
                        new.name,
                        format::money(old.net),
                        format::money(new.net)
                    )),
                    None => Some(format!("{}: {}", new.name, format::money(new.net))),
                }
            })
            .collect()
    })
}

fn out_of_stock(store: Store, refusal: Refusal) -> Outcome {
    let snapshot = store.snapshot.get_value();
    let lines = refusal
        .lines
        .iter()
        .map(|l| {
            let name = snapshot
                .variant(&l.sku)
                .map(|(p, v)| format!("{} ({})", p.name, v.name))
                .unwrap_or_else(|| l.sku.to_string());
            let mut text = format!("{name}: {} wanted, {} available", l.requested, l.available);
            if let Some(date) = l.available_on {
                text.push_str(&format!(" (back in stock {})", date.label()));
            }
            text
        })
        .collect();
    let alternatives = refusal.alternatives.unwrap_or_default();
    let levels = alternatives.levels.into_iter().map(|level: Level| {
        let label = format!("Switch to {} delivery", level.name());
        (DeliveryChoice::Level(level), label)
    });
    let stores = alternatives.pickup_locations.into_iter().map(|id| {
        let name = snapshot
            .network()
            .data()
            .locations
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| id.clone());
        (DeliveryChoice::Pickup(id), format!("Collect at {name}"))
    });
    Outcome::OutOfStock {
        lines,
        switch: levels.chain(stores).collect(),
    }
}
