//! Request ids jsonrpsee cannot hold, and requests without one, answered over HTTP as geth
//! answers them.
//!
//! JSON-RPC allows any number as an id, and geth echoes whatever it was sent. jsonrpsee keeps an
//! id as an unsigned 64-bit integer or a string: a request whose id is negative, fractional,
//! written with an exponent or above 2^64 - 1 does not parse as a call, is taken for a
//! notification and gets no answer at all (a client waiting for it waits for ever). This HTTP
//! middleware swaps such an id for a string of its own before jsonrpsee reads the request and
//! puts the original back, byte for byte, in the answer. A single request whose id is no
//! string, number or null (`true`, an object, an array) is refused as geth refuses it:
//! `-32600 invalid request` with a null id; in a batch such an entry is taken for a
//! notification.
//!
//! A notification (a request with `"jsonrpc": "2.0"`, a method and no id) is run and not
//! answered, as geth has it:
//! jsonrpsee would not run it and answers `null` over HTTP. It gets a stand-in id of its own,
//! and its answer is left out of the batch's; a body of notifications alone is answered `204 No
//! Content` with nothing in it. Only JSON bodies are read here, up to the server's own request
//! bound, and batches up to its batch bound.
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
    server::{
        HttpBody, HttpRequest, HttpResponse,
        http::{content_type_is_json, response},
        ws::is_upgrade_request,
    },
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Largest request body the server reads (jsonrpsee's default).
pub(crate) const MAX_REQUEST_BYTES: u32 = 10 * 1024 * 1024;

/// The bound jsonrpsee is given: [`MAX_REQUEST_BYTES`] and what the stand-ins may add, at most
/// 64 bytes for each request of the largest batch rewritten. A body just under the bound with
/// stand-ins was otherwise refused by jsonrpsee after this middleware took it (as an internal
/// error).
pub(crate) const MAX_REWRITTEN_BYTES: u32 = MAX_REQUEST_BYTES + 64 * crate::MAX_BATCH_REQUESTS;

/// Numbers the stand-in ids of every request apart.
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);

/// The start of every stand-in id of this process: random, so that a client cannot guess one
/// and have it replaced in an answer where it did not put it.
fn stand_in_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        format!("\"rollup-id-{random:016x}-")
    })
}

/// A request's id, method and version as their JSON text, nothing else (the rest is skipped,
/// not kept): `id` is `None` when the request has none, `Some("null")` for a null id.
#[derive(Deserialize)]
struct IdOf<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
}

/// An `id` that is there, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(deserializer).map(Some)
}

