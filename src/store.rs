//! The storefront's shared state: catalogue, cart, signed-in customer, and cart sync.
//!
//! Edits are applied and priced locally by the engine first (instant, works offline), queued as
//! pending operations, kept in `localStorage` (a reload or a dropped connection loses nothing),
//! and sent to the server in order by one flusher. The server's answer becomes the new base and
//! any still-pending operations are replayed on it. On 409 (another device wrote first) the same
//! rebase happens with the server's current cart; an operation that no longer applies (e.g. a
//! quantity change on a line removed elsewhere) is dropped.
//! Full offline-first merging by operation log arrives with the sync issue; this keeps its seam.
//!
//! Where the shopper wants delivery (coordinates from the browser or a postcode) is kept here
//! too, in `localStorage`; the quote then includes delivery options and the chosen charge,
//! computed by the engine in the page like every price.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use omnicart_engine::fulfilment::DeliveryQuote;
use omnicart_engine::{
    Cart, CartOp, Destination, FulfilmentError, Quantity, Quote, QuoteContext, Snapshot, Timestamp, quote,
    quote_with_delivery,
};
use serde::{Deserialize, Serialize};

use crate::api::{self, ApiError, CartView, Customer};

const DEVICE_KEY: &str = "omnicart.device.v1";
const DESTINATION_KEY: &str = "omnicart.destination.v1";
const MAX_RETRY_MS: u32 = 30_000;
/// The server's limit on operations per request.
const MAX_OPS_PER_PUSH: usize = 100;

/// What the shopper sees about saving: quiet when all is well.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncState {
    Loading,
    Saved,
    Saving,
    Offline { pending: usize },
}

#[derive(Clone, Copy)]
pub struct Store {
    pub snapshot: StoredValue<Arc<Snapshot>>,
    pub cart: RwSignal<Cart>,
    pub quote: Memo<Result<Quote, String>>,
    /// Delivery options and pickup for the cart at [`Store::destination`]; `None` until the
    /// shopper says where. When the cart's delivery choice is offered, `quote` includes it.
    pub delivery: Memo<Option<Result<DeliveryQuote, String>>>,
    /// Where the shopper wants delivery; change it with [`Store::set_destination`].
    pub destination: RwSignal<Option<Destination>>,
    /// What the shopper typed in a postcode field, kept while they move between pages.
    pub postcode_draft: RwSignal<String>,
    pub customer: RwSignal<Option<Customer>>,
    /// (segments, first order) of the shopper, for promotion conditions.
    profile: RwSignal<(Vec<String>, bool)>,
    pub sync: RwSignal<SyncState>,
    /// A short message for the shopper (an edit refused, the cart changed elsewhere…).
    pub notice: RwSignal<Option<String>>,
    device: StoredValue<Device>,
}

/// This device's cart state, persisted in localStorage.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Device {
    cart_id: Option<String>,
    version: i64,
    /// The cart as the server last confirmed it.
    base: Cart,
    /// Edits made here and not yet confirmed, oldest first.
    pending: Vec<CartOp>,
    #[serde(skip)]
    flushing: bool,
    #[serde(skip)]
    retry_ms: u32,
}

impl Store {
    pub fn new(snapshot: Snapshot) -> Store {
        let snapshot = StoredValue::new(Arc::new(snapshot));
        let mut device = load_device();
        let cart = RwSignal::new(replay(&snapshot.get_value(), &device.base, &mut device.pending));
        // Segments and first-order status, as the server knows them (see `api::Me`).
        let profile = RwSignal::new((Vec::new(), true));
        let destination = RwSignal::new(load_destination());
        let priced = Memo::new(move |_| {
            let context = context_of(profile);
            let destination = destination.get();
            cart.with(|cart| price(&snapshot.get_value(), cart, &context, destination.as_ref()))
        });
        let quote = Memo::new(move |_| priced.with(|p| p.0.clone()));
        let delivery = Memo::new(move |_| priced.with(|p| p.1.clone()));
        let postcode_draft = destination.with_untracked(|d| d.as_ref().and_then(|d| d.postcode.clone()).unwrap_or_default());
        Store {
            snapshot,
            cart,
            quote,
            delivery,
            destination,
            postcode_draft: RwSignal::new(postcode_draft),
            profile,
            customer: RwSignal::new(None),
            sync: RwSignal::new(SyncState::Loading),
            notice: RwSignal::new(None),
            device: StoredValue::new(device),
        }
    }

    /// Finds out who is signed in, loads the right cart, and sends anything pending.
    pub fn start(self) {
        spawn_local(async move {
            if let Ok(me) = api::me().await {
                self.profile.set((me.segments, me.first_order));
                self.customer.set(Some(me.customer));
                if self.device.with_value(|d| d.cart_id.as_deref() != Some(&me.cart_id)) {
                    self.adopt_cart(me.cart_id).await;
                    return;
                }
            }
            self.refresh().await;
        });
        let online = window_event_listener(leptos::ev::online, move |_| self.flush());
        let focus = window_event_listener(leptos::ev::focus, move |_| {
            if self.device.with_value(|d| d.pending.is_empty() && !d.flushing) {
                spawn_local(self.refresh());
            }
        });
        on_cleanup(move || {
            online.remove();
            focus.remove();
        });
    }

