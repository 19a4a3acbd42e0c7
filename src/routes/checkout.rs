//! Checkout in four steps a phone can use with one thumb: contact and address, delivery or
//! pickup (the cart's own choice, with the engine's windows), a test card, and a review with
//! the engine's quote. Focus moves to each step's heading; errors are announced. What is typed
//! is kept by [`crate::checkout::Draft`]; placing the order is [`place`] (see `placing.rs`).

use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;
use omnicart_api::checkout::test_cards;
use omnicart_engine::DeliveryChoice;

use crate::checkout::{Draft, Form, Step, use_draft};
use crate::format;
use crate::routes::cart::{Delivery, Totals, delivery_title};
use crate::routes::placing::{PlaceOrder, ResumeAttempt};
use crate::store::{Store, use_store};

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let store = use_store();
    let draft = use_draft();
    prefill(store, draft);
    let empty = Memo::new(move |_| store.cart.with(|c| c.is_empty()));
    let step = Memo::new(move |_| draft.form.with(|f| f.step));
    let heading = NodeRef::<html::H2>::new();
    // Each step's heading takes focus, so a screen reader starts there (not on first load).
    Effect::new(move |previous: Option<Step>| {
        let now = step.get();
        if previous.is_some_and(|p| p != now)
            && let Some(h) = heading.get_untracked()
        {
            let _ = h.focus();
        }
        now
    });
    let steps = move || {
        Step::ALL
            .into_iter()
            .map(|s| {
                let current = move || (step.get() == s).then_some("step");
                let done = move || step.get().number() > s.number();
                view! { <li aria-current=current class:done=done>{s.title()}</li> }
            })
            .collect_view()
    };
    view! {
        <section class="checkout narrow" aria-labelledby="checkout-title">
            <h1 id="checkout-title">"Checkout"</h1>
            {move || if empty.get() {
                match draft.live_attempt() {
                    Some(attempt) => view! { <ResumeAttempt attempt/> }.into_any(),
                    None => view! { <div class="empty"><p>"Your cart is empty."</p><A href="/">"Start shopping"</A></div> }.into_any(),
                }
            } else {
                view! {
                    <ol class="steps" aria-label="Checkout steps">{steps}</ol>
                    <h2 id="step-title" tabindex="-1" node_ref=heading data-testid="step-title">
                        {move || format!("Step {} of 4: {}", step.get().number(), step.get().title())}
                    </h2>
                    {move || match step.get() {
                        Step::Contact => view! { <ContactStep/> }.into_any(),
                        Step::Delivery => view! { <DeliveryStep/> }.into_any(),
                        Step::Payment => view! { <PaymentStep/> }.into_any(),
                        Step::Review => view! { <ReviewStep/> }.into_any(),
                    }}
                }.into_any()
            }}
        </section>
    }
}

/// Fills what is still empty from the signed-in customer and the cart's postcode.
fn prefill(store: Store, draft: Draft) {
    Effect::new(move |_| {
        let customer = store.customer.get();
        let postcode = store
            .destination
            .with(|d| d.as_ref().and_then(|d| d.postcode.clone()));
        draft.form.update(|f| {
            if let Some(c) = &customer {
                fill(&mut f.email, &c.email);
                fill(&mut f.name, &c.name);
            }
            if let Some(p) = &postcode {
                fill(&mut f.postcode, p.trim());
            }
        });
    });
}

fn fill(field: &mut String, value: &str) {
    if field.trim().is_empty() {
        *field = value.to_owned();
    }
}

fn go(draft: Draft, step: Step) {
    draft.form.update(|f| f.step = step);
}

pub(crate) fn is_pickup(store: Store) -> bool {
    store
        .cart
        .with(|c| matches!(c.delivery(), Some(DeliveryChoice::Pickup(_))))
}

