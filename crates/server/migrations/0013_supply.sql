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

-- A substitute a picker proposed for a fulfilment order's line, and the shopper's decision.
-- `state`: proposed, accepted, declined. `original_minor` is what the line's units cost as
-- ordered, `charged_minor` what the shopper pays for the substitute: the lower of that and
-- the substitute's own price, so never more than authorized; an accepted substitution's
-- difference is never captured (as a cancelled line's amount).
CREATE TABLE substitutions (
    id             TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL,
    fulfilment_id  TEXT NOT NULL,
    line_index     BIGINT NOT NULL,
    sku            TEXT NOT NULL,
    substitute_sku TEXT NOT NULL,
    quantity       BIGINT NOT NULL,
    original_minor BIGINT NOT NULL,
    charged_minor  BIGINT NOT NULL,
    state          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    decided_at     BIGINT
);
CREATE INDEX substitutions_by_order ON substitutions (order_id);
CREATE UNIQUE INDEX substitutions_one_proposed ON substitutions (fulfilment_id, line_index) WHERE state = 'proposed';
