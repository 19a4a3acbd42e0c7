//! The site header: brand, navigation, cart count, account and the quiet sync state.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::store::{SyncState, use_store};

#[component]
pub fn Header() -> impl IntoView {
    let store = use_store();
    let count = move || {
        store
            .cart
            .with(|c| c.lines().iter().map(|l| l.quantity.get()).sum::<u32>())
    };
    let account = move || match store.customer.get() {
        Some(c) => view! {
            <A href="/orders" attr:class="nav-link">"My orders"</A>
            <A href="/account" attr:class="nav-link">{c.name}</A>
        }
        .into_any(),
        None => view! { <A href="/sign-in" attr:class="nav-link">"Sign in"</A> }.into_any(),
    };
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"omnicart"<span class="brand-sub">" electronics"</span></A>
            <nav aria-label="Main">
                <A href="/" attr:class="nav-link">"Shop"</A>
                {account}
                <A href="/cart" attr:class="nav-link cart-link">
                    "Cart "<span class="badge" data-testid="cart-count" aria-label=move || format!("{} items", count())>{count}</span>
                </A>
            </nav>
            <SyncBadge/>
        </header>
        <Notice/>
    }
}

/// The sync state, in a polite live region: announced when it changes, never stealing focus.
/// Background pulls do not change it, so it stays quiet while nothing is pending.
#[component]
fn SyncBadge() -> impl IntoView {
    let store = use_store();
    let text = move || match store.sync.get() {
        SyncState::Saved => "Saved".to_owned(),
        SyncState::Syncing => "Syncing…".to_owned(),
        SyncState::Offline { pending: 0 } => "Offline".to_owned(),
        SyncState::Offline { pending: 1 } => "Offline: 1 change pending".to_owned(),
        SyncState::Offline { pending } => format!("Offline: {pending} changes pending"),
        SyncState::Retrying => "Couldn't save, retrying".to_owned(),
    };
    let class = move || match store.sync.get() {
        SyncState::Offline { .. } | SyncState::Retrying => "sync sync-offline",
        _ => "sync",
    };
    view! { <p class=class role="status" aria-live="polite" data-testid="sync-state">{text}</p> }
}

#[component]
fn Notice() -> impl IntoView {
    let store = use_store();
    move || {
        store.notice.get().map(|message| {
            view! {
                <div class="notice" role="alert">
                    <span>{message}</span>
                    <button type="button" class="link-button" on:click=move |_| store.notice.set(None)>"Dismiss"</button>
                </div>
            }
        })
    }
}
