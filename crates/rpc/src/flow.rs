//! Flow control per WebSocket connection: the server stops reading a client's requests while
//! that client is not reading the answers it already asked for.
//!
//! jsonrpsee (0.26) reads a WebSocket's messages as fast as they arrive and starts a task for
//! each; a task whose answer finds the connection's send queue full waits with the answer in
//! memory, and the reading goes on. A client that sends and never reads therefore made the node
//! hold every answer it asked for: one connection sending `rollup_getProof` batches took it past
//! 4 GB in seconds. geth bounds the same thing with a write deadline. Here:
//!
//! - [`Flow`] counts, for one connection, the calls running, the answer bytes produced but not
//!   yet written to its socket, and whether its last write was refused by a full socket;
//! - [`FlowStream`] (the connection's socket) subtracts what it writes and reads nothing while
//!   any of the three is over its bound ([`Flow::must_pause`]), so the client's requests wait in
//!   its own socket, as TCP intends;
//! - [`FlowRpc`] (JSON-RPC middleware) counts the calls and adds their answers; an answer that
//!   would go past [`MAX_OWED_BYTES_PER_CONNECTION`] (or, over all connections, past
//!   [`MAX_OWED_BYTES`]) is replaced by a short `-32005` error, so the calls already running
//!   when the reading paused cannot pile up large answers either;
//! - [`WithFlow`] (around the HTTP service of one connection) arms the flow when the connection
//!   upgrades to WebSocket. Plain HTTP needs none of it: hyper reads a connection's next request
//!   only after it wrote the answer to the last one.
//!
//! A client that reads its answers as they come never meets these bounds.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures::{future::Either, task::AtomicWaker};
use hyper::body::Incoming;
use jsonrpsee::{
    core::middleware::{Batch, Notification, RpcServiceT},
    server::{HttpBody, HttpRequest, MethodResponse, ws::is_upgrade_request},
    types::{ErrorObjectOwned, Id, Request},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

/// Calls one WebSocket connection may have running before its requests are no longer read.
pub const MAX_RUNNING_CALLS_PER_CONNECTION: usize = 256;

/// Answer bytes one WebSocket connection may owe its client (produced, not yet written to its
/// socket) before its requests are no longer read and further answers are replaced by an error:
/// one largest answer ([`crate::MAX_RESPONSE_BYTES`]).
pub const MAX_OWED_BYTES_PER_CONNECTION: usize = crate::MAX_RESPONSE_BYTES as usize;

/// Answer bytes all WebSocket connections together may owe before further answers are replaced
/// by an error.
pub const MAX_OWED_BYTES: usize = 1 << 30;

/// How long a WebSocket connection may go without its client reading anything while the server
/// waits to write to it (geth's write deadline is 10 s); then it is closed. A client that reads
/// slowly but steadily is never closed: every write it lets through starts the wait again.
pub const CLIENT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// geth's code for a limit the request ran into.
const LIMIT_EXCEEDED_CODE: i32 = -32005;

/// The answer bytes owed over all connections of one server.
#[derive(Debug, Default)]
pub(crate) struct OwedBytes(AtomicUsize);

/// What one connection owes its client; shared by its socket, its HTTP service and the
/// JSON-RPC middleware of its calls.
#[derive(Debug)]
pub(crate) struct Flow {
    /// Set when the connection upgrades to WebSocket; until then nothing is counted.
    websocket: AtomicBool,
    running: AtomicUsize,
    owed: AtomicUsize,
    /// The socket refused the last write (the client is not reading).
    stalled: AtomicBool,
    /// Bytes written to the socket so far: a client that lets any through is still reading.
    written: AtomicU64,
    /// The socket's reader, waiting for the flow to allow reading again.
    reader: AtomicWaker,
    /// Whether a read is held back now (for counting pauses, not for deciding them).
    paused: AtomicBool,
    all: Arc<OwedBytes>,
}

impl Flow {
    pub(crate) fn new(all: Arc<OwedBytes>) -> Self {
        Self {
            websocket: AtomicBool::new(false),
            running: AtomicUsize::new(0),
            owed: AtomicUsize::new(0),
            stalled: AtomicBool::new(false),
            written: AtomicU64::new(0),
            reader: AtomicWaker::new(),
            paused: AtomicBool::new(false),
            all,
        }
    }

    /// Whether the connection's requests must wait: too many calls running, or the client
    /// behind on its answers ([`Self::client_behind`]).
    fn must_pause(&self) -> bool {
        self.websocket.load(Ordering::Acquire)
            && (self.running.load(Ordering::Acquire) >= MAX_RUNNING_CALLS_PER_CONNECTION
                || self.client_behind())
    }

    /// Whether the client is not reading: too many answer bytes owed, or a socket that takes
    /// no more.
    fn client_behind(&self) -> bool {
        self.owed.load(Ordering::Acquire) >= MAX_OWED_BYTES_PER_CONNECTION
            || self.stalled.load(Ordering::Acquire)
    }

    fn call_started(&self) {
        self.running.fetch_add(1, Ordering::AcqRel);
    }

    fn call_ended(&self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
        self.reader.wake();
    }

    /// Counts `bytes` of answer as owed, unless the connection or the server owes too much
    /// already; returns whether it was counted.
    fn owe(&self, bytes: usize) -> bool {
        let (before, all_before) = self.owe_anyway(bytes);
        if before < MAX_OWED_BYTES_PER_CONNECTION && all_before < MAX_OWED_BYTES {
            return true;
        }
        self.owed.fetch_sub(bytes, Ordering::AcqRel);
        self.all.0.fetch_sub(bytes, Ordering::AcqRel);
        false
    }

    /// Counts `bytes` of answer as owed whatever is owed already; returns what the connection
    /// and the server owed before.
    fn owe_anyway(&self, bytes: usize) -> (usize, usize) {
        (
            self.owed.fetch_add(bytes, Ordering::AcqRel),
            self.all.0.fetch_add(bytes, Ordering::AcqRel),
        )
    }

    /// The socket wrote `bytes`: they are no longer owed (framing and pings, never counted,
    /// only bring the count to zero sooner).
    fn wrote(&self, bytes: usize) {
        self.stalled.store(false, Ordering::Release);
        self.written.fetch_add(bytes as u64, Ordering::AcqRel);
        let mut paid = 0;
        let _ = self
            .owed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |owed| {
                paid = owed.min(bytes);
                Some(owed - paid)
            });
        if paid > 0 {
            self.all.0.fetch_sub(paid, Ordering::AcqRel);
        }
        self.reader.wake();
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        // A closed connection's unwritten answers are gone with it.
        self.all.0.fetch_sub(*self.owed.get_mut(), Ordering::AcqRel);
    }
}

