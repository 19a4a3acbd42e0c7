// A frontend team's integration of @omnicart/engine with no framework: copy this.
import init, { Engine } from "/pkg/omnicart_wasm.js";

const $ = (id) => document.getElementById(id);
const money = ({ amount, currency }) =>
  new Intl.NumberFormat("en", { style: "currency", currency }).format(amount); // display only

await init();
const snapshot = await (await fetch("/api/snapshot")).json();
const engine = new Engine(snapshot);
let cart = JSON.parse(localStorage.getItem("www-cart") ?? '{"lines":[]}');

function edit(ops) {
  try {
    cart = engine.applyOps(cart, ops); // all or nothing; throws Error with .code
    localStorage.setItem("www-cart", JSON.stringify(cart));
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = `${e.message} (${e.code})`;
  }
  render();
}

function render() {
  const quote = engine.quote(cart);
  $("cart").replaceChildren(...quote.lines.map((line) => {
    const li = document.createElement("li");
    const savings = line.adjustments.map((a) => ` (−${money(a.amount)} ${a.label})`).join("");
    li.textContent = `${line.quantity} × ${line.name}${line.gift ? " (free gift)" : ""}: ${money(line.net)}${savings} `;
    if (!line.gift) {
      const remove = document.createElement("button");
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${line.name}`);
      remove.onclick = () => edit([{ op: "remove", sku: line.sku }]);
      li.append(remove);
    }
    return li;
  }));
  $("total").textContent = money(quote.total);
}

$("products").replaceChildren(...snapshot.products.filter((p) => p.kind === "goods").slice(0, 8).map((p) => {
  const v = p.variants[0];
  const li = document.createElement("li");
  li.textContent = `${p.name} ${v.name}: ${money({ amount: v.price, currency: snapshot.currency })} `;
  const add = document.createElement("button");
  add.textContent = "Add";
  add.setAttribute("aria-label", `Add ${p.name} ${v.name}`);
  add.onclick = () => edit([{ op: "add", sku: v.sku, quantity: 1 }]);
  li.append(add);
  return li;
}));
render();
