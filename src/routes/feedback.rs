//! The pages a mailed link opens without signing in (issue 17): the survey of a delivered
//! order (`/survey?token=…`: a rating of the order and of each product, a comment, sent once)
//! and unsubscribing from cart reminders (`/unsubscribe?token=…`: one button).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use omnicart_api::{ProductRating, SurveyAnswer, SurveyView, code};

use crate::api::{self, ApiError, Requests};

fn token() -> String {
    use_query_map().with_untracked(|q| q.get("token").unwrap_or_default())
}

fn problem(e: &ApiError) -> String {
    match e.code.as_str() {
        code::NOT_FOUND => {
            "This link is not known: check it is the whole link from the mail.".into()
        }
        code::ALREADY_ANSWERED => "This survey was answered already: thank you.".into(),
        _ if e.is_offline() => "You are offline: try again when you are back online.".into(),
        _ => e.message.clone(),
    }
}

/// Stars 1 to 5 as radio buttons in a fieldset named `legend`.
fn stars(legend: String, name: String, value: RwSignal<u8>) -> impl IntoView {
    view! {
        <fieldset class="rating">
            <legend>{legend}</legend>
            {(1..=5u8).map(|n| {
                let name = name.clone();
                view! {
                    <label>
                        <input type="radio" name=name value=n.to_string()
                            prop:checked=move || value.get() == n
                            on:change=move |_| value.set(n)/>
                        {format!("{n}")}
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
pub fn SurveyPage() -> impl IntoView {
    let requests = Requests::of_owner();
    let token = token();
    let survey = RwSignal::new(None::<Result<SurveyView, ApiError>>);
    {
        let token = token.clone();
        spawn_local(async move {
            match api::survey(&token, requests).await {
                Err(e) if e.is_aborted() => {}
                result => survey.set(Some(result)),
            }
        });
    }
    let form = move || {
        match survey.get() {
        None => view! { <p class="loading" role="status">"Loading the survey…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="notice" role="alert">{problem(&e)}</p> }.into_any(),
        Some(Ok(s)) if s.answered => view! {
            <p class="notice" role="status" data-testid="survey-done">"Thank you for your answer."</p>
        }
        .into_any(),
        Some(Ok(s)) => survey_form(token.clone(), s, survey).into_any(),
    }
    };
    view! {
        <section class="narrow survey" aria-labelledby="survey-title">
            <h1 id="survey-title">"How did we do?"</h1>
            {form}
        </section>
    }
}

fn survey_form(
    token: String,
    s: SurveyView,
    survey: RwSignal<Option<Result<SurveyView, ApiError>>>,
) -> impl IntoView {
    let requests = Requests::of_owner();
    let rating = RwSignal::new(0u8);
    let comment = RwSignal::new(String::new());
    let products: Vec<(String, String, RwSignal<u8>)> = s
        .products
        .iter()
        .map(|p| (p.sku.clone(), p.name.clone(), RwSignal::new(0u8)))
        .collect();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ratings = products.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if rating.get_untracked() == 0 {
            error.set(Some("Choose a rating of 1 to 5 for the order.".into()));
            return;
        }
        let answer = SurveyAnswer {
            rating: rating.get_untracked(),
            comment: comment.get_untracked(),
            products: ratings
                .iter()
                .filter(|(_, _, r)| r.get_untracked() > 0)
                .map(|(sku, _, r)| ProductRating {
                    sku: sku.clone(),
                    rating: r.get_untracked(),
                    comment: String::new(),
                })
                .collect(),
        };
        let token = token.clone();
        busy.set(true);
        spawn_local(async move {
            match api::answer_survey(&token, &answer, requests).await {
                Ok(view) => survey.set(Some(Ok(view))),
                Err(e) if e.is_aborted() => return,
                Err(e) => error.set(Some(problem(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <form on:submit=submit>
            <p>{format!("Order {}", s.order_number)}</p>
            {stars("The order overall".into(), "order".into(), rating)}
            {products.into_iter().map(|(sku, name, r)| stars(name, format!("product-{sku}"), r)).collect_view()}
            <label for="survey-comment">"Anything to tell us? (optional)"</label>
            <textarea id="survey-comment" maxlength="2000"
                prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <button type="submit" class="primary" disabled=busy>
                {move || if busy.get() { "Sending…" } else { "Send" }}
            </button>
        </form>
    }
}

#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let requests = Requests::of_owner();
    let token = token();
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let unsubscribe = move |_| {
        let token = token.clone();
        busy.set(true);
        spawn_local(async move {
            match api::unsubscribe(&token, requests).await {
                Ok(_) => done.set(true),
                Err(e) if e.is_aborted() => return,
                Err(e) => error.set(Some(problem(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="narrow" aria-labelledby="unsubscribe-title">
            <h1 id="unsubscribe-title">"Cart reminders"</h1>
            {move || if done.get() {
                view! { <p class="notice" role="status" data-testid="unsubscribed">"Done: we will not remind you of your cart again."</p> }.into_any()
            } else {
                view! {
                    <p>"We send a reminder when items wait in your cart. Stop them?"</p>
                    <p class="field-error" role="alert">{move || error.get()}</p>
                    <button type="button" class="primary" disabled=busy on:click=unsubscribe.clone()>"Stop cart reminders"</button>
                }.into_any()
            }}
        </section>
    }
}
