//! The status page: static HTML, CSS and JavaScript compiled into the binary and served on the
//! JSON-RPC port, so a node shows what it is doing with no extra service, build step or CDN.
//!
//! [`StatusPageLayer`] sits in front of the JSON-RPC server (jsonrpsee's HTTP middleware): a
//! plain `GET` (or `HEAD`) of one of the page's paths is answered with the embedded file;
//! everything else, including the WebSocket upgrade at `GET /` that the page itself opens,
//! goes to JSON-RPC untouched. The page reads only the node's own JSON-RPC (same origin).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};

const INDEX_HTML: &str = include_str!("index.html");
const STATUS_JS: &str = include_str!("status.js");
const STATUS_CSS: &str = include_str!("status.css");

/// The page's paths: the HTML at `/` and `/status`, its script and style sheet.
pub const STATUS_PATHS: [&str; 4] = ["/", "/status", "/status.js", "/status.css"];

/// Only this origin's scripts, styles and connections: the page loads nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The embedded file at `path`: its content type and body.
fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/" | "/status" | "/status/" | "/index.html" => {
            Some(("text/html; charset=utf-8", INDEX_HTML))
        }
        "/status.js" => Some(("text/javascript; charset=utf-8", STATUS_JS)),
        "/status.css" => Some(("text/css; charset=utf-8", STATUS_CSS)),
        _ => None,
    }
}

/// The page's answer to `request`, or `None` if JSON-RPC should have it.
fn page_response(request: &HttpRequest) -> Option<HttpResponse> {
    let head = request.method() == "HEAD";
    if !(head || request.method() == "GET") || jsonrpsee::server::ws::is_upgrade_request(request) {
        return None;
    }
    let (content_type, body) = asset(request.uri().path())?;
    HttpResponse::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .body(if head {
            HttpBody::empty()
        } else {
            HttpBody::from(body)
        })
        .ok()
}

/// jsonrpsee HTTP middleware serving the status page (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusPageLayer;

impl<S> tower::Layer<S> for StatusPageLayer {
    type Service = StatusPage<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StatusPage { inner }
    }
}

/// The service [`StatusPageLayer`] wraps around the JSON-RPC server.
#[derive(Debug, Clone)]
pub struct StatusPage<S> {
    inner: S,
}

impl<S> tower::Service<HttpRequest> for StatusPage<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        if let Some(response) = page_response(&request) {
            return Box::pin(std::future::ready(Ok(response)));
        }
        let response = self.inner.call(request);
        Box::pin(async move { response.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> HttpRequest {
        HttpRequest::builder()
            .method(method)
            .uri(path)
            .body(HttpBody::empty())
            .unwrap()
    }

    #[test]
    fn page_paths_are_served_and_everything_else_goes_to_json_rpc() {
        for path in STATUS_PATHS {
            let response = page_response(&request("GET", path)).unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
        let html = page_response(&request("GET", "/")).unwrap();
        assert!(
            html.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(page_response(&request("POST", "/")).is_none());
        assert!(page_response(&request("GET", "/favicon.ico")).is_none());
        let upgrade = HttpRequest::builder()
            .method("GET")
            .uri("/")
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .body(HttpBody::empty())
            .unwrap();
        assert!(
            page_response(&upgrade).is_none(),
            "WebSocket upgrades go to JSON-RPC"
        );
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for (name, text) in [
            ("index.html", INDEX_HTML),
            ("status.js", STATUS_JS),
            ("status.css", STATUS_CSS),
        ] {
            // The SVG namespace is a name, not a download.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            for needle in ["http://", "https://", "//cdn", "@import", "fonts.g"] {
                assert!(
                    !text.contains(needle),
                    "{name} mentions {needle}: the page must work offline"
                );
            }
        }
    }
}
