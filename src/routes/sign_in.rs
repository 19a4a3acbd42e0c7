//! Sign in with email and password. The fields keep what was typed when sign-in fails. The
//! cart made before signing in joins the customer's (see `Store::sign_in`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::Requests;
use crate::store::use_store;

#[component]
pub fn SignInPage() -> impl IntoView {
    let store = use_store();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let requests = Requests::of_owner();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = store
                .sign_in(email.get_untracked(), password.get_untracked(), requests)
                .await;
            match result {
                // The page is gone: nobody to tell.
                Err(e) if e.is_aborted() => {}
                Ok(()) => {
                    busy.set(false);
                    navigate("/cart", Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e.message));
                }
            }
        });
    };
    view! {
        <section class="narrow" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            <p>"Your cart follows you to every device you sign in on."</p>
            <form on:submit=submit>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="username" required
                    prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/>
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <p class="field-error" role="alert">{move || error.get()}</p>
                <button type="submit" class="primary" disabled=busy>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p>"New here? "<A href="/sign-up">"Create an account"</A></p>
            <p class="fine-print">"Demo account: mike@demo.omnicart.dev / omnicart-demo"</p>
        </section>
    }
}
