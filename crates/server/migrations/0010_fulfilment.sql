-- Fulfilment orders (issue 16): one per location of an order's sourcing plan, made at
-- placement. `body` is the omnicart_order::FulfilmentOrder as JSON (lines, parcel, pickup
-- attempts); state, location and kind stand beside it for the staff's lists. `seq` orders
-- one order's fulfilment orders; `captured_minor` is what shipping it captured (NULL: not yet),
-- so a parcel is captured once. The same SQL runs on SQLite and PostgreSQL.
CREATE TABLE fulfilment_orders (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    location         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL,
    body             TEXT NOT NULL,
    pickup_code_hash TEXT,
    captured_minor   BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (order_id, seq)
);
CREATE INDEX fulfilment_by_location ON fulfilment_orders (location, state);

-- Every transition of a fulfilment order: who, when, why (the timeline the shopper sees);
-- `step` counts them from 0 (the opening).
CREATE TABLE fulfilment_events (
    fulfilment_id TEXT NOT NULL,
    step          BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL
);
CREATE UNIQUE INDEX fulfilment_events_by_order ON fulfilment_events (fulfilment_id, step);
