// Writes a brotli (quality 11) and a gzip (level 9) copy beside every compressible file of a
// built storefront, so the server sends them precompressed (tower-http's ServeDir
// `precompressed_br`/`precompressed_gzip`) without compressing per request.
// Usage: node scripts/precompress.mjs DIR  (Trunk runs it after every build: Trunk.toml).
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("usage: precompress.mjs DIR");
const compressible = /\.(wasm|js|mjs|css|html|svg|json|txt)$/;
let before = 0, br = 0, gz = 0;
const walk = (d) => {
  for (const name of readdirSync(d)) {
    const path = join(d, name);
    if (statSync(path).isDirectory()) { walk(path); continue; }
    if (!compressible.test(name)) continue;
    const bytes = readFileSync(path);
    if (bytes.length < 1024) continue;
    const brotli = brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        [constants.BROTLI_PARAM_MODE]: name.endsWith(".wasm")
          ? constants.BROTLI_MODE_GENERIC
          : constants.BROTLI_MODE_TEXT,
      },
    });
    const gzip = gzipSync(bytes, { level: 9 });
    writeFileSync(path + ".br", brotli);
    writeFileSync(path + ".gz", gzip);
    before += bytes.length; br += brotli.length; gz += gzip.length;
  }
};
walk(dir);
console.log(`precompressed ${dir}: ${before} B → ${br} B brotli, ${gz} B gzip`);
