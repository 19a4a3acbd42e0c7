//! The OpenAPI 3.1 document of the whole HTTP API ([`document`]; the server serves it at
//! [`routes::OPENAPI`]), built from this crate's types: every request and reply body derives
//! `utoipa::ToSchema` under the `openapi` feature, and the operations are [`ENDPOINTS`], one
//! per route of [`routes::ALL`], as data (method, path, parameters, body, every answer with
//! the error codes it can carry).
//!
//! Only the server enables this feature: the storefront's Wasm never links `utoipa`.
//!
//! **Engine types.** The engine has no `utoipa` (it ships to every phone). The types of it the
//! contract carries have their schemas here, as unit types that only implement
//! [`ToSchema`]: the small ones in full ([`Money`], [`Sku`], [`Timestamp`], [`Level`],
//! [`QuoteLine`] and its [`Adjustment`]), the order domain's [`Contact`] and
//! [`PostalAddress`] in full, and the large ones ([`Cart`], [`Quote`], [`CartOp`],
//! [`Operation`], [`ReplicaBase`], [`Snapshot`]) as objects whose description says where
//! their shape is documented: the npm package's `omnicart_wasm.d.ts` (written in
//! `crates/wasm/src/lib.rs`) and the engine's modules.

use std::borrow::Cow;
use std::collections::BTreeMap;

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, HeaderBuilder, InfoBuilder, KnownFormat, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
    Required, ResponseBuilder, Schema,
};
use utoipa::{PartialSchema, ToSchema};

use crate::checkout::{
    ChallengeCompletion, ChallengeReply, IDEMPOTENCY_KEY, MAX_IDEMPOTENCY_KEY_BYTES, test_cards,
};
use crate::routes::{self, Route, get, post, put};
use crate::{
    AppointmentList, AppointmentTransition, AppointmentView, BookRequest, CartView, CheckoutReply,
    CheckoutRequest, ComplaintRequest, EditRequest, ErrorBody, EventList, EventRecord,
    FulfilmentOrderList, FulfilmentOrderView, Me, OrderEditPreview, OrderEditReply,
    OrderEditRequest, OrderList, OrderView, ReceiveRequest, RescheduleRequest, ReturnRates,
    ReturnRequest, ReturnView, SESSION_COOKIE, SignIn, SignUp, SlotList, SurveyAnswer, SurveyList,
    SurveyView, SyncReply, SyncRequest, TokenReply, TokenRequest, TransitionRequest,
    UnsubscribeRequest, Unsubscribed, code,
};
use crate::{
    InstallerFeed, InstallerReply, InventoryFeed, InventoryReply, RejectionReply, RejectionRequest,
    SubstitutionDecision, SubstitutionProposal, SubstitutionView,
};

/// The name of the session cookie's security scheme in the document.
pub const SESSION_SCHEME: &str = "session";
/// The name of the integration key's security scheme in the document.
pub const INTEGRATION_SCHEME: &str = "integration_key";

/// The name of the bearer token's security scheme (`POST /api/auth/token`).
pub const BEARER_SCHEME: &str = "bearer";

/// The document. Deterministic: the same build gives the same bytes.
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    for endpoint in ENDPOINTS {
        let method = match endpoint.route.method {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            other => unreachable!("routes::ALL has only GET, POST and PUT, not {other}"),
        };
        paths.add_path_operation(endpoint.route.path, vec![method], endpoint.operation());
    }
    let session = ApiKeyValue::with_description(
        SESSION_COOKIE,
        "The session of a signed-in customer, set by sign-in and sign-up (HttpOnly, \
         SameSite=Lax): a browser on the shop's origin sends it by itself.",
    );
    let components = utoipa::openapi::ComponentsBuilder::new()
        .schemas_from_iter(schemas())
        .security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(session)),
        )
        .security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::new()
                    .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from POST /api/auth/token in `Authorization: Bearer …`, for a \
                         page on another origin (one of the server's OMNICART_CORS_ORIGINS)",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            INTEGRATION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                crate::INTEGRATION_KEY_HEADER,
                "A staff tool's or integration's key (ERP, WMS, point of sale), configured on \
                 the server by name (OMNICART_INTEGRATION_KEYS).",
            ))),
        )
        .build();
    let info = InfoBuilder::new()
        .title("omnicart")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .build();
    let mut doc = OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components))
        .build();
    let cards = ExtensionsBuilder::new()
        .add(
            "x-test-cards",
            serde_json::json!({
                "success": test_cards::SUCCESS,
                "declined": test_cards::DECLINED,
                "insufficient_funds": test_cards::INSUFFICIENT_FUNDS,
                "timeout": test_cards::TIMEOUT,
                "challenge": test_cards::CHALLENGE,
                "refund_fails": test_cards::REFUND_FAILS,
            }),
        )
        .build();
    doc.extensions = Some(cards);
    doc
}

const DESCRIPTION: &str = "omnicart's HTTP API, as the storefront and the server share it \
(crates/api). Every refusal is an `ErrorBody` whose `error.code` is stable: decide on it and on \
the structured fields, never on the message or the status alone. Amounts are decimal strings. \
A checkout carries an `Idempotency-Key` header; the test gateway (provider `test`) answers by \
the card numbers in `x-test-cards`.";

