//! The paths of the HTTP API, as the server routes them (axum's `{id}` syntax) and as clients
//! fill them in ([`with_id`]), and [`ALL`], every route the API answers: the server builds its
//! routers from these constants and refuses one missing from [`ALL`], and a test checks that
//! the OpenAPI document (`crate::openapi`) describes exactly [`ALL`].

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
/// `GET`: the cart's versions as server-sent events (`text/event-stream`), from the current one
/// (or after `Last-Event-ID`, a version).
pub const CART_EVENTS: &str = "/api/carts/{id}/events";
/// `POST` [`crate::SyncRequest`]: push and pull operations.
pub const CART_SYNC: &str = "/api/carts/{id}/sync";
/// `POST` [`crate::SignUp`].
pub const SIGN_UP: &str = "/api/auth/sign-up";
/// `POST` [`crate::SignIn`].
pub const SIGN_IN: &str = "/api/auth/sign-in";
/// `POST`: ends the session.
pub const SIGN_OUT: &str = "/api/auth/sign-out";
/// `POST` [`crate::TokenRequest`]: a bearer token ([`crate::TokenReply`]).
pub const TOKEN: &str = "/api/auth/token";
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
/// `POST` [`crate::ReturnRequest`]: the shopper returns delivered units; answers the
/// [`crate::ReturnView`] (a guest adds `?token=…`).
pub const ORDER_RETURNS: &str = "/api/orders/{number}/returns";
/// `POST` [`crate::ReceiveRequest`] (integration key): the return received, then refunded;
/// answers the [`crate::ReturnView`].
pub const RETURN_RECEIVE: &str = "/api/returns/{id}/receive";
/// `POST` (integration key): the refund of a received return tried again (after
/// `refund_failed`); answers the [`crate::ReturnView`], refunded once whatever the retries.
pub const RETURN_REFUND: &str = "/api/returns/{id}/refund";
/// `GET` (integration key): [`crate::ReturnRates`], per product and per customer.
pub const RETURN_RATES: &str = "/api/return-rates";
/// `POST` [`crate::OrderEditRequest`] (the shopper, or an agent's integration key): the
/// edited order re-priced, the money and stock it would move ([`crate::OrderEditPreview`]);
/// nothing changes.
pub const ORDER_EDIT_PREVIEW: &str = "/api/orders/{number}/edits/preview";
/// `POST` [`crate::OrderEditRequest`] with an `Idempotency-Key` header: commits the edit at
/// the order's version ([`crate::OrderEditReply`]).
pub const ORDER_EDITS: &str = "/api/orders/{number}/edits";
/// `GET` (the order's shopper or an integration): [`crate::AppointmentList`]; `POST`
/// [`crate::BookRequest`]: 201 [`crate::AppointmentView`].
pub const ORDER_APPOINTMENTS: &str = "/api/orders/{number}/appointments";
/// `GET`: [`crate::SlotList`], the free installation slots for the order.
pub const ORDER_APPOINTMENT_SLOTS: &str = "/api/orders/{number}/appointment-slots";
/// `POST` [`crate::RescheduleRequest`]: the moved [`crate::AppointmentView`].
pub const APPOINTMENT_RESCHEDULE: &str = "/api/orders/{number}/appointments/{id}/reschedule";
/// `POST`: the cancelled [`crate::AppointmentView`].
pub const APPOINTMENT_CANCEL: &str = "/api/orders/{number}/appointments/{id}/cancel";
/// `POST` [`crate::ComplaintRequest`]: 201, the repeat visit's [`crate::AppointmentView`].
pub const APPOINTMENT_COMPLAINT: &str = "/api/orders/{number}/appointments/{id}/complaint";
/// `POST` [`crate::AppointmentTransition`] (integration key): the installer's report.
pub const APPOINTMENT_TRANSITIONS: &str = "/api/appointments/{id}/transitions";
/// `GET` (integration key): [`crate::FulfilmentOrderList`], `?location=…&state=…`.
pub const FULFILMENT_ORDERS: &str = "/api/fulfilment-orders";
/// `POST` [`crate::TransitionRequest`] (integration key): answers the
/// [`crate::FulfilmentOrderView`].
pub const FULFILMENT_TRANSITIONS: &str = "/api/fulfilment-orders/{id}/transitions";
/// `POST` [`crate::RejectionRequest`] (integration key): the location rejects lines, which
/// are sourced again elsewhere or cancelled; answers the [`crate::RejectionReply`].
pub const FULFILMENT_REJECTIONS: &str = "/api/fulfilment-orders/{id}/rejections";
/// `PUT` [`crate::InventoryFeed`] (integration key): on-hand counts and incoming supply per
/// location and SKU; answers the [`crate::InventoryReply`].
pub const INVENTORY: &str = "/api/inventory";
/// `PUT` [`crate::InstallerFeed`] (integration key): the installers by area, replacing the
/// list; answers the [`crate::InstallerReply`].
pub const INSTALLERS: &str = "/api/installers";
/// `POST` [`crate::SubstitutionProposal`] (integration key): a picker proposes a substitute
/// for a line; answers the [`crate::SubstitutionView`].
pub const FULFILMENT_SUBSTITUTIONS: &str = "/api/fulfilment-orders/{id}/substitutions";
/// `POST` [`crate::SubstitutionDecision`]: the order's shopper accepts or declines a
/// substitute (a guest adds `?token=…`); answers the [`crate::SubstitutionView`].
pub const ORDER_SUBSTITUTION: &str = "/api/orders/{number}/substitutions/{id}";
/// `GET`: [`crate::SurveyView`] for the token of a survey link (no sign-in); `POST`
/// [`crate::SurveyAnswer`]: 201, once.
pub const SURVEY: &str = "/api/surveys/{token}";
/// `GET` (integration key): [`crate::SurveyList`], the answers, newest first.
pub const INTEGRATION_SURVEYS: &str = "/api/integration/surveys";
/// `POST` [`crate::UnsubscribeRequest`]: [`crate::Unsubscribed`] (no sign-in: the token is the
/// link's).
pub const UNSUBSCRIBE: &str = "/api/unsubscribe";
/// `GET` (integration key): [`crate::EventList`], `?order=…&state=pending|delivered|dead`.
pub const INTEGRATION_EVENTS: &str = "/api/integration/events";
/// `POST` (integration key): delivers the event again to every endpoint (a dead one, or one a
/// receiver lost); answers its [`crate::EventRecord`].
pub const INTEGRATION_EVENT_REPLAY: &str = "/api/integration/events/{id}/replay";

