// The HTTP contract of omnicart's server (crates/api), for a checkout built without the Leptos
// storefront: request and reply bodies, the error body and its codes, the route paths, the
// Idempotency-Key header and the test cards. The OpenAPI document of the whole API is
// `openapi.json` beside this file (and `GET /api/openapi.json` on a server).
// tests/pkg/api.test.mjs fails when an interface here differs from that document's schema.
import type { Cart, CartOp, Level, Money, Operation, Quote, QuoteLine, ReplicaBase } from "./omnicart_wasm.js";

export type { Level, Money, QuoteLine };

/** The route paths; `{id}` and `{number}` are filled in with `fill`. */
export declare const ROUTES: {
  readonly snapshot: "/api/snapshot";
  readonly carts: "/api/carts";
  readonly cart: "/api/carts/{id}";
  readonly cartOps: "/api/carts/{id}/ops";
  readonly cartEvents: "/api/carts/{id}/events";
  readonly cartSync: "/api/carts/{id}/sync";
  readonly signUp: "/api/auth/sign-up";
  readonly signIn: "/api/auth/sign-in";
  readonly signOut: "/api/auth/sign-out";
  readonly token: "/api/auth/token";
  readonly me: "/api/me";
  readonly checkout: "/api/checkout";
  readonly checkoutComplete: "/api/checkout/{id}/complete";
  readonly orders: "/api/orders";
  readonly order: "/api/orders/{number}";
  readonly orderCancel: "/api/orders/{number}/cancel";
  /** The shopper returns delivered units (201 `ReturnView`). */
  readonly orderReturns: "/api/orders/{number}/returns";
  /** Staff and integrations (`X-Integration-Key`): a return received, its refund retried,
   *  the return rates. */
  readonly returnReceive: "/api/returns/{id}/receive";
  readonly returnRefund: "/api/returns/{id}/refund";
  readonly returnRates: "/api/return-rates";
  readonly orderEditPreview: "/api/orders/{number}/edits/preview";
  readonly orderEdits: "/api/orders/{number}/edits";
  /** The order's installation visits (its shopper, or an agent with `X-Integration-Key`). */
  readonly orderAppointments: "/api/orders/{number}/appointments";
  readonly orderAppointmentSlots: "/api/orders/{number}/appointment-slots";
  readonly appointmentReschedule: "/api/orders/{number}/appointments/{id}/reschedule";
  readonly appointmentCancel: "/api/orders/{number}/appointments/{id}/cancel";
  readonly appointmentComplaint: "/api/orders/{number}/appointments/{id}/complaint";
  /** The field-service system's report (`X-Integration-Key`). */
  readonly appointmentTransitions: "/api/appointments/{id}/transitions";
  /** Staff and integrations (`X-Integration-Key`): fulfilment orders and their transitions. */
  readonly fulfilmentOrders: "/api/fulfilment-orders";
  readonly fulfilmentTransitions: "/api/fulfilment-orders/{id}/transitions";
  readonly fulfilmentRejections: "/api/fulfilment-orders/{id}/rejections";
  readonly inventory: "/api/inventory";
  readonly installers: "/api/installers";
  readonly fulfilmentSubstitutions: "/api/fulfilment-orders/{id}/substitutions";
  readonly orderSubstitution: "/api/orders/{number}/substitutions/{id}";
  /** The survey of a delivered order and unsubscribing from reminders: by a mailed link's
   *  token, without signing in. Staff read the answers with `X-Integration-Key`. */
  readonly survey: "/api/surveys/{token}";
  readonly integrationSurveys: "/api/integration/surveys";
  readonly unsubscribe: "/api/unsubscribe";
  /** Staff and integrations: the events sent to the webhook endpoints, and a replay. */
  readonly integrationEvents: "/api/integration/events";
  readonly integrationEventReplay: "/api/integration/events/{id}/replay";
  readonly openapi: "/api/openapi.json";
};
export type Route = (typeof ROUTES)[keyof typeof ROUTES];

/** `route` with `{id}` / `{number}` / `{token}` replaced by `params`' values (URI-encoded). */
export declare function fill(route: Route, params: { id?: string; number?: string; token?: string }): string;

/** The request header of a checkout's idempotency key: a fresh random key per attempt,
 *  reused for every retry of the same body (1 to 255 bytes). */
export declare const IDEMPOTENCY_KEY_HEADER: "Idempotency-Key";

