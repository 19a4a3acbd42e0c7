//! The storefront's shared state: catalogue, cart, signed-in customer, and the cart's sync.
//!
//! # The cart is an operation log
//! Every edit is an engine `replica::Operation`: a unique id (this device's id and a random
//! part), a hybrid-logical-clock stamp (`Clock::tick` of the browser's clock), for an add the
//! quantity the shopper saw, and the `CartOp`. The edit is first checked against the catalogue
//! and the cart as the shopper sees it (`Cart::apply`; a refused edit is explained and changes
//! nothing), then recorded as *pending* in this browser's [`Device`] state and written to
//! `localStorage` (key [`DEVICE_KEY`]) before any network call, so a reload, a closed tab or a
//! lost connection loses nothing. The cart on the page is always `OpLog::cart()` of the
//! server's operations this device has plus its pending ones: the same replay, by the same
//! merge rules (the engine's `replica` docs), that the server runs. Edits made elsewhere merge
//! in without conflicts to resolve: a later quantity wins, an add means "at least", and so on.
//!
//! # Sync
//! One exchange at a time per tab (`POST /api/carts/{id}/sync`): it pushes up to
//! `MAX_OPS_PER_REQUEST` pending operations with the device's cursor and compaction generation,
//! and takes in the answer: the operations after the cursor (its own included: they are then
//! acknowledged), whose stamps the clock observes, the new cursor, and after a compaction on the
//! server a new base. Exchanges run shortly after an edit (debounced), when the browser comes back
//! online, when the page is shown or focused, and every few seconds while it is visible (so
//! another device's edits appear without a reload). Network errors and 5xx answers are retried
//! with exponential backoff and jitter (up to 30 s). What a refusal does is decided by its
//! `error.code` and `op_index` (`omnicart_api::code`): an operation named by `op_index` (the
//! catalogue changed under it) is dropped and the shopper told why; `not_found` (the cart is
//! gone, or no longer ours) moves the pending operations to a new anonymous cart;
//! `cursor_ahead` (a cursor the server never gave, e.g. a reset database) pulls the whole log
//! again; `body_too_large` halves the batch, down to the one operation, which is dropped.
//!
//! # Tabs and accounts
//! Tabs of one browser share the `localStorage` state. Every write merges what is stored first
//! (`Device::merge`, a join: union of operations, the later cart move wins), and a tab that sees
//! another's write (`storage` event) merges it and writes back only if it held something more, so
//! tabs converge without fighting; two tabs pushing one operation is harmless (the server keeps
//! each id once). Sign-in first pushes what is pending, sends the anonymous cart's id for the
//! server to join to the customer's, then moves the device to the customer's cart (cursor 0, its
//! whole log) taking along what is still pending; sign-up does the same; sign-out starts a new,
//! empty anonymous cart with a new log.
//!
//! Where the shopper wants delivery (coordinates from the browser or a postcode) is a cart
//! edit too (`set_address`), so it follows the cart to the shopper's other devices; it is also
//! kept in `localStorage` for this browser's next cart. With one, the quote includes delivery
//! options and the chosen charge, computed by the engine in the page like every price.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use omnicart_api::{Customer, MAX_OPS_PER_REQUEST, Me, Profile, SignIn, SignUp, code};
use omnicart_engine::fulfilment::DeliveryQuote;
use omnicart_engine::replica::Operation;
use omnicart_engine::{
    Cart, CartOp, Destination, FulfilmentError, Quantity, Quote, QuoteContext, Snapshot, Timestamp,
    quote, quote_with_delivery,
};

use crate::api::{self, ApiError, Requests};
use crate::device::Device;
use crate::live::LiveCart;

/// Where this browser's cart state lives.
pub const DEVICE_KEY: &str = "omnicart.cart.v2";
const DESTINATION_KEY: &str = "omnicart.destination.v1";
/// How long after an edit the push waits for more edits.
const DEBOUNCE_MS: u32 = 250;
/// How often a visible page pulls other devices' edits.
const PULL_EVERY_MS: u32 = 5_000;
const MIN_RETRY_MS: u32 = 1_000;
const MAX_RETRY_MS: u32 = 30_000;
/// Exchanges in a row before the loop lets go (the periodic pull carries on).
const MAX_ROUNDS: u32 = 20;

