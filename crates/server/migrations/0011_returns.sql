-- Returns: one row per return (`body` is the omnicart_order::Return as JSON: lines, refunds,
-- dispositions, history); state and order beside it. `seq` orders an order's returns.
-- `return_lines` holds each returned goods line's units for the return rates (per SKU and
-- per customer), `received` set when the location received them. Same SQL on SQLite and
-- PostgreSQL.
CREATE TABLE returns (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    customer_id TEXT,
    state       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (order_id, seq)
);

CREATE TABLE return_lines (
    return_id   TEXT NOT NULL,
    line        BIGINT NOT NULL,
    sku         TEXT NOT NULL,
    customer_id TEXT,
    quantity    BIGINT NOT NULL,
    received    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (return_id, line)
);
CREATE INDEX return_lines_by_sku ON return_lines (sku, received);
