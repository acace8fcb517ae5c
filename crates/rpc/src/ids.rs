//! Request ids jsonrpsee cannot hold, answered over HTTP as geth answers them.
//!
//! JSON-RPC allows any number as an id, and geth echoes whatever it was sent. jsonrpsee keeps an
//! id as an unsigned 64-bit integer or a string: a request whose id is negative, fractional,
//! written with an exponent or above 2^64 - 1 does not parse as a call, is taken for a
//! notification and gets no answer at all (a client waiting for it waits for ever). This HTTP
//! middleware swaps such an id for a string of its own before jsonrpsee reads the request and
//! puts the original back, byte for byte, in the answer. An id that is no string, number or
//! null (`true`, an object, an array) is refused as geth refuses it: `-32600 invalid request`
//! with a null id.
//!
//! WebSocket messages do not pass through HTTP middleware; there such a request still gets no
//! answer, as from reth.

use std::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context, Poll},
};

use jsonrpsee::{
    core::{
        BoxError,
        http_helpers::{HttpError, read_body},
    },
    server::{HttpBody, HttpRequest, HttpResponse, http::response, ws::is_upgrade_request},
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Largest request body the server reads (jsonrpsee's default, set on the server too).
pub(crate) const MAX_REQUEST_BYTES: u32 = 10 * 1024 * 1024;

/// Numbers the stand-in ids of every request apart.
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);

/// A request's id and nothing else (the rest is skipped, not kept).
#[derive(Deserialize)]
struct IdOf<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
}

/// What a request body's ids need.
#[derive(Debug, PartialEq, Eq)]
enum Ids {
    /// Nothing: jsonrpsee holds them all (or the body is not JSON-RPC, which it answers).
    Held,
    /// A single request whose id is no string, number or null.
    Invalid,
    /// The body with the odd ids swapped for stand-ins, and each stand-in (quoted, as it will
    /// appear in the answer) with the original id's text.
    Swapped(Vec<u8>, Vec<(String, String)>),
}

/// Whether jsonrpsee holds `id` as it is: a string, or an integer from 0 to 2^64 - 1 written
/// plainly.
fn held(id: &str) -> bool {
    id.starts_with('"') || (id.bytes().all(|b| b.is_ascii_digit()) && id.parse::<u64>().is_ok())
}

/// Whether `id` is a JSON number.
fn is_number(id: &str) -> bool {
    id.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

/// Reads the ids of `body` (a single request or a batch).
fn ids(body: &[u8]) -> Ids {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let requests: Vec<IdOf<'_>> = match first {
        Some(b'{') => match serde_json::from_slice::<IdOf<'_>>(body) {
            Ok(request) => vec![request],
            Err(_) => return Ids::Held,
        },
        Some(b'[') => match serde_json::from_slice(body) {
            Ok(requests) => requests,
            Err(_) => return Ids::Held,
        },
        _ => return Ids::Held,
    };
    let odd: Vec<&RawValue> = requests
        .iter()
        .filter_map(|request| request.id)
        .filter(|id| !held(id.get()))
        .collect();
    if odd.is_empty() {
        return Ids::Held;
    }
    if first == Some(&b'{') && !is_number(odd[0].get()) {
        return Ids::Invalid;
    }
    let request = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    let start = body.as_ptr() as usize;
    let mut swapped = Vec::with_capacity(body.len() + odd.len() * 32);
    let mut stand_ins = Vec::with_capacity(odd.len());
    let mut copied = 0;
    // Ids borrowed from `body` come in body order; only numbers are swapped (an entry of a batch
    // whose id is no string, number or null is left as it is, and jsonrpsee takes it for a
    // notification).
    for (i, id) in odd.iter().filter(|id| is_number(id.get())).enumerate() {
        let at = id.get().as_ptr() as usize - start;
        let stand_in = format!("\"rollup-id-{request}-{i}\"");
        swapped.extend_from_slice(&body[copied..at]);
        swapped.extend_from_slice(stand_in.as_bytes());
        copied = at + id.get().len();
        stand_ins.push((stand_in, id.get().to_string()));
    }
    if stand_ins.is_empty() {
        return Ids::Held;
    }
    swapped.extend_from_slice(&body[copied..]);
    Ids::Swapped(swapped, stand_ins)
}

/// `answer` with every stand-in replaced by its original id.
fn restore(answer: &[u8], stand_ins: &[(String, String)]) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(answer).into_owned();
    for (stand_in, original) in stand_ins {
        text = text.replacen(stand_in.as_str(), original, 1);
    }
    text.into_bytes()
}

/// The answer to a single request whose id is no string, number or null.
fn invalid_request() -> HttpResponse {
    let body = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: the id must be a string, a number or null"}}"#;
    http::Response::builder()
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(HttpBody::from(body))
        .expect("a static response is valid")
}

