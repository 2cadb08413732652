//! The admin dashboard at `/ui`: static files embedded at build time (plain HTML, CSS and a
//! JavaScript module from `crates/llmgate-server/ui/`, no build step), served with a strict
//! Content-Security-Policy and validators. The page itself calls only the public management
//! API; `session.rs` is how a browser logs in to it.

pub mod session;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// Name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../ui/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../ui/app.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../ui/charts.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../ui/style.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../ui/favicon.svg"),
    ),
];

/// Everything the page loads comes from here; no inline script or style, no other origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A strong validator per file, computed once.
fn etag(i: usize) -> &'static str {
    static TAGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(_, _, bytes)| {
                let h = crate::auth::hash_key(&String::from_utf8_lossy(bytes));
                format!("\"{}\"", &h[..16])
            })
            .collect()
    });
    &tags[i]
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|(n, _, _)| *n == name) else {
        return crate::error::GatewayError::NotFound(format!("Route not found: /ui/{name}"))
            .into_response();
    };
    let (_, ctype, bytes) = ASSETS[i];
    let tag = etag(i);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, ctype)], bytes).into_response()
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_static(tag));
    // The page revalidates every time (a new build is seen at once); its files for 5 minutes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if name == "index.html" {
            "no-cache"
        } else {
            "public, max-age=300"
        }),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

pub async fn root() -> Redirect {
    Redirect::permanent("/ui/")
}

pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    // LiteLLM's newer invitation links open `/ui/onboarding?invitation_id=`: the same page.
    if name == "onboarding" {
        return serve("index.html", &headers);
    }
    serve(&name, &headers)
}