/// Every named schema of the document: the contract's bodies and what they reference.
fn schemas() -> Vec<(String, RefOr<Schema>)> {
    let mut all = Vec::new();
    fn add<T: ToSchema>(all: &mut Vec<(String, RefOr<Schema>)>) {
        all.push((T::name().into_owned(), T::schema()));
        T::schemas(all);
    }
    add::<ErrorBody>(&mut all);
    add::<CartView>(&mut all);
    add::<EditRequest>(&mut all);
    add::<SyncRequest>(&mut all);
    add::<SyncReply>(&mut all);
    add::<SignIn>(&mut all);
    add::<SignUp>(&mut all);
    add::<Me>(&mut all);
    add::<TokenRequest>(&mut all);
    add::<TokenReply>(&mut all);
    add::<CheckoutRequest>(&mut all);
    add::<CheckoutReply>(&mut all);
    add::<ChallengeReply>(&mut all);
    add::<ChallengeCompletion>(&mut all);
    add::<OrderList>(&mut all);
    add::<OrderView>(&mut all);
    add::<OrderEditRequest>(&mut all);
    add::<OrderEditPreview>(&mut all);
    add::<OrderEditReply>(&mut all);
    add::<FulfilmentOrderList>(&mut all);
    add::<FulfilmentOrderView>(&mut all);
    add::<TransitionRequest>(&mut all);
    add::<ReturnRequest>(&mut all);
    add::<ReturnView>(&mut all);
    add::<ReceiveRequest>(&mut all);
    add::<ReturnRates>(&mut all);
    add::<RejectionRequest>(&mut all);
    add::<RejectionReply>(&mut all);
    add::<InventoryFeed>(&mut all);
    add::<InventoryReply>(&mut all);
    add::<InstallerFeed>(&mut all);
    add::<InstallerReply>(&mut all);
    add::<SubstitutionProposal>(&mut all);
    add::<SubstitutionView>(&mut all);
    add::<SubstitutionDecision>(&mut all);
    add::<AppointmentList>(&mut all);
    add::<AppointmentView>(&mut all);
    add::<SlotList>(&mut all);
    add::<BookRequest>(&mut all);
    add::<RescheduleRequest>(&mut all);
    add::<ComplaintRequest>(&mut all);
    add::<AppointmentTransition>(&mut all);
    add::<EventList>(&mut all);
    add::<SurveyView>(&mut all);
    add::<SurveyAnswer>(&mut all);
    add::<SurveyList>(&mut all);
    add::<UnsubscribeRequest>(&mut all);
    add::<Unsubscribed>(&mut all);
    add::<EventRecord>(&mut all);
    add::<Snapshot>(&mut all);
    add::<Document>(&mut all);
    // One entry per name (a schema referenced twice is collected twice).
    let unique: BTreeMap<String, RefOr<Schema>> = all.into_iter().collect();
    unique.into_iter().collect()
}

/// One route of the document.
pub struct Endpoint {
    pub route: Route,
    pub summary: &'static str,
    pub access: Access,
    pub params: &'static [Param],
    /// The JSON request body, if the route reads one.
    pub body: Option<Named>,
    /// The answers other than refusals.
    pub answers: &'static [Answer],
    /// The refusals this route itself gives, by status (every route may also answer
    /// `internal`, 500; every route with a body the refusals of a malformed one).
    pub refusals: &'static [Refusal],
}

/// Who may call a route.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nobody's session is read.
    Public,
    /// Anyone; a signed-in customer's session cookie changes what they see.
    SessionOptional,
    /// A signed-in customer only.
    Session,
    /// A staff tool or an integration, by its key in `X-Integration-Key`.
    Integration,
    /// The order's shopper (session, bearer token or a guest's `?token=`) or an integration
    /// by its key (a call-centre agent).
    ShopperOrIntegration,
}

/// A path, query or header parameter.
pub struct Param {
    pub name: &'static str,
    pub location: ParameterIn,
    pub required: bool,
    pub description: &'static str,
    /// What a client could send (the test fills path parameters with it).
    pub example: &'static str,
}

/// A schema by type: its `$ref`.
pub type Named = fn() -> RefOr<Schema>;

fn named<T: ToSchema>() -> RefOr<Schema> {
    Ref::from_schema_name(T::name()).into()
}

/// An answer that is not a refusal.
pub struct Answer {
    pub status: u16,
    pub description: &'static str,
    pub body: Option<Named>,
    /// Response headers worth knowing: name and what it says.
    pub headers: &'static [(&'static str, &'static str)],
}

/// Refusals of one status: an `ErrorBody` with one of `codes`.
pub struct Refusal {
    pub status: u16,
    pub codes: &'static [&'static str],
}

const NO_HEADERS: &[(&str, &str)] = &[];

const fn ok(status: u16, description: &'static str, body: Named) -> Answer {
    Answer {
        status,
        description,
        body: Some(body),
        headers: NO_HEADERS,
    }
}

const fn refused(status: u16, codes: &'static [&'static str]) -> Refusal {
    Refusal { status, codes }
}

const LAST_EVENT_ID: Param = Param {
    name: "Last-Event-ID",
    location: ParameterIn::Header,
    required: false,
    description: "The last version the client saw (the browser resends its last event id)",
    example: "3",
};

const CART_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The cart's id (from `POST /api/carts`, or `cart_id` of `/api/me`).",
    example: "cart_0123456789abcdef0123456789abcdef",
};

const CHALLENGE_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The `challenge.id` of the checkout's 202 answer.",
    example: "chl_0123456789abcdef0123456789abcdef",
};

const FULFILMENT_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The fulfilment order's `id`.",
    example: "ful_0123456789abcdef0123456789abcdef",
};

const SUBSTITUTION_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The substitution's `id`.",
    example: "sub_0123456789abcdef0123456789abcdef",
};

const LINK_TOKEN: Param = Param {
    name: "token",
    location: ParameterIn::Path,
    required: true,
    description: "The token of the link in the survey mail.",
    example: "3q2-7hXk",
};

const EVENT_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The event's `id`.",
    example: "evt_0123456789abcdef0123456789abcdef",
};

const APPOINTMENT_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The appointment's `id`.",
    example: "apt_0123456789abcdef0123456789abcdef",
};

const RETURN_ID: Param = Param {
    name: "id",
    location: ParameterIn::Path,
    required: true,
    description: "The return's `id`.",
    example: "ret_0123456789abcdef0123456789abcdef",
};

const ORDER_NUMBER: Param = Param {
    name: "number",
    location: ParameterIn::Path,
    required: true,
    description: "The order number, with or without its dashes.",
    example: "4829-1034-775",
};

const GUEST_TOKEN: Param = Param {
    name: "token",
    location: ParameterIn::Query,
    required: false,
    description: "For a guest's order: the `guest_token` of its `CheckoutReply`. A customer's \
                  order opens with their session instead.",
    example: "gt_4f9c2a",
};

/// The engine's refusals of a cart edit (`error.code`, with `op_index`).
const CART_EDIT_CODES: &[&str] = &[
    "unknown_sku",
    "not_in_cart",
    "too_many_lines",
    "quantity_limit",
    "duplicate_line",
    "unknown_coupon",
    "too_many_coupons",
    "coupon_not_in_cart",
    "unknown_location",
    "service_not_offered",
    "too_many_services",
    "duplicate_service",
    "invalid_sku",
    "invalid_quantity",
];

