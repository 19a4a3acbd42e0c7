//! Installation visits on the confirmation and order pages (issue 17): for each service line
//! of the order (an installation attached to a TV), the visit booked, with a way to move or
//! cancel it, or a choice of day and time to book one. The days and times are the server's
//! free slots (`GET /api/orders/{number}/appointment-slots`); a slot another shopper took in
//! the meantime is refused (`slot_taken`) and the slots are loaded again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use omnicart_api::{AppointmentView, SlotView, code};

use crate::api::{self, ApiError, Requests};

fn message(e: &ApiError) -> String {
    match e.code.as_str() {
        code::SLOT_TAKEN => "That time was just taken: choose another.".into(),
        code::INVALID_SLOT => "That time cannot be booked: choose another.".into(),
        _ if e.is_offline() => "You are offline: try again when you are back online.".into(),
        _ => e.message.clone(),
    }
}

/// What the section shows: the order's service lines (index, name), its visits, free slots.
#[derive(Clone, Default)]
struct Loaded {
    services: Vec<(usize, String)>,
    visits: Vec<AppointmentView>,
    slots: Vec<SlotView>,
}

async fn load(number: &str, token: Option<&str>, requests: Requests) -> Result<Loaded, ApiError> {
    let order = api::order(number, token, requests).await?;
    let services: Vec<(usize, String)> = order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.attached_to.is_some())
        .map(|(i, l)| (i, l.name.clone()))
        .collect();
    if services.is_empty() || order.shipping_address.is_none() || order.state == "cancelled" {
        return Ok(Loaded::default());
    }
    let visits = api::appointments(number, token, requests)
        .await?
        .appointments;
    let slots = api::appointment_slots(number, token, requests).await?.slots;
    Ok(Loaded {
        services,
        visits,
        slots,
    })
}

#[component]
pub fn InstallationVisits(number: String, token: Option<String>) -> impl IntoView {
    let requests = Requests::of_owner();
    let loaded = RwSignal::new(None::<Loaded>);
    let error = RwSignal::new(None::<String>);
    let reload = {
        let (number, token) = (number.clone(), token.clone());
        move || {
            let (number, token) = (number.clone(), token.clone());
            spawn_local(async move {
                match load(&number, token.as_deref(), requests).await {
                    Ok(l) => loaded.set(Some(l)),
                    Err(e) if e.is_aborted() => {}
                    Err(e) => error.set(Some(message(&e))),
                }
            });
        }
    };
    reload();
    let rows = move || {
        let l = loaded.get()?;
        if l.services.is_empty() {
            return None;
        }
        let items = l
            .services
            .iter()
            .map(|(line, name)| {
                let visit = l
                    .visits
                    .iter()
                    .rev()
                    .find(|v| v.line == *line && v.state != "cancelled")
                    .cloned();
                let props = Visit {
                    number: number.clone(),
                    token: token.clone(),
                    line: *line,
                    name: name.clone(),
                    visit,
                    slots: l.slots.clone(),
                };
                view! { <li>{visit_view(props, reload.clone(), error)}</li> }
            })
            .collect_view();
        Some(view! {
            <section class="visits" aria-labelledby="visits-title">
                <h2 id="visits-title">"Installation"</h2>
                <p class="field-error" role="alert">{move || error.get()}</p>
                <ul>{items}</ul>
            </section>
        })
    };
    view! { {rows} }
}

struct Visit {
    number: String,
    token: Option<String>,
    line: usize,
    name: String,
    visit: Option<AppointmentView>,
    slots: Vec<SlotView>,
}

fn visit_view(
    v: Visit,
    reload: impl Fn() + Clone + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let requests = Requests::of_owner();
    let booked = v.visit.clone();
    let summary = booked.as_ref().map(|a| {
        let when = format!("{} {}", a.day, a.slot);
        let state = match a.state.as_str() {
            "booked" => format!("Booked for {when} with {}", a.installer),
            "completed" => format!("Done on {when}"),
            other => format!("{} ({when})", crate::store::capitalize(other)),
        };
        view! { <p data-testid="visit">{state}</p> }
    });
    let id = booked.as_ref().map(|a| a.id.clone());
    let chooser = chooser_view(
        v.number.clone(),
        v.token.clone(),
        v.line,
        id.clone(),
        v.slots,
        reload.clone(),
        error,
    );
    let body = match &booked {
        None => chooser.into_any(),
        Some(a) if a.state == "booked" => {
            let (number, token) = (v.number, v.token);
            let cancel = move |_| {
                let (number, token, id, reload) =
                    (number.clone(), token.clone(), id.clone(), reload.clone());
                let Some(id) = id else { return };
                spawn_local(async move {
                    match api::cancel_visit(&number, token.as_deref(), &id, requests).await {
                        Ok(_) => reload(),
                        Err(e) if e.is_aborted() => {}
                        Err(e) => error.set(Some(message(&e))),
                    }
                });
            };
            view! {
                <details>
                    <summary>"Move visit"</summary>
                    {chooser}
                </details>
                <button type="button" class="secondary" on:click=cancel>"Cancel visit"</button>
            }
            .into_any()
        }
        Some(_) => ().into_any(),
    };
    view! {
        <h3>{v.name}</h3>
        {summary}
        {body}
    }
}

fn chooser_view(
    number: String,
    token: Option<String>,
    line: usize,
    id: Option<String>,
    slots: Vec<SlotView>,
    reload: impl Fn() + Clone + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let requests = Requests::of_owner();
    let mut days: Vec<String> = slots.iter().map(|s| s.day.clone()).collect();
    days.dedup();
    let day = RwSignal::new(days.first().cloned().unwrap_or_default());
    let slots = StoredValue::new(slots);
    let times = move || {
        slots.with_value(|all| {
            all.iter()
                .filter(|s| s.day == day.get())
                .map(|s| s.slot.clone())
                .collect::<Vec<_>>()
        })
    };
    let time = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let chosen = time.get_untracked();
        let slot = if chosen.is_empty() {
            times().first().cloned().unwrap_or_default()
        } else {
            chosen
        };
        let (number, token, id, reload) =
            (number.clone(), token.clone(), id.clone(), reload.clone());
        let choice = (line, day.get_untracked(), slot);
        busy.set(true);
        spawn_local(async move {
            match api::book_visit(&number, token.as_deref(), id.as_deref(), choice, requests).await
            {
                Ok(_) => {
                    error.set(None);
                    reload();
                }
                Err(e) if e.is_aborted() => return,
                Err(e) => {
                    error.set(Some(message(&e)));
                    reload();
                }
            }
            busy.set(false);
        });
    };
    let day_id = format!("visit-day-{line}");
    let time_id = format!("visit-time-{line}");
    view! {
        <form class="visit-choice" on:submit=submit>
            <label for=day_id.clone()>"Day"</label>
            <select id=day_id on:change=move |ev| { day.set(event_target_value(&ev)); time.set(String::new()); }>
                {days.into_iter().map(|d| view! { <option value=d.clone()>{d.clone()}</option> }).collect_view()}
            </select>
            <label for=time_id.clone()>"Time"</label>
            <select id=time_id on:change=move |ev| time.set(event_target_value(&ev))>
                {move || times().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
            </select>
            <button type="submit" class="primary" disabled=busy>
                {move || if busy.get() { "Booking…" } else { "Book this time" }}
            </button>
        </form>
    }
}
