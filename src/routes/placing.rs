//! "Place order": the request built from the form, the engine's total the shopper saw, one
//! idempotency key per attempt (`Draft::key_for`), and what each answer means to the shopper,
//! decided on `error.code`. The button is disabled while a request is in flight, and a second
//! press is ignored then too.
//!
//! A checkout answered with a challenge (202) opens the bank's confirmation as a modal dialog
//! ([`ChallengeDialog`]: focus moved into it and kept there, Escape cancels, focus given back
//! on closing). Confirm or Cancel completes the challenge with a key of its own, kept for that
//! answer so a retry after going offline sends the same one; the attempt ends with the
//! challenge's final answer (its own key's answer is the challenge, no use once it is
//! decided).

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use omnicart_api::checkout::{
    CHALLENGE_CANCELLED, CHALLENGE_CONFIRMED, CHALLENGE_TEST, TEST_GATEWAY,
};
use omnicart_api::{
    Challenge, CheckoutReply, CheckoutRequest, Contact, PaymentMethod, PostalAddress, code,
};
use omnicart_engine::fulfilment::Level;
use omnicart_engine::{CartOp, DeliveryChoice, Money};
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError, Placed, Refusal, Requests};
use crate::checkout::{Attempt, Draft, remember_guest_order, use_draft};
use crate::format;
use crate::routes::checkout::{card_digits, is_pickup};
use crate::store::{Store, random_hex, sleep, use_store};

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
    /// The challenge the dialog shows, while it waits for the shopper.
    challenge: RwSignal<Option<Challenge>>,
    /// The answer last sent for it, with its key (sent again as it was after going offline).
    completion: RwSignal<Option<Completion>>,
    /// A completion is in flight: the dialog's buttons wait.
    sending: RwSignal<bool>,
    /// Why the last completion did not arrive, shown in the dialog.
    dialog_error: RwSignal<Option<String>>,
    requests: Requests,
}

/// The shopper's answer to a challenge and the idempotency key it was sent with.
#[derive(Clone, Debug, PartialEq)]
struct Completion {
    result: &'static str,
    key: String,
}

impl Placing {
    fn new() -> Placing {
        Placing {
            store: use_store(),
            draft: use_draft(),
            busy: RwSignal::new(false),
            outcome: RwSignal::new(None),
            agreed: RwSignal::new(None),
            challenge: RwSignal::new(None),
            completion: RwSignal::new(None),
            sending: RwSignal::new(false),
            dialog_error: RwSignal::new(None),
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
    let opener = NodeRef::<html::Button>::new();
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
            <button type="button" class="primary" disabled=placing.busy node_ref=opener on:click=press>"Check my order"</button>
        </div>
        <ChallengeDialog placing opener/>
    }
}

#[component]
pub fn PlaceOrder() -> impl IntoView {
    let placing = Placing::new();
    let navigate = use_navigate();
    let opener = NodeRef::<html::Button>::new();
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
                placing.store.orders_changed().await;
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
            <button type="button" class="primary place-order" data-testid="place-order" node_ref=opener
                disabled=move || placing.busy.get() || total().is_none() on:click=press>{label}</button>
            <p class="fine-print">"The server prices your order once more as it places it; that total is final."</p>
        </div>
        // Outside the live region: the dialog is announced as a dialog, once.
        <ChallengeDialog placing opener/>
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
            Ok(Placed::Order(reply)) => return Some(confirmation(p, *reply)),
            Ok(Placed::Challenge(challenge)) => {
                // Still busy: the dialog is the next step. A kind this page cannot present
                // is cancelled at once (nothing is charged, everything released).
                let presentable = challenge.kind == CHALLENGE_TEST;
                p.challenge.set(Some(challenge));
                if !presentable {
                    return complete(p, CHALLENGE_CANCELLED).await;
                }
                return None;
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

/// The order placed: the attempt is over, and the confirmation's address.
fn confirmation(p: Placing, reply: CheckoutReply) -> String {
    p.draft.placed();
    let number = reply.order.number;
    let token = reply.guest_token.map(|token| {
        remember_guest_order(&number, &token);
        format!(
            "?token={}",
            String::from(js_sys::encode_uri_component(&token))
        )
    });
    format!("/checkout/placed/{number}{}", token.unwrap_or_default())
}

/// The bank's confirmation of the payment, as a modal dialog over the page (see the module
/// docs). Mobile first: a sheet at the bottom of a phone's screen, a box on larger ones.
/// `opener` is the button that placed the order: focus goes back to it.
#[component]
fn ChallengeDialog(placing: Placing, opener: NodeRef<html::Button>) -> impl IntoView {
    let navigate = use_navigate();
    let dialog = NodeRef::<html::Div>::new();
    // Focus moves into the dialog as it opens and back to the button as it closes, once the
    // page has shown (or hidden) it and enabled the button again.
    Effect::new(move |was_open: Option<bool>| {
        let open = placing.challenge.with(Option::is_some);
        if was_open.is_some_and(|was| was != open) || (was_open.is_none() && open) {
            spawn_local(async move {
                sleep(0).await;
                let _ = if open {
                    dialog.get_untracked().map(|d| d.focus())
                } else {
                    opener.get_untracked().map(|b| b.focus())
                };
            });
        }
        open
    });
    let answer = move |result: &'static str| {
        if placing.sending.get_untracked() {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            if let Some(url) = complete(placing, result).await {
                navigate(&url, Default::default());
                placing.store.pull().await;
            }
        });
    };
    let (confirm, cancel) = (answer.clone(), answer.clone());
    let keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            answer(CHALLENGE_CANCELLED);
        }
        "Tab" => trap_focus(&ev, dialog),
        _ => {}
    };
    let amount = move || {
        placing
            .challenge
            .with(|c| c.as_ref().map(|c| format::money(c.amount)))
    };
    // Always in the page, hidden while no challenge waits: less code than a view made anew.
    view! {
        <div class="challenge-backdrop" hidden=move || placing.challenge.with(Option::is_none)>
            <div class="challenge" role="dialog" aria-modal="true" aria-labelledby="challenge-title"
                aria-describedby="challenge-text" tabindex="-1" node_ref=dialog on:keydown=keydown data-testid="challenge">
                <h2 id="challenge-title">"Confirm with your bank"</h2>
                <p id="challenge-text">"Your bank asks you to confirm this payment of "{amount}"."</p>
                <p class="field-error" role="alert">{move || placing.dialog_error.get()}</p>
                <div class="step-actions">
                    <button type="button" class="secondary" disabled=placing.sending on:click=move |_| cancel(CHALLENGE_CANCELLED)>"Cancel"</button>
                    <button type="button" class="primary" disabled=placing.sending on:click=move |_| confirm(CHALLENGE_CONFIRMED)>"Confirm"</button>
                </div>
            </div>
        </div>
    }
}

