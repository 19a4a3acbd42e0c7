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

use crate::store::{Store, SyncState, use_store};

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

/// The form's state, shared by its parts.
#[derive(Clone, Copy)]
struct Form {
    locating: RwSignal<Locating>,
    /// Why the destination was refused (an unknown postcode, no postcode), shown under it.
    error: RwSignal<Option<String>>,
    postcode: NodeRef<html::Input>,
}

impl Form {
    /// "Use my location": asks the browser, then sets the destination; when there is no
    /// position to be had, focus moves to the postcode, the way on.
    fn use_location(self, store: Store) {
        if self.locating.get_untracked() == Locating::Busy {
            return;
        }
        self.locating.set(Locating::Busy);
        self.error.set(None);
        spawn_local(async move {
            let found = current_position().await.map(|p| Destination {
                lat: Some(p.lat),
                lon: Some(p.lon),
                postcode: None,
            });
            match found.map(|d| store.set_destination(d)) {
                Ok(Ok(())) => self.locating.set(Locating::Idle),
                Ok(Err(message)) => {
                    self.locating.set(Locating::Failed);
                    self.error.set(Some(message));
                }
                Err(no_position) => {
                    self.locating.set(match no_position {
                        NoPosition::Denied => Locating::Off,
                        NoPosition::Unavailable => Locating::Failed,
                    });
                    if let Some(input) = self.postcode.get_untracked() {
                        let _ = input.focus();
                    }
                }
            }
        });
    }

    /// "Check delivery": the postcode typed becomes the destination, or is explained.
    fn submit(self, store: Store, ev: SubmitEvent) {
        ev.prevent_default();
        let typed = store.postcode_draft.get_untracked();
        let result = match typed.trim() {
            "" => Err("Enter your postcode.".to_owned()),
            code => store.set_destination(Destination::postcode(code)),
        };
        match result {
            Ok(()) => {
                self.error.set(None);
                self.locating.set(Locating::Idle);
            }
            Err(message) => self.error.set(Some(message)),
        }
    }
}

#[component]
pub fn DestinationForm() -> impl IntoView {
    let store = use_store();
    let form = Form {
        locating: RwSignal::new(Locating::Idle),
        error: RwSignal::new(None),
        postcode: NodeRef::new(),
    };
    let locating = form.locating;
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
                on:click=move |_| form.use_location(store)>
                {move || if locating.get() == Locating::Busy { "Finding your location…" } else { "Use my location" }}
            </button>
            <p class="destination-status" class:off=move || matches!(locating.get(), Locating::Off | Locating::Failed)
                role="status" aria-live="polite" data-testid="location-status">{status}</p>
            <PostcodeForm form/>
            {move || offline().then(|| view! {
                <p class="fine-print">"You're offline: delivery is still worked out on this device."</p>
            })}
        </div>
    }
}

/// The postcode field, always there; what was typed is kept across pages.
#[component]
fn PostcodeForm(form: Form) -> impl IntoView {
    let store = use_store();
    let error = form.error;
    view! {
        <form class="postcode-form" on:submit=move |ev| form.submit(store, ev)>
            <label for="postcode">"Postcode"</label>
            <div class="inline">
                <input id="postcode" node_ref=form.postcode type="text" inputmode="numeric" autocomplete="postal-code"
                    maxlength="16" aria-describedby="postcode-error" aria-invalid=move || error.with(Option::is_some).to_string()
                    prop:value=move || store.postcode_draft.get()
                    on:input=move |ev| store.postcode_draft.set(event_target_value(&ev))/>
                <button type="submit" class="primary">"Check delivery"</button>
            </div>
            <p id="postcode-error" class="field-error" role="alert">{move || error.get()}</p>
        </form>
    }
}

/// Where the browser says the device is, in degrees.
struct Position {
    lat: f64,
    lon: f64,
}

/// Why the browser gave no position.
enum NoPosition {
    /// The shopper or the browser refused permission.
    Denied,
    /// No Geolocation API, no fix, or a timeout.
    Unavailable,
}

/// Asks the browser for its position once.
async fn current_position() -> Result<Position, NoPosition> {
    let geolocation = web_sys::window()
        .and_then(|w| w.navigator().geolocation().ok())
        .ok_or(NoPosition::Unavailable)?;
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
            Ok(Position {
                lat: coords.latitude(),
                lon: coords.longitude(),
            })
        }
        // A GeolocationPositionError's code 1 is PERMISSION_DENIED. Read by name: the class
        // is called PositionError in older browsers, so `instanceof` cannot be relied on.
        Err(e) => {
            let code = js_sys::Reflect::get(&e, &JsValue::from_str("code"))
                .ok()
                .and_then(|c| c.as_f64());
            Err(if code == Some(1.0) {
                NoPosition::Denied
            } else {
                NoPosition::Unavailable
            })
        }
    }
}