/// Every route of [`routes::ALL`], in its order.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: get(routes::SNAPSHOT),
        summary: "The catalogue snapshot the engine loads",
        access: Access::Public,
        params: &[Param {
            name: "If-None-Match",
            location: ParameterIn::Header,
            required: false,
            description: "The `ETag` of a snapshot the client holds: 304 if it is current.",
            example: "\"3f2a\"",
        }],
        body: None,
        answers: &[
            Answer {
                status: 200,
                description: "The snapshot",
                body: Some(named::<Snapshot>),
                headers: &[("ETag", "The snapshot's version, for If-None-Match")],
            },
            Answer {
                status: 304,
                description: "The client's snapshot is current",
                body: None,
                headers: &[("ETag", "The snapshot's version")],
            },
        ],
        refusals: &[],
    },
    Endpoint {
        route: post(routes::CARTS),
        summary: "A new anonymous cart, or a signed-in customer's own",
        access: Access::SessionOptional,
        params: &[],
        body: None,
        answers: &[ok(201, "The cart", named::<CartView>)],
        refusals: &[refused(429, &[code::RATE_LIMITED])],
    },
    Endpoint {
        route: get(routes::CART),
        summary: "A cart, priced by the server",
        access: Access::SessionOptional,
        params: &[CART_ID],
        body: None,
        answers: &[ok(200, "The cart", named::<CartView>)],
        refusals: &[refused(404, &[code::NOT_FOUND])],
    },
    Endpoint {
        route: post(routes::CART_OPS),
        summary: "Edits to a cart at a version, all or nothing",
        access: Access::SessionOptional,
        params: &[CART_ID],
        body: Some(named::<EditRequest>),
        answers: &[ok(200, "The edited cart", named::<CartView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::STALE_VERSION]),
            refused(422, &[code::INVALID_OPS_COUNT]),
            refused(422, CART_EDIT_CODES),
            refused(429, &[code::RATE_LIMITED]),
        ],
    },
    Endpoint {
        route: get(routes::CART_EVENTS),
        summary: "The cart's new versions as they are committed (server-sent events)",
        access: Access::SessionOptional,
        params: &[CART_ID, LAST_EVENT_ID],
        body: None,
        answers: &[Answer {
            status: 200,
            description: "A text/event-stream (never compressed): one `cart` event per new version, \
                its id and data `{\"version\":N}`, first the current version unless \
                Last-Event-ID already names it; comments keep it alive; it ends when the server \
                shuts down",
            body: None,
            headers: &[("Content-Type", "text/event-stream")],
        }],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(503, &[code::TOO_MANY_STREAMS]),
        ],
    },
    Endpoint {
        route: post(routes::CART_SYNC),
        summary: "Push a device's operations and pull the ones it lacks",
        access: Access::SessionOptional,
        params: &[CART_ID],
        body: Some(named::<SyncRequest>),
        answers: &[ok(
            200,
            "The merged cart and the operations",
            named::<SyncReply>,
        )],
        refusals: &[
            refused(
                400,
                &[
                    code::INVALID_OPERATION,
                    code::STAMP_OUT_OF_RANGE,
                    "invalid_sku",
                    "invalid_quantity",
                ],
            ),
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::CURSOR_AHEAD]),
            refused(422, &[code::INVALID_OPS_COUNT]),
            refused(422, CART_EDIT_CODES),
            refused(429, &[code::RATE_LIMITED]),
        ],
    },
    Endpoint {
        route: post(routes::SIGN_UP),
        summary: "Create an account and sign in",
        access: Access::Public,
        params: &[],
        body: Some(named::<SignUp>),
        answers: &[Answer {
            status: 201,
            description: "Signed in",
            body: Some(named::<Me>),
            headers: &[("Set-Cookie", "The session cookie")],
        }],
        refusals: &[
            refused(409, &[code::EMAIL_TAKEN]),
            refused(
                422,
                &[code::INVALID_EMAIL, code::WEAK_PASSWORD, code::INVALID_NAME],
            ),
            refused(429, &[code::RATE_LIMITED]),
        ],
    },
    Endpoint {
        route: post(routes::SIGN_IN),
        summary: "Sign in",
        access: Access::Public,
        params: &[],
        body: Some(named::<SignIn>),
        answers: &[Answer {
            status: 200,
            description: "Signed in",
            body: Some(named::<Me>),
            headers: &[("Set-Cookie", "The session cookie")],
        }],
        refusals: &[
            refused(401, &[code::INVALID_CREDENTIALS]),
            refused(404, &[code::NOT_FOUND]),
            refused(429, &[code::TOO_MANY_ATTEMPTS, code::RATE_LIMITED]),
        ],
    },
    Endpoint {
        route: post(routes::SIGN_OUT),
        summary: "End the session",
        access: Access::SessionOptional,
        params: &[],
        body: None,
        answers: &[Answer {
            status: 204,
            description: "Signed out",
            body: None,
            headers: &[("Set-Cookie", "The session cookie, cleared")],
        }],
        refusals: &[],
    },
    Endpoint {
        route: post(routes::TOKEN),
        summary: "A bearer token for a page on another origin (credentials, the session, or a guest cart)",
        access: Access::SessionOptional,
        params: &[],
        body: Some(named::<TokenRequest>),
        answers: &[ok(200, "The token, shown once", named::<TokenReply>)],
        refusals: &[
            refused(401, &[code::NOT_SIGNED_IN, code::INVALID_CREDENTIALS]),
            refused(404, &[code::NOT_FOUND]),
            refused(422, &[code::INVALID_REQUEST]),
            refused(429, &[code::TOO_MANY_ATTEMPTS, code::RATE_LIMITED]),
        ],
    },
    Endpoint {
        route: get(routes::ME),
        summary: "Who is signed in",
        access: Access::Session,
        params: &[],
        body: None,
        answers: &[ok(200, "The customer", named::<Me>)],
        refusals: &[refused(401, &[code::NOT_SIGNED_IN])],
    },
    Endpoint {
        route: post(routes::CHECKOUT),
        summary: "Place an order: the cart priced again, stock reserved, the payment authorized",
        access: Access::SessionOptional,
        params: &[Param {
            name: IDEMPOTENCY_KEY,
            location: ParameterIn::Header,
            required: true,
            description: "1 to 255 bytes, random per attempt and reused for every retry of the \
                          same body. The first answer per key is replayed for 24 hours.",
            example: "5b0d7c1e-8a6f-4f0e-9a51-3c2d1e0f9b7a",
        }],
        body: Some(named::<CheckoutRequest>),
        answers: &[
            ok(201, "The order was placed", named::<CheckoutReply>),
            ok(
                202,
                "The payment waits for the shopper's bank: present the challenge, then \
                 complete it (stock and uses are held until it expires)",
                named::<ChallengeReply>,
            ),
        ],
        refusals: &[
            refused(400, &[code::IDEMPOTENCY_KEY_REQUIRED]),
            refused(402, &[code::PAYMENT_DECLINED]),
            refused(404, &[code::NOT_FOUND]),
            refused(
                409,
                &[
                    code::IN_PROGRESS,
                    code::DELIVERY_UNAVAILABLE,
                    code::PRICE_CHANGED,
                    code::OUT_OF_STOCK,
                    code::PROMOTION_EXHAUSTED,
                ],
            ),
            refused(
                422,
                &[
                    code::IDEMPOTENCY_MISMATCH,
                    code::CART_EMPTY,
                    code::INVALID_CHECKOUT,
                    code::UNKNOWN_PAYMENT_PROVIDER,
                    "unknown_sku",
                    "no_price",
                    "unknown_region",
                ],
            ),
            refused(504, &[code::PAYMENT_TIMEOUT]),
        ],
    },
    Endpoint {
        route: post(routes::CHECKOUT_COMPLETE),
        summary: "Complete a checkout's payment challenge with the shopper's result",
        access: Access::SessionOptional,
        params: &[
            CHALLENGE_ID,
            Param {
                name: IDEMPOTENCY_KEY,
                location: ParameterIn::Header,
                required: true,
                description: "1 to 255 bytes, random per completion and reused for its retries. \
                              Whatever the keys, a challenge is completed once: later \
                              completions get the first one's answer.",
                example: "0f3a9c2e-6d1b-4e8a-b7c5-2a9d8e7f6c5b",
            },
        ],
        body: Some(named::<ChallengeCompletion>),
        answers: &[ok(201, "The order was placed", named::<CheckoutReply>)],
        refusals: &[
            refused(400, &[code::IDEMPOTENCY_KEY_REQUIRED]),
            refused(402, &[code::PAYMENT_DECLINED]),
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::IN_PROGRESS, code::ATTEMPT_EXPIRED]),
            refused(422, &[code::IDEMPOTENCY_MISMATCH, code::INVALID_CHECKOUT]),
            refused(504, &[code::PAYMENT_TIMEOUT]),
        ],
    },
    Endpoint {
        route: get(routes::ORDERS),
        summary: "The signed-in customer's orders, newest first",
        access: Access::Session,
        params: &[Param {
            name: "page",
            location: ParameterIn::Query,
            required: false,
            description: "From 1 (the default); `next_page` of the previous page.",
            example: "1",
        }],
        body: None,
        answers: &[ok(200, "A page of orders", named::<OrderList>)],
        refusals: &[refused(404, &[code::NOT_FOUND])],
    },
    Endpoint {
        route: get(routes::ORDER),
        summary: "One order, to its customer or the holder of its guest token",
        access: Access::SessionOptional,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: None,
        answers: &[ok(200, "The order", named::<OrderView>)],
        refusals: &[refused(404, &[code::NOT_FOUND])],
    },
    Endpoint {
        route: post(routes::ORDER_CANCEL),
        summary: "Cancel an order not yet in fulfilment (the payment is voided)",
        access: Access::SessionOptional,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: None,
        answers: &[ok(200, "The cancelled order", named::<OrderView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::INVALID_TRANSITION, "transition_forbidden"]),
        ],
    },
    Endpoint {
        route: post(routes::ORDER_EDIT_PREVIEW),
        summary: "Preview an edit of a placed order (dry run): the engine's quote of the edited \
                  order with the promotions as of its placement, the money difference and the \
                  stock it would re-reserve. The shopper before fulfilment; a call-centre agent \
                  (integration key) while lines are unfulfilled. Nothing changes.",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: Some(named::<OrderEditRequest>),
        answers: &[ok(200, "What the edit would do", named::<OrderEditPreview>)],
        refusals: EDIT_REFUSALS,
    },
    Endpoint {
        route: post(routes::ORDER_EDITS),
        summary: "Commit an edit of a placed order at its version: re-priced by the engine \
                  (promotions as of placement), stock re-reserved atomically, open fulfilment \
                  orders updated, the difference authorized on top of the hold or released \
                  (refunded where captured). Replaying the key answers the first answer.",
        access: Access::ShopperOrIntegration,
        params: &[
            ORDER_NUMBER,
            GUEST_TOKEN,
            Param {
                name: IDEMPOTENCY_KEY,
                location: ParameterIn::Header,
                required: true,
                description: "1 to 255 bytes, random per edit and reused for its retries. The \
                              first answer per key is replayed for 24 hours; nothing moves twice.",
                example: "7c1e5b0d-8a6f-4f0e-9a51-3c2d1e0f9b7a",
            },
        ],
        body: Some(named::<OrderEditRequest>),
        answers: &[ok(200, "The edited order", named::<OrderEditReply>)],
        refusals: EDIT_COMMIT_REFUSALS,
    },
    Endpoint {
        route: get(routes::ORDER_APPOINTMENTS),
        summary: "The order's installation visits, first booked first",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: None,
        answers: &[ok(200, "The visits", named::<AppointmentList>)],
        refusals: &[refused(404, &[code::NOT_FOUND])],
    },
    Endpoint {
        route: post(routes::ORDER_APPOINTMENTS),
        summary: "Book the installation visit of a service line of the order",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: Some(named::<BookRequest>),
        answers: &[ok(201, "The visit", named::<AppointmentView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(
                409,
                &[
                    code::SLOT_TAKEN,
                    code::ALREADY_BOOKED,
                    code::INVALID_TRANSITION,
                ],
            ),
            refused(
                422,
                &[
                    code::INVALID_SLOT,
                    code::NOT_A_SERVICE_LINE,
                    code::NO_INSTALLATION_ADDRESS,
                ],
            ),
        ],
    },
    Endpoint {
        route: get(routes::ORDER_APPOINTMENT_SLOTS),
        summary: "The free installation slots for the order: three weeks from the day after \
                  its goods arrive, in its address's area",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: None,
        answers: &[ok(200, "Free slots", named::<SlotList>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(422, &[code::NO_INSTALLATION_ADDRESS]),
        ],
    },
    Endpoint {
        route: post(routes::APPOINTMENT_RESCHEDULE),
        summary: "Move a booked visit to another day or slot",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, APPOINTMENT_ID, GUEST_TOKEN],
        body: Some(named::<RescheduleRequest>),
        answers: &[ok(200, "The moved visit", named::<AppointmentView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::SLOT_TAKEN, code::INVALID_TRANSITION]),
            refused(422, &[code::INVALID_SLOT]),
        ],
    },
    Endpoint {
        route: post(routes::APPOINTMENT_CANCEL),
        summary: "Cancel a booked visit (its installer is free again)",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, APPOINTMENT_ID, GUEST_TOKEN],
        body: None,
        answers: &[ok(200, "The cancelled visit", named::<AppointmentView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::INVALID_TRANSITION, "transition_forbidden"]),
        ],
    },
    Endpoint {
        route: post(routes::APPOINTMENT_COMPLAINT),
        summary: "Record a complaint about a visit that happened and book its repeat visit: an \
                  experienced installer, no charge, linked to the first",
        access: Access::ShopperOrIntegration,
        params: &[ORDER_NUMBER, APPOINTMENT_ID, GUEST_TOKEN],
        body: Some(named::<ComplaintRequest>),
        answers: &[ok(201, "The repeat visit", named::<AppointmentView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::SLOT_TAKEN, code::INVALID_TRANSITION]),
            refused(422, &[code::INVALID_SLOT, code::INVALID_REQUEST]),
        ],
    },
    Endpoint {
        route: post(routes::APPOINTMENT_TRANSITIONS),
        summary: "The installer's report: completed or failed (or cancelled)",
        access: Access::Integration,
        params: &[APPOINTMENT_ID],
        body: Some(named::<AppointmentTransition>),
        answers: &[ok(200, "The visit", named::<AppointmentView>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::INVALID_TRANSITION, "transition_forbidden"]),
            refused(422, &[code::UNKNOWN_STATE]),
        ],
    },
    Endpoint {
        route: post(routes::ORDER_RETURNS),
        summary: "Return delivered or collected units, per line, with a reason; the refund \
                  follows the return's receipt",
        access: Access::SessionOptional,
        params: &[ORDER_NUMBER, GUEST_TOKEN],
        body: Some(named::<ReturnRequest>),
        answers: &[ok(201, "The return, requested", named::<ReturnView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::NOT_RETURNABLE]),
            refused(422, &[code::INVALID_RETURN, code::UNKNOWN_LINE]),
        ],
    },
    Endpoint {
        route: post(routes::RETURN_RECEIVE),
        summary: "Receive a return at a location with a disposition per line (restocked units \
                  are available there at once), then refund it to the original payment. A \
                  refund the provider refuses leaves `refund_failed`, nothing moved. A return \
                  received already answers as it is.",
        access: Access::Integration,
        params: &[RETURN_ID],
        body: Some(named::<ReceiveRequest>),
        answers: &[ok(200, "The return", named::<ReturnView>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
            refused(
                422,
                &[
                    code::INVALID_RETURN,
                    code::UNKNOWN_LINE,
                    code::DISPOSITION_MISSING,
                    code::UNKNOWN_LOCATION,
                ],
            ),
        ],
    },
    Endpoint {
        route: post(routes::RETURN_REFUND),
        summary: "Try a received return's refund again (after `refund_failed`); refunded \
                  once, whatever the retries",
        access: Access::Integration,
        params: &[RETURN_ID],
        body: None,
        answers: &[ok(200, "The return", named::<ReturnView>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::INVALID_TRANSITION]),
        ],
    },
    Endpoint {
        route: get(routes::RETURN_RATES),
        summary: "Return rates (returned units over sold units) per product and per customer",
        access: Access::Integration,
        params: &[],
        body: None,
        answers: &[ok(200, "The rates", named::<ReturnRates>)],
        refusals: &[refused(401, &[code::INTEGRATION_KEY_REQUIRED])],
    },
    Endpoint {
        route: get(routes::FULFILMENT_ORDERS),
        summary: "Fulfilment orders by location and state, oldest first (staff, integrations)",
        access: Access::Integration,
        params: &[
            Param {
                name: "location",
                location: ParameterIn::Query,
                required: false,
                description: "Only this location's (a network location id).",
                example: "dc-berlin",
            },
            Param {
                name: "state",
                location: ParameterIn::Query,
                required: false,
                description: "Only those in this state (`open`, `picking`, …).",
                example: "open",
            },
            Param {
                name: "order",
                location: ParameterIn::Query,
                required: false,
                description: "Only this order's (its number).",
                example: "4829-1034-775",
            },
        ],
        body: None,
        answers: &[ok(200, "Fulfilment orders", named::<FulfilmentOrderList>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(422, &[code::UNKNOWN_STATE]),
        ],
    },
    Endpoint {
        route: post(routes::FULFILMENT_TRANSITIONS),
        summary: "Move a fulfilment order: pick, pack, ship (capturing the parcel once), \
                  deliver, ready for pickup (mailing the shopper a pickup code), collected (with \
                  that code; wrong codes are counted and lock it). The state it is in already \
                  answers it unchanged.",
        access: Access::Integration,
        params: &[FULFILMENT_ID],
        body: Some(named::<TransitionRequest>),
        answers: &[ok(
            200,
            "The fulfilment order",
            named::<FulfilmentOrderView>,
        )],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
            refused(
                409,
                &[
                    code::INVALID_TRANSITION,
                    "transition_forbidden",
                    code::WRONG_PICKUP_CODE,
                    code::PICKUP_LOCKED,
                ],
            ),
            refused(422, &[code::UNKNOWN_STATE, code::PARCEL_MISSING]),
        ],
    },
    Endpoint {
        route: post(routes::FULFILMENT_REJECTIONS),
        summary: "A location rejects lines (short pick, damage) before anything leaves it: each \
                  is sourced again by the engine without that location, its reservation moved \
                  and the shopper mailed the new promise; a line nowhere can fill is cancelled \
                  and never captured. A line already rejected changes nothing.",
        access: Access::Integration,
        params: &[FULFILMENT_ID],
        body: Some(named::<RejectionRequest>),
        answers: &[ok(
            200,
            "Where the rejected lines went",
            named::<RejectionReply>,
        )],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::INVALID_TRANSITION]),
            refused(422, &[code::UNKNOWN_LINE, code::UNKNOWN_REASON]),
        ],
    },
    Endpoint {
        route: put(routes::INVENTORY),
        summary: "The inventory feed (ERP, WMS, point of sale): each record replaces a location's \
                  on-hand count and incoming supply of a SKU; reservations stay. All records or \
                  none; a resent feed changes nothing.",
        access: Access::Integration,
        params: &[],
        body: Some(named::<InventoryFeed>),
        answers: &[ok(200, "What the feed changed", named::<InventoryReply>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(
                422,
                &["unknown_location", "unknown_sku", code::INVALID_STOCK],
            ),
        ],
    },
    Endpoint {
        route: put(routes::INSTALLERS),
        summary: "The installers feed (HR or field-service system): the whole list of \
                  installers by area, replacing the server's. All records or none; an \
                  installer left out who still has visits booked refuses the feed.",
        access: Access::Integration,
        params: &[],
        body: Some(named::<InstallerFeed>),
        answers: &[ok(200, "What the feed changed", named::<InstallerReply>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(409, &[code::INSTALLER_HAS_VISITS]),
            refused(422, &[code::INVALID_INSTALLER]),
        ],
    },
    Endpoint {
        route: post(routes::FULFILMENT_SUBSTITUTIONS),
        summary: "A picker proposes a substitute for a line, before anything leaves the \
                  location; the shopper is mailed and answers on the order's page. The \
                  substitute is charged at the lower of the two prices.",
        access: Access::Integration,
        params: &[FULFILMENT_ID],
        body: Some(named::<SubstitutionProposal>),
        answers: &[ok(
            200,
            "The proposed substitution",
            named::<SubstitutionView>,
        )],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::INVALID_TRANSITION, code::SUBSTITUTION_DECIDED]),
            refused(422, &[code::UNKNOWN_LINE, "unknown_sku"]),
        ],
    },
    Endpoint {
        route: post(routes::ORDER_SUBSTITUTION),
        summary: "The order's shopper accepts a proposed substitute (it ships instead, at the \
                  lower price) or declines it (the line is sourced again elsewhere or cancelled \
                  uncharged); the same answer again changes nothing",
        access: Access::SessionOptional,
        params: &[ORDER_NUMBER, SUBSTITUTION_ID, GUEST_TOKEN],
        body: Some(named::<SubstitutionDecision>),
        answers: &[ok(200, "The substitution", named::<SubstitutionView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(
                409,
                &[
                    code::INVALID_TRANSITION,
                    code::SUBSTITUTION_DECIDED,
                    code::SUBSTITUTE_UNAVAILABLE,
                ],
            ),
        ],
    },
    Endpoint {
        route: get(routes::SURVEY),
        summary: "The feedback survey of a delivered order, by its link's token (no sign-in)",
        access: Access::Public,
        params: &[LINK_TOKEN],
        body: None,
        answers: &[ok(200, "The survey", named::<SurveyView>)],
        refusals: &[refused(404, &[code::NOT_FOUND])],
    },
    Endpoint {
        route: post(routes::SURVEY),
        summary: "Answer the survey: the order's rating and comment, and its products' (once)",
        access: Access::Public,
        params: &[LINK_TOKEN],
        body: Some(named::<SurveyAnswer>),
        answers: &[ok(201, "The survey, answered", named::<SurveyView>)],
        refusals: &[
            refused(404, &[code::NOT_FOUND]),
            refused(409, &[code::ALREADY_ANSWERED]),
        ],
    },
    Endpoint {
        route: get(routes::INTEGRATION_SURVEYS),
        summary: "The survey answers, newest first (staff)",
        access: Access::Integration,
        params: &[],
        body: None,
        answers: &[ok(200, "Answers", named::<SurveyList>)],
        refusals: &[refused(401, &[code::INTEGRATION_KEY_REQUIRED])],
    },
    Endpoint {
        route: post(routes::UNSUBSCRIBE),
        summary: "No more cart reminders, by the token of a reminder's link (no sign-in)",
        access: Access::Public,
        params: &[],
        body: Some(named::<UnsubscribeRequest>),
        answers: &[ok(200, "Unsubscribed", named::<Unsubscribed>)],
        refusals: &[refused(404, &[code::NOT_FOUND])],
    },
    Endpoint {
        route: get(routes::INTEGRATION_EVENTS),
        summary: "The events sent to the webhook endpoints, newest first, with where each \
                  delivery stands (staff, integrations): the dead letters with `state=dead`",
        access: Access::Integration,
        params: &[
            Param {
                name: "order",
                location: ParameterIn::Query,
                required: false,
                description: "Only this order's (its number).",
                example: "4829-1034-775",
            },
            Param {
                name: "state",
                location: ParameterIn::Query,
                required: false,
                description: "Only events with a delivery in this state: `pending`, \
                              `delivered` or `dead`.",
                example: "dead",
            },
        ],
        body: None,
        answers: &[ok(200, "Events", named::<EventList>)],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(422, &[code::UNKNOWN_STATE]),
        ],
    },
    Endpoint {
        route: post(routes::INTEGRATION_EVENT_REPLAY),
        summary: "Deliver an event again to every endpoint, with the same id and body (a dead \
                  letter, or one a receiver lost)",
        access: Access::Integration,
        params: &[EVENT_ID],
        body: None,
        answers: &[ok(
            200,
            "The event, its deliveries pending",
            named::<EventRecord>,
        )],
        refusals: &[
            refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
            refused(404, &[code::NOT_FOUND]),
        ],
    },
    Endpoint {
        route: get(routes::OPENAPI),
        summary: "This document",
        access: Access::Public,
        params: &[],
        body: None,
        answers: &[ok(200, "The OpenAPI document", named::<Document>)],
        refusals: &[],
    },
];

