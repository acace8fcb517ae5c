//! `eth_subscribe` over plain HTTP answers as geth does, `-32601 notifications not supported`,
//! instead of the server library's bare `-32603 Internal error`: a client that tries a
//! subscription over HTTP (or a misconfigured transport) learns to use a WebSocket or filters.
//!
//! Two layers, because the JSON-RPC middleware does not know the transport: [`MarkPlainHttp`]
//! (HTTP middleware) tags every request that is not a WebSocket upgrade, and
//! [`HttpSubscriptions`] (JSON-RPC middleware) answers the subscription methods of tagged
//! requests, alone or in a batch. WebSocket calls carry their upgrade request's extensions,
//! which have no tag, so they subscribe as before, except in a batch: there `eth_subscribe` is
//! refused ([`subscribe_in_batch`]), as the server library wrote its answer twice, once alone
//! and once in the batch's array, and a client matching answers by id saw an answer it had
//! already had.

use std::{
    future::Future,
    task::{Context, Poll},
};

use futures::future::Either;
use jsonrpsee::{
    core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification, RpcServiceT},
    server::{HttpRequest, MethodResponse, ws::is_upgrade_request},
    types::{ErrorObjectOwned, Request},
};

/// geth's code for a subscription over a transport without notifications.
pub(crate) const NOTIFICATIONS_UNSUPPORTED_CODE: i32 = -32601;

/// The longest subscription id `eth_unsubscribe` takes: ours are `0x` and at most 32 hex
/// digits; geth's and reth's no longer.
const MAX_SUBSCRIPTION_ID: usize = 66;

/// `eth_unsubscribe`'s parameters, checked before the server library reads them: anything but
/// one subscription id (a string) gets `-32602`, as from geth. The library answered `false` and
/// logged the whole parameters at WARN: a client sending 9 MiB of them wrote 270 MiB of log in
/// 4 s, and the node stops itself when its disk runs low.
fn bad_unsubscribe(request: &Request<'_>) -> Option<ErrorObjectOwned> {
    if request.method_name() != "eth_unsubscribe" {
        return None;
    }
    match request.params().parse::<(String,)>() {
        Ok((id,)) if id.len() <= MAX_SUBSCRIPTION_ID => None,
        _ => Some(ErrorObjectOwned::owned(
            jsonrpsee::types::error::INVALID_PARAMS_CODE,
            "invalid params: eth_unsubscribe takes one subscription id, a string",
            None::<()>,
        )),
    }
}

/// The request came over plain HTTP (set by [`MarkPlainHttp`]).
#[derive(Debug, Clone, Copy)]
struct OverPlainHttp;

/// Whether `method` needs a connection to notify.
fn needs_notifications(method: &str) -> bool {
    matches!(method, "eth_subscribe" | "eth_unsubscribe")
}

fn notifications_unsupported() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        NOTIFICATIONS_UNSUPPORTED_CODE,
        "notifications not supported: subscribe over WebSocket, or poll a filter (eth_newFilter, eth_getFilterChanges) over HTTP",
        None::<()>,
    )
}

/// The refusal of an `eth_subscribe` in a WebSocket batch: `-32600 invalid request`.
fn subscribe_in_batch() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        jsonrpsee::types::error::INVALID_REQUEST_CODE,
        "eth_subscribe is not taken in a batch: send it as a request of its own",
        None::<()>,
    )
}

/// HTTP middleware: tags requests that are not WebSocket upgrades as plain HTTP.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MarkPlainHttpLayer;

impl<S> tower::Layer<S> for MarkPlainHttpLayer {
    type Service = MarkPlainHttp<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MarkPlainHttp { inner }
    }
}

/// The service [`MarkPlainHttpLayer`] wraps around the JSON-RPC server.
#[derive(Debug, Clone)]
pub(crate) struct MarkPlainHttp<S> {
    inner: S,
}

impl<S: tower::Service<HttpRequest>> tower::Service<HttpRequest> for MarkPlainHttp<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: HttpRequest) -> Self::Future {
        if !is_upgrade_request(&request) {
            request.extensions_mut().insert(OverPlainHttp);
        }
        self.inner.call(request)
    }
}

/// JSON-RPC middleware: answers `eth_subscribe` and `eth_unsubscribe` over plain HTTP with
/// [`NOTIFICATIONS_UNSUPPORTED_CODE`], an `eth_subscribe` in a WebSocket batch with `-32600`
/// ([`subscribe_in_batch`]), and an `eth_unsubscribe` without one subscription id with `-32602`
/// ([`bad_unsubscribe`]); everything else passes through.
#[derive(Debug, Clone)]
pub(crate) struct HttpSubscriptions<S>(pub(crate) S);

impl<S> RpcServiceT for HttpSubscriptions<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        if needs_notifications(request.method_name())
            && request.extensions().get::<OverPlainHttp>().is_some()
        {
            let response = MethodResponse::error(request.id, notifications_unsupported());
            return Either::Left(std::future::ready(response));
        }
        if let Some(error) = bad_unsubscribe(&request) {
            return Either::Left(std::future::ready(MethodResponse::error(request.id, error)));
        }
        Either::Right(self.0.call(request))
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        for entry in batch.iter_mut() {
            let refused = match entry {
                Ok(BatchEntry::Call(request))
                    if needs_notifications(request.method_name())
                        && request.extensions().get::<OverPlainHttp>().is_some() =>
                {
                    Some((request.id.clone(), notifications_unsupported()))
                }
                Ok(BatchEntry::Call(request)) if request.method_name() == "eth_subscribe" => {
                    Some((request.id.clone(), subscribe_in_batch()))
                }
                Ok(BatchEntry::Call(request)) => {
                    bad_unsubscribe(request).map(|error| (request.id.clone(), error))
                }
                _ => None,
            };
            if let Some((id, error)) = refused {
                *entry = Err(BatchEntryErr::new(id, error));
            }
        }
        self.0.batch(batch)
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.0.notification(notification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_subscription_methods_need_notifications() {
        assert!(needs_notifications("eth_subscribe"));
        assert!(needs_notifications("eth_unsubscribe"));
        assert!(!needs_notifications("eth_newFilter"));
        assert!(!needs_notifications("eth_getFilterChanges"));
        assert_eq!(notifications_unsupported().code(), -32601);
    }
}
