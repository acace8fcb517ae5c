//! An alloy transport that calls a JSON-RPC server's methods in the same process.
//!
//! Inside reth the rollup's L1-facing roles talk to reth's own `eth_*` implementation: a
//! transaction they send enters reth's pool directly, and reads come from reth's database, with
//! no HTTP server (and no `--http` flag) needed between two parts of one process. Anything that
//! can hand over its methods as a jsonrpsee [`Methods`] table works the same way.

use std::task::{Context, Poll};

use alloy_json_rpc::{RequestPacket, Response, ResponsePacket, SerializedRequest};
use alloy_transport::{TransportError, TransportErrorKind, TransportFut};
use jsonrpsee::Methods;

/// A transport that answers every request by calling `methods` directly.
#[derive(Clone)]
pub struct InProcessTransport {
    methods: Methods,
}

impl std::fmt::Debug for InProcessTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessTransport")
            .field("methods", &self.methods.method_names().count())
            .finish()
    }
}

impl InProcessTransport {
    /// A transport over `methods` (for example an `RpcModule` converted with `.into()`).
    pub fn new(methods: impl Into<Methods>) -> Self {
        Self {
            methods: methods.into(),
        }
    }

    /// A JSON-RPC client over this transport, for alloy providers.
    pub fn into_client(self) -> alloy_rpc_client::RpcClient {
        // "Local": no rate limiting or batching delays are needed in one process.
        alloy_rpc_client::RpcClient::new(self, true)
    }
}

async fn call_one(
    methods: &Methods,
    request: &SerializedRequest,
) -> Result<Response, TransportError> {
    let (response, _subscription) = methods
        .raw_json_request(request.serialized().get(), 1)
        .await
        .map_err(|err| TransportErrorKind::custom_str(&format!("malformed request: {err}")))?;
    serde_json::from_str(response.get()).map_err(|err| {
        TransportErrorKind::custom_str(&format!("in-process server answered malformed JSON: {err}"))
    })
}

impl tower::Service<RequestPacket> for InProcessTransport {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        let methods = self.methods.clone();
        Box::pin(async move {
            match request {
                RequestPacket::Single(request) => {
                    Ok(ResponsePacket::Single(call_one(&methods, &request).await?))
                }
                RequestPacket::Batch(requests) => {
                    let mut responses = Vec::with_capacity(requests.len());
                    for request in &requests {
                        responses.push(call_one(&methods, request).await?);
                    }
                    Ok(ResponsePacket::Batch(responses))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::U64;
    use alloy_provider::{Provider, ProviderBuilder};
    use jsonrpsee::{RpcModule, types::ErrorObjectOwned};

    use super::*;

    fn server() -> RpcModule<()> {
        let mut module = RpcModule::new(());
        module
            .register_method("eth_chainId", |_, _, _| {
                Ok::<_, ErrorObjectOwned>(U64::from(1337))
            })
            .unwrap();
        module
            .register_method("eth_blockNumber", |_, _, _| {
                Ok::<_, ErrorObjectOwned>(U64::from(42))
            })
            .unwrap();
        module
            .register_method("eth_sendRawTransaction", |_, _, _| {
                Err::<(), _>(ErrorObjectOwned::owned(-32000, "nonce too low", None::<()>))
            })
            .unwrap();
        module
    }

    #[tokio::test]
    async fn provider_calls_reach_the_in_process_methods() {
        let provider =
            ProviderBuilder::new().connect_client(InProcessTransport::new(server()).into_client());
        assert_eq!(provider.get_chain_id().await.unwrap(), 1337);
        assert_eq!(provider.get_block_number().await.unwrap(), 42);
    }

    #[tokio::test]
    async fn server_errors_arrive_as_json_rpc_errors() {
        let provider =
            ProviderBuilder::new().connect_client(InProcessTransport::new(server()).into_client());
        let err = provider
            .client()
            .request::<_, ()>("eth_sendRawTransaction", ("0x00",))
            .await
            .unwrap_err();
        let payload = err.as_error_resp().expect("a JSON-RPC error response");
        assert_eq!(payload.code, -32000);
        assert_eq!(payload.message, "nonce too low");
        let err = provider
            .client()
            .request::<_, ()>("eth_unknownMethod", ())
            .await
            .unwrap_err();
        assert_eq!(
            err.as_error_resp().unwrap().code,
            -32601,
            "method not found"
        );
    }
}