/** The built-in test gateway (payment provider `"test"`) answers by card number (the token). */
export declare const TEST_GATEWAY: "test";
export declare const TEST_CARDS: {
  /** Authorized. */
  readonly success: "4242424242424242";
  /** Declined: `payment_declined`, reason `card_declined`. */
  readonly declined: "4000000000000002";
  /** Declined: `payment_declined`, reason `insufficient_funds`. */
  readonly insufficient_funds: "4000000000009995";
  /** No answer in time: `payment_timeout`, nothing charged. */
  readonly timeout: "4000000000000119";
  /** Asks for a challenge (202, a 3-D Secure style step): complete it with `"confirmed"` and
   *  the payment is authorized; with `"cancelled"` it is declined (`authentication_failed`). */
  readonly challenge: "4000002760003184";
  /** Authorized; the first refund of each return is refused (`refund_failed`), its retry
   *  refunded. */
  readonly refund_fails: "4000000000005126";
};

/** Every `error.code` the API documents (its own and the engine's). */
export declare const ERROR_CODES: readonly ErrorCode[];
export type ErrorCode =
  | "not_found" | "malformed_json" | "invalid_request" | "unsupported_media_type"
  | "body_too_large" | "invalid_body" | "invalid_ops_count" | "invalid_operation" | "stamp_out_of_range"
  | "stale_version" | "cursor_ahead" | "invalid_email" | "weak_password" | "invalid_name"
  | "email_taken" | "invalid_credentials" | "too_many_attempts" | "rate_limited" | "not_signed_in"
  | "idempotency_key_required" | "idempotency_mismatch" | "in_progress" | "cart_empty"
  | "invalid_checkout" | "delivery_unavailable" | "price_changed" | "out_of_stock"
  | "promotion_exhausted" | "payment_declined" | "payment_timeout" | "attempt_expired" | "unknown_payment_provider"
  | "invalid_transition" | "transition_forbidden" | "unknown_state" | "parcel_missing" | "unknown_line" | "unknown_reason" | "invalid_stock" | "substitute_unavailable" | "substitution_decided" | "wrong_pickup_code" | "pickup_locked"
  | "not_returnable" | "invalid_return" | "disposition_missing" | "internal" | "too_many_streams" | "invalid_token" | "integration_key_required"
  | "edit_not_allowed" | "line_fulfilled" | "invalid_edit" | "over_refund"
  | "already_answered" | "no_installation_address" | "invalid_slot" | "slot_taken" | "not_a_service_line" | "already_booked"
  | "invalid_installer" | "installer_has_visits"
  // The engine's refusals of a cart edit or a quote:
  | "unknown_sku" | "not_in_cart" | "too_many_lines" | "quantity_limit" | "duplicate_line"
  | "unknown_coupon" | "too_many_coupons" | "coupon_not_in_cart" | "unknown_location"
  | "service_not_offered" | "too_many_services" | "duplicate_service" | "invalid_sku"
  | "invalid_quantity" | "no_price" | "unknown_region";

/** `POST /api/checkout` (201 `CheckoutReply`), with the `Idempotency-Key` header. Unknown
 *  fields are refused; no price is read but `expected_total`, which is only compared. */
export interface CheckoutRequest {
  cart_id: string;
  /** The total the shopper saw: another server total is refused with `price_changed`. */
  expected_total: Money;
  contact: Contact;
  /** Required for delivery, absent for a pickup. */
  shipping_address?: PostalAddress;
  payment: PaymentMethod;
}
export interface Contact { email: string; name: string; phone?: string }
export interface PostalAddress {
  name: string;
  /** 1 to 3 lines. */
  street: string[];
  postcode: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}
export interface PaymentMethod { provider: string; token: string }

export interface CheckoutReply {
  order: OrderView;
  /** A guest's capability to the order (`?token=`): shown once, keep it. */
  guest_token?: string;
}

/** The answer to a checkout whose payment waits for the shopper's bank (202): stock and
 *  promotion uses are held until `challenge.expires_at`; nothing is charged yet. */
export interface ChallengeReply {
  challenge: Challenge;
}

/** What a page needs to present the challenge. */
export interface Challenge {
  /** Names it in `POST /api/checkout/{id}/complete`. */
  id: string;
  /** `"test"` (the test gateway's: present it yourself) or `"redirect"` (at `url`). */
  kind: string;
  url?: string;
  /** What the bank is asked to confirm: the order's total. */
  amount: Money;
  /** When the hold ends; completing later is `attempt_expired`. */
  expires_at: string;
}

