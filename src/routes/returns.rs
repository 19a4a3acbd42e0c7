//! The order page's returns: the request form (which line, how many, why) for units that
//! reached the shopper, and each return's progress (requested → received → refunded, or
//! refund failed while the shop retries). What the shopper types lives in a [`ReturnDraft`]
//! the order page keeps, so reloading the order (after a request, a retry) never loses it;
//! a refusal is announced and the form keeps everything.

use leptos::prelude::*;
use leptos::task::spawn_local;
use omnicart_api::{OrderView, ReturnLineRequest, ReturnRequest, ReturnView, code};

use crate::api::{self, ApiError, Requests};
use crate::format;

/// Longest reason the server takes (`omnicart_order::returns::MAX_REASON_CHARS`).
const MAX_REASON: usize = 500;

/// The return form's fields, owned by the order page.
#[derive(Clone, Copy)]
pub struct ReturnDraft {
    pub line: RwSignal<String>,
    pub quantity: RwSignal<String>,
    pub reason: RwSignal<String>,
}

impl Default for ReturnDraft {
    fn default() -> ReturnDraft {
        ReturnDraft::new()
    }
}

impl ReturnDraft {
    pub fn new() -> ReturnDraft {
        ReturnDraft {
            line: RwSignal::new(String::new()),
            quantity: RwSignal::new("1".into()),
            reason: RwSignal::new(String::new()),
        }
    }
}

/// Units of each order line the shopper may still return: delivered or collected, less what
/// earlier returns claim (the server checks the same).
pub fn returnable(view: &OrderView) -> Vec<u32> {
    let mut arrived: Vec<(&omnicart_engine::Sku, u32)> = Vec::new();
    for s in &view.shipments {
        let done = s
            .progress
            .as_ref()
            .is_some_and(|p| matches!(p.state.as_str(), "delivered" | "collected"));
        if done {
            for l in &s.lines {
                arrived.push((&l.sku, l.quantity));
            }
        }
    }
    let mut out = Vec::with_capacity(view.lines.len());
    for (i, line) in view.lines.iter().enumerate() {
        let mut mine = 0;
        if line.attached_to.is_none() {
            for (_, left) in arrived.iter_mut().filter(|(s, _)| **s == line.sku) {
                let take = (*left).min(line.quantity.get() - mine);
                *left -= take;
                mine += take;
            }
        }
        let claimed: u32 = view
            .returns
            .iter()
            .flat_map(|r| &r.lines)
            .filter(|l| l.line as usize == i)
            .map(|l| l.quantity)
            .sum();
        out.push(mine.saturating_sub(claimed));
    }
    out
}

fn state_text(state: &str) -> &'static str {
    match state {
        "requested" => "Requested: send the items back",
        "received" => "Received: refunding",
        "refund_failed" => "Refund failed: we are trying again",
        "refunded" => "Refunded",
        _ => "In progress",
    }
}

/// One return: what, how much, and its steps.
fn return_item(view: &OrderView, r: &ReturnView) -> impl IntoView + use<> {
    let items: Vec<String> = r
        .lines
        .iter()
        .filter(|l| !l.service)
        .map(|l| {
            let name = view
                .lines
                .get(l.line as usize)
                .map_or("Item", |o| o.name.as_str());
            format!("{} × {name}", l.quantity)
        })
        .collect();
    // The steps as one line of text ("✓ Requested → ✓ Received → Refunded"): a list of
    // elements would cost the page's Wasm several times as much.
    let reached = |s: &str| r.timeline.iter().any(|e| e.state == s);
    let last = if r.state == "refund_failed" {
        "Refund failed"
    } else {
        "Refunded"
    };
    let steps = [
        ("requested", "Requested"),
        ("received", "Received"),
        ("refunded", last),
    ]
    .iter()
    .map(|(s, label)| {
        let done = reached(s) || (*s == "refunded" && r.state == "refund_failed");
        format!("{}{label}", if done { "✓ " } else { "" })
    })
    .collect::<Vec<_>>()
    .join(" → ");
    view! {
        <li data-testid="return">
            <strong>{items.join(", ")}</strong>" · "{format!("refund {}", format::money(r.total))}
            <p class="status" data-testid="return-state">{state_text(&r.state)}</p>
            <p class="fine-print">{steps}</p>
        </li>
    }
}

