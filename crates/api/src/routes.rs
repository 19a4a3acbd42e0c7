//! The paths of the HTTP API, as the server routes them (axum's `{id}` syntax) and as clients
//! fill them in ([`with_id`]).

/// Everything under this prefix is the JSON API; other paths serve the storefront.
pub const PREFIX: &str = "/api";

/// `GET`: the catalogue snapshot the engine loads (ETag, 304).
pub const SNAPSHOT: &str = "/api/snapshot";
/// `POST`: a new anonymous cart, or a signed-in customer's own.
pub const CARTS: &str = "/api/carts";
/// `GET`: a cart, priced.
pub const CART: &str = "/api/carts/{id}";
/// `POST` [`crate::EditRequest`]: edits at a version.
pub const CART_OPS: &str = "/api/carts/{id}/ops";
/// `POST` [`crate::SyncRequest`]: push and pull operations.
pub const CART_SYNC: &str = "/api/carts/{id}/sync";
/// `POST` [`crate::SignUp`].
pub const SIGN_UP: &str = "/api/auth/sign-up";
/// `POST` [`crate::SignIn`].
pub const SIGN_IN: &str = "/api/auth/sign-in";
/// `POST`: ends the session.
pub const SIGN_OUT: &str = "/api/auth/sign-out";
/// `GET`: [`crate::Me`].
pub const ME: &str = "/api/me";

/// `POST` [`crate::CheckoutRequest`] with an `Idempotency-Key` header: places an order.
pub const CHECKOUT: &str = "/api/checkout";
/// `POST` [`crate::ChallengeCompletion`] with an `Idempotency-Key` header: the shopper's
/// result of the checkout's challenge `{id}` ([`crate::Challenge::id`]).
pub const CHECKOUT_COMPLETE: &str = "/api/checkout/{id}/complete";
/// `GET`: [`crate::OrderList`], the caller's orders, newest first (`?page=N`).
pub const ORDERS: &str = "/api/orders";
/// `GET`: [`crate::OrderView`] (a guest adds `?token=…`).
pub const ORDER: &str = "/api/orders/{number}";
/// `POST`: the shopper cancels an order not yet in fulfilment; answers the [`crate::OrderView`].
pub const ORDER_CANCEL: &str = "/api/orders/{number}/cancel";

/// `route` with its `{number}` replaced by an order number.
pub fn with_number(route: &str, number: &str) -> String {
    route.replacen("{number}", number, 1)
}

/// `route` with its `{id}` replaced by `id`.
pub fn with_id(route: &str, id: &str) -> String {
    route.replacen("{id}", id, 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_id_is_filled_in() {
        assert_eq!(
            super::with_id(super::CART_SYNC, "cart_1f"),
            "/api/carts/cart_1f/sync"
        );
        assert_eq!(super::with_id(super::ME, "x"), "/api/me");
    }
}