/// A labelled text field bound to one field of the form.
#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    get: fn(&Form) -> &String,
    set: fn(&mut Form, String),
    invalid: RwSignal<Vec<&'static str>>,
) -> impl IntoView {
    let draft = use_draft();
    let bad = move || invalid.with(|i| i.contains(&id));
    view! {
        <label for=id>{label}</label>
        <input id=id type=kind autocomplete=autocomplete aria-invalid=move || bad().to_string()
            prop:value=move || draft.form.with(|f| get(f).clone())
            on:input=move |ev| draft.form.update(|f| set(f, event_target_value(&ev)))/>
    }
}

/// What a step's form is missing: the fields' ids, in order, and a sentence naming them.
struct Missing {
    ids: Vec<&'static str>,
    names: Vec<&'static str>,
}

impl Missing {
    fn check(&mut self, ok: bool, id: &'static str, name: &'static str) {
        if !ok {
            self.ids.push(id);
            self.names.push(name);
        }
    }
}

fn contact_missing(f: &Form, pickup: bool) -> Missing {
    let mut m = Missing {
        ids: Vec::new(),
        names: Vec::new(),
    };
    let email = f.email.trim();
    m.check(
        email.contains('@') && !email.starts_with('@') && !email.ends_with('@'),
        "checkout-email",
        "an email address",
    );
    m.check(!f.name.trim().is_empty(), "checkout-name", "your name");
    if !pickup {
        m.check(!f.street.trim().is_empty(), "checkout-street", "the street");
        m.check(
            !f.postcode.trim().is_empty(),
            "checkout-postcode",
            "the postcode",
        );
        m.check(!f.city.trim().is_empty(), "checkout-city", "the city");
        m.check(
            f.country.trim().len() == 2,
            "checkout-country",
            "the country",
        );
    }
    m
}

fn focus_id(id: &str) {
    if let Some(el) = document().get_element_by_id(id)
        && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
    {
        let _ = el.focus();
    }
}

#[component]
fn ContactStep() -> impl IntoView {
    let store = use_store();
    let draft = use_draft();
    let invalid = RwSignal::new(Vec::<&'static str>::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let missing = draft.form.with(|f| contact_missing(f, is_pickup(store)));
        match missing.ids.first() {
            None => {
                invalid.set(Vec::new());
                error.set(None);
                go(draft, Step::Delivery);
            }
            Some(first) => {
                error.set(Some(format!("Please enter {}.", missing.names.join(", "))));
                focus_id(first);
                invalid.set(missing.ids);
            }
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <Field id="checkout-email" label="Email" kind="email" autocomplete="email" get=|f| &f.email set=|f, v| f.email = v invalid/>
            <Field id="checkout-name" label="Full name" autocomplete="name" get=|f| &f.name set=|f, v| f.name = v invalid/>
            <Field id="checkout-phone" label="Phone (optional)" kind="tel" autocomplete="tel" get=|f| &f.phone set=|f, v| f.phone = v invalid/>
            {move || is_pickup(store).then(|| view! { <p class="fine-print">"You collect in store: no address needed."</p> })}
            <Field id="checkout-street" label="Street and number" autocomplete="address-line1" get=|f| &f.street set=|f, v| f.street = v invalid/>
            <Field id="checkout-postcode" label="Postcode" autocomplete="postal-code" get=|f| &f.postcode set=|f, v| f.postcode = v invalid/>
            <Field id="checkout-city" label="City" autocomplete="address-level2" get=|f| &f.city set=|f, v| f.city = v invalid/>
            <Field id="checkout-country" label="Country code" autocomplete="country" get=|f| &f.country set=|f, v| f.country = v invalid/>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <div class="step-actions">
                <A href="/cart" attr:class="secondary">"Back to cart"</A>
                <button type="submit" class="primary">"Continue"</button>
            </div>
        </form>
    }
}

#[component]
fn DeliveryStep() -> impl IntoView {
    let store = use_store();
    let draft = use_draft();
    let error = RwSignal::new(None::<String>);
    let next = move |_| {
        let chosen = store.cart.with(|c| c.delivery().is_some());
        let offered = store.delivery.with(|d| matches!(d, Some(Ok(_))));
        if chosen && offered {
            error.set(None);
            go(draft, Step::Payment);
        } else {
            error.set(Some(
                "Choose a delivery option or a store to collect from.".into(),
            ));
        }
    };
    view! {
        <Delivery/>
        <p class="field-error" role="alert">{move || error.get()}</p>
        <div class="step-actions">
            <button type="button" class="secondary" on:click=move |_| go(draft, Step::Contact)>"Back"</button>
            <button type="button" class="primary" on:click=next>"Continue"</button>
        </div>
    }
}

/// The digits of a card number as typed (spaces allowed), if it looks like one.
pub(crate) fn card_digits(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() >= 12 && digits.len() <= 19 && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(digits)
}

#[component]
fn PaymentStep() -> impl IntoView {
    let draft = use_draft();
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if card_digits(&draft.card.get_untracked()).is_some() {
            error.set(None);
            go(draft, Step::Review);
        } else {
            error.set(Some("Enter a card number of 12 to 19 digits.".into()));
            focus_id("card-number");
        }
    };
    let cards = [
        ("Paid", test_cards::SUCCESS),
        ("Declined", test_cards::DECLINED),
        (
            "Declined: insufficient funds",
            test_cards::INSUFFICIENT_FUNDS,
        ),
        ("The provider does not answer", test_cards::TIMEOUT),
        (
            "Your bank asks you to confirm (3-D Secure)",
            test_cards::CHALLENGE,
        ),
    ];
    view! {
        <form on:submit=submit novalidate>
            <label for="card-number">"Card number"</label>
            <input id="card-number" type="text" inputmode="numeric" autocomplete="cc-number" aria-describedby="card-help"
                aria-invalid=move || error.with(Option::is_some).to_string()
                prop:value=draft.card on:input=move |ev| draft.card.set(event_target_value(&ev))/>
            <p id="card-help" class="fine-print">"Kept on this page only, never stored."</p>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <details class="test-cards" open>
                <summary>"Test cards for this demo"</summary>
                <dl>{cards.map(|(what, number)| view! { <div><dt>{what}</dt><dd><code>{number}</code></dd></div> }).collect_view()}</dl>
            </details>
            <div class="step-actions">
                <button type="button" class="secondary" on:click=move |_| go(draft, Step::Delivery)>"Back"</button>
                <button type="submit" class="primary">"Continue"</button>
            </div>
        </form>
    }
}