/** `POST /api/checkout/{id}/complete`, with an `Idempotency-Key` header. */
export interface ChallengeCompletion {
  /** For a `"test"` challenge: `"confirmed"` or `"cancelled"`. */
  result: string;
}

export type OrderState =
  | "placed" | "confirmed" | "in_fulfilment" | "partially_shipped" | "shipped"
  | "ready_for_pickup" | "delivered" | "collected" | "completed" | "cancelled" | "on_hold";

/** `GET /api/orders/{number}`, `POST /api/orders/{number}/cancel`. */
export interface OrderView {
  /** `4829-1034-775`. */
  number: string;
  /** Raised by one by every edit; an edit names the version it was made against. */
  version?: number;
  state: OrderState;
  /** RFC 3339. */
  placed_at: string;
  timeline: TimelineEntry[];
  lines: QuoteLine[];
  delivery_level?: Level;
  pickup_location?: string;
  shipments: ShipmentView[];
  contact: Contact;
  shipping_address?: PostalAddress;
  totals: OrderTotals;
  payment: PaymentView;
  /** Its returns, oldest first, each with its refund's progress. */
  returns?: ReturnView[];
  /** Substitutes a location proposed, and the shopper's answers (absent: none). */
  substitutions?: SubstitutionView[];
}

/** `POST /api/orders/{number}/returns`: delivered or collected units per line (its index in
 *  `OrderView.lines`), with a reason; unknown fields are refused. */
export interface ReturnRequest { lines: ReturnLineRequest[] }
export interface ReturnLineRequest { line: number; quantity: number; reason: string }
export type ReturnState = "requested" | "received" | "refund_failed" | "refunded";
export interface ReturnView {
  id: string; order_number: string; state: ReturnState; lines: ReturnLineView[];
  /** The delivery charge refunded with it (with the order's last goods only). */
  delivery: Money;
  /** Everything it refunds. */
  total: Money;
  location?: string; timeline: ReturnEvent[];
}
export interface ReturnLineView {
  line: number; sku: string; quantity: number; reason: string;
  /** These units' share of the line's total, tax included; `tax` the tax in it. */
  refund: Money; tax: Money;
  /** A service attached to a returned item, refunded with it. */
  service: boolean;
  disposition?: "restock" | "damaged";
}
export interface ReturnEvent { state: ReturnState; at: string }
/** `POST /api/returns/{id}/receive` (integration key). */
export interface ReceiveRequest { location: string; lines: ReceivedLine[] }
export interface ReceivedLine { line: number; disposition: "restock" | "damaged" }
/** `GET /api/return-rates` (integration key): returned units over sold units. */
export interface ReturnRates { products: ReturnRate[]; customers: ReturnRate[] }
export interface ReturnRate { key: string; sold: number; returned: number; rate: string }
/** `POST /api/orders/{number}/edits/preview` and `/edits` (with `Idempotency-Key`): cart
 *  operations on the placed order at its `version`. */
export interface OrderEditRequest { version: number; ops: CartOp[] }
/** What an edit does: the engine's quote of the edited order, the money and the stock. */
export interface OrderEditPreview {
  version: number;
  quote: Quote;
  total_before: Money;
  total_after: Money;
  /** Negative: money goes back. */
  difference: Money;
  authorize: Money;
  release: Money;
  refund: Money;
  stock: StockChange[];
}
export interface StockChange { location: string; sku: string; before: number; after: number }
/** The commit's answer (200). */
export interface OrderEditReply { order: OrderView; edit: OrderEditPreview }
export interface TimelineEntry { state: OrderState; at: string; label: string }
export interface ShipmentView {
  location: string; location_name: string; lines: ShipmentLineView[];
  /** `2026-11-24`. */
  ships_on: string;
  earliest: string; latest: string; label: string;
  /** Its fulfilment order's progress (absent on the checkout's own answer). */
  progress?: ShipmentProgress;
}
export interface ShipmentProgress {
  state: FulfilmentState; timeline: ShipmentEvent[];
  carrier?: string; tracking_number?: string;
  /** While a pickup is ready: the code to show at the counter (`ABCD-EFGH`). */
  pickup_code?: string;
}
export interface ShipmentEvent { state: FulfilmentState; at: string }

