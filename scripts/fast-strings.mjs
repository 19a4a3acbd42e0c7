// Patches the package's wasm-bindgen glue (scripts/build-pkg runs it): strings coming out of
// Wasm that are short and ASCII (currency codes, amounts, SKUs, ids, labels) are built in JS
// instead of through TextDecoder, whose fixed cost per call was a quarter of converting a
// quote to JS objects (BENCHMARKS.md, quote speed). Longer or non-ASCII strings still go to
// TextDecoder. Fails if the glue no longer has the function as wasm-bindgen 0.2.130 writes it.
//   node scripts/fast-strings.mjs pkg/omnicart_wasm.js
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
const glue = readFileSync(file, "utf8");
const original = `function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}`;
const fast = `function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    // Short ASCII strings are built here (scripts/fast-strings.mjs): TextDecoder's fixed cost
    // per call is most of the cost of a short string.
    if (len <= 64) {
        const bytes = getUint8ArrayMemory0();
        let text = "";
        for (let i = ptr, end = ptr + len; i < end; i++) {
            const b = bytes[i];
            if (b > 127) return decodeText(bytes.subarray(ptr, end));
            text += String.fromCharCode(b);
        }
        return text;
    }
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}`;
if (glue.includes(fast)) process.exit(0);
if (!glue.includes(original)) {
  console.error(`${file}: getStringFromWasm0 is not the one scripts/fast-strings.mjs knows (wasm-bindgen changed?)`);
  process.exit(1);
}
writeFileSync(file, glue.replace(original, fast));