/// What a request body's ids need.
#[derive(Debug, PartialEq, Eq)]
enum Ids {
    /// Nothing: jsonrpsee holds them all (or the body is not JSON-RPC, which it answers).
    Held,
    /// A single request whose id is no string, number or null.
    Invalid,
    /// The body with the odd ids swapped for stand-ins (`<prefix><request>-<i>"`, where `i`
    /// indexes the original ids' text), and notifications given one (`<prefix><request>-n<j>"`)
    /// so that jsonrpsee runs them; their answers are left out.
    Swapped {
        body: Vec<u8>,
        request: u64,
        originals: Vec<String>,
        /// How many notifications got a stand-in.
        notifications: usize,
        /// Whether the body is a single request (else a batch).
        single: bool,
    },
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

/// The id of one request, if it is an object with at most one `id`: `Some(None)` for a
/// notification. Only what jsonrpsee takes for one is: `"jsonrpc": "2.0"`, a method name and
/// no `id`. Anything else without an id is no request, and jsonrpsee refuses it with a null id
/// (given a stand-in, its refusal would be left out as a notification's answer, and a request
/// that never ran would look taken).
fn id_of(request: &str) -> Option<Option<&RawValue>> {
    let of = serde_json::from_str::<IdOf<'_>>(request).ok()?;
    match of.id {
        Some(id) => Some(Some(id)),
        None => {
            let named = of
                .method
                .is_some_and(|method| method.get().starts_with('"'));
            let version = of
                .jsonrpc
                .is_some_and(|version| version.get() == r#""2.0""#);
            (named && version).then_some(None)
        }
    }
}

/// One change [`ids`] makes to a body: `len` bytes at `at` become `text`.
struct Edit {
    at: usize,
    len: usize,
    text: String,
}

/// Reads the ids of `body` (a single request or a batch of at most `max_batch` requests; a
/// larger one is left to jsonrpsee, which refuses it whole).
fn ids(body: &[u8], max_batch: usize) -> Ids {
    let Ok(text) = std::str::from_utf8(body) else {
        return Ids::Held;
    };
    let single = match text.trim_start().as_bytes().first() {
        Some(b'{') => true,
        Some(b'[') => false,
        _ => return Ids::Held,
    };
    // The requests with their ids: `None` for a notification.
    let requests: Vec<(&str, Option<&RawValue>)> = if single {
        match id_of(text) {
            Some(id) => vec![(text.trim_start(), id)],
            None => return Ids::Held,
        }
    } else {
        let Ok(requests) = serde_json::from_str::<Vec<&RawValue>>(text) else {
            return Ids::Held;
        };
        if requests.len() > max_batch {
            return Ids::Held;
        }
        // An entry that is no request is left as it is: jsonrpsee refuses it.
        requests
            .iter()
            .filter_map(|request| Some((request.get(), id_of(request.get())?)))
            .collect()
    };
    let odd = |id: &RawValue| !held(id.get()) && is_number(id.get());
    let needed = requests.iter().any(|(_, id)| id.is_none_or(odd));
    if !needed {
        // A single request whose id is no string, number or null is refused; in a batch such
        // an entry is left as it is, and jsonrpsee takes it for a notification.
        return match requests.first() {
            Some((_, Some(id))) if single && !held(id.get()) && !is_number(id.get()) => {
                if id.get() == "null" {
                    Ids::Held
                } else {
                    Ids::Invalid
                }
            }
            _ => Ids::Held,
        };
    }
    let request = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    let prefix = stand_in_prefix();
    let start = body.as_ptr() as usize;
    let mut edits = Vec::new();
    let mut originals = Vec::new();
    let mut notifications = 0;
    // Requests and their ids are borrowed from `body` and come in body order.
    for (request_text, id) in &requests {
        match id {
            Some(id) if odd(id) => {
                edits.push(Edit {
                    at: id.get().as_ptr() as usize - start,
                    len: id.get().len(),
                    text: format!("{prefix}{request}-{}\"", originals.len()),
                });
                originals.push(id.get().to_string());
            }
            Some(_) => {}
            None => {
                // Right after the object's `{` (a request is an object: its text starts there).
                let open = request_text.as_ptr() as usize - start;
                let empty = request_text[1..].trim_start().starts_with('}');
                edits.push(Edit {
                    at: open + 1,
                    len: 0,
                    text: format!(
                        "\"id\":{prefix}{request}-n{notifications}\"{}",
                        if empty { "" } else { "," }
                    ),
                });
                notifications += 1;
            }
        }
    }
    let mut swapped = Vec::with_capacity(body.len() + edits.len() * 56);
    let mut copied = 0;
    for edit in &edits {
        swapped.extend_from_slice(&body[copied..edit.at]);
        swapped.extend_from_slice(edit.text.as_bytes());
        copied = edit.at + edit.len;
    }
    swapped.extend_from_slice(&body[copied..]);
    Ids::Swapped {
        body: swapped,
        request,
        originals,
        notifications,
        single,
    }
}

/// `answer` without the answers to the notifications of `request` (a batch's entries whose id
/// is a notification's stand-in; the whole answer for a single notification): `None` when
/// nothing is left to answer.
fn without_notifications(answer: &[u8], request: u64, single: bool) -> Option<Vec<u8>> {
    let marker = format!("{}{request}-n", stand_in_prefix());
    let marker = marker.as_bytes();
    if single {
        return find(answer, marker).is_none().then(|| answer.to_vec());
    }
    // Not an array (the batch was refused whole): as it is.
    let Ok(entries) = serde_json::from_slice::<Vec<&RawValue>>(answer) else {
        return Some(answer.to_vec());
    };
    let kept: Vec<&str> = entries
        .iter()
        .map(|entry| entry.get())
        .filter(|entry| {
            id_of(entry)
                .flatten()
                .is_none_or(|id| find(id.get().as_bytes(), marker).is_none())
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(answer.len());
    out.push(b'[');
    for (i, entry) in kept.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(entry.as_bytes());
    }
    out.push(b']');
    Some(out)
}

/// `answer` with the stand-ins of `request` replaced by their original ids, in one pass.
fn restore(answer: &[u8], request: u64, originals: &[String]) -> Vec<u8> {
    let marker = format!("{}{request}-", stand_in_prefix());
    let marker = marker.as_bytes();
    let mut out = Vec::with_capacity(answer.len() + originals.len() * 8);
    let mut rest = answer;
    while let Some(at) = find(rest, marker) {
        out.extend_from_slice(&rest[..at]);
        let after = &rest[at + marker.len()..];
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        let original = std::str::from_utf8(&after[..digits])
            .ok()
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| originals.get(i))
            .filter(|_| after.get(digits) == Some(&b'"'));
        match original {
            Some(original) => {
                out.extend_from_slice(original.as_bytes());
                rest = &after[digits + 1..];
            }
            None => {
                out.extend_from_slice(marker);
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|b| *b == first) {
        let at = from + offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The answer to notifications alone: none (`204 No Content`, as anvil answers them).
fn no_content() -> HttpResponse {
    http::Response::builder()
        .status(http::StatusCode::NO_CONTENT)
        .body(HttpBody::empty())
        .expect("a static response is valid")
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
        if request.method() != http::Method::POST
            || is_upgrade_request(&request)
            || !content_type_is_json(&request)
        {
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
            match ids(&body, crate::MAX_BATCH_REQUESTS as usize) {
                Ids::Held => {
                    let request = HttpRequest::from_parts(parts, HttpBody::from(body));
                    inner.call(request).await.map_err(Into::into)
                }
                Ids::Invalid => Ok(invalid_request()),
                Ids::Swapped {
                    body,
                    request,
                    originals,
                    notifications,
                    single,
                } => {
                    let swapped = HttpRequest::from_parts(parts, HttpBody::from(body));
                    let answer = inner.call(swapped).await.map_err(Into::into)?;
                    let (mut parts, body) = answer.into_parts();
                    let mut body = http_body_util::BodyExt::collect(body)
                        .await?
                        .to_bytes()
                        .to_vec();
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    if notifications > 0 {
                        match without_notifications(&body, request, single) {
                            Some(kept) => body = kept,
                            // Only notifications: no answer at all, as JSON-RPC wants.
                            None => return Ok(no_content()),
                        }
                    }
                    let body = HttpBody::from(restore(&body, request, &originals));
                    Ok(HttpResponse::from_parts(parts, body))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1_000;

    fn swapped(body: &str) -> (String, u64, Vec<String>) {
        match ids(body.as_bytes(), MAX) {
            Ids::Swapped {
                body,
                request,
                originals,
                ..
            } => (String::from_utf8(body).unwrap(), request, originals),
            other => panic!("{other:?}"),
        }
    }

    fn stand_in(request: u64, i: usize) -> String {
        format!("{}{request}-{i}\"", stand_in_prefix())
    }

    #[test]
    fn ids_jsonrpsee_holds_pass_untouched() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","id":"-1","method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"eth_chainId"}"#,
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"eth_chainId"}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":"x","method":"b"}]"#,
            r#"not json"#,
            r#"{"id":-1"#,
            r#"{"id":-1,"id":2}"#,
            r#"[1, 2]"#,
            "",
        ] {
            assert_eq!(ids(body.as_bytes(), MAX), Ids::Held, "{body}");
        }
    }

    #[test]
    fn odd_numbers_are_swapped_and_restored_byte_for_byte() {
        for id in ["-1", "1.5", "1e3", "18446744073709551616", "-0", "0.0"] {
            let body =
                format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_chainId","params":[]}}"#);
            let (rewritten, request, originals) = swapped(&body);
            assert_eq!(originals, [id]);
            let stand_in = stand_in(request, 0);
            assert_eq!(
                rewritten,
                body.replace(&format!(":{id},"), &format!(":{stand_in},"))
            );
            let answer = format!(r#"{{"jsonrpc":"2.0","id":{stand_in},"result":"0x1"}}"#);
            assert_eq!(
                String::from_utf8(restore(answer.as_bytes(), request, &originals)).unwrap(),
                format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"0x1"}}"#)
            );
        }
    }

    #[test]
    fn a_batch_swaps_only_its_odd_ids() {
        let (rewritten, request, originals) = swapped(
            r#"[{"id":-1,"method":"a","params":[{"id":-7}]},{"id":2,"method":"b"},1,{"id":true},{"method":"c","id":1.5}]"#,
        );
        assert_eq!(originals, ["-1", "1.5"]);
        assert_eq!(
            rewritten,
            format!(
                r#"[{{"id":{},"method":"a","params":[{{"id":-7}}]}},{{"id":2,"method":"b"}},1,{{"id":true}},{{"method":"c","id":{}}}]"#,
                stand_in(request, 0),
                stand_in(request, 1)
            )
        );
        // A later request's stand-ins differ.
        let (_, later, _) = swapped(r#"{"id":-1,"method":"a"}"#);
        assert_ne!(later, request);
        // A batch larger than the server takes is left for it to refuse.
        let large = format!("[{}]", vec![r#"{"id":-1}"#; MAX + 1].join(","));
        assert_eq!(ids(large.as_bytes(), MAX), Ids::Held);
    }

    #[test]
    fn a_large_answer_is_restored_in_one_pass() {
        let originals: Vec<String> = (0..MAX).map(|i| format!("-{i}")).collect();
        let result = "ab".repeat(4_096);
        let answer = format!(
            "[{}]",
            (0..MAX)
                .map(|i| format!(r#"{{"id":{},"result":"{result}"}}"#, stand_in(9, i)))
                .collect::<Vec<_>>()
                .join(",")
        );
        let restored = String::from_utf8(restore(answer.as_bytes(), 9, &originals)).unwrap();
        let expected = format!(
            "[{}]",
            (0..MAX)
                .map(|i| format!(r#"{{"id":-{i},"result":"{result}"}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(restored, expected);
        // Another request's stand-ins, or a made-up index, stay as they are.
        let foreign = format!(r#"{{"id":{},"x":{}}}"#, stand_in(8, 0), stand_in(9, MAX));
        assert_eq!(
            restore(foreign.as_bytes(), 9, &originals),
            foreign.as_bytes()
        );
    }

    #[test]
    fn notifications_get_a_stand_in_and_their_answers_are_left_out() {
        let notification =
            |i: usize, request: u64| format!("{}{request}-n{i}\"", stand_in_prefix());
        // Alone (leading space and all): run, and no answer.
        let body = r#" {"jsonrpc":"2.0","method":"eth_chainId","params":[]}"#;
        let Ids::Swapped {
            body: rewritten,
            request,
            originals,
            notifications: 1,
            single: true,
        } = ids(body.as_bytes(), MAX)
        else {
            panic!("not swapped");
        };
        assert!(originals.is_empty());
        let alone = notification(0, request);
        assert_eq!(
            String::from_utf8(rewritten).unwrap(),
            format!(r#" {{"id":{alone},"jsonrpc":"2.0","method":"eth_chainId","params":[]}}"#)
        );
        let answer = format!(r#"{{"jsonrpc":"2.0","id":{alone},"result":"0x1"}}"#);
        assert_eq!(
            without_notifications(answer.as_bytes(), request, true),
            None
        );
        // What jsonrpsee refuses rather than runs is left to it, so its refusal (with a null
        // id) is answered: no version, another version, a method that is no name.
        for body in [
            r#"{"method":"eth_sendRawTransaction","params":["0x01"]}"#,
            r#"{"jsonrpc":"1.0","method":"a"}"#,
            r#"{"jsonrpc":"2.0","method":7}"#,
            r#"[{"method":"a"},{"jsonrpc":"2.0","id":1,"method":"b"}]"#,
        ] {
            assert_eq!(ids(body.as_bytes(), MAX), Ids::Held, "{body}");
        }

        // In a batch, beside an odd id and a plain one: only the others are answered.
        let body = r#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":-1,"method":"b"},{ "method":"c","jsonrpc":"2.0"},{"jsonrpc":"2.0","id":3,"method":"d"}]"#;
        let Ids::Swapped {
            body: rewritten,
            request,
            originals,
            notifications: 2,
            single: false,
        } = ids(body.as_bytes(), MAX)
        else {
            panic!("not swapped");
        };
        let (n0, n1, odd) = (
            notification(0, request),
            notification(1, request),
            stand_in(request, 0),
        );
        assert_eq!(
            String::from_utf8(rewritten).unwrap(),
            format!(
                r#"[{{"id":{n0},"jsonrpc":"2.0","method":"a"}},{{"jsonrpc":"2.0","id":{odd},"method":"b"}},{{"id":{n1}, "method":"c","jsonrpc":"2.0"}},{{"jsonrpc":"2.0","id":3,"method":"d"}}]"#
            )
        );
        let answer = format!(
            r#"[{{"jsonrpc":"2.0","id":{n0},"result":1}},{{"jsonrpc":"2.0","id":{odd},"result":2}},{{"jsonrpc":"2.0","id":{n1},"error":{{"code":-32601,"message":"x"}}}},{{"jsonrpc":"2.0","id":3,"result":4}}]"#
        );
        let kept = without_notifications(answer.as_bytes(), request, false).unwrap();
        assert_eq!(
            String::from_utf8(restore(&kept, request, &originals)).unwrap(),
            r#"[{"jsonrpc":"2.0","id":-1,"result":2},{"jsonrpc":"2.0","id":3,"result":4}]"#
        );
        // Notifications alone: nothing to answer.
        let answer = format!(r#"[{{"id":{n0},"result":1}},{{"id":{n1},"result":2}}]"#);
        assert_eq!(
            without_notifications(answer.as_bytes(), request, false),
            None
        );
        // An object with neither id nor method is no request: left for jsonrpsee to refuse.
        assert_eq!(ids(br#"[{},{"jsonrpc":"2.0"}]"#, MAX), Ids::Held);
    }

    #[test]
    fn an_id_that_is_no_string_number_or_null_is_invalid() {
        for id in ["true", "{}", "[1]"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_chainId"}}"#);
            assert_eq!(ids(body.as_bytes(), MAX), Ids::Invalid, "{body}");
        }
        // In a batch, such an entry is left as it is: jsonrpsee takes it for a notification.
        assert_eq!(
            ids(br#"[{"id":true,"method":"a"},{"id":1,"method":"b"}]"#, MAX),
            Ids::Held
        );
    }
}