/// A connection's socket under its [`Flow`].
#[derive(Debug)]
pub(crate) struct FlowStream<T> {
    inner: T,
    flow: Arc<Flow>,
    /// While the client is behind: when it will be given up on, and what had been written when
    /// that wait started.
    behind: Option<(Pin<Box<Sleep>>, u64)>,
    /// [`CLIENT_READ_TIMEOUT`], shorter in tests.
    client_read_timeout: Duration,
}

impl<T> FlowStream<T> {
    pub(crate) const fn new(inner: T, flow: Arc<Flow>) -> Self {
        Self {
            inner,
            flow,
            behind: None,
            client_read_timeout: CLIENT_READ_TIMEOUT,
        }
    }

    /// Whether a client that has been behind has read nothing for [`CLIENT_READ_TIMEOUT`];
    /// polls (and so arms) the wait.
    fn gave_up_on_client(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.flow.client_behind() {
            self.behind = None;
            return false;
        }
        let written = self.flow.written.load(Ordering::Acquire);
        if self
            .behind
            .as_ref()
            .is_none_or(|(_, mark)| *mark != written)
        {
            self.behind = Some((
                Box::pin(tokio::time::sleep(self.client_read_timeout)),
                written,
            ));
        }
        let Some((deadline, _)) = &mut self.behind else {
            return false;
        };
        deadline.as_mut().poll(cx).is_ready()
    }

