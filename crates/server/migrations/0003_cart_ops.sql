-- The operation log of each cart, for offline-first sync across devices. `seq` is the server's
-- cursor: a device asks for the operations after the last `seq` it has. Each operation is
-- stored once per cart, by the id its device gave it (pushing it again changes nothing).
-- `carts.body` holds the cart these operations make (the engine's `OpLog::cart`).
CREATE TABLE cart_ops (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    cart_id     TEXT NOT NULL REFERENCES carts(id) ON DELETE CASCADE,
    op_id       TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (cart_id, op_id)
);
CREATE INDEX cart_ops_by_cart ON cart_ops(cart_id, seq);
