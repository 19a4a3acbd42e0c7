//! The headers a security review expects, on every answer, as `tower-http` layers:
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`,
//! `X-Frame-Options: DENY` and a Content-Security-Policy ([`policy`]) that allows what the
//! Wasm storefront needs and nothing else (its own origin; the inline loader Trunk writes
//! into `index.html`, by its hash; `'wasm-unsafe-eval'` to compile the Wasm; no frames).
//! API answers are about one customer unless they say otherwise, so they carry
//! `Cache-Control: no-store` unless the handler set its own (the public snapshot does).
//! The storefront's files ([`storefront_caching`]): Trunk names every built asset by its
//! content's hash, so they are kept for a year; the page itself is revalidated every time.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy for pages whose HTML is `page` (`None`: the API only, which
/// needs no script at all): the page's inline `<script>` and `<style>` elements are allowed
/// by their hashes, nothing else inline.
pub fn policy(page: Option<&str>) -> HeaderValue {
    let hashes = |tag: &str| -> String {
        page.map(|html| inline(html, tag))
            .unwrap_or_default()
            .iter()
            .map(|body| {
                format!(
                    " 'sha256-{}'",
                    STANDARD.encode(Sha256::digest(body.as_bytes()))
                )
            })
            .collect()
    };
    let (scripts, styles) = (hashes("script"), hashes("style"));
    let value = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; \
         style-src 'self'{styles}; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&value).expect("a policy is ASCII")
}

/// The policy for the page `index.html` (read once, when the app is built; a missing file is
/// a page without inline code).
pub fn policy_for(index: Option<&Path>) -> HeaderValue {
    let html = index.and_then(|path| std::fs::read_to_string(path).ok());
    policy(html.as_deref())
}

/// Every answer's security headers (`csp` from [`policy`]).
pub fn layer(router: Router, csp: HeaderValue) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
}

/// `Cache-Control: no-store` on API answers that set none.
pub fn no_store<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ))
}

/// Caching of the built storefront: its HTML (`index.html`, served for every client-side
/// route) `no-cache`, so a new build is picked up at once; everything else Trunk built is
/// named by its hash (`app-59bda76dc5fdffe7_bg.wasm`), so `public, max-age=31536000,
/// immutable`. `Vary: Accept-Encoding`, as the files are sent precompressed.
pub fn storefront_caching(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            |response: &axum::response::Response| {
                let html = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/html"));
                let ok = response.status().is_success()
                    || response.status() == axum::http::StatusCode::NOT_MODIFIED;
                Some(HeaderValue::from_static(match (html, ok) {
                    (false, true) => "public, max-age=31536000, immutable",
                    _ => "no-cache",
                }))
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// The contents of the inline `<tag>` elements of an HTML page (those without `src`).
fn inline<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close_tag) = (format!("<{tag}"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let Some(open_end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + open_end];
        let body_start = start + open_end + 1;
        let Some(close) = rest[body_start..].find(&close_tag) else {
            break;
        };
        if !tag.contains(" src=") {
            found.push(&rest[body_start..body_start + close]);
        }
        rest = &rest[body_start + close..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\n</script>\
                    <script src=\"/b.js\"></script><script>x()</script></head>";
        assert_eq!(
            inline(html, "script"),
            ["\nimport init from '/a.js';\n", "x()"]
        );
        assert!(inline(html, "style").is_empty());
        let csp = policy(Some(html));
        let csp = csp.to_str().unwrap();
        // sha256("x()"), as `printf 'x()' | openssl dgst -sha256 -binary | base64` gives it.
        assert!(
            csp.contains("'sha256-D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI='"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(policy(None).to_str().unwrap().matches("sha256").count(), 0);
    }
}