/// What an order edit's preview may be refused for.
const EDIT_REFUSALS: &[Refusal] = &[
    refused(404, &[code::NOT_FOUND]),
    refused(
        409,
        &[
            code::STALE_VERSION,
            code::EDIT_NOT_ALLOWED,
            code::LINE_FULFILLED,
            code::OUT_OF_STOCK,
            code::DELIVERY_UNAVAILABLE,
            "over_refund",
        ],
    ),
    refused(
        422,
        &[
            code::INVALID_EDIT,
            code::INVALID_OPS_COUNT,
            "unknown_sku",
            "not_in_cart",
            "quantity_limit",
            "too_many_lines",
            "unknown_location",
            "service_not_offered",
            "too_many_services",
            "duplicate_service",
            "no_price",
        ],
    ),
];

/// What an order edit's commit may be refused for: the preview's, and the key's and the
/// payment's.
const EDIT_COMMIT_REFUSALS: &[Refusal] = &[
    refused(400, &[code::IDEMPOTENCY_KEY_REQUIRED]),
    refused(401, &[code::INTEGRATION_KEY_REQUIRED]),
    refused(402, &[code::PAYMENT_DECLINED]),
    refused(404, &[code::NOT_FOUND]),
    refused(
        409,
        &[
            code::STALE_VERSION,
            code::EDIT_NOT_ALLOWED,
            code::LINE_FULFILLED,
            code::OUT_OF_STOCK,
            code::DELIVERY_UNAVAILABLE,
            code::IN_PROGRESS,
            "over_refund",
        ],
    ),
    refused(
        422,
        &[
            code::IDEMPOTENCY_MISMATCH,
            code::INVALID_EDIT,
            code::INVALID_OPS_COUNT,
            "unknown_sku",
            "not_in_cart",
            "quantity_limit",
            "too_many_lines",
            "unknown_location",
            "service_not_offered",
            "too_many_services",
            "duplicate_service",
            "no_price",
        ],
    ),
];