    /// Applies an edit locally (priced at once) and queues it for the server; a refused edit
    /// is shown in the notice bar.
    pub fn edit(self, op: CartOp) {
        if let Err(message) = self.try_edit(op) {
            self.notice.set(Some(message));
        }
    }

    /// Like [`Store::edit`], but a refused edit is returned for the caller to show in place.
    pub fn try_edit(self, op: CartOp) -> Result<(), String> {
        let mut next = self.cart.get_untracked();
        next.apply(&self.snapshot.get_value(), &op).map_err(|e| capitalize(&e.to_string()))?;
        self.notice.set(None);
        self.cart.set(next);
        self.device.update_value(|d| d.pending.push(op));
        self.persist();
        self.flush();
        Ok(())
    }

    /// The facts promotions may use (clock, segments, first order), as the cart's quote uses
    /// them. Reading it subscribes to the shopper's profile.
    pub fn context(self) -> QuoteContext {
        context_of(self.profile)
    }

    /// Sets where the shopper wants delivery once the engine knows the place (an unknown
    /// postcode is refused with the engine's message), and keeps it on this device.
    pub fn set_destination(self, destination: Destination) -> Result<(), String> {
        self.snapshot.get_value().network().locate(&destination).map_err(|e| capitalize(&e.to_string()))?;
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(DESTINATION_KEY, &api::to_json(&destination));
        }
        self.destination.set(Some(destination));
        Ok(())
    }

    pub fn quantity_in_cart(self, sku: &omnicart_engine::Sku) -> Option<Quantity> {
        self.cart.with(|c| c.quantity_of(sku))
    }

    pub async fn sign_in(self, email: String, password: String) -> Result<(), ApiError> {
        let me = api::sign_in(&email, &password).await?;
        self.profile.set((me.segments, me.first_order));
        self.customer.set(Some(me.customer));
        self.adopt_cart(me.cart_id).await;
        Ok(())
    }

    pub async fn sign_out(self) -> Result<(), ApiError> {
        api::sign_out().await?;
        self.customer.set(None);
        self.profile.set((Vec::new(), true));
        self.device.set_value(Device::default());
        self.cart.set(Cart::new());
        self.persist();
        self.sync.set(SyncState::Saved);
        Ok(())
    }

    /// Switches this device to the customer's cart. Items the shopper put in the cart before
    /// signing in that the customer's cart lacks are added to it, so nothing is lost.
    async fn adopt_cart(self, cart_id: String) {
        let guest = self.cart.get_untracked();
        match api::cart(&cart_id).await {
            Ok(view) => {
                let carry: Vec<CartOp> = guest
                    .lines()
                    .iter()
                    .filter(|l| view.cart.quantity_of(&l.sku).is_none())
                    .map(|l| CartOp::Add { sku: l.sku.clone(), quantity: l.quantity })
                    .collect();
                self.device.update_value(|d| {
                    *d = Device { cart_id: Some(cart_id), pending: carry, ..Device::default() };
                });
                self.rebase(view);
                self.flush();
            }
            Err(e) => self.report(e),
        }
    }

    /// Reloads the server's cart and replays pending edits on it.
    async fn refresh(self) {
        let Some(id) = self.device.with_value(|d| d.cart_id.clone()) else {
            self.sync.set(SyncState::Saved);
            self.flush();
            return;
        };
        match api::cart(&id).await {
            Ok(view) => {
                self.rebase(view);
                self.flush();
            }
            Err(e) => self.report(e),
        }
    }

    /// Sends pending edits in order, in batches, until none are left or sending fails.
    /// One flusher at a time, so edits reach the server in the order they were made.
    pub fn flush(self) {
        let (busy, idle) = self.device.with_value(|d| (d.flushing, d.pending.is_empty()));
        if busy {
            return;
        }
        if idle {
            self.sync.set(SyncState::Saved);
            return;
        }
        self.device.update_value(|d| d.flushing = true);
        self.sync.set(SyncState::Saving);
        spawn_local(async move {
            let result = self.drain().await;
            self.device.update_value(|d| d.flushing = false);
            match result {
                Ok(()) => {
                    self.device.update_value(|d| d.retry_ms = 0);
                    self.sync.set(SyncState::Saved);
                }
                Err(e) => self.report(e),
            }
        });
    }

    async fn drain(self) -> Result<(), ApiError> {
        loop {
            let ops = self.device.with_value(|d| d.pending.iter().take(MAX_OPS_PER_PUSH).cloned().collect::<Vec<_>>());
            if ops.is_empty() {
                return Ok(());
            }
            let id = match self.device.with_value(|d| d.cart_id.clone()) {
                Some(id) => id,
                None => {
                    // First edit on this device: it gets an anonymous cart.
                    let view = api::create_cart().await?;
                    let id = view.id.clone();
                    self.rebase(view);
                    id
                }
            };
            let version = self.device.with_value(|d| d.version);
            match api::edit_cart(&id, version, &ops).await {
                Ok(view) => {
                    self.device.update_value(|d| drop(d.pending.drain(..ops.len())));
                    self.rebase(view);
                }
                Err(e) if e.code == "stale_version" => self.rebase_on_conflict(e),
                Err(e) => return Err(e),
            }
        }
    }

    fn rebase(self, view: CartView) {
        let snapshot = self.snapshot.get_value();
        let cart = self.device.try_update_value(|d| {
            d.cart_id = Some(view.id);
            d.version = view.version;
            d.base = view.cart;
            replay(&snapshot, &d.base, &mut d.pending)
        });
        if let Some(cart) = cart {
            self.cart.set(cart);
        }
        self.persist();
    }

    fn rebase_on_conflict(self, e: ApiError) {
        match e.current {
            Some(view) => {
                self.rebase(view);
                self.notice.set(Some("Your cart was also changed on another device; both changes are kept.".into()));
            }
            None => self.device.update_value(|d| d.pending.clear()),
        }
    }

    /// Network trouble: keep everything and retry with backoff. Anything else: tell the shopper
    /// and drop the edits the server refused, so the cart shows what is really saved.
    fn report(self, e: ApiError) {
        if e.is_offline() {
            let pending = self.device.with_value(|d| d.pending.len());
            self.sync.set(SyncState::Offline { pending });
            let delay = self.device.try_update_value(|d| {
                d.retry_ms = (d.retry_ms * 2).clamp(1_000, MAX_RETRY_MS);
                d.retry_ms
            });
            set_timeout(move || self.flush(), Duration::from_millis(delay.unwrap_or(1_000).into()));
            return;
        }
        if e.status == 404 {
            // The cart is not ours any more (signed out elsewhere): start a fresh device cart.
            self.customer.set(None);
            self.device.update_value(|d| {
                d.cart_id = None;
                d.base = Cart::new();
            });
        } else {
            self.device.update_value(|d| d.pending.clear());
        }
        let snapshot = self.snapshot.get_value();
        if let Some(cart) = self.device.try_update_value(|d| replay(&snapshot, &d.base, &mut d.pending)) {
            self.cart.set(cart);
        }
        self.persist();
        self.notice.set(Some(e.message));
        self.flush();
    }

    fn persist(self) {
        let json = self.device.with_value(|d| Some(api::to_json(d)));
        if let (Some(json), Some(storage)) = (json, local_storage()) {
            let _ = storage.set_item(DEVICE_KEY, &json);
        }
    }
}

