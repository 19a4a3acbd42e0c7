//! The error codes the HTTP API itself gives ([`crate::ErrorDetail::code`]). A refusal by the
//! engine (a cart edit it will not make, a snapshot it cannot load) carries the engine's own
//! code instead (`unknown_sku`, `quantity_limit`, …: `omnicart_engine::ErrorCode`). Codes never
//! change once released; clients match on them.

/// No such resource, or one the caller may not see (ids cannot be probed). 404.
pub const NOT_FOUND: &str = "not_found";
/// No such method on this path. 405.
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
/// The body is not JSON. 400.
pub const MALFORMED_JSON: &str = "malformed_json";
/// JSON of the wrong shape (a missing or unknown field, a wrong type). 422.
pub const INVALID_REQUEST: &str = "invalid_request";
/// The body is not `application/json`. 415.
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
/// Over [`crate::MAX_BODY_BYTES`]. 413.
pub const BODY_TOO_LARGE: &str = "body_too_large";
/// A body that could not be read otherwise. 400.
pub const INVALID_BODY: &str = "invalid_body";
/// No operations, or more than [`crate::MAX_OPS_PER_REQUEST`]. 422.
pub const INVALID_OPS_COUNT: &str = "invalid_ops_count";
/// A sync operation that is not an operation (its index is in `op_index`). 400.
pub const INVALID_OPERATION: &str = "invalid_operation";
/// A sync operation whose stamp is more than 24 hours ahead of the server's clock, past
/// 2^53 − 1 milliseconds, or counting past the largest counter a device may use
/// (`omnicart_engine::replica::Operation::check_stamp`; its index is in `op_index`). 400.
pub const STAMP_OUT_OF_RANGE: &str = "stamp_out_of_range";
/// The cart changed since the version the edit was made against; `current` is the cart. 409.
pub const STALE_VERSION: &str = "stale_version";
/// A sync cursor or generation the cart never gave out (another database, a restored
/// backup): the device starts its copy of the log again. 409.
pub const CURSOR_AHEAD: &str = "cursor_ahead";
/// Sign-up: not an email address. 422.
pub const INVALID_EMAIL: &str = "invalid_email";
/// Sign-up: a password too short or too long. 422.
pub const WEAK_PASSWORD: &str = "weak_password";
/// Sign-up: an empty or too long name. 422.
pub const INVALID_NAME: &str = "invalid_name";
/// Sign-up: an account with this email exists. 409.
pub const EMAIL_TAKEN: &str = "email_taken";
/// Sign-in: wrong email or password. 401.
pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
/// Sign-in: too many wrong passwords; `Retry-After` says when to try again. 429.
pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";
/// Too many requests from this client address or for this account (sign-in, sign-up, cart
/// creation, edits and sync); `Retry-After` says when to try again. 429.
pub const RATE_LIMITED: &str = "rate_limited";
/// The request needs a signed-in customer. 401.
pub const NOT_SIGNED_IN: &str = "not_signed_in";
/// A staff or integration endpoint without a known key in `X-Integration-Key`. 401.
pub const INTEGRATION_KEY_REQUIRED: &str = "integration_key_required";
/// Checkout: no `Idempotency-Key` header, or one that is empty or too long. 400.
pub const IDEMPOTENCY_KEY_REQUIRED: &str = "idempotency_key_required";
/// Checkout: this idempotency key was used with another request body. 422.
pub const IDEMPOTENCY_MISMATCH: &str = "idempotency_mismatch";
/// Checkout: a request with this idempotency key, or another checkout of this cart, is still
/// running; `Retry-After` says when to ask again. 409.
pub const IN_PROGRESS: &str = "in_progress";
/// Checkout: the cart has no lines. 422.
pub const CART_EMPTY: &str = "cart_empty";
/// Checkout: a contact or address field is missing, empty or too long, or the address does
/// not fit the delivery choice (required for delivery, absent for pickup). 422.
pub const INVALID_CHECKOUT: &str = "invalid_checkout";
/// Checkout: the cart has no delivery choice, or its chosen level or pickup store cannot serve
/// it any more. 409.
pub const DELIVERY_UNAVAILABLE: &str = "delivery_unavailable";
/// Checkout: the server's total is not the one the shopper saw; `current` is the cart with the
/// server's quote, `total` its total. Nothing was reserved or charged. 409.
pub const PRICE_CHANGED: &str = "price_changed";
/// Checkout: the stock cannot cover some lines where the plan sources them; `lines` names
/// them, `alternatives` what is still possible. Nothing was reserved or charged. 409.
pub const OUT_OF_STOCK: &str = "out_of_stock";
/// Checkout: a promotion the quote applies has no uses or budget left; `promotions` names it,
/// `current` is the cart quoted again without it. 409.
pub const PROMOTION_EXHAUSTED: &str = "promotion_exhausted";
/// Checkout: the payment provider refused; `reason` says why (`card_declined`,
/// `insufficient_funds`; `authentication_failed`: the shopper's bank did not confirm a
/// challenge). Nothing was reserved or charged; the cart is kept. 402.
pub const PAYMENT_DECLINED: &str = "payment_declined";
/// Checkout: the payment provider did not answer in time; any authorization is voided and
/// nothing is kept. Safe to retry with the same key. 504.
pub const PAYMENT_TIMEOUT: &str = "payment_timeout";
/// Checkout: a challenge completed after its hold ran out (`CHALLENGE_TTL_SECONDS`), or
/// after a new checkout of the cart replaced it: the stock and uses were released, any
/// authorization voided; nothing was charged. Place the order again. 409.
pub const ATTEMPT_EXPIRED: &str = "attempt_expired";
/// Checkout: no payment provider of that name. 422.
pub const UNKNOWN_PAYMENT_PROVIDER: &str = "unknown_payment_provider";
/// An order change the order's state machine refuses (cancelling a shipped order). 409.
pub const INVALID_TRANSITION: &str = "invalid_transition";
/// A transition to a state that is not a fulfilment order's (`to`). 422.
pub const UNKNOWN_STATE: &str = "unknown_state";
/// Shipping without a carrier or tracking number. 422.
pub const PARCEL_MISSING: &str = "parcel_missing";
/// A rejection naming no line, or a line the fulfilment order does not have; a return or
/// receipt naming a line the order (or the return) does not have. 422.
pub const UNKNOWN_LINE: &str = "unknown_line";
/// A rejection's `reason` that is not `short_pick` or `damage`. 422.
pub const UNKNOWN_REASON: &str = "unknown_reason";
/// An inventory record with a negative or too large count, a bad date, too many arrivals, or
/// too many records in one request; or one (location, SKU) twice. 422.
pub const INVALID_STOCK: &str = "invalid_stock";
/// Accepting a substitute the location can no longer promise; decline it instead. 409.
pub const SUBSTITUTE_UNAVAILABLE: &str = "substitute_unavailable";
/// A substitute proposed for a line that has one waiting for the shopper, or an answer that
/// contradicts the one given. 409.
pub const SUBSTITUTION_DECIDED: &str = "substitution_decided";
/// Collecting with a pickup code that is not the one sent to the shopper (or none); each
/// wrong code counts towards `pickup_locked`. 409.
pub const WRONG_PICKUP_CODE: &str = "wrong_pickup_code";
/// Too many wrong pickup codes: every code is refused; the store checks the shopper another
/// way. 409.
pub const PICKUP_LOCKED: &str = "pickup_locked";
/// A return of units that cannot be returned: not delivered or collected yet, more than
/// were, already claimed by an earlier return, or a service on its own. 409.
pub const NOT_RETURNABLE: &str = "not_returnable";
/// A return request without lines, a line twice, zero units, or a reason empty or over
/// 500 characters; a receipt's unknown disposition. 422.
pub const INVALID_RETURN: &str = "invalid_return";
/// A receipt without a disposition for every goods line of the return. 422.
pub const DISPOSITION_MISSING: &str = "disposition_missing";
/// A receipt at a location the network does not have. 422.
pub const UNKNOWN_LOCATION: &str = "unknown_location";
/// An order edit the order's state does not allow: the order is cancelled or done, the
/// shopper asks after fulfilment started (a call-centre agent can still help), or the
/// delivery is changed once a location has started. 409.
pub const EDIT_NOT_ALLOWED: &str = "edit_not_allowed";
/// An order edit that changes a line a location has started on (picking, packed, shipped or
/// collected). 409.
pub const LINE_FULFILLED: &str = "line_fulfilled";
/// An order edit with no operations, too many, or one an edit cannot carry (coupons, the
/// address; `op_index` names it). 422.
pub const INVALID_EDIT: &str = "invalid_edit";
/// The server failed; the details are in its log under the body's `request_id`. 500.
pub const INTERNAL: &str = "internal";
/// 503: the server has as many event streams open as it takes (`Retry-After`); poll instead.
pub const TOO_MANY_STREAMS: &str = "too_many_streams";
/// 401: an `Authorization: Bearer` token that is unknown, expired or revoked.
pub const INVALID_TOKEN: &str = "invalid_token";
/// Surveys: this order's survey was answered already (once per order). 409.
pub const ALREADY_ANSWERED: &str = "already_answered";
/// Appointments: the order has no shipping address to install at (a pickup order). 422.
pub const NO_INSTALLATION_ADDRESS: &str = "no_installation_address";
/// Appointments: a day or slot that is not bookable for the order (before the goods arrive,
/// past the bookable weeks, a Sunday, not one of `omnicart_order::SLOTS`). 422.
pub const INVALID_SLOT: &str = "invalid_slot";
/// Appointments: no installer is free at that slot any more (another booking took the last);
/// choose another from the slots. 409.
pub const SLOT_TAKEN: &str = "slot_taken";
/// Appointments: the order line is not a service (an installation) to book a visit for. 422.
pub const NOT_A_SERVICE_LINE: &str = "not_a_service_line";
/// Appointments: that service already has a visit; move it instead. 409.
pub const ALREADY_BOOKED: &str = "already_booked";
/// Installers feed: an empty, too long or repeated id, an empty or too long name, an area
/// that is not two characters, or too many records. 422.
pub const INVALID_INSTALLER: &str = "invalid_installer";
/// Installers feed: it leaves out an installer who still has visits booked; move or cancel
/// them first (the message lists them). Nothing changed. 409.
pub const INSTALLER_HAS_VISITS: &str = "installer_has_visits";