/// What every route with a JSON body may be refused for before it runs.
const BODY_REFUSALS: &[Refusal] = &[
    refused(400, &[code::MALFORMED_JSON, code::INVALID_BODY]),
    refused(413, &[code::BODY_TOO_LARGE]),
    refused(415, &[code::UNSUPPORTED_MEDIA_TYPE]),
    refused(422, &[code::INVALID_REQUEST]),
];

impl Endpoint {
    fn operation(&self) -> utoipa::openapi::path::Operation {
        let mut operation = OperationBuilder::new()
            .summary(Some(self.summary))
            .operation_id(Some(operation_id(self.route)));
        for param in self.params {
            operation = operation.parameter(param.parameter());
        }
        if let Some(body) = self.body {
            let body = RequestBodyBuilder::new()
                .content("application/json", Content::new(Some(body())))
                .required(Some(Required::True));
            operation = operation.request_body(Some(body.build()));
        }
        for answer in self.answers {
            operation = operation.response(answer.status.to_string(), answer.response());
        }
        for (status, codes) in self.refusals_by_status() {
            operation = operation.response(status.to_string(), refusal_response(&codes));
        }
        let session = SecurityRequirement::new(SESSION_SCHEME, Vec::<String>::new());
        let bearer = SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new());
        match self.access {
            Access::Public => operation = operation.securities(Some(Vec::new())),
            Access::SessionOptional => {
                operation =
                    operation.securities(Some([SecurityRequirement::default(), session, bearer]))
            }
            Access::Session => operation = operation.securities(Some([session, bearer])),
            Access::Integration => {
                let key = SecurityRequirement::new(INTEGRATION_SCHEME, Vec::<String>::new());
                operation = operation.securities(Some([key]))
            }
            Access::ShopperOrIntegration => {
                let key = SecurityRequirement::new(INTEGRATION_SCHEME, Vec::<String>::new());
                operation = operation.securities(Some([
                    SecurityRequirement::default(),
                    session,
                    bearer,
                    key,
                ]))
            }
        }
        operation.build()
    }

    /// This route's refusals, the malformed body's and `internal`, merged by status.
    pub fn refusals_by_status(&self) -> BTreeMap<u16, Vec<&'static str>> {
        let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
        let body = if self.body.is_some() {
            BODY_REFUSALS
        } else {
            &[]
        };
        for refusal in self.refusals.iter().chain(body) {
            let codes = by_status.entry(refusal.status).or_default();
            for code in refusal.codes {
                if !codes.contains(code) {
                    codes.push(code);
                }
            }
        }
        if self.access != Access::Public {
            // A bearer token that is unknown, expired or revoked.
            let codes = by_status.entry(401).or_default();
            if !codes.contains(&code::INVALID_TOKEN) {
                codes.push(code::INVALID_TOKEN);
            }
        }
        if self.access == Access::ShopperOrIntegration {
            // An integration key that is not a known integration's (never the shopper's way).
            let codes = by_status.entry(401).or_default();
            if !codes.contains(&code::INTEGRATION_KEY_REQUIRED) {
                codes.push(code::INTEGRATION_KEY_REQUIRED);
            }
        }
        by_status.insert(500, vec![code::INTERNAL]);
        by_status
    }
}