    fn written(&self, result: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match &result {
            Poll::Ready(Ok(bytes)) => self.flow.wrote(*bytes),
            Poll::Pending => self.flow.stalled.store(true, Ordering::Release),
            Poll::Ready(Err(_)) => {}
        }
        result
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FlowStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.flow.must_pause() {
            // Registered before the second look, so a write or a call that ends in between
            // wakes this read.
            this.flow.reader.register(cx.waker());
            if this.flow.must_pause() {
                if !this.flow.paused.swap(true, Ordering::AcqRel) {
                    metrics::counter!("rollup_rpc_ws_reads_paused_total").increment(1);
                }
                if this.gave_up_on_client(cx) {
                    metrics::counter!("rollup_rpc_ws_clients_dropped_total").increment(1);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the client read none of its answers for {:?}",
                            this.client_read_timeout
                        ),
                    )));
                }
                return Poll::Pending;
            }
        }
        this.behind = None;
        this.flow.paused.store(false, Ordering::Release);
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FlowStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.written(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.written(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The HTTP service of one connection (outermost, so the body is jsonrpsee's): hands the connection's [`Flow`] to the calls of a
/// WebSocket upgrade (through the request's extensions, which jsonrpsee gives every call made
/// over that WebSocket) and arms it.
#[derive(Debug, Clone)]
pub(crate) struct WithFlow<S> {
    pub(crate) inner: S,
    pub(crate) flow: Arc<Flow>,
}

impl<S> tower::Service<http::Request<Incoming>> for WithFlow<S>
where
    S: tower::Service<HttpRequest>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Incoming>) -> Self::Future {
        let mut request = request.map(HttpBody::new);
        if is_upgrade_request(&request) {
            self.flow.websocket.store(true, Ordering::Release);
            request.extensions_mut().insert(Arc::clone(&self.flow));
        }
        self.inner.call(request)
    }
}

/// JSON-RPC middleware: counts a WebSocket call while it runs and its answer until written
/// ([`Flow`]); an answer the connection cannot owe becomes [`owed_too_much`].
#[derive(Debug, Clone)]
pub(crate) struct FlowRpc<S>(pub(crate) S);

/// Ends the count of a running call however its future ends (also when dropped because the
/// connection closed).
struct Running(Arc<Flow>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.call_ended();
    }
}

fn owed_too_much() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        LIMIT_EXCEEDED_CODE,
        format!(
            "answer withheld: this connection's client has not read {} MiB of earlier answers \
             (or all clients together {} MiB); read the responses before sending more requests",
            MAX_OWED_BYTES_PER_CONNECTION >> 20,
            MAX_OWED_BYTES >> 20,
        ),
        None::<()>,
    )
}

/// Counts `response` as owed on `flow`, or replaces it by [`owed_too_much`] under `id`.
fn settle(flow: &Flow, response: MethodResponse, id: Id<'static>) -> MethodResponse {
    if !(response.is_method_call() || response.is_batch()) {
        // Notifications are not answered; a subscription's answer is small and written by the
        // subscription itself.
        return response;
    }
    if flow.owe(response.as_json().get().len()) {
        return response;
    }
    metrics::counter!("rollup_rpc_ws_answers_withheld_total").increment(1);
    let withheld = MethodResponse::error(id, owed_too_much());
    // The error is owed too: small, and always sent.
    flow.owe_anyway(withheld.as_json().get().len());
    withheld
}

