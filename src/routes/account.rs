//! The signed-in customer's account: who they are, and sign-out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::Requests;
use crate::store::use_store;

#[component]
pub fn AccountPage() -> impl IntoView {
    let store = use_store();
    let requests = Requests::of_owner();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match store.sign_out(requests).await {
                // The page is gone: nobody to tell.
                Err(e) if e.is_aborted() => {}
                Ok(()) => navigate("/", Default::default()),
                Err(e) => store.notice.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="narrow" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            {move || match store.customer.get() {
                Some(c) => view! {
                    <p>{c.name}" · "{c.email}</p>
                    <button type="button" class="secondary" on:click=sign_out.clone()>"Sign out"</button>
                }.into_any(),
                None => view! { <p>"You are not signed in. "<A href="/sign-in">"Sign in"</A></p> }.into_any(),
            }}
        </section>
    }
}
