// The package's HTTP contract (pkg/api.d.ts, pkg/api.js) against the server's OpenAPI document
// (pkg/openapi.json, written by scripts/build-pkg from crates/api's types): every object schema
// has a TypeScript interface with the same properties, optional exactly where the schema does
// not require them; the constants are the document's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import ts from "typescript";
import { ROUTES, fill, IDEMPOTENCY_KEY_HEADER, TEST_CARDS, TEST_GATEWAY, ERROR_CODES } from "../../pkg/api.js";

const root = new URL("../../", import.meta.url);
const doc = JSON.parse(readFileSync(new URL("pkg/openapi.json", root), "utf8"));
const declared = { ...declarations("pkg/omnicart_wasm.d.ts"), ...declarations("pkg/api.d.ts") };

/** Interfaces (name → {property: optional}) and string-literal unions (name → [literals]). */
function declarations(path) {
  const text = readFileSync(new URL(path, root), "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true);
  const found = {};
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node)) {
      const properties = {};
      for (const member of node.members) {
        if (ts.isPropertySignature(member)) properties[member.name.getText(source)] = member.questionToken !== undefined;
      }
      found[node.name.text] = { properties };
    } else if (ts.isTypeAliasDeclaration(node) && ts.isUnionTypeNode(node.type)) {
      const literals = node.type.types.filter((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal));
      if (literals.length === node.type.types.length) found[node.name.text] = { literals: literals.map((t) => t.literal.text) };
    }
  });
  return found;
}

/** How `schema` and the TypeScript declaration `typed` differ (nothing: `[]`). */
function differences(name, schema, typed) {
  if (schema.enum) {
    if (!typed?.literals) return [`${name}: no string-literal union`];
    return sameSet(schema.enum, typed.literals) ? [] : [`${name}: ${typed.literals} is not ${schema.enum}`];
  }
  if (!typed?.properties) return [`${name}: no interface`];
  const required = new Set(schema.required ?? []);
  const found = [];
  for (const property of Object.keys(schema.properties)) {
    if (!(property in typed.properties)) found.push(`${name}.${property}: missing`);
    else if (typed.properties[property] === required.has(property)) {
      found.push(`${name}.${property}: ${required.has(property) ? "required" : "optional"} in the document`);
    }
  }
  for (const property of Object.keys(typed.properties)) {
    if (!(property in schema.properties)) found.push(`${name}.${property}: not in the document`);
  }
  return found;
}

function sameSet(a, b) {
  return a.length === b.length && new Set([...a, ...b]).size === new Set(a).size;
}

test("every object schema of the document is an interface of the package, field for field", () => {
  const found = [];
  let compared = 0;
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (!schema.properties && !schema.enum) continue;
    found.push(...differences(name, schema, declared[name]));
    compared += 1;
  }
  assert.deepEqual(found, []);
  assert.ok(compared >= 25, `only ${compared} schemas compared`);
});

test("the comparison notices a missing, an extra and a wrongly optional field", () => {
  const schema = doc.components.schemas.CheckoutRequest;
  const typed = structuredClone(declared.CheckoutRequest);
  delete typed.properties.cart_id;
  typed.properties.price = false;
  typed.properties.contact = true;
  assert.deepEqual(differences("CheckoutRequest", schema, typed), [
    "CheckoutRequest.cart_id: missing",
    "CheckoutRequest.contact: required in the document",
    "CheckoutRequest.price: not in the document",
  ]);
});

test("the routes, the header, the test cards and the error codes are the document's", () => {
  assert.ok(sameSet(Object.values(ROUTES), Object.keys(doc.paths)), "ROUTES");
  const key = doc.paths[ROUTES.checkout].post.parameters.find((p) => p.in === "header");
  assert.equal(key.name, IDEMPOTENCY_KEY_HEADER.toLowerCase());
  assert.equal(key.required, true);
  assert.deepEqual({ ...TEST_CARDS }, doc["x-test-cards"]);
  assert.ok(doc.components.schemas.PaymentMethod.properties.provider);
  assert.equal(TEST_GATEWAY, "test");
  const documented = new Set();
  for (const item of Object.values(doc.paths)) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses)) {
        for (const code of response["x-error-codes"] ?? []) documented.add(code);
      }
    }
  }
  assert.deepEqual([...ERROR_CODES].sort(), [...documented].sort());
  assert.deepEqual([...declared.ErrorCode.literals].sort(), [...ERROR_CODES].sort());
});

test("fill puts ids and order numbers into a route", () => {
  assert.equal(fill(ROUTES.orderCancel, { number: "4829-1034-775" }), "/api/orders/4829-1034-775/cancel");
  assert.equal(fill(ROUTES.cartSync, { id: "cart 1" }), "/api/carts/cart%201/sync");
  assert.throws(() => fill(ROUTES.cart, {}), /needs id/);
});