/// What the shopper typed to create an account.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub name: String,
    pub email: String,
    pub password: String,
}

/// What the shopper sees about saving: quiet when all is well.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncState {
    Saved,
    Syncing,
    /// The server cannot be reached; `pending` edits are kept on this device.
    Offline {
        pending: usize,
    },
    /// The server failed (not the network): retrying with backoff.
    Retrying,
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
    /// What promotions may know about the shopper (see `Me::profile`).
    profile: RwSignal<Profile>,
    pub sync: RwSignal<SyncState>,
    /// A short message for the shopper (an edit refused, the cart changed elsewhere…).
    pub notice: RwSignal<Option<String>>,
    device: StoredValue<Device>,
    link: StoredValue<Link>,
    /// The current cart's event stream ([`crate::live`]).
    live: StoredValue<Option<LiveCart>, LocalStorage>,
}

/// An exchange that failed and is to be tried again after a backoff.
struct Failed;

/// This tab's side of the sync (not persisted).
struct Link {
    /// An exchange is in flight.
    busy: bool,
    /// Something happened during it that needs another.
    again: bool,
    /// The current backoff; 0 when the last exchange went through.
    retry_ms: u32,
    timer: Option<TimeoutHandle>,
    /// The browser is offline, or the server could not be reached.
    offline: bool,
    /// The last exchange failed otherwise (5xx, an unexpected answer).
    failing: bool,
    /// Operations per push (halved after a 413).
    batch: usize,
    /// Whether `/api/me` has answered (it is asked again when the browser comes back online).
    me_known: bool,
}

impl Store {
    pub fn new(snapshot: Snapshot) -> Store {
        let snapshot = StoredValue::new(Arc::new(snapshot));
        let device = load_device();
        let cart = RwSignal::new(device.cart());
        // Anonymous until the server says who is signed in.
        let profile = RwSignal::new(Profile::anonymous());
        let destination = RwSignal::new(load_destination());
        let priced = Memo::new(move |_| {
            let context = profile.with(|p| p.quote_context(now()));
            let destination = destination.get();
            cart.with(|cart| price(&snapshot.get_value(), cart, &context, destination.as_ref()))
        });
        let quote = Memo::new(move |_| priced.with(|p| p.quote.clone()));
        let delivery = Memo::new(move |_| priced.with(|p| p.delivery.clone()));
        let postcode_draft = destination.with_untracked(|d| {
            d.as_ref()
                .and_then(|d| d.postcode.clone())
                .unwrap_or_default()
        });
        let link = Link {
            busy: false,
            again: false,
            retry_ms: 0,
            timer: None,
            offline: !browser_online(),
            failing: false,
            batch: MAX_OPS_PER_REQUEST,
            me_known: false,
        };
        let store = Store {
            snapshot,
            cart,
            quote,
            delivery,
            destination,
            postcode_draft: RwSignal::new(postcode_draft),
            profile,
            customer: RwSignal::new(None),
            sync: RwSignal::new(SyncState::Saved),
            notice: RwSignal::new(None),
            device: StoredValue::new(device),
            link: StoredValue::new(link),
            live: StoredValue::new_local(None),
        };
        // An address set on another device (it arrives with the cart) becomes this page's too.
        Effect::new(move |_| {
            if let Some(address) = cart.with(|c| c.address().cloned())
                && destination.with_untracked(|d| d.as_ref() != Some(&address))
            {
                destination.set(Some(address));
            }
        });
        store.save();
        store.show();
        store
    }

