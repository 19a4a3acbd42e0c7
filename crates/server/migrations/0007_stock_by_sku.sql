-- Checkout reads the stock of a cart's SKUs at every location (the primary key leads with the
-- location).
CREATE INDEX stock_by_sku ON stock (sku);
