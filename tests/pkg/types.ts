// Compiled with `tsc --noEmit` by scripts/test: the package's TypeScript types describe the API.
import init, { Engine, type Cart, type CartOp, type Quote, type Snapshot, type OmnicartError, type DeliveryQuote, type StoreStock, type Availability, CartReplica, type Operation, type ReplicaBase } from "../../pkg/omnicart_wasm.js";

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
