-- Checkout and orders: live stock, promotion uses, checkout attempts with what they hold,
-- orders, the outbox and stored idempotent answers. The same SQL runs on SQLite and
-- PostgreSQL (see 0001_init.sql). Counts and amounts are BIGINT; money is in minor units of
-- the snapshot's currency.

-- Stock per (location, SKU): loaded from the catalogue's network at first start (when empty),
-- then kept here. `reserved` grows only by a conditional update that keeps
-- on_hand - reserved - safety >= 0. `incoming` is the network's JSON list of arrivals.
CREATE TABLE stock (
    location TEXT NOT NULL,
    sku      TEXT NOT NULL,
    on_hand  BIGINT NOT NULL,
    reserved BIGINT NOT NULL DEFAULT 0,
    safety   BIGINT NOT NULL DEFAULT 0,
    incoming TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (location, sku),
    CHECK (reserved >= 0)
);

-- Uses and spend of the promotions that have a usage limit or a campaign budget (NULL: none).
CREATE TABLE promotion_usage (
    promotion_id TEXT PRIMARY KEY,
    use_limit    BIGINT,
    used         BIGINT NOT NULL DEFAULT 0,
    budget_minor BIGINT,
    spent_minor  BIGINT NOT NULL DEFAULT 0,
    CHECK (use_limit IS NULL OR used <= use_limit),
    CHECK (budget_minor IS NULL OR spent_minor <= budget_minor)
);

-- One placement in progress or done. `state`: reserved (holds stock and promotion uses, the
-- payment is being authorized), ordered (an order holds them), released (declined, failed or
-- swept: holds nothing), cancelled (its order was cancelled: holds nothing). A cart has at
-- most one attempt in `reserved` at a time.
CREATE TABLE checkout_attempts (
    id          TEXT PRIMARY KEY,
    cart_id     TEXT NOT NULL,
    customer_id TEXT,
    state       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX checkout_attempts_live_cart ON checkout_attempts (cart_id) WHERE state = 'reserved';
CREATE INDEX checkout_attempts_state ON checkout_attempts (state, expires_at);

-- What an attempt (and then its order) holds: units per stock record…
CREATE TABLE stock_reservations (
    attempt_id TEXT NOT NULL REFERENCES checkout_attempts(id),
    location   TEXT NOT NULL,
    sku        TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    PRIMARY KEY (attempt_id, location, sku)
);

-- …and one use (and the discount given) per limited promotion.
CREATE TABLE promotion_claims (
    attempt_id   TEXT NOT NULL REFERENCES checkout_attempts(id),
    promotion_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (attempt_id, promotion_id)
);

-- `body` is the `omnicart_order::Order` as JSON; `state` repeats its status for queries. A
-- guest's order opens with a token whose SHA-256 is `guest_token_hash`.
CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,
    customer_id      TEXT,
    guest_token_hash TEXT,
    attempt_id       TEXT NOT NULL UNIQUE REFERENCES checkout_attempts(id),
    state            TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, created_at);

-- Events written in the transaction that caused them, delivered later (at least once).
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);

-- The first answer per (scope, key): `status` and `body` are NULL while it runs.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