    /// Finds out who is signed in (moving to their cart), syncs, and keeps syncing: on the
    /// browser's `online`, `focus` and `visibilitychange` events, periodically while the page
    /// is visible, and whenever another tab changes the stored state.
    pub fn start(self) {
        spawn_local(async move {
            self.refresh_me().await;
            self.sync_now();
            self.watch_live();
        });
        let online = window_event_listener(leptos::ev::online, move |_| {
            self.link.update_value(|l| {
                l.offline = false;
                l.retry_ms = 0;
            });
            if !self.link.with_value(|l| l.me_known) {
                spawn_local(self.refresh_me());
            }
            self.sync_now();
        });
        let offline = window_event_listener(leptos::ev::offline, move |_| {
            self.link.update_value(|l| l.offline = true);
            self.show();
        });
        let focus = window_event_listener(leptos::ev::focus, move |_| self.sync_now());
        let shown = window_event_listener_untyped("visibilitychange", move |_| {
            if !document().hidden() {
                self.sync_now();
            }
        });
        let storage = window_event_listener(leptos::ev::storage, move |ev| {
            if ev.key().is_none_or(|key| key == DEVICE_KEY) {
                self.load();
                self.show();
            }
        });
        let pull = set_interval_with_handle(
            move || self.tick(),
            Duration::from_millis(PULL_EVERY_MS.into()),
        )
        .ok();
        on_cleanup(move || {
            online.remove();
            offline.remove();
            focus.remove();
            shown.remove();
            storage.remove();
            if let Some(pull) = pull {
                pull.clear();
            }
        });
    }

    /// Applies an edit at once (priced locally) and saves it for the server; a refused edit
    /// is shown in the notice bar.
    pub fn edit(self, op: CartOp) {
        if let Err(message) = self.try_edit(op) {
            self.notice.set(Some(message));
        }
    }

    /// Like [`Store::edit`], but a refused edit is returned for the caller to show in place.
    pub fn try_edit(self, op: CartOp) -> Result<(), String> {
        // Other tabs' edits first: this one is checked against, and stamped after, them.
        self.load();
        let cart = self.cart.get_untracked();
        let mut next = cart.clone();
        next.apply(&self.snapshot.get_value(), &op)
            .map_err(|e| capitalize(&e.to_string()))?;
        self.notice.set(None);
        if next == cart {
            return Ok(());
        }
        let id = format!(
            "{}.{}",
            self.device.with_value(|d| d.id.clone()),
            random_hex(10)
        );
        self.device
            .update_value(|d| d.record(id, now_ms(), op, &cart));
        self.save();
        self.show();
        self.schedule(DEBOUNCE_MS);
        Ok(())
    }

    /// The facts promotions may use (clock, segments, first order), as the cart's quote uses
    /// them. Reading it subscribes to the shopper's profile.
    pub fn context(self) -> QuoteContext {
        self.profile.with(|p| p.quote_context(now()))
    }

