//! "Where should we deliver?": the shopper's location, asked for only when they press "Use my
//! location", or a postcode, which is always there and takes over when location is off. The
//! engine places either in the page (no server call); an unknown postcode is explained in
//! place and what was typed stays in the field, across pages too (`Store::postcode_draft`).

use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use omnicart_engine::Destination;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::store::{SyncState, use_store};

/// How long the browser may take to find the position, and how old a position may be.
const POSITION_TIMEOUT_MS: u32 = 15_000;
const POSITION_MAX_AGE_MS: u32 = 300_000;

/// Where asking the browser for the position stands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Locating {
    Idle,
    Busy,
    /// The shopper or the browser said no.
    Off,
    /// No position (no Geolocation API, no fix, timeout).
    Failed,
}

#[component]
pub fn DestinationForm() -> impl IntoView {
    let store = use_store();
    let locating = RwSignal::new(Locating::Idle);
    let error = RwSignal::new(None::<String>);
    let postcode = NodeRef::<html::Input>::new();
    let use_location = move |_| {
        if locating.get_untracked() == Locating::Busy {
            return;
        }
        locating.set(Locating::Busy);
        error.set(None);
        spawn_local(async move {
            let found = current_position().await.map(|(lat, lon)| Destination {
                lat: Some(lat),
                lon: Some(lon),
                postcode: None,
            });
            match found.map(|d| store.set_destination(d)) {
                Ok(Ok(())) => locating.set(Locating::Idle),
                Ok(Err(message)) => {
                    locating.set(Locating::Failed);
                    error.set(Some(message));
                }
                Err(denied) => {
                    locating.set(if denied {
                        Locating::Off
                    } else {
                        Locating::Failed
                    });
                    // The postcode is the way on: take the shopper there.
                    if let Some(input) = postcode.get_untracked() {
                        let _ = input.focus();
                    }
                }
            }
        });
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = store.postcode_draft.get_untracked();
        let result = match typed.trim() {
            "" => Err("Enter your postcode.".to_owned()),
            code => store.set_destination(Destination::postcode(code)),
        };
        match result {
            Ok(()) => {
                error.set(None);
                locating.set(Locating::Idle);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let status = move || match locating.get() {
        Locating::Idle => None,
        Locating::Busy => Some("Finding your location…"),
        Locating::Off => Some("Location is off — enter your postcode."),
        Locating::Failed => Some("We couldn't find your location — enter your postcode."),
    };
    let current = move || {
        store.destination.with(|d| {
            d.as_ref().map(|d| match &d.postcode {
                Some(code) => format!("Delivering to {}", code.trim()),
                None => "Delivering to your location".to_owned(),
            })
        })
    };
    let offline = move || matches!(store.sync.get(), SyncState::Offline { .. });
    view! {
        <div class="destination" role="group" aria-labelledby="destination-title" data-testid="destination">
            <h3 id="destination-title">"Where should we deliver?"</h3>
            <p class="destination-current" data-testid="destination-current">{current}</p>
            <button type="button" class="secondary locate" aria-busy=move || (locating.get() == Locating::Busy).to_string()
                on:click=use_location>
                {move || if locating.get() == Locating::Busy { "Finding your location…" } else { "Use my location" }}
            </button>
            <p class="destination-status" class:off=move || matches!(locating.get(), Locating::Off | Locating::Failed)
                role="status" aria-live="polite" data-testid="location-status">{status}</p>
            <form class="postcode-form" on:submit=submit>
                <label for="postcode">"Postcode"</label>
                <div class="inline">
                    <input id="postcode" node_ref=postcode type="text" inputmode="numeric" autocomplete="postal-code"
                        maxlength="16" aria-describedby="postcode-error" aria-invalid=move || error.with(Option::is_some).to_string()
                        prop:value=move || store.postcode_draft.get()
                        on:input=move |ev| store.postcode_draft.set(event_target_value(&ev))/>
                    <button type="submit" class="primary">"Check delivery"</button>
                </div>
                <p id="postcode-error" class="field-error" role="alert">{move || error.get()}</p>
            </form>
            {move || offline().then(|| view! {
                <p class="fine-print">"You're offline: delivery is still worked out on this device."</p>
            })}
        </div>
    }
}

/// Asks the browser for its position once. `Err(true)` when permission was refused,
/// `Err(false)` when there is no position to be had.
async fn current_position() -> Result<(f64, f64), bool> {
    let geolocation = web_sys::window()
        .and_then(|w| w.navigator().geolocation().ok())
        .ok_or(false)?;
    let options = web_sys::PositionOptions::new();
    options.set_timeout(POSITION_TIMEOUT_MS);
    options.set_maximum_age(POSITION_MAX_AGE_MS);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        if geolocation
            .get_current_position_with_error_callback_and_options(&resolve, Some(&reject), &options)
            .is_err()
        {
            let _ = reject.call0(&JsValue::NULL);
        }
    });
    match JsFuture::from(promise).await {
        Ok(position) => {
            let coords = position.unchecked_into::<web_sys::Position>().coords();
            Ok((coords.latitude(), coords.longitude()))
        }
        // A GeolocationPositionError's code 1 is PERMISSION_DENIED. Read by name: the class
        // is called PositionError in older browsers, so `instanceof` cannot be relied on.
        Err(e) => Err(js_sys::Reflect::get(&e, &JsValue::from_str("code"))
            .ok()
            .and_then(|c| c.as_f64())
            == Some(1.0)),
    }
}
