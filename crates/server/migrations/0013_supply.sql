-- Routing after placement (issue 16): the units of rejected lines that no location could
-- fill, cancelled and never captured. `amount_minor` is their share of the order line's
-- total (net after discounts, plus tax), floored; the order's last parcel captures the
-- authorization less the sum of these, and the rest is released. The same SQL runs on SQLite
-- and PostgreSQL.
CREATE TABLE line_cancellations (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    fulfilment_id TEXT NOT NULL,
    sku           TEXT NOT NULL,
    quantity      BIGINT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX line_cancellations_by_order ON line_cancellations (order_id);