/// The returns of an order and, while units may be returned, the form.
#[component]
pub fn Returns(
    view: OrderView,
    order: RwSignal<Option<Result<OrderView, ApiError>>>,
    token: Option<String>,
    draft: ReturnDraft,
) -> impl IntoView {
    let list = view
        .returns
        .iter()
        .map(|r| return_item(&view, r))
        .collect_view();
    let open = returnable(&view);
    let any = open.iter().any(|n| *n > 0);
    let has_returns = !view.returns.is_empty();
    view! {
        {(has_returns || any).then(|| view! { <h2 id="returns-title">"Returns"</h2> })}
        {has_returns.then(|| view! { <ul class="returns" aria-labelledby="returns-title">{list}</ul> })}
        {any.then(|| view! { <ReturnForm view=view.clone() open order token draft/> })}
    }
}

/// The form's fields checked as the server will: a line, 1 to what is returnable, a reason.
fn checked(draft: ReturnDraft, open: &[u32]) -> Result<ReturnLineRequest, &'static str> {
    let line: usize = draft
        .line
        .get_untracked()
        .parse()
        .map_err(|_| "Choose the item to return.")?;
    let most = open.get(line).copied().unwrap_or(0);
    let quantity: u32 = draft.quantity.get_untracked().trim().parse().unwrap_or(0);
    if quantity == 0 || quantity > most {
        return Err("Choose how many to return: at least one, at most what was delivered.");
    }
    let reason = draft.reason.get_untracked();
    if reason.trim().is_empty() || reason.chars().count() > MAX_REASON {
        return Err("Tell us why you are returning it (up to 500 characters).");
    }
    Ok(ReturnLineRequest {
        line: line as u32,
        quantity,
        reason,
    })
}

fn refusal(e: &ApiError) -> String {
    match e.code.as_str() {
        code::NOT_RETURNABLE => {
            "These units cannot be returned: not delivered yet, or already returned.".into()
        }
        code::INVALID_RETURN | code::UNKNOWN_LINE => {
            "Check the item, the quantity and the reason.".into()
        }
        _ if e.is_offline() => {
            "You seem to be offline: nothing was sent. Try again when you are back online.".into()
        }
        _ => crate::store::capitalize(&e.message),
    }
}

#[component]
fn ReturnForm(
    view: OrderView,
    open: Vec<u32>,
    order: RwSignal<Option<Result<OrderView, ApiError>>>,
    token: Option<String>,
    draft: ReturnDraft,
) -> impl IntoView {
    let requests = Requests::of_owner();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let options = view
        .lines
        .iter()
        .enumerate()
        .filter(|(i, _)| open[*i] > 0)
        .map(|(i, l)| view! { <option value=i.to_string()>{format!("{} ({} can be returned)", l.name, open[i])}</option> })
        .collect_view();
    let most = open.iter().copied().max().unwrap_or(1).to_string();
    let number = view.number.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let line = match checked(draft, &open) {
            Ok(line) => line,
            Err(message) => return error.set(Some(message.into())),
        };
        busy.set(true);
        error.set(None);
        let (number, token) = (number.clone(), token.clone());
        spawn_local(async move {
            let body = ReturnRequest { lines: vec![line] };
            match api::request_return(&number, token.as_deref(), &body, requests).await {
                Err(e) if e.is_aborted() => return,
                Err(e) => error.set(Some(refusal(&e))),
                Ok(_) => {
                    draft.reason.set(String::new());
                    draft.quantity.set("1".into());
                    done.set(Some(
                        "Return requested: send the items back, we refund on arrival.".into(),
                    ));
                    if let Ok(fresh) = api::order(&number, token.as_deref(), requests).await {
                        order.set(Some(Ok(fresh)));
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="return-form" novalidate=true on:submit=submit aria-labelledby="return-form-title">
            <h3 id="return-form-title">"Return an item"</h3>
            <label for="return-line">"Item"</label>
            <select id="return-line" required prop:value=move || draft.line.get()
                on:change=move |ev| draft.line.set(event_target_value(&ev))>
                <option value="">"Choose an item"</option>
                {options}
            </select>
            <label for="return-quantity">"Quantity"</label>
            <input id="return-quantity" type="number" inputmode="numeric" min="1" max=most required
                prop:value=move || draft.quantity.get() on:input=move |ev| draft.quantity.set(event_target_value(&ev))/>
            <label for="return-reason">"Reason"</label>
            <textarea id="return-reason" required maxlength=MAX_REASON rows="3"
                prop:value=move || draft.reason.get() on:input=move |ev| draft.reason.set(event_target_value(&ev))></textarea>
            <p class="field-error" role="alert" data-testid="return-error">{move || error.get()}</p>
            <p role="status" data-testid="return-status">{move || done.get()}</p>
            <button type="submit" class="primary" disabled=busy>
                {move || if busy.get() { "Sending…" } else { "Request return" }}
            </button>
        </form>
    }
}