impl<S> RpcServiceT for FlowRpc<S>
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
        let Some(flow) = request.extensions().get::<Arc<Flow>>().cloned() else {
            return Either::Left(self.0.call(request));
        };
        let id = request.id.clone().into_owned();
        flow.call_started();
        let running = Running(Arc::clone(&flow));
        let response = self.0.call(request);
        Either::Right(async move {
            let response = response.await;
            drop(running);
            settle(&flow, response, id)
        })
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let flow = batch.extensions().get::<Arc<Flow>>().cloned();
        let Some(flow) = flow else {
            return Either::Left(self.0.batch(batch));
        };
        flow.call_started();
        let running = Running(Arc::clone(&flow));
        let response = self.0.batch(batch);
        Either::Right(async move {
            let response = response.await;
            drop(running);
            settle(&flow, response, Id::Null)
        })
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

    fn websocket_flow(all: &Arc<OwedBytes>) -> Flow {
        let flow = Flow::new(Arc::clone(all));
        flow.websocket.store(true, Ordering::Release);
        flow
    }

    #[test]
    fn plain_http_is_never_paused() {
        let flow = Flow::new(Arc::default());
        flow.stalled.store(true, Ordering::Release);
        assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION));
        assert!(!flow.must_pause());
    }

    #[test]
    fn reading_pauses_while_answers_are_owed_and_resumes_as_they_are_written() {
        let all = Arc::default();
        let flow = websocket_flow(&all);
        assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION - 1));
        assert!(!flow.must_pause());
        // The last answer that fits is counted, whatever its size; the next one is not.
        assert!(flow.owe(10));
        assert!(flow.must_pause());
        assert!(!flow.owe(1));
        assert_eq!(
            all.0.load(Ordering::Acquire),
            MAX_OWED_BYTES_PER_CONNECTION + 9
        );
        flow.wrote(10);
        assert!(!flow.must_pause());
        // More written than owed (framing, pings): the count stops at zero.
        flow.wrote(usize::MAX);
        assert_eq!(flow.owed.load(Ordering::Acquire), 0);
        assert_eq!(all.0.load(Ordering::Acquire), 0);
    }

    #[test]
    fn reading_pauses_while_the_socket_is_full_or_too_many_calls_run() {
        let flow = websocket_flow(&Arc::default());
        flow.stalled.store(true, Ordering::Release);
        assert!(flow.must_pause());
        flow.wrote(1);
        assert!(!flow.must_pause());
        for _ in 0..MAX_RUNNING_CALLS_PER_CONNECTION {
            flow.call_started();
        }
        assert!(flow.must_pause());
        flow.call_ended();
        assert!(!flow.must_pause());
    }

    #[tokio::test]
    async fn a_client_that_reads_nothing_is_given_up_on_and_one_that_reads_is_not() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (ours, mut theirs) = tokio::io::duplex(1024);
        let flow = Arc::new(websocket_flow(&Arc::default()));
        flow.stalled.store(true, Ordering::Release);
        let mut stream = FlowStream::new(ours, Arc::clone(&flow));
        stream.client_read_timeout = Duration::from_millis(300);
        theirs.write_all(b"request").await.unwrap();

        // Every write the client lets through starts the wait again; the request stays unread
        // while the socket is full.
        let mut buf = [0; 7];
        let reading = tokio::time::timeout(Duration::from_millis(700), stream.read(&mut buf));
        let writing = async {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                flow.wrote(1);
                flow.stalled.store(true, Ordering::Release);
            }
        };
        let (read, ()) = tokio::join!(reading, writing);
        assert!(
            read.is_err(),
            "neither read nor given up on within 700 ms: {read:?}"
        );

        // Once the socket takes writes the request is read.
        flow.wrote(1);
        assert_eq!(stream.read(&mut buf).await.unwrap(), 7);
        assert_eq!(&buf, b"request");

        // A client that reads nothing at all is given up on.
        flow.stalled.store(true, Ordering::Release);
        let err = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("given up on within the timeout")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn the_server_wide_bound_holds_across_connections_and_a_closed_one_pays_its_debt() {
        let all = Arc::default();
        let flows: Vec<_> = (0..MAX_OWED_BYTES / MAX_OWED_BYTES_PER_CONNECTION)
            .map(|_| websocket_flow(&all))
            .collect();
        for flow in &flows {
            assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION));
        }
        let another = websocket_flow(&all);
        assert!(!another.owe(1), "the server owes its bound already");
        drop(flows);
        assert_eq!(all.0.load(Ordering::Acquire), 0);
        assert!(another.owe(1));
    }
}