/** Staff and integrations (`X-Integration-Key`): `GET /api/fulfilment-orders`, oldest first. */
export interface FulfilmentOrderList { fulfilment_orders: FulfilmentOrderView[] }
export interface FulfilmentOrderView {
  id: string; order_number: string; location: string; kind: "ship" | "pickup"; state: FulfilmentState;
  lines: FulfilmentLineView[]; carrier?: string; tracking_number?: string;
}
export interface FulfilmentLineView { sku: string; quantity: number; rejected?: "short_pick" | "damage" }
/** `POST /api/fulfilment-orders/{id}/transitions`: `to` the state wanted; `shipped` needs
 *  `carrier` and `tracking_number`. The state it is in already answers it unchanged. */
export interface TransitionRequest { to: FulfilmentState; carrier?: string; tracking_number?: string; label?: string; pickup_code?: string }
/** `POST /api/fulfilment-orders/{id}/rejections`: `lines` index the fulfilment order's lines.
 *  Each is sourced again without that location, or cancelled and never charged. */
export interface RejectionRequest { lines: number[]; reason: "short_pick" | "damage" }
export interface RejectionReply {
  fulfilment_order: FulfilmentOrderView; resourced: ResourcedLine[]; cancelled: CancelledLine[];
  /** The order's new promise: the latest delivery of its shipments still going. */
  latest_delivery?: string;
}
export interface ResourcedLine { sku: string; quantity: number; location: string; fulfilment_order_id: string }
export interface CancelledLine { sku: string; quantity: number; amount: Money }
/** `PUT /api/inventory`: each record replaces a location's on-hand count and incoming supply
 *  of a SKU (absolute: a resent feed changes nothing). All records or none. */
export interface InventoryFeed { records: InventoryRecord[] }
export interface InventoryRecord { location: string; sku: string; on_hand: number; incoming?: IncomingSupply[] }
export interface IncomingSupply { date: string; quantity: number }
export interface InventoryReply { updated: number; unchanged: number }
/** `PUT /api/installers` (integration key): the whole list of installers, replacing the server's. */
export interface InstallerFeed { installers: InstallerRecord[] }
/** `area`: the first two characters of the postcodes served. */
export interface InstallerRecord { id: string; name: string; area: string; experienced: boolean }
/** What the feed changed, by id. */
export interface InstallerReply { added: string[]; updated: string[]; removed: string[] }
/** `POST /api/fulfilment-orders/{id}/substitutions`: a picker proposes `sku` for line `line`. */
export interface SubstitutionProposal { line: number; sku: string }
/** `charged`: the lower of the ordered units' price and the substitute's, never more. */
export interface SubstitutionView {
  id: string; fulfilment_order_id: string; sku: string; substitute_sku: string; quantity: number;
  charged: Money; original: Money; state: "proposed" | "accepted" | "declined";
}
/** `POST /api/orders/{number}/substitutions/{id}`: the shopper's answer. */
export interface SubstitutionDecision { accept: boolean }
/** What a webhook endpoint receives (`POST`, JSON), at least once: deduplicate on `id`;
 *  one order's events come in `sequence` order. Check `Omnicart-Signature`
 *  (`t=<unix s>,v1=<hex>`): HMAC-SHA256 of `${t}.${rawBody}` under the shared secret. */
export interface WebhookEvent<D = unknown> {
  id: string; type: string; order_number: string; sequence: number; created_at_ms: number; data: D;
}
/** `GET /api/integration/events?order=…&state=pending|delivered|dead`, newest first. */
export interface EventList { events: EventRecord[] }
export interface EventRecord {
  id: string; type: string; order_number: string; sequence: number; created_at_ms: number;
  /** The JSON text posted and signed. */
  body: string; deliveries: DeliveryView[];
}
export interface DeliveryView {
  endpoint: string; state: "pending" | "delivered" | "dead"; attempts: number; last_error?: string;
}
/** `GET /api/orders/{number}/appointment-slots`: free slots, three weeks from the day after
 *  the goods arrive, in the address's area. */
