//! The HTTP transport of the L1 JSON-RPC client, with a bound on what one answer may hold.
//!
//! alloy's reqwest transport reads a whole body into memory, however large. An L1 provider (or
//! anything at its URL) that answers with hundreds of megabytes then costs gigabytes of memory
//! per answer, and the follower retries. This one reads at most [`MAX_RESPONSE_BYTES`] and
//! fails the call beyond that; otherwise it answers as alloy's does (HTTP errors with their
//! status and `Retry-After`, so the retry layer sees rate limits).

use std::{task, time::Duration};

use alloy_json_rpc::{RequestPacket, ResponsePacket};
use alloy_transport::{TransportError, TransportErrorKind, TransportFut, TransportResult};

/// The most one JSON-RPC answer of the L1 node may hold. A block of 60M gas with its
/// transactions, or its receipts, is a few tens of megabytes at most as JSON.
pub(crate) const MAX_RESPONSE_BYTES: usize = 128 << 20;

/// An answer longer than a reader takes.
#[derive(Debug, thiserror::Error)]
#[error("an answer of more than {limit} bytes, which this node does not read")]
pub(crate) struct AnswerTooLarge {
    /// The bound, in bytes.
    pub(crate) limit: usize,
}

/// Reads `response`'s body, failing once it passes `limit` bytes.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    read_body(&mut response, limit)
        .await
        .map_err(|err| err.to_string())
}

async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(AnswerTooLarge { limit }.into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(AnswerTooLarge { limit }.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON-RPC transport over HTTP(S) whose answers are bounded ([`MAX_RESPONSE_BYTES`]).
#[derive(Debug, Clone)]
pub(crate) struct BoundedHttp {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl BoundedHttp {
    pub(crate) fn new(url: reqwest::Url) -> Self {
        Self {
            client: reqwest::Client::new(),
            url,
        }
    }

    /// A transport whose every request fails after `timeout` without a whole answer (and whose
    /// connections fail after 10 s, or `timeout` if shorter).
    fn with_timeout(url: reqwest::Url, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .unwrap_or_default();
        Self { client, url }
    }

    async fn send(self, request: RequestPacket) -> TransportResult<ResponsePacket> {
        let body = serde_json::to_vec(&request).map_err(TransportError::ser_err)?;
        let mut response = self
            .client
            .post(self.url)
            .headers(request.headers())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(TransportErrorKind::custom)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok())
            .map(Duration::from_secs);
        let body = match read_body(&mut response, MAX_RESPONSE_BYTES).await {
            Ok(body) => body,
            Err(err) if !status.is_success() => {
                return Err(TransportErrorKind::http_error_with_retry_after(
                    status.as_u16(),
                    format!("<{err}>"),
                    retry_after,
                ));
            }
            Err(err) => return Err(TransportError::Transport(TransportErrorKind::Custom(err))),
        };
        if !status.is_success() {
            return Err(TransportErrorKind::http_error_with_retry_after(
                status.as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
                retry_after,
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|err| TransportError::deser_err(err, String::from_utf8_lossy(&body)))
    }
}

impl tower::Service<RequestPacket> for BoundedHttp {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _: &mut task::Context<'_>) -> task::Poll<Result<(), Self::Error>> {
        task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        Box::pin(self.clone().send(request))
    }
}

/// A JSON-RPC client over HTTP(S) at `url` whose answers are bounded ([`MAX_RESPONSE_BYTES`])
/// and whose every request fails after `timeout`: for a command line that must not wait for
/// ever on a node that took the connection and never answers.
pub fn http_client_with_timeout(
    url: reqwest::Url,
    timeout: Duration,
) -> alloy_rpc_client::RpcClient {
    let local = alloy_transport::utils::guess_local_url(url.as_str());
    alloy_rpc_client::RpcClient::new(BoundedHttp::with_timeout(url, timeout), local)
}