/// `GET /api/orders/{number}` → `get_api_orders_number`.
fn operation_id(route: Route) -> String {
    let words: Vec<String> = route
        .path
        .split(['/', '-', '.', '{', '}'])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    format!("{}_{}", route.method.to_ascii_lowercase(), words.join("_"))
}

impl Param {
    fn parameter(&self) -> utoipa::openapi::path::Parameter {
        let required = if self.required {
            Required::True
        } else {
            Required::False
        };
        let schema = ObjectBuilder::new().schema_type(Type::String);
        ParameterBuilder::new()
            .name(self.name)
            .parameter_in(self.location.clone())
            .required(required)
            .description(Some(self.description))
            .schema(Some(schema))
            .example(Some(self.example.into()))
            .build()
    }
}

impl Answer {
    fn response(&self) -> utoipa::openapi::Response {
        let mut response = ResponseBuilder::new().description(self.description);
        if let Some(body) = self.body {
            response = response.content("application/json", Content::new(Some(body())));
        }
        for (name, description) in self.headers {
            let header = HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(*description));
            response = response.header(*name, header.build());
        }
        response.build()
    }
}

/// An `ErrorBody` answer whose `error.code` is one of `codes` (also listed, for tools, as
/// `x-error-codes`).
fn refusal_response(codes: &[&str]) -> utoipa::openapi::Response {
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let description = format!("Refused: `error.code` is one of {}", list.join(", "));
    let listed = ExtensionsBuilder::new()
        .add("x-error-codes", serde_json::json!(codes))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(named::<ErrorBody>())))
        .extensions(Some(listed));
    let waits = [
        code::IN_PROGRESS,
        code::TOO_MANY_ATTEMPTS,
        code::RATE_LIMITED,
    ];
    if codes.iter().any(|c| waits.contains(c)) {
        let header = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
            .description(Some(
                "`in_progress`, `too_many_attempts`, `rate_limited`: whole seconds to wait",
            ));
        response = response.header("Retry-After", header.build());
    }
    response.build()
}