/// HTTP middleware answering requests with ids jsonrpsee cannot hold (see the module
/// documentation).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OddIdsLayer;

impl<S> tower::Layer<S> for OddIdsLayer {
    type Service = OddIds<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OddIds { inner }
    }
}

/// The service [`OddIdsLayer`] wraps around the JSON-RPC server.
#[derive(Debug, Clone)]
pub(crate) struct OddIds<S> {
    inner: S,
}

impl<S> tower::Service<HttpRequest> for OddIds<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse> + Clone + Send + 'static,
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
        if request.method() != http::Method::POST || is_upgrade_request(&request) {
            let response = self.inner.call(request);
            return Box::pin(async move { response.await.map_err(Into::into) });
        }
        // The service that was made ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match read_body(&parts.headers, body, MAX_REQUEST_BYTES).await {
                Ok((body, _)) => body,
                Err(HttpError::TooLarge) => return Ok(response::too_large(MAX_REQUEST_BYTES)),
                Err(HttpError::Malformed) => return Ok(response::malformed()),
                Err(HttpError::Stream(_)) => return Ok(response::internal_error()),
            };
            match ids(&body) {
                Ids::Held => {
                    let request = HttpRequest::from_parts(parts, HttpBody::from(body));
                    inner.call(request).await.map_err(Into::into)
                }
                Ids::Invalid => Ok(invalid_request()),
                Ids::Swapped(body, stand_ins) => {
                    let request = HttpRequest::from_parts(parts, HttpBody::from(body));
                    let answer = inner.call(request).await.map_err(Into::into)?;
                    let (mut parts, body) = answer.into_parts();
                    let body = http_body_util::BodyExt::collect(body).await?.to_bytes();
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    let body = HttpBody::from(restore(&body, &stand_ins));
                    Ok(HttpResponse::from_parts(parts, body))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swapped(body: &str) -> (String, Vec<(String, String)>) {
        match ids(body.as_bytes()) {
            Ids::Swapped(body, stand_ins) => (String::from_utf8(body).unwrap(), stand_ins),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_jsonrpsee_holds_pass_untouched() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","id":"-1","method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"eth_chainId"}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":"x","method":"b"}]"#,
            r#"not json"#,
            r#"{"id":-1"#,
            r#"[1, 2]"#,
            "",
        ] {
            assert_eq!(ids(body.as_bytes()), Ids::Held, "{body}");
        }
    }

    #[test]
    fn odd_numbers_are_swapped_and_restored_byte_for_byte() {
        for id in ["-1", "1.5", "1e3", "18446744073709551616", "-0", "0.0"] {
            let body =
                format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_chainId","params":[]}}"#);
            let (rewritten, stand_ins) = swapped(&body);
            assert_eq!(stand_ins.len(), 1);
            let stand_in = &stand_ins[0].0;
            assert_eq!(
                rewritten,
                body.replace(&format!(":{id},"), &format!(":{stand_in},"))
            );
            let answer = format!(r#"{{"jsonrpc":"2.0","id":{stand_in},"result":"0x1"}}"#);
            assert_eq!(
                String::from_utf8(restore(answer.as_bytes(), &stand_ins)).unwrap(),
                format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"0x1"}}"#)
            );
        }
    }

    #[test]
    fn a_batch_swaps_only_its_odd_ids() {
        let (rewritten, stand_ins) = swapped(
            r#"[{"id":-1,"method":"a","params":[{"id":-7}]},{"id":2,"method":"b"},{"method":"c","id":1.5}]"#,
        );
        assert_eq!(stand_ins.len(), 2);
        assert_eq!(stand_ins[0].1, "-1");
        assert_eq!(stand_ins[1].1, "1.5");
        assert_eq!(
            rewritten,
            format!(
                r#"[{{"id":{},"method":"a","params":[{{"id":-7}}]}},{{"id":2,"method":"b"}},{{"method":"c","id":{}}}]"#,
                stand_ins[0].0, stand_ins[1].0
            )
        );
        // A later request's stand-ins differ.
        let (_, later) = swapped(r#"{"id":-1,"method":"a"}"#);
        assert_ne!(later[0].0, stand_ins[0].0);
    }

    #[test]
    fn an_id_that_is_no_string_number_or_null_is_invalid() {
        for id in ["true", "{}", "[1]"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_chainId"}}"#);
            assert_eq!(ids(body.as_bytes()), Ids::Invalid, "{body}");
        }
        // In a batch, such an entry is left as it is: jsonrpsee takes it for a notification.
        assert_eq!(
            ids(br#"[{"id":true,"method":"a"},{"id":1,"method":"b"}]"#),
            Ids::Held
        );
    }
}
