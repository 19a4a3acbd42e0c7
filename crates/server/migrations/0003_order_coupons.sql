-- The coupon codes each order used (normalized), beside the order: the customer's coupon
-- history, for codes a catalogue makes once per customer (`QuoteContext.used_coupons`).
CREATE TABLE order_coupons (
    order_id    TEXT NOT NULL REFERENCES orders(id),
    customer_id TEXT,
    code        TEXT NOT NULL,
    PRIMARY KEY (order_id, code)
);
CREATE INDEX order_coupons_customer ON order_coupons (customer_id);
