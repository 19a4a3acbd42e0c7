//! The cart's live events: an `EventSource` on `GET /api/carts/{id}/events` (one per tab,
//! for the cart the tab is on). Each event says the cart has a new version; the store pulls
//! at once ([`crate::store::Store`]). The browser reconnects a dropped stream by itself
//! (sending the last version as `Last-Event-ID`); while the stream is not open the store's
//! periodic pull is the fallback, and a stream the browser gave up on is opened again.

use omnicart_api::routes;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

/// An open (or reconnecting) event stream of one cart; closed when dropped.
pub struct LiveCart {
    cart_id: String,
    source: EventSource,
    _on_event: Closure<dyn FnMut(MessageEvent)>,
}

impl LiveCart {
    /// Opens the stream of `cart_id`, calling `on_change` on every event.
    pub fn open(cart_id: &str, mut on_change: impl FnMut() + 'static) -> Option<LiveCart> {
        let source = EventSource::new(&routes::with_id(routes::CART_EVENTS, cart_id)).ok()?;
        let on_event = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| on_change());
        source
            .add_event_listener_with_callback("cart", on_event.as_ref().unchecked_ref())
            .ok()?;
        Some(LiveCart {
            cart_id: cart_id.to_owned(),
            source,
            _on_event: on_event,
        })
    }

    /// Whether this is `cart_id`'s stream and the browser has not given up on it.
    pub fn serves(&self, cart_id: &str) -> bool {
        self.cart_id == cart_id && self.source.ready_state() != EventSource::CLOSED
    }

    /// Events arrive now (not connecting, not closed).
    pub fn is_open(&self) -> bool {
        self.source.ready_state() == EventSource::OPEN
    }
}

impl Drop for LiveCart {
    fn drop(&mut self) {
        self.source.close();
    }
}