/// A schema implemented by hand, for a type whose crate has no `utoipa`.
macro_rules! hand_written {
    ($(#[$doc:meta])* $name:ident, refs = [$($dep:ident),*], $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            #[allow(unused_variables, reason = "schemas without references push nothing")]
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                $(
                    schemas.push(($dep::name().into_owned(), $dep::schema()));
                    $dep::schemas(schemas);
                )*
            }
        }
    };
}

fn string(description: &str, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([example])
}

fn object(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
}

fn array_of<T: ToSchema>() -> ArrayBuilder {
    ArrayBuilder::new().items(named::<T>())
}

hand_written!(
    /// `omnicart_engine::Money`.
    Money,
    refs = [],
    object("An amount in a currency. The amount is a decimal string, never a JSON number.")
        .property("amount", string("Decimal, at the currency's minor unit", "1299.00"))
        .required("amount")
        .property("currency", string("ISO 4217", "EUR"))
        .required("currency")
);

hand_written!(
    /// `omnicart_engine::Sku`.
    Sku,
    refs = [],
    string("A stock-keeping unit: 1 to 64 characters", "LUM-OLED-C4-55").max_length(Some(64))
);

hand_written!(
    /// `omnicart_engine::Timestamp`.
    Timestamp,
    refs = [],
    string("RFC 3339, UTC", "2026-11-23T09:00:00Z")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
);

hand_written!(
    /// `omnicart_engine::fulfilment::Date`: a civil date.
    Date,
    refs = [],
    string("A civil date (ISO 8601)", "2026-12-08")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
);