/// Keeps Tab inside the dialog: from its last button to its first, and back with Shift.
fn trap_focus(ev: &leptos::ev::KeyboardEvent, dialog: NodeRef<html::Div>) {
    let Some(dialog) = dialog.get_untracked() else {
        return;
    };
    let buttons = dialog.get_elements_by_tag_name("button");
    let (Some(first), Some(last)) = (
        buttons.item(0),
        buttons.item(buttons.length().saturating_sub(1)),
    ) else {
        return;
    };
    let active = document().active_element();
    let target = match (ev.shift_key(), active) {
        (false, Some(a)) if a == last => first,
        (true, Some(a)) if a == first || a == **dialog => last,
        _ => return,
    };
    ev.prevent_default();
    if let Ok(el) = target.dyn_into::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
}

/// The shopper's answer to the challenge: the order placed (the confirmation's address), or
/// `None` with what happened shown (in the dialog while it may be sent again, else below the
/// button with the dialog closed).
async fn complete(p: Placing, result: &'static str) -> Option<String> {
    let challenge = p.challenge.get_untracked()?;
    let key = match p.completion.get_untracked() {
        Some(c) if c.result == result => c.key,
        _ => {
            let key = random_hex(16);
            p.completion.set(Some(Completion {
                result,
                key: key.clone(),
            }));
            key
        }
    };
    p.sending.set(true);
    p.dialog_error.set(None);
    for _ in 0..IN_PROGRESS_RETRIES {
        match api::complete_challenge(&challenge.id, result, &key, p.requests).await {
            Ok(reply) => {
                close_challenge(p);
                return Some(confirmation(p, reply));
            }
            Err((e, _)) if e.code == code::IN_PROGRESS => sleep(1_000).await,
            Err((e, _)) if e.is_aborted() => return None,
            Err((e, _))
                if e.is_offline() || (e.status >= 500 && e.code != code::PAYMENT_TIMEOUT) =>
            {
                let text = if e.is_offline() {
                    "You seem to be offline: your answer did not reach us. Nothing is lost; press it again when you are back online."
                } else {
                    "Something went wrong on our side. Nothing is lost; press it again."
                };
                p.sending.set(false);
                p.dialog_error.set(Some(text.into()));
                return None;
            }
            Err((e, refusal)) => {
                let outcome = refused(p, &e, refusal, challenge.amount);
                p.draft.finish();
                close_challenge(p);
                p.busy.set(false);
                p.outcome.set(Some(outcome));
                return None;
            }
        }
    }
    p.sending.set(false);
    p.dialog_error.set(Some(
        "Your answer is still being processed. Press it again in a moment: you will not be charged twice.".into(),
    ));
    None
}

fn close_challenge(p: Placing) {
    p.challenge.set(None);
    p.completion.set(None);
    p.sending.set(false);
    p.dialog_error.set(None);
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
        code::PAYMENT_DECLINED if refusal.reason.as_deref() == Some("authentication_failed") => {
            message(
                "Your bank did not confirm the payment; nothing was charged. Your cart and details are kept: you can try again.",
            )
        }
        code::ATTEMPT_EXPIRED => message(
            "The time to confirm the payment with your bank ran out. Nothing was charged; press “Place order” to try again.",
        ),
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
