// The HTTP contract's constants (types: api.d.ts). tests/pkg/api.test.mjs checks them against
// the server's OpenAPI document (openapi.json).

export const ROUTES = Object.freeze({
  snapshot: "/api/snapshot",
  carts: "/api/carts",
  cart: "/api/carts/{id}",
  cartOps: "/api/carts/{id}/ops",
  cartEvents: "/api/carts/{id}/events",
  cartSync: "/api/carts/{id}/sync",
  signUp: "/api/auth/sign-up",
  signIn: "/api/auth/sign-in",
  signOut: "/api/auth/sign-out",
  token: "/api/auth/token",
  me: "/api/me",
  checkout: "/api/checkout",
  checkoutComplete: "/api/checkout/{id}/complete",
  orders: "/api/orders",
  order: "/api/orders/{number}",
  orderCancel: "/api/orders/{number}/cancel",
  orderReturns: "/api/orders/{number}/returns",
  returnReceive: "/api/returns/{id}/receive",
  returnRefund: "/api/returns/{id}/refund",
  returnRates: "/api/return-rates",
  orderEditPreview: "/api/orders/{number}/edits/preview",
  orderEdits: "/api/orders/{number}/edits",
  orderAppointments: "/api/orders/{number}/appointments",
  orderAppointmentSlots: "/api/orders/{number}/appointment-slots",
  appointmentReschedule: "/api/orders/{number}/appointments/{id}/reschedule",
  appointmentCancel: "/api/orders/{number}/appointments/{id}/cancel",
  appointmentComplaint: "/api/orders/{number}/appointments/{id}/complaint",
  appointmentTransitions: "/api/appointments/{id}/transitions",
  fulfilmentOrders: "/api/fulfilment-orders",
  fulfilmentTransitions: "/api/fulfilment-orders/{id}/transitions",
  fulfilmentRejections: "/api/fulfilment-orders/{id}/rejections",
  inventory: "/api/inventory",
  installers: "/api/installers",
  fulfilmentSubstitutions: "/api/fulfilment-orders/{id}/substitutions",
  orderSubstitution: "/api/orders/{number}/substitutions/{id}",
  survey: "/api/surveys/{token}",
  integrationSurveys: "/api/integration/surveys",
  unsubscribe: "/api/unsubscribe",
  integrationEvents: "/api/integration/events",
  integrationEventReplay: "/api/integration/events/{id}/replay",
  openapi: "/api/openapi.json",
});

export function fill(route, params) {
  return route.replace(/\{(id|number|token)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined) throw new Error(`fill: ${route} needs ${name}`);
    return encodeURIComponent(value);
  });
}

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

export const TEST_GATEWAY = "test";
export const TEST_CARDS = Object.freeze({
  success: "4242424242424242",
  declined: "4000000000000002",
  insufficient_funds: "4000000000009995",
  timeout: "4000000000000119",
  challenge: "4000002760003184",
  refund_fails: "4000000000005126",
});

export const ERROR_CODES = Object.freeze([
  "not_found", "malformed_json", "invalid_request", "unsupported_media_type",
  "body_too_large", "invalid_body", "invalid_ops_count", "invalid_operation",
  "stamp_out_of_range", "stale_version", "cursor_ahead", "invalid_email", "weak_password", "invalid_name",
  "email_taken", "invalid_credentials", "too_many_attempts", "rate_limited", "not_signed_in",
  "idempotency_key_required", "idempotency_mismatch", "in_progress", "cart_empty",
  "invalid_checkout", "delivery_unavailable", "price_changed", "out_of_stock",
  "promotion_exhausted", "payment_declined", "payment_timeout", "attempt_expired", "unknown_payment_provider",
  "invalid_transition", "transition_forbidden", "unknown_state", "parcel_missing", "unknown_line", "unknown_reason", "invalid_stock", "substitute_unavailable", "substitution_decided", "wrong_pickup_code", "pickup_locked", "not_returnable", "invalid_return", "disposition_missing", "internal", "too_many_streams", "invalid_token", "integration_key_required",
  "edit_not_allowed", "line_fulfilled", "invalid_edit", "over_refund",
  "already_answered", "no_installation_address", "invalid_slot", "slot_taken", "not_a_service_line", "already_booked",
  "invalid_installer", "installer_has_visits",
  "unknown_sku", "not_in_cart", "too_many_lines", "quantity_limit", "duplicate_line",
  "unknown_coupon", "too_many_coupons", "coupon_not_in_cart", "unknown_location",
  "service_not_offered", "too_many_services", "duplicate_service", "invalid_sku",
  "invalid_quantity", "no_price", "unknown_region",
]);