hand_written!(
    /// `omnicart_engine::fulfilment::Level`.
    Level,
    refs = [],
    string("A delivery level", "standard").enum_values(Some(
        ["standard", "express", "same_day", "scheduled"]
    ))
);

hand_written!(
    /// `omnicart_engine::quote::Adjustment`.
    Adjustment,
    refs = [Money],
    object("A promotion's discount on a line")
        .property("promotion_id", string("The promotion", "spend-and-save"))
        .required("promotion_id")
        .property("label", string("For people", "€100 off over €1,500"))
        .required("label")
        .property("amount", named::<Money>())
        .required("amount")
);

fn money_fields(mut line: ObjectBuilder, names: &[&str]) -> ObjectBuilder {
    for name in names {
        line = line.property(*name, named::<Money>()).required(*name);
    }
    line
}

hand_written!(
    /// `omnicart_engine::QuoteLine`: a line of an order as the engine priced it.
    QuoteLine,
    refs = [Money, Sku, Adjustment],
    money_fields(
        object("A priced line: goods, or a service attached to the line before it")
            .property("sku", named::<Sku>())
            .required("sku")
            .property("product_id", string("The product", "lum-oled-c4"))
            .required("product_id")
            .property("name", string("For people", "Lumen OLED C4 55\""))
            .required("name")
            .property(
                "quantity",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(999))
            )
            .required("quantity")
            .property("adjustments", array_of::<Adjustment>())
            .required("adjustments")
            .property(
                "gift",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some("Added by a promotion, not by the shopper"))
            )
            .required("gift")
            .property(
                "tax_rate",
                string(
                    "The rate the line's tax was computed at, a decimal fraction (0 when untaxed)",
                    "0.19"
                )
            )
            .required("tax_rate")
            .property("attached_to", named::<Sku>()),
        &["unit_price", "gross", "net", "order_discount", "tax", "total"]
    )
);

hand_written!(
    /// `omnicart_order::Contact` (`omnicart_api::Contact`).
    Contact,
    refs = [],
    object("Who to tell about the order (200 characters per field at most)")
        .property("email", string("Where the confirmation goes", "ada@example.com"))
        .required("email")
        .property("name", string("The shopper's name", "Ada Lovelace"))
        .required("name")
        .property("phone", string("Optional", "+49 30 1234567"))
);

hand_written!(
    /// `omnicart_order::Address` (`omnicart_api::PostalAddress`).
    PostalAddress,
    refs = [],
    object("Where to deliver (200 characters per field, 3 street lines at most)")
        .property("name", string("The recipient", "Ada Lovelace"))
        .required("name")
        .property(
            "street",
            ArrayBuilder::new()
                .items(string("A street line", "Invalidenstraße 117"))
                .min_items(Some(1))
                .max_items(Some(3))
        )
        .required("street")
        .property("postcode", string("The postcode", "10115"))
        .required("postcode")
        .property("city", string("The city", "Berlin"))
        .required("city")
        .property("country", string("ISO 3166-1 alpha-2", "DE"))
        .required("country")
);

hand_written!(
    /// `omnicart_engine::Cart`.
    Cart,
    refs = [],
    object(
        "A cart: `lines` (`sku`, `quantity`, `services`), `coupons`, `delivery`, `address`. \
         Its shape is the npm package's `Cart` (omnicart_wasm.d.ts) and crates/engine/src/cart.rs."
    )
);

hand_written!(
    /// `omnicart_engine::Quote`.
    Quote,
    refs = [],
    object(
        "The engine's pricing of a cart: lines, adjustments, tax, totals, rejections, hints. \
         Its shape is the npm package's `Quote` (omnicart_wasm.d.ts) and crates/engine/src/quote.rs."
    )
);

hand_written!(
    /// `omnicart_engine::CartOp`.
    CartOp,
    refs = [],
    object(
        "One cart edit, `{\"op\": \"add\", \"sku\": …, \"quantity\": …}` and the others: the npm \
         package's `CartOp` (omnicart_wasm.d.ts) and crates/engine/src/cart.rs."
    )
);

hand_written!(
    /// `omnicart_engine::replica::Operation`.
    Operation,
    refs = [],
    object(
        "A cart edit as the sync log keeps it (id, stamp, device, seen, op): the npm package's \
         `Operation` (omnicart_wasm.d.ts) and crates/engine/src/replica.rs."
    )
);

hand_written!(
    /// `omnicart_engine::replica::Base`.
    ReplicaBase,
    refs = [],
    object(
        "The compacted start of a cart's log: the npm package's `ReplicaBase` \
         (omnicart_wasm.d.ts) and crates/engine/src/replica.rs."
    )
);

hand_written!(
    /// `omnicart_engine::Snapshot`.
    Snapshot,
    refs = [],
    object(
        "The catalogue: products, prices, promotions, the fulfilment network. Load it into the \
         npm package's `Engine`; its shape is `Snapshot` (omnicart_wasm.d.ts) and \
         crates/engine/src/catalogue.rs."
    )
);

hand_written!(
    /// This document.
    Document,
    refs = [],
    object("An OpenAPI 3.1 document")
);

/// The limits a client keeps to, as the document's words use them (checked here so the
/// descriptions cannot drift from the constants).
const _: () = assert!(MAX_IDEMPOTENCY_KEY_BYTES == 255);
const _: () = assert!(crate::checkout::IDEMPOTENCY_KEY_TTL_SECONDS == 24 * 60 * 60);
const _: () = assert!(crate::checkout::MAX_FIELD_CHARS == 200);
const _: () = assert!(crate::checkout::MAX_STREET_LINES == 3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoints_are_the_listed_routes_in_order() {
        let documented: Vec<Route> = ENDPOINTS.iter().map(|e| e.route).collect();
        assert_eq!(documented, routes::ALL);
    }

    #[test]
    fn every_answer_status_is_listed_once() {
        for endpoint in ENDPOINTS {
            let refused = endpoint.refusals_by_status();
            for answer in endpoint.answers {
                assert!(answer.status < 400, "{:?}", endpoint.route);
                assert!(!refused.contains_key(&answer.status));
            }
            assert!(refused.keys().all(|s| *s >= 400), "{:?}", endpoint.route);
        }
    }

    #[test]
    fn operation_ids_name_method_and_path() {
        assert_eq!(
            operation_id(routes::post(routes::ORDER_CANCEL)),
            "post_api_orders_number_cancel"
        );
        assert_eq!(
            operation_id(routes::get(routes::OPENAPI)),
            "get_api_openapi_json"
        );
    }
}
