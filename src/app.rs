//! The app shell: loads the catalogue snapshot, provides the [`Store`], and routes pages.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::api;
use crate::components::Header;
use crate::routes::{
    account::AccountPage,
    cart::CartPage,
    checkout::CheckoutPage,
    feedback::{SurveyPage, UnsubscribePage},
    home::Home,
    orders::{ConfirmationPage, OrderPage, OrdersPage},
    product::ProductPage,
    sign_in::SignInPage,
    sign_up::SignUpPage,
};
use crate::store::Store;

#[component]
pub fn App() -> impl IntoView {
    let snapshot = LocalResource::new(api::snapshot);
    view! {
        <Router>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the shop…"</p> }>
                {move || snapshot.get().map(|result| match result {
                    Ok(snapshot) => view! { <Shop snapshot/> }.into_any(),
                    Err(e) => view! {
                        <div class="notice" role="alert">
                            <p>"The shop could not be loaded: "{e.message}</p>
                            <button type="button" class="primary" on:click=move |_| snapshot.refetch()>"Try again"</button>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </Router>
    }
}

#[component]
fn Shop(snapshot: omnicart_engine::Snapshot) -> impl IntoView {
    let store = Store::new(snapshot);
    provide_context(store);
    provide_context(crate::checkout::Draft::new());
    store.start();
    view! {
        <Header/>
        <main id="main">
            <Routes fallback=|| view! {
                    <section class="not-found" aria-labelledby="not-found-title">
                        <h1 id="not-found-title">"Page not found"</h1>
                        <p>"This page does not exist, or no longer does."</p>
                        <p><A href="/">"Back to the shop"</A>" · "<A href="/cart">"Your cart"</A></p>
                    </section>
                }>
                <Route path=path!("/") view=Home/>
                <Route path=path!("/product/:id") view=ProductPage/>
                <Route path=path!("/cart") view=CartPage/>
                <Route path=path!("/sign-in") view=SignInPage/>
                <Route path=path!("/sign-up") view=SignUpPage/>
                <Route path=path!("/account") view=AccountPage/>
                <Route path=path!("/checkout") view=CheckoutPage/>
                <Route path=path!("/checkout/placed/:number") view=ConfirmationPage/>
                <Route path=path!("/orders") view=OrdersPage/>
                <Route path=path!("/orders/:number") view=OrderPage/>
                <Route path=path!("/survey") view=SurveyPage/>
                <Route path=path!("/unsubscribe") view=UnsubscribePage/>
            </Routes>
        </main>
    }
}