    /// Sets where the shopper wants delivery once the engine knows the place (an unknown
    /// postcode is refused with the engine's message): on the cart (`set_address`, so the
    /// shopper's other devices quote the same) and on this device.
    pub fn set_destination(self, destination: Destination) -> Result<(), String> {
        self.try_edit(CartOp::SetAddress {
            address: Some(destination.clone()),
        })?;
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(DESTINATION_KEY, &api::to_json(&destination));
        }
        self.destination.set(Some(destination));
        Ok(())
    }

    pub fn quantity_in_cart(self, sku: &omnicart_engine::Sku) -> Option<Quantity> {
        self.cart.with(|c| c.quantity_of(sku))
    }

    /// Signs in: pushes what is pending, has the server join this device's anonymous cart to
    /// the customer's, and moves the device to the customer's cart. The sign-in request is one
    /// of the page's `requests` (aborted with it); the sync around it is the store's.
    pub async fn sign_in(
        self,
        email: String,
        password: String,
        requests: Requests,
    ) -> Result<(), ApiError> {
        self.settle(false).await;
        let body = SignIn {
            email,
            password,
            cart_id: self.device.with_value(|d| d.cart_id.clone()),
        };
        let me = api::sign_in(&body, requests).await?;
        self.welcome(me);
        // The customer's cart is on the page before sign-in returns.
        self.settle(true).await;
        Ok(())
    }

    /// Creates an account and signs in, keeping this device's cart as sign-in does.
    pub async fn sign_up(self, account: Account, requests: Requests) -> Result<(), ApiError> {
        self.settle(false).await;
        let body = SignUp {
            email: account.email,
            password: account.password,
            name: account.name,
            cart_id: self.device.with_value(|d| d.cart_id.clone()),
        };
        let me = api::sign_up(&body, requests).await?;
        self.welcome(me);
        self.settle(true).await;
        Ok(())
    }

    /// Signs out, after pushing what is pending to the customer's cart (refused while any of it
    /// is not saved); the device starts a new, empty anonymous cart.
    pub async fn sign_out(self, requests: Requests) -> Result<(), ApiError> {
        self.settle(false).await;
        // Edits the server has not taken yet would be lost with the session: sign out later.
        let unsaved = self.device.with_value(|d| d.pending.len());
        if unsaved > 0 {
            let message = format!(
                "{unsaved} change{} to your cart {} not saved yet. Sign out once {} saved, so nothing is lost.",
                if unsaved == 1 { "" } else { "s" },
                if unsaved == 1 { "is" } else { "are" },
                if unsaved == 1 { "it is" } else { "they are" },
            );
            return Err(ApiError::local(api::UNSAVED_CHANGES, message));
        }
        api::sign_out(requests).await?;
        self.customer.set(None);
        self.profile.set(Profile::anonymous());
        // Created now, so the next edit is pushed at once (`None` if that fails: made later).
        let cart_id = api::create_cart().await.ok().map(|c| c.id);
        self.device.update_value(|d| d.reset(cart_id));
        self.save();
        self.show();
        Ok(())
    }

    /// The server's id of this device's cart, once it has one.
    pub fn cart_id(self) -> Option<String> {
        self.device.with_value(|d| d.cart_id.clone())
    }

    /// Pushes what is pending (checkout buys the cart the server has). `false` if some edits
    /// are still not saved (offline, or the server failing).
    pub async fn flush(self) -> bool {
        self.settle(false).await;
        self.device.with_value(|d| d.pending.is_empty())
    }

    /// After an order is placed: the server emptied the cart through its log, so pull at once
    /// (the empty cart is on this page before the confirmation; other devices pull it too).
    pub async fn pull(self) {
        self.settle(true).await;
    }

    /// An order of the signed-in customer was placed or cancelled: what promotions know of them
    /// (first order, the codes their orders used) is read again, so the page's quote stays the
    /// server's.
    pub async fn orders_changed(self) {
        if self.customer.with_untracked(Option::is_some) {
            self.refresh_me().await;
        }
    }

    /// Takes in who is signed in and moves the device to their cart if it is on another,
    /// taking the pending operations along.
    fn welcome(self, me: Me) {
        self.profile.set(me.profile());
        self.customer.set(Some(me.customer));
        self.link.update_value(|l| l.me_known = true);
        if self
            .device
            .with_value(|d| d.cart_id.as_deref() != Some(me.cart_id.as_str()))
        {
            self.device.update_value(|d| d.rehome(Some(me.cart_id)));
            self.save();
        }
    }

    async fn refresh_me(self) {
        match api::me().await {
            Ok(me) => self.welcome(me),
            Err(e) if e.code == code::NOT_SIGNED_IN => {
                self.link.update_value(|l| l.me_known = true);
                self.customer.set(None);
                self.profile.set(Profile::anonymous());
            }
            Err(_) => {}
        }
    }

    /// Keeps an event stream open on the current cart (a new one when the cart changed or the
    /// browser gave up on the old); `true` while events arrive.
    fn watch_live(self) -> bool {
        let Some(cart_id) = self.cart_id() else {
            self.live.set_value(None);
            return false;
        };
        if !self
            .live
            .with_value(|l| l.as_ref().is_some_and(|l| l.serves(&cart_id)))
        {
            self.live.set_value(LiveCart::open(&cart_id, move || {
                // An order being placed empties the cart on the server: the checkout's
                // answer (or, after a reload, the attempt's resumption) shows it, not a
                // pull racing that answer.
                if !crate::checkout::attempt_waiting() {
                    self.sync_now();
                }
            }));
        }
        self.live
            .with_value(|l| l.as_ref().is_some_and(LiveCart::is_open))
    }

    /// Runs an exchange now, or right after the one in flight.
    pub fn sync_now(self) {
        if let Some(timer) = self.link.try_update_value(|l| l.timer.take()).flatten() {
            timer.clear();
        }
        if self.link.with_value(|l| l.busy) {
            self.link.update_value(|l| l.again = true);
            return;
        }
        // Busy from now, not from when the task first runs: one exchange at a time.
        self.link.update_value(|l| l.busy = true);
        spawn_local(self.run());
    }

    /// Runs an exchange after `delay_ms`, unless another is asked for sooner. Offline, the
    /// `online` event will.
    fn schedule(self, delay_ms: u32) {
        if !browser_online() {
            return;
        }
        let handle = set_timeout_with_handle(
            move || self.sync_now(),
            Duration::from_millis(delay_ms.into()),
        )
        .ok();
        if let Some(old) = self
            .link
            .try_update_value(|l| std::mem::replace(&mut l.timer, handle))
            .flatten()
        {
            old.clear();
        }
    }

    /// The periodic pull: when the page is visible, online, not backing off, and no tab of
    /// this browser has synced in the last few seconds.
    fn tick(self) {
        // The stream says when to pull: the periodic pull is for when it is down.
        if self.watch_live() {
            return;
        }
        let idle = self
            .link
            .with_value(|l| !l.busy && l.retry_ms == 0 && l.timer.is_none());
        if !idle || document().hidden() || !browser_online() {
            return;
        }
        let due = self.device.with_value(|d| {
            (d.cart_id.is_some() || !d.pending.is_empty())
                && now_ms().saturating_sub(d.synced_at) + 1_000 >= u64::from(PULL_EVERY_MS)
        });
        if due {
            self.sync_now();
        }
    }

    /// Waits for an exchange in flight (a few seconds at most), then runs one if anything is
    /// pending, or `always`, and waits for it.
    async fn settle(self, always: bool) {
        self.idle().await;
        if always || self.device.with_value(|d| !d.pending.is_empty()) {
            self.sync_now();
            self.idle().await;
        }
    }

    /// Waits until no exchange is in flight, for ten seconds at most.
    async fn idle(self) {
        for _ in 0..200 {
            if !self.link.with_value(|l| l.busy) {
                return;
            }
            sleep(50).await;
        }
    }

    /// Exchanges until nothing is left to send; on failure, tries again after a backoff.
    /// Started by [`Store::sync_now`] only.
    async fn run(self) {
        let mut rounds = 0;
        let result = loop {
            self.link.update_value(|l| l.again = false);
            match self.exchange().await {
                Ok(more) => {
                    self.link.update_value(|l| {
                        l.retry_ms = 0;
                        l.offline = false;
                        l.failing = false;
                    });
                    rounds += 1;
                    if !(more || self.link.with_value(|l| l.again)) || rounds >= MAX_ROUNDS {
                        break Ok(());
                    }
                }
                Err(Failed) => break Err(Failed),
            }
            self.show();
        };
        self.link.update_value(|l| l.busy = false);
        if result.is_err() {
            self.back_off();
        }
        self.show();
    }

    /// One push and pull. `Ok(true)`: another exchange is due at once (more to push, or the
    /// device moved to another cart).
    async fn exchange(self) -> Result<bool, Failed> {
        self.load();
        let limit = self.link.with_value(|l| l.batch);
        let (epoch, cart_id, cursor, generation, batch) = self.device.with_value(|d| {
            (
                d.epoch,
                d.cart_id.clone(),
                d.cursor,
                d.generation,
                d.batch(limit),
            )
        });
        let Some(cart_id) = cart_id else {
            if batch.is_empty() {
                return Ok(false);
            }
            // The first edit on this device: it gets an anonymous cart.
            let cart = api::create_cart().await.map_err(|e| self.failed(&e))?;
            self.device.update_value(|d| {
                if d.epoch == epoch && d.cart_id.is_none() {
                    d.cart_id = Some(cart.id);
                }
            });
            self.save();
            return Ok(true);
        };
        let result = api::sync(&cart_id, cursor, generation, &batch).await;
        if self
            .device
            .with_value(|d| d.epoch != epoch || d.cart_id.as_deref() != Some(cart_id.as_str()))
        {
            // Signed in or out meanwhile: this answer is about a cart the device has left.
            return Ok(true);
        }
        match result {
            Ok(reply) => {
                self.device.update_value(|d| {
                    d.absorb(&batch, reply);
                    d.synced_at = now_ms();
                });
                self.save();
                Ok(self.device.with_value(|d| !d.pending.is_empty()))
            }
            Err(e) => self.refused(e, &batch).await,
        }
    }

    /// What to do when the server turns an exchange down.
    async fn refused(self, e: ApiError, batch: &[Operation]) -> Result<bool, Failed> {
        match e.code.as_str() {
            code::NOT_FOUND => {
                self.cart_gone().await;
                Ok(true)
            }
            code::CURSOR_AHEAD => {
                // A cursor the server never gave (another database, a restored backup).
                self.device.update_value(Device::restart);
                self.save();
                Ok(true)
            }
            code::BODY_TOO_LARGE if batch.len() > 1 => {
                self.link
                    .update_value(|l| l.batch = (batch.len() / 2).max(1));
                Ok(true)
            }
            code::BODY_TOO_LARGE => {
                self.drop_refused(&batch[0], "it is too large to save");
                Ok(true)
            }
            _ if is_refusal(&e) => match e
                .operation()
                .and_then(|(i, reason)| Some((batch.get(i)?, reason)))
            {
                Some((op, reason)) => {
                    self.drop_refused(op, reason);
                    Ok(true)
                }
                None => {
                    self.notice.set(Some(capitalize(&e.message)));
                    Err(self.failed(&e))
                }
            },
            _ => Err(self.failed(&e)),
        }
    }

    /// Marks the sync as failing (offline, or the server) for the badge.
    fn failed(self, e: &ApiError) -> Failed {
        let offline = e.is_offline();
        self.link.update_value(|l| {
            l.offline = offline;
            l.failing = !offline;
        });
        Failed
    }

    /// The server refused a pending operation (the catalogue changed since it was made): it is
    /// dropped, the rest stays, and the shopper is told why.
    fn drop_refused(self, op: &Operation, reason: &str) {
        self.device.update_value(|d| drop(d.drop_pending(&op.id)));
        self.save();
        self.notice.set(Some(format!(
            "A change to your cart could not be saved and was undone: {reason}."
        )));
    }

    /// The cart is gone or not ours any more (deleted, or signed out on another device): the
    /// pending operations move to a new anonymous cart.
    async fn cart_gone(self) {
        let cart_id = api::create_cart().await.ok().map(|c| c.id);
        self.device.update_value(|d| d.rehome(cart_id));
        self.save();
        self.refresh_me().await;
        if self.device.with_value(|d| !d.pending.is_empty()) {
            self.notice.set(Some(
                "Your cart was no longer available; your latest changes were kept in a new cart."
                    .into(),
            ));
        }
    }

    fn back_off(self) {
        let retry = self
            .link
            .try_update_value(|l| {
                l.retry_ms = (l.retry_ms * 2).clamp(MIN_RETRY_MS, MAX_RETRY_MS);
                l.retry_ms
            })
            .unwrap_or(MIN_RETRY_MS);
        // Half fixed, half random, so many devices coming back at once do not retry in step.
        let delay = retry / 2 + (js_sys::Math::random() * f64::from(retry / 2)) as u32;
        let handle =
            set_timeout_with_handle(move || self.sync_now(), Duration::from_millis(delay.into()))
                .ok();
        if let Some(old) = self
            .link
            .try_update_value(|l| std::mem::replace(&mut l.timer, handle))
            .flatten()
        {
            old.clear();
        }
    }

    /// Sets the badge from the state: offline, failing, pending or saved.
    fn show(self) {
        let pending = self.device.with_value(|d| d.pending.len());
        let state = self.link.with_value(|l| {
            if l.offline || !browser_online() {
                SyncState::Offline { pending }
            } else if pending == 0 {
                SyncState::Saved
            } else if l.failing {
                SyncState::Retrying
            } else {
                SyncState::Syncing
            }
        });
        if self.sync.get_untracked() != state {
            self.sync.set(state);
        }
    }

    /// Merges what other tabs stored into this tab's state, and writes back what only this
    /// tab had.
    fn load(self) {
        self.store(false);
    }

    /// Writes this tab's state, merged with what other tabs stored.
    fn save(self) {
        self.store(true);
    }

    fn store(self, always: bool) {
        let stored = read_device();
        let epoch = self.device.with_value(|d| d.epoch);
        let write = match stored {
            Some(stored) => self.device.try_update_value(|d| {
                let before = stored.clone();
                d.merge(stored);
                always || !d.same_data(&before)
            }),
            None => Some(true),
        };
        if write == Some(true) {
            let json = self.device.with_value(api::to_json);
            if let Some(storage) = local_storage() {
                // A full storage keeps the state in this tab: it is still pushed from here.
                let _ = storage.set_item(DEVICE_KEY, &json);
            }
        }
        let cart = self.device.with_value(Device::cart);
        if self.cart.with_untracked(|c| *c != cart) {
            self.cart.set(cart);
        }
        if self.device.with_value(|d| d.epoch != epoch) {
            // Another tab signed in or out: find out who is signed in now.
            spawn_local(self.refresh_me());
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
) -> Priced {
    let plain = || quote(snapshot, cart, context).map_err(|e| e.to_string());
    let priced = |quote, delivery| Priced { quote, delivery };
    let Some(destination) = destination else {
        return priced(plain(), None);
    };
    match quote_with_delivery(snapshot, cart, context, destination, now()) {
        Ok((quote, delivery)) => priced(Ok(quote), Some(Ok(delivery))),
        Err(FulfilmentError::Quote(e)) => priced(Err(e.to_string()), None),
        Err(e) => priced(plain(), Some(Err(capitalize(&e.to_string())))),
    }
}

/// What [`price`] gives: the [`Store::quote`] and [`Store::delivery`] of one cart.
#[derive(Clone, Debug, PartialEq)]
struct Priced {
    quote: Result<Quote, String>,
    delivery: Option<Result<DeliveryQuote, String>>,
}

/// Whether the server refused what a sync sent (its 400s and 422s), rather than failing: an
/// operation it names by `op_index` (the catalogue's refusals and malformed operations), or a
/// request it could not take at all, which sending again will not change.
fn is_refusal(e: &ApiError) -> bool {
    e.op_index.is_some()
        || [
            code::INVALID_OPS_COUNT,
            code::MALFORMED_JSON,
            code::INVALID_REQUEST,
            code::INVALID_BODY,
        ]
        .contains(&e.code.as_str())
}

pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The browser's clock, for promotion schedules and delivery dates (the engine never reads one
/// itself).
pub(crate) fn now() -> Timestamp {
    Timestamp::from_unix((js_sys::Date::now() / 1000.0) as i64)
}

/// The browser's clock in milliseconds, for operation stamps.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// `bytes` random bytes from the browser's generator, as hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut buf).is_ok());
    if !filled {
        buf.iter_mut()
            .for_each(|b| *b = (js_sys::Math::random() * 256.0) as u8);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn read_device() -> Option<Device> {
    let json = local_storage()?.get_item(DEVICE_KEY).ok().flatten()?;
    api::from_json(&json).ok()
}

/// This browser's state: stored, or new.
fn load_device() -> Device {
    read_device().unwrap_or_else(|| Device::new(format!("d{}", random_hex(8))))
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