/// `GET`: the OpenAPI 3.1 document of this API (`crate::openapi::document`).
pub const OPENAPI: &str = "/api/openapi.json";

/// One route of the API: an HTTP method (upper case) on a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// `GET` on `path`.
pub const fn get(path: &'static str) -> Route {
    Route {
        method: "GET",
        path,
    }
}

/// `POST` on `path`.
pub const fn post(path: &'static str) -> Route {
    Route {
        method: "POST",
        path,
    }
}

/// `PUT` on `path`.
pub const fn put(path: &'static str) -> Route {
    Route {
        method: "PUT",
        path,
    }
}

/// Every route the API answers, in the order the OpenAPI document lists them. A route added
/// to a server router must be added here (the server refuses to build otherwise) and to the
/// document (its test fails otherwise).
pub const ALL: &[Route] = &[
    get(SNAPSHOT),
    post(CARTS),
    get(CART),
    post(CART_OPS),
    get(CART_EVENTS),
    post(CART_SYNC),
    post(SIGN_UP),
    post(SIGN_IN),
    post(SIGN_OUT),
    post(TOKEN),
    get(ME),
    post(CHECKOUT),
    post(CHECKOUT_COMPLETE),
    get(ORDERS),
    get(ORDER),
    post(ORDER_CANCEL),
    post(ORDER_EDIT_PREVIEW),
    post(ORDER_EDITS),
    get(ORDER_APPOINTMENTS),
    post(ORDER_APPOINTMENTS),
    get(ORDER_APPOINTMENT_SLOTS),
    post(APPOINTMENT_RESCHEDULE),
    post(APPOINTMENT_CANCEL),
    post(APPOINTMENT_COMPLAINT),
    post(APPOINTMENT_TRANSITIONS),
    post(ORDER_RETURNS),
    post(RETURN_RECEIVE),
    post(RETURN_REFUND),
    get(RETURN_RATES),
    get(FULFILMENT_ORDERS),
    post(FULFILMENT_TRANSITIONS),
    post(FULFILMENT_REJECTIONS),
    put(INVENTORY),
    put(INSTALLERS),
    post(FULFILMENT_SUBSTITUTIONS),
    post(ORDER_SUBSTITUTION),
    get(SURVEY),
    post(SURVEY),
    get(INTEGRATION_SURVEYS),
    post(UNSUBSCRIBE),
    get(INTEGRATION_EVENTS),
    post(INTEGRATION_EVENT_REPLAY),
    get(OPENAPI),
];

/// Whether [`ALL`] lists some method on `path`.
pub fn is_listed(path: &str) -> bool {
    ALL.iter().any(|r| r.path == path)
}

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

    #[test]
    fn every_listed_route_is_once_under_the_prefix() {
        for (i, route) in super::ALL.iter().enumerate() {
            assert!(route.path.starts_with(super::PREFIX), "{route:?}");
            assert!(matches!(route.method, "GET" | "POST" | "PUT"), "{route:?}");
            assert!(!super::ALL[..i].contains(route), "{route:?} twice");
        }
        assert!(super::is_listed(super::CHECKOUT));
        assert!(!super::is_listed("/api/nowhere"));
    }

    /// A path constant declared here but missing from `ALL` would be a route the OpenAPI
    /// document's test never sees.
    #[test]
    fn every_path_declared_here_is_listed() {
        let source = include_str!("routes.rs");
        let mut declared = 0;
        for line in source.lines() {
            let Some((_, path)) = line.split_once(": &str = \"/api/") else {
                continue;
            };
            let path = format!("/api/{}", path.trim_end_matches("\";"));
            assert!(super::is_listed(&path), "{path} is not in ALL");
            declared += 1;
        }
        let paths: std::collections::BTreeSet<&str> = super::ALL.iter().map(|r| r.path).collect();
        assert_eq!(declared, paths.len(), "each listed path is one constant");
    }
}
