//! Writes the OpenAPI document the server serves at `/api/openapi.json` to the file named by
//! the first argument, or to stdout: `scripts/build-pkg` ships it in the npm package, where
//! `tests/pkg/api.test.mjs` checks the package's TypeScript types against it.

use std::io::Write;

fn main() {
    let json = omnicart_server::http::openapi::json();
    let written = match std::env::args_os().nth(1) {
        Some(path) => std::fs::write(&path, json),
        None => std::io::stdout().write_all(json.as_bytes()),
    };
    if let Err(e) = written {
        eprintln!("openapi: {e}");
        std::process::exit(1);
    }
}
