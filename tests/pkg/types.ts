// Compiled with `tsc --noEmit` by scripts/test: the package's TypeScript types describe the API.
import init, { Engine, type Cart, type CartOp, type Quote, type Snapshot, type OmnicartError } from "../../pkg/omnicart_wasm.js";

export async function example(snapshot: Snapshot): Promise<string> {
  await init();
  const engine = new Engine(snapshot);
  const ops: CartOp[] = [{ op: "add", sku: "PS5-PRO", quantity: 1 }, { op: "replace", sku: "PS5-PRO", with: "PS5-SLIM-DISC" }];
  const cart: Cart = engine.applyOps({ lines: [] }, ops);
  const quote: Quote = engine.quote(cart);
  const version: string = engine.snapshotVersion;
  try {
    engine.quote({ lines: [{ sku: "NOPE", quantity: 1 }] });
  } catch (e) {
    const code: string = (e as OmnicartError).code;
    return code + version;
  }
  return quote.total.amount + quote.lines.length + quote.lines.map((l) => l.total.amount).join(",");
}