/// The cart's quote and, when a destination is known, its delivery options; a quote that
/// includes the chosen delivery charge when that choice is offered. A destination the engine
/// cannot place leaves the goods quote intact and reports why.
fn price(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
    destination: Option<&Destination>,
) -> (Result<Quote, String>, Option<Result<DeliveryQuote, String>>) {
    let plain = || quote(snapshot, cart, context).map_err(|e| e.to_string());
    let Some(destination) = destination else { return (plain(), None) };
    match quote_with_delivery(snapshot, cart, context, destination, now()) {
        Ok((quote, delivery)) => (Ok(quote), Some(Ok(delivery))),
        Err(FulfilmentError::Quote(e)) => (Err(e.to_string()), None),
        Err(e) => (plain(), Some(Err(capitalize(&e.to_string())))),
    }
}

fn context_of(profile: RwSignal<(Vec<String>, bool)>) -> QuoteContext {
    let (segments, first_order) = profile.get();
    QuoteContext { now: Some(now()), segments, first_order, ..QuoteContext::default() }
}

pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The base cart with the pending edits applied in order; edits that no longer apply are dropped.
fn replay(snapshot: &Snapshot, base: &Cart, pending: &mut Vec<CartOp>) -> Cart {
    let mut cart = base.clone();
    pending.retain(|op| cart.apply(snapshot, op).is_ok());
    cart
}

/// The browser's clock, for promotion schedules and delivery dates (the engine never reads one
/// itself).
pub(crate) fn now() -> Timestamp {
    Timestamp::from_unix((js_sys::Date::now() / 1000.0) as i64)
}

fn load_device() -> Device {
    local_storage()
        .and_then(|s| s.get_item(DEVICE_KEY).ok().flatten())
        .and_then(|json| api::from_json(&json).ok())
        .unwrap_or_default()
}

fn load_destination() -> Option<Destination> {
    local_storage()
        .and_then(|s| s.get_item(DESTINATION_KEY).ok().flatten())
        .and_then(|json| api::from_json(&json).ok())
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn use_store() -> Store {
    expect_context::<Store>()
}