#[component]
fn ReviewStep() -> impl IntoView {
    let store = use_store();
    let draft = use_draft();
    // Reloaded on this step: the card is not kept, so it is asked for again.
    if draft.card.with_untracked(|c| card_digits(c).is_none()) {
        go(draft, Step::Payment);
    }
    let form = move || draft.form.get();
    let ship_to = move || {
        let f = form();
        if is_pickup(store) {
            delivery_title(store)
        } else {
            format!(
                "{}, {}, {} {}, {}",
                f.name, f.street, f.postcode, f.city, f.country
            )
        }
    };
    let lines = move || {
        store.quote.with(|q| {
            q.as_ref()
                .map(|q| q.lines.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|l| view! { <li><span>{format!("{} × {}", l.quantity.get(), l.name)}</span><span>{format::money(l.net)}</span></li> })
                .collect_view()
        })
    };
    let card = move || {
        let digits = card_digits(&draft.card.get()).unwrap_or_default();
        format!("Card ending {}", &digits[digits.len().saturating_sub(4)..])
    };
    view! {
        <dl class="review">
            <div><dt>"Contact"</dt><dd>{move || { let f = form(); format!("{} · {}", f.name, f.email) }}</dd></div>
            <div><dt>{move || if is_pickup(store) { "Collect" } else { "Deliver to" }}</dt><dd>{ship_to}</dd></div>
            <div><dt>"Delivery"</dt><dd>{move || delivery_title(store)}</dd></div>
            <div><dt>"Payment"</dt><dd>{card}</dd></div>
        </dl>
        <ul class="review-lines" data-testid="review-lines">{lines}</ul>
        <Totals/>
        <PlaceOrder/>
        <div class="step-actions">
            <button type="button" class="secondary" on:click=move |_| go(draft, Step::Payment)>"Back"</button>
        </div>
    }
}