export interface SlotList { area: string; slots: SlotView[] }
export interface SlotView { day: string; slot: string; free: number }
/** `POST /api/orders/{number}/appointments`: `line` is the index of a service line of the order. */
export interface BookRequest { line: number; day: string; slot: string }
export interface RescheduleRequest { day: string; slot: string }
export interface ComplaintRequest { reason: string; day: string; slot: string }
export interface AppointmentList { appointments: AppointmentView[] }
export interface AppointmentView {
  id: string; order_number: string; service_sku: string; line: number; area: string;
  day: string; slot: string; installer: string;
  state: "booked" | "completed" | "failed" | "cancelled";
  /** Zero for a repeat visit after a complaint. */
  charge: Money; repeat_of?: string; complaint?: string; repeat?: string;
  history: AppointmentEntry[];
}
export interface AppointmentEntry { state: string; at: string; reason: string }
/** `POST /api/appointments/{id}/transitions` (the field-service system): `completed`,
 *  `failed` or `cancelled`. */
export interface AppointmentTransition { to: string; reason?: string }
/** `GET /api/surveys/{token}`: what the survey of a delivered order asks about. */
export interface SurveyView { order_number: string; products: SurveyProduct[]; answered: boolean }
export interface SurveyProduct { sku: string; name: string }
/** `POST /api/surveys/{token}`: ratings 1 to 5, comments up to 2,000 characters; once. */
export interface SurveyAnswer { rating: number; comment?: string; products?: ProductRating[] }
export interface ProductRating { sku: string; rating: number; comment?: string }
export interface SurveyList { surveys: SurveyRecord[] }
export interface SurveyRecord { order_number: string; answered_at: number; answer: SurveyAnswer }
export interface UnsubscribeRequest { token: string }
export interface Unsubscribed { unsubscribed: boolean }
export type FulfilmentState =
  | "open" | "picking" | "packed" | "shipped" | "delivered" | "rejected"
  | "ready_for_pickup" | "collected" | "expired";
export interface ShipmentLineView { sku: string; quantity: number }
export interface OrderTotals {
  subtotal: Money; discount_total: Money; delivery: Money; tax_total: Money; total: Money;
  prices_include_tax: boolean;
}
export interface PaymentView {
  provider: string; state: string; authorized: Money; captured: Money; refunded: Money;
}

/** `GET /api/orders?page=N`. */
export interface OrderList { orders: OrderSummary[]; next_page?: number }
export interface OrderSummary {
  number: string; state: OrderState; placed_at: string; item_count: number; total: Money;
}

/** Every refusal. Decide on `error.code` and the structured fields, never on `message`. */
export interface ErrorBody { error: ErrorDetail }
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  op_index?: number;
  /** `stale_version`: the stored cart; `price_changed`, `promotion_exhausted`: the cart
   *  with the server's quote. */
  current?: CartView;
  /** `price_changed`: the server's total. */
  total?: Money;
  /** `out_of_stock`. */
  lines?: ShortLine[];
  /** `out_of_stock`. */
  alternatives?: Alternatives;
  /** `promotion_exhausted`. */
  promotions?: string[];
  /** `payment_declined`: `card_declined`, `insufficient_funds`. */
  reason?: string;
  /** A 5xx: quote it to support. */
  request_id?: string;
}
export interface ShortLine {
  sku: string;
  location: string;
  requested: number;
  available: number;
  /** When incoming supply can promise the line (a backorder date, `YYYY-MM-DD`), if any. */
  available_on?: string;
}
export interface Alternatives { levels?: Level[]; pickup_locations?: string[] }

/** A cart as the API returns it, with the server's quote (`null` if it cannot price it). */
export interface CartView { id: string; version: number; cart: Cart; quote?: Quote | null }
export interface EditRequest { version: number; ops: CartOp[] }
export interface SyncRequest { cursor: number; generation?: number; ops?: Operation[] }
export interface SyncReply {
  cursor: number; generation: number; base?: ReplicaBase; ops?: Operation[]; cart: CartView;
}
export interface SignIn { email: string; password: string; cart_id?: string }
/** `POST /api/auth/token`: credentials (signs in), else the session cookie, else a guest cart. */
export interface TokenRequest { cart_id?: string; email?: string; password?: string }
/** A bearer token for `Authorization: Bearer …`, shown once; `expires_at` in Unix seconds. */
export interface TokenReply { token: string; expires_at: number; customer_id?: string; cart_id?: string }
export interface SignUp { email: string; password: string; name: string; cart_id?: string }
export interface Me {
  customer: Customer;
  cart_id: string;
  segments?: string[];
  first_order?: boolean;
  /** Coupon codes the customer's orders used (once-per-customer coupons refuse them). */
  used_coupons?: string[];
}
export interface Customer { id: string; email: string; name: string }
