-- Delivery of the outbox (issue 17). Every event is written to `outbox` in the transaction of
-- the change it describes (a rolled-back change writes none). `seq` numbers one order's
-- events from 1, so receivers can order them; `body` is the exact JSON sent and signed;
-- `created_ms` is when it was written (for the delay from commit to delivery).
ALTER TABLE outbox ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN created_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_aggregate ON outbox (aggregate_id, seq);

-- The webhook endpoints events go to (`OMNICART_WEBHOOK_URLS`, registered at start; the id is
-- derived from the URL, so every process names an endpoint alike). An endpoint no longer
-- configured is kept, inactive, with what it had not received.
CREATE TABLE webhook_endpoints (
    id     TEXT PRIMARY KEY,
    url    TEXT NOT NULL,
    active BIGINT NOT NULL
);

-- One row per event and endpoint, written with the event. A delivery is due when
-- `next_attempt_at` (ms) has come and it is neither delivered nor dead; it waits while an
-- earlier event of the same order to the same endpoint is undelivered (per-order order). A
-- dispatcher claims it by moving `next_attempt_at` past the time a delivery can take; a
-- failure counts an attempt and waits twice as long each time; after the configured number of
-- attempts it is dead (the dead-letter state) until replayed.
CREATE TABLE event_deliveries (
    event_id        TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    stream          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    dead_at         BIGINT,
    last_error      TEXT,
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX event_deliveries_due ON event_deliveries (delivered_at, dead_at, next_attempt_at);
CREATE INDEX event_deliveries_stream ON event_deliveries (endpoint_id, stream, seq);
