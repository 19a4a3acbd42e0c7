-- Edits after placement. `version` counts an order's edits (0: as placed): an edit names the
-- version it was made against and raises it by one, so of two concurrent edits one wins and
-- the other is stale. `priced_with` is what the order was priced with at placement (the cart
-- with its destination and delivery choice, and the shopper's facts promotions read), so an
-- edit is priced by the engine with the promotions as of placement. NULL for orders placed
-- before it existed: those cannot be edited.
ALTER TABLE orders ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN priced_with TEXT;

-- Keys the server derives values from, generated once per database when no configuration
-- gives one (`pickup`: the pickup codes' HMAC key when OMNICART_PICKUP_SECRET is unset), so
-- every process on one database derives the same codes.
CREATE TABLE server_keys (
    name   TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
