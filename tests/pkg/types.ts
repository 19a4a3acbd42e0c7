// Compiled with `tsc --noEmit` by scripts/test: the package's TypeScript types describe the API.
import init, { Engine, type Cart, type CartOp, type Quote, type Snapshot, type OmnicartError, type DeliveryQuote, type StoreStock, type Availability, CartReplica, type Operation, type ReplicaBase } from "../../pkg/omnicart_wasm.js";
import { ROUTES, fill, IDEMPOTENCY_KEY_HEADER, TEST_CARDS, TEST_GATEWAY, type CheckoutRequest, type CheckoutReply, type ErrorBody, type OrderView, type OrderList, type ErrorCode } from "../../pkg/api.js";

export async function example(snapshot: Snapshot): Promise<string> {
  await init();
  const engine = new Engine(snapshot);
  const ops: CartOp[] = [
    { op: "add", sku: "PS5-PRO", quantity: 1 },
    { op: "replace", sku: "PS5-PRO", with: "PS5-SLIM-DISC" },
    { op: "attach_service", sku: "PS5-SLIM-DISC", service: "SVC-SETUP" },
  ];
  const cart: Cart = engine.applyOps({ lines: [] }, ops);
  const quote: Quote = engine.quote(cart);
  const version: string = engine.snapshotVersion;
  try {
    engine.quote({ lines: [{ sku: "NOPE", quantity: 1 }] });
  } catch (e) {
    const code: string = (e as OmnicartError).code;
    return code + version;
  }
  const services: (string | undefined)[] = quote.lines.map((l) => l.attached_to).concat(cart.lines[0].services ?? []);
  const rates: string[] = quote.lines.map((l) => l.tax_rate);
  return quote.total.amount + services.join(",") + quote.lines.length + quote.lines.map((l) => l.total.amount).join(",") + rates.join();
}

export function delivery(engine: Engine, cart: Cart): string {
  const options: DeliveryQuote = engine.deliveryOptions(cart, { lat: 52.52, lon: 13.405 }, "2026-11-23T09:00:00Z");
  const chosen: Cart = engine.applyOps(cart, [{ op: "choose_delivery", level: options.options[0].level }]);
  const both: { quote: Quote; delivery: DeliveryQuote } = engine.quoteWithDelivery(chosen, { postcode: "10115" });
  const stores: StoreStock[] = engine.findInStore("PS5-PRO", { postcode: "10115" });
  const stock: Availability = engine.availability("PS5-PRO");
  return both.quote.total.amount + stores.map((s) => s.ready_label).join() + stock.status + options.pickup.length;
}

export function replicate(ops: Operation[]): Cart {
  const replica = new CartReplica();
  const added: number = replica.insert(ops);
  return added === replica.length ? replica.cart() : { lines: [] };
}

export function fromBase(base: ReplicaBase, ops: Operation[]): Cart {
  const replica = CartReplica.fromBase(base);
  replica.insert(ops);
  return replica.cart();
}

// The HTTP contract (pkg/api.d.ts): a checkout request built and its answers read as a
// frontend team's own checkout would.

export async function placeOrder(cartId: string, quote: Quote, key: string): Promise<string> {
  const request: CheckoutRequest = {
    cart_id: cartId,
    expected_total: quote.total,
    contact: { email: "ada@example.com", name: "Ada Lovelace" },
    shipping_address: { name: "Ada Lovelace", street: ["Invalidenstraße 117"], postcode: "10115", city: "Berlin", country: "DE" },
    payment: { provider: TEST_GATEWAY, token: TEST_CARDS.success },
  };
  const response = await fetch(ROUTES.checkout, {
    method: "POST",
    headers: { "content-type": "application/json", [IDEMPOTENCY_KEY_HEADER]: key },
    body: JSON.stringify(request),
  });
  if (response.status === 201) {
    const reply: CheckoutReply = await response.json();
    const order: OrderView = reply.order;
    const lines: string = order.lines.map((l) => `${l.quantity} × ${l.name}: ${l.total.amount}`).join("\n");
    const at: string = order.timeline[0].at + order.shipments.map((s) => s.label).join();
    return fill(ROUTES.order, { number: order.number }) + (reply.guest_token ?? "") + lines + at + order.totals.total.amount;
  }
  const refusal: ErrorBody = await response.json();
  const code: ErrorCode = refusal.error.code;
  switch (code) {
    case "price_changed":
      return `now ${refusal.error.total?.amount} (${refusal.error.current?.quote?.total.amount})`;
    case "out_of_stock":
      return refusal.error.lines!.map((l) => `${l.sku}: ${l.available}/${l.requested}`).join() + refusal.error.alternatives?.levels?.join();
    case "payment_declined":
      return refusal.error.reason ?? code;
    default:
      return refusal.error.message;
  }
}

export async function myOrders(page: number): Promise<string[]> {
  const list: OrderList = await (await fetch(`${ROUTES.orders}?page=${page}`)).json();
  return list.orders.map((o) => `${o.number} ${o.state} ${o.total.amount}`).concat(list.next_page ? [String(list.next_page)] : []);
}
