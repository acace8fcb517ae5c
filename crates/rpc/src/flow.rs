//! Flow control per WebSocket connection: the server stops reading a client's requests while
//! that client is not reading the answers it already asked for.
//!
//! jsonrpsee (0.26) reads a WebSocket's messages as fast as they arrive and starts a task for
//! each; a task whose answer finds the connection's send queue full waits with the answer in
//! memory, and the reading goes on. A client that sends and never reads therefore made the node
//! hold every answer it asked for: one connection sending `rollup_getProof` batches took it past
//! 4 GB in seconds. geth bounds the same thing with a write deadline. Here:
//!
//! - [`Flow`] counts, for one connection, the calls running, the bytes of the answers produced
//!   but not yet written whole to its socket (an answer's buffer is held until its last byte
//!   went out), and whether its last write was refused by a full socket;
//! - [`FlowStream`] (the connection's socket) counts what it writes, paying off each answer
//!   once its last byte is written, and reads nothing while
//!   any of the three is over its bound ([`Flow::must_pause`]), so the client's requests wait in
//!   its own socket, as TCP intends; a client that reads nothing for [`CLIENT_READ_TIMEOUT`]
//!   meanwhile is given up on: every read and write of the socket fails, which ends the
//!   connection's tasks even while one waits to write;
//! - [`FlowRpc`] (JSON-RPC middleware) counts the calls and adds their answers; an answer that
//!   finishes while the connection owes [`MAX_OWED_BYTES_PER_CONNECTION`] already (or, while all connections together owe
//!   [`MAX_OWED_BYTES`], any answer of a connection that owes anything, and any answer larger
//!   than [`SMALL_ANSWER_BYTES`]) is replaced by a short `-32005` error, so the calls already
//!   running when the reading paused cannot pile up large answers either, nor many connections
//!   one large answer each; subscriptions count their notifications the same way
//!   ([`Flow::owe`]);
//! - [`WithFlow`] (around the HTTP service of one connection) gives the flow to every call of
//!   the connection, and arms its pausing when the connection has upgraded to WebSocket (a
//!   refused upgrade leaves it plain HTTP). Plain HTTP's answers are counted, for the bound over
//!   all connections, but its reading is never paused: hyper reads a connection's next request
//!   only after it wrote the answer to the last one;
//! - on every connection, plain HTTP too, a write the socket has refused for
//!   [`CLIENT_READ_TIMEOUT`] gives the client up: an HTTP client that asked for a large answer
//!   (a batch, up to [`crate::MAX_RESPONSE_BYTES`]) and read none of it held it in memory for
//!   as long as it kept the connection, about 60 MB each on an outsider's test, and a
//!   WebSocket subscriber that sent nothing and read nothing was never looked at by the
//!   paused-reading rule above.
//!
//! A client that reads its answers as they come meets these bounds only with more than
//! [`MAX_OWED_BYTES_PER_CONNECTION`] of answers in flight at once, or while other clients that
//! do not read hold the server-wide bound (its answers over [`SMALL_ANSWER_BYTES`] are withheld
//! then, and any answer while it owes one). HTTP/2 is not served (see `serve_http1`).

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

use crate::LIMIT_EXCEEDED_CODE;

/// Calls one WebSocket connection may have running before its requests are no longer read (a
/// batch counts its calls: it builds its whole answer before any of it is sent, so 64 calls
/// of `rollup_getProof` with 1 024 slots hold about 50 MB).
pub const MAX_RUNNING_CALLS_PER_CONNECTION: usize = 64;

/// Answer bytes one connection may owe its client (produced, not yet written whole to its
/// socket) before further answers are replaced by an error and, on a WebSocket, its requests
/// are no longer read: one largest answer ([`crate::MAX_RESPONSE_BYTES`]). The answer that
/// crosses it is counted whatever its size.
pub const MAX_OWED_BYTES_PER_CONNECTION: usize = crate::MAX_RESPONSE_BYTES as usize;

/// Answer bytes all connections together (WebSocket and HTTP) may owe before further answers
/// are replaced by an error: a connection that owes something already gets the error for any
/// answer, one that owes nothing for an answer larger than [`SMALL_ANSWER_BYTES`].
pub const MAX_OWED_BYTES: usize = 1 << 30;

/// An answer this small goes to a connection that owes nothing even while all connections
/// together owe [`MAX_OWED_BYTES`]: a head, a balance, a receipt or a hash still gets through
/// while clients that do not read hold the budget, and a thousand connections (the default cap)
/// hold at most 64 MiB of them. A larger one, even a connection's first, would let every
/// connection add its 64 MiB: an outsider's 350 HTTP clients each asking for an 8 MB answer and
/// reading none took the node to 3.9 GB.
pub const SMALL_ANSWER_BYTES: usize = 64 << 10;

/// How long a connection (WebSocket or plain HTTP) may go without its client reading anything
/// while the server waits to write to it (geth's write deadline is 10 s); then it is closed. A client that reads
/// slowly but steadily is never closed: every write it lets through starts the wait again.
pub const CLIENT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The answer bytes owed over all connections of one server, and by each capped client address
/// over its connections.
#[derive(Debug, Default)]
pub(crate) struct OwedBytes(
    AtomicUsize,
    std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
);

impl OwedBytes {
    fn clients(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<std::net::IpAddr, usize>> {
        self.1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Answer bytes one client address may owe over all its connections before its further answers
/// are held to the rule of the server-wide bound (only small ones, and only to a connection that
/// owes nothing): its share of [`MAX_OWED_BYTES`], as of the other node-wide budgets
/// ([`crate::PER_CLIENT_SHARE`]). Without it a few connections of one address that asked for
/// large answers and read none held the whole server-wide bound, and every other client's large
/// answers were withheld. Loopback clients and trusted proxies are not held to it.
pub const MAX_OWED_BYTES_PER_CLIENT: usize = MAX_OWED_BYTES / crate::PER_CLIENT_SHARE;

/// What one connection owes its client; shared by its socket, its HTTP service and the
/// JSON-RPC middleware of its calls.
#[derive(Debug)]
pub(crate) struct Flow {
    /// Set when the connection upgrades to WebSocket; until then its reading is never paused
    /// (answers are counted all the same).
    websocket: AtomicBool,
    running: AtomicUsize,
    /// The answer bytes of [`Self::pending`]: kept apart, to be read without the lock.
    owed: AtomicUsize,
    /// The answers owed, oldest first, each with the count of bytes written (see
    /// [`Self::written`]) at which its last byte will have gone out. An answer is owed whole
    /// until then: the process holds its buffer until the socket took all of it, so paying it
    /// off byte by byte as the socket takes it undercounted by what the kernel's send buffer
    /// held (megabytes each; 400 HTTP clients that read nothing held 1.8 GB while the count
    /// stayed under its bound).
    pending: std::sync::Mutex<std::collections::VecDeque<(u64, usize)>>,
    /// The socket refused the last write (the client is not reading).
    stalled: AtomicBool,
    /// Bytes written to the socket so far: a client that lets any through is still reading.
    written: AtomicU64,
    /// The socket's reader, waiting for the flow to allow reading again.
    reader: AtomicWaker,
    /// The socket's writer, waiting for room (woken when the connection is given up on).
    writer: AtomicWaker,
    /// The client was given up on: the socket fails every read and write from now on, so
    /// the connection's tasks end even while a write waits for a client that reads nothing.
    dead: AtomicBool,
    /// Whether a read is held back now (for counting pauses, not for deciding them).
    paused: AtomicBool,
    /// The connection's place among the server's WebSockets, once it upgraded: given back
    /// when the connection ends.
    place: std::sync::OnceLock<WebSocketPlace>,
    /// The connection's slot among its client address's connections (none for an uncapped
    /// client): given back when the connection ends.
    client_slot: std::sync::OnceLock<Option<crate::PerIpSlot>>,
    all: Arc<OwedBytes>,
    /// The connection's client address, when it is held to [`MAX_OWED_BYTES_PER_CLIENT`].
    client: Option<std::net::IpAddr>,
}

impl Flow {
    /// The flow of a connection from `client` (`None`: a client not held to a share).
    pub(crate) fn new(all: Arc<OwedBytes>, client: Option<std::net::IpAddr>) -> Self {
        Self {
            websocket: AtomicBool::new(false),
            running: AtomicUsize::new(0),
            owed: AtomicUsize::new(0),
            pending: std::sync::Mutex::default(),
            stalled: AtomicBool::new(false),
            written: AtomicU64::new(0),
            reader: AtomicWaker::new(),
            writer: AtomicWaker::new(),
            dead: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            place: std::sync::OnceLock::new(),
            client_slot: std::sync::OnceLock::new(),
            all,
            client,
        }
    }

    fn hold_place(&self, place: WebSocketPlace) {
        let _ = self.place.set(place);
    }

    pub(crate) fn hold_client_slot(&self, slot: Option<crate::PerIpSlot>) {
        let _ = self.client_slot.set(slot);
    }

    /// A plain HTTP connection's next request arrived: hyper reads it only once the last
    /// answer is written, so nothing is owed any more (also what an answer rewritten after it
    /// was counted, as `OddIdsLayer` restores ids, left short of its count).
    fn settle_all(&self) {
        let mut pending = self.pending();
        pending.clear();
        self.pay(self.owed.load(Ordering::Acquire));
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

    fn calls_started(&self, calls: usize) {
        self.running.fetch_add(calls, Ordering::AcqRel);
    }

    fn calls_ended(&self, calls: usize) {
        self.running.fetch_sub(calls, Ordering::AcqRel);
        self.reader.wake();
    }

    /// Counts `bytes` of answer as owed, unless the connection owes
    /// [`MAX_OWED_BYTES_PER_CONNECTION`] already, or its client address owes
    /// [`MAX_OWED_BYTES_PER_CLIENT`] or all connections together owe [`MAX_OWED_BYTES`] and
    /// this one owes anything or the answer is larger than [`SMALL_ANSWER_BYTES`]. Returns the
    /// answer's mark in the queue if it was counted (for [`Self::release`]).
    ///
    /// The server's count goes up before the connection's and down after it
    /// ([`Self::wrote`]), so it is never below the sum of the connections' counts.
    pub(crate) fn owe(&self, bytes: usize) -> Option<u64> {
        let all_before = self.all.0.fetch_add(bytes, Ordering::AcqRel);
        let mut pending = self.pending();
        let owed = self.owed.load(Ordering::Acquire);
        let client_full = self.client.is_some_and(|ip| {
            self.all.clients().get(&ip).copied().unwrap_or(0) >= MAX_OWED_BYTES_PER_CLIENT
        });
        let over = owed >= MAX_OWED_BYTES_PER_CONNECTION
            || ((all_before >= MAX_OWED_BYTES || client_full)
                && (owed > 0 || bytes > SMALL_ANSWER_BYTES));
        if over {
            drop(pending);
            self.all.0.fetch_sub(bytes, Ordering::AcqRel);
            return None;
        }
        Some(self.push(&mut pending, bytes))
    }

    /// Counts `bytes` of answer as owed whatever is owed already.
    fn owe_anyway(&self, bytes: usize) {
        self.all.0.fetch_add(bytes, Ordering::AcqRel);
        let mut pending = self.pending();
        self.push(&mut pending, bytes);
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(u64, usize)>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues an answer of `bytes`, written out once the socket has written what is queued
    /// before it (or, with nothing queued, what it has written so far) and `bytes` more; returns
    /// that point, which marks the answer (each is past the one before).
    fn push(&self, pending: &mut std::collections::VecDeque<(u64, usize)>, bytes: usize) -> u64 {
        let written = self.written.load(Ordering::Acquire);
        let start = pending.back().map_or(written, |&(end, _)| end.max(written));
        let end = start + bytes as u64;
        pending.push_back((end, bytes));
        self.owed.fetch_add(bytes, Ordering::AcqRel);
        if let Some(ip) = self.client {
            *self.all.clients().entry(ip).or_default() += bytes;
        }
        end
    }

    /// Gives up on the client: every read and write of the socket fails from now on.
    fn give_up(&self) {
        self.dead.store(true, Ordering::Release);
        self.writer.wake();
        self.reader.wake();
    }

    /// A write failed: the connection is ending, its reader must see that.
    fn write_failed(&self) {
        self.stalled.store(false, Ordering::Release);
        self.reader.wake();
    }

    /// The socket wrote `bytes`: the answers whose last byte went out with them are no
    /// longer owed (framing and pings, never counted, only bring that point sooner).
    fn wrote(&self, bytes: usize) {
        self.stalled.store(false, Ordering::Release);
        let mut pending = self.pending();
        let written = self.written.fetch_add(bytes as u64, Ordering::AcqRel) + bytes as u64;
        self.pay_written(&mut pending, written);
        drop(pending);
        self.reader.wake();
    }

    /// Pays the answers at the front of the queue whose last byte is within `written`.
    fn pay_written(&self, pending: &mut std::collections::VecDeque<(u64, usize)>, written: u64) {
        let mut paid = 0;
        while let Some(&(end, bytes)) = pending.front() {
            if end > written {
                break;
            }
            pending.pop_front();
            paid += bytes;
        }
        self.pay(paid);
    }

    /// The answer `mark` ([`Self::owe`]) is not owed after all: a notification its
    /// subscription could not take. The answers queued after it go out that much sooner.
    pub(crate) fn release(&self, mark: u64) {
        let mut pending = self.pending();
        let Ok(at) = pending.binary_search_by_key(&mark, |&(end, _)| end) else {
            return;
        };
        let Some((_, bytes)) = pending.remove(at) else {
            return;
        };
        for (end, _) in pending.iter_mut().skip(at) {
            *end -= bytes as u64;
        }
        self.pay(bytes);
        let written = self.written.load(Ordering::Acquire);
        self.pay_written(&mut pending, written);
    }

    fn pay(&self, bytes: usize) {
        if bytes > 0 {
            self.owed.fetch_sub(bytes, Ordering::AcqRel);
            self.pay_client(bytes);
            self.all.0.fetch_sub(bytes, Ordering::AcqRel);
        }
    }

    fn pay_client(&self, bytes: usize) {
        if let Some(ip) = self.client {
            let mut clients = self.all.clients();
            if let Some(owed) = clients.get_mut(&ip) {
                *owed = owed.saturating_sub(bytes);
                if *owed == 0 {
                    clients.remove(&ip);
                }
            }
        }
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        // A closed connection's unwritten answers are gone with it.
        let owed = *self.owed.get_mut();
        self.pay_client(owed);
        self.all.0.fetch_sub(owed, Ordering::AcqRel);
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
    /// While the socket refuses a write: when the client will be given up on. Cleared by any
    /// write that goes through.
    write_stall: Option<Pin<Box<Sleep>>>,
    /// [`CLIENT_READ_TIMEOUT`], shorter in tests.
    client_read_timeout: Duration,
}

impl<T> FlowStream<T> {
    pub(crate) const fn new(inner: T, flow: Arc<Flow>) -> Self {
        Self {
            inner,
            flow,
            behind: None,
            write_stall: None,
            client_read_timeout: CLIENT_READ_TIMEOUT,
        }
    }

    /// After a write: clears the stall deadline once the socket takes bytes, arms (and polls)
    /// it while the socket refuses them, and gives the client up once it has refused them for
    /// [`CLIENT_READ_TIMEOUT`] (every read and write fails from then on).
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match &result {
            Poll::Ready(Ok(written)) if *written > 0 => self.write_stall = None,
            Poll::Pending => {
                let timeout = self.client_read_timeout;
                let deadline = self
                    .write_stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready() {
                    if self.flow.websocket.load(Ordering::Acquire) {
                        metrics::counter!("rollup_rpc_ws_clients_dropped_total").increment(1);
                    } else {
                        metrics::counter!("rollup_rpc_http_clients_dropped_total").increment(1);
                    }
                    self.flow.give_up();
                    if let Some(err) = self.dead() {
                        return Poll::Ready(Err(err));
                    }
                }
            }
            Poll::Ready(_) => {}
        }
        self.written(cx, result)
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

    fn written(
        &self,
        cx: &Context<'_>,
        result: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match &result {
            Poll::Ready(Ok(bytes)) => self.flow.wrote(*bytes),
            Poll::Pending => {
                // Registered so that giving up on the client ends this wait too.
                self.flow.writer.register(cx.waker());
                self.flow.stalled.store(true, Ordering::Release);
            }
            Poll::Ready(Err(_)) => self.flow.write_failed(),
        }
        result
    }

    fn dead(&self) -> Option<io::Error> {
        self.flow.dead.load(Ordering::Acquire).then(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client read none of its answers for {:?}",
                    self.client_read_timeout
                ),
            )
        })
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FlowStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(err) = this.dead() {
            return Poll::Ready(Err(err));
        }
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
                    this.flow.give_up();
                    if let Some(err) = this.dead() {
                        return Poll::Ready(Err(err));
                    }
                }
                return Poll::Pending;
            }
        }
        this.behind = None;
        this.flow.paused.store(false, Ordering::Release);
        // A read parked in the socket is woken when the client is given up on from the
        // writing side: it then fails and the connection closes. Before, it stayed open, its
        // slot and send buffer held, until the client itself sent or closed.
        this.flow.reader.register(cx.waker());
        if let Some(err) = this.dead() {
            return Poll::Ready(Err(err));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FlowStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(err) = self.dead() {
            return Poll::Ready(Err(err));
        }
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.after_write(cx, result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(err) = self.dead() {
            return Poll::Ready(Err(err));
        }
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.after_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(err) = self.dead() {
            return Poll::Ready(Err(err));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// WebSocket connections open now, against their cap ([`crate::websocket_cap`]).
#[derive(Debug)]
pub(crate) struct WebSockets {
    open: AtomicUsize,
    cap: usize,
}

impl WebSockets {
    pub(crate) fn new(cap: u32) -> Self {
        Self {
            open: AtomicUsize::new(0),
            cap: cap as usize,
        }
    }

    /// Takes a place for one more WebSocket, if there is one.
    fn reserve(&self) -> bool {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.cap).then_some(open + 1)
            })
            .is_ok()
    }

    fn release(&self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place taken in [`WebSockets`], given back when the connection that upgraded ends (its
/// [`Flow`] is dropped).
#[derive(Debug)]
struct WebSocketPlace(Arc<WebSockets>);

impl Drop for WebSocketPlace {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// The HTTP service of one connection (outermost, so the body is jsonrpsee's): hands the
/// connection's [`Flow`] to its calls (through the request's extensions, which jsonrpsee gives
/// every call of the request, and every call made over a WebSocket it upgrades to), arms its
/// pausing on an upgrade, and refuses an upgrade past the WebSockets' cap.
#[derive(Debug, Clone)]
pub(crate) struct WithFlow<S> {
    pub(crate) inner: S,
    pub(crate) flow: Arc<Flow>,
    /// The server's open WebSockets: an upgrade past their cap is refused with `503`.
    pub(crate) websockets: Arc<WebSockets>,
    /// The connection's peer address and the trusted proxies: each request's client
    /// ([`crate::client_of`]: the peer, or behind a trusted proxy the client its
    /// `X-Forwarded-For` names, since one proxy connection carries many clients) goes in the
    /// request's extensions (its calls' too).
    pub(crate) peer: std::net::IpAddr,
    pub(crate) trusted_proxies: Arc<[crate::IpRange]>,
}

impl<S, B> tower::Service<http::Request<Incoming>> for WithFlow<S>
where
    S: tower::Service<HttpRequest, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: From<String> + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Incoming>) -> Self::Future {
        let mut request = request.map(HttpBody::new);
        let client = crate::client_of(self.peer, request.headers(), &self.trusted_proxies);
        request.extensions_mut().insert(client);
        // Every call's answer is counted until written, plain HTTP's too: what the server holds
        // for clients that do not read is bounded over all connections.
        request.extensions_mut().insert(Arc::clone(&self.flow));
        if !is_upgrade_request(&request) {
            self.flow.settle_all();
            return Box::pin(self.inner.call(request));
        }
        if !self.websockets.reserve() {
            metrics::counter!("rollup_rpc_connections_refused_total", "reason" => "websockets")
                .increment(1);
            let cap = self.websockets.cap;
            return Box::pin(async move {
                let mut response = http::Response::new(B::from(format!(
                    "too many WebSocket connections: at most {cap} at once, the rest of the \
                     connections are kept for plain HTTP; use HTTP, or retry later\n"
                )));
                *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                Ok(response)
            });
        }
        let place = WebSocketPlace(Arc::clone(&self.websockets));
        let flow = Arc::clone(&self.flow);
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            // Only an upgrade that happened makes a WebSocket: a refused one (too many
            // connections, a bad handshake) leaves an HTTP connection, whose reading is never
            // paused, and gives its place back.
            if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                flow.websocket.store(true, Ordering::Release);
                flow.hold_place(place);
            }
            Ok(response)
        })
    }
}

/// JSON-RPC middleware: counts a call while it runs and its answer until written ([`Flow`]);
/// an answer the connection cannot owe becomes [`owed_too_much`].
#[derive(Debug, Clone)]
pub(crate) struct FlowRpc<S>(pub(crate) S);

/// Counts running calls until dropped, however their future ends (also when dropped because
/// the connection closed).
struct Running(Arc<Flow>, usize);

impl Running {
    fn start(flow: &Arc<Flow>, calls: usize) -> Self {
        flow.calls_started(calls);
        Self(Arc::clone(flow), calls)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.calls_ended(self.1);
    }
}

fn owed_too_much() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        LIMIT_EXCEEDED_CODE,
        format!(
            "answer withheld: this connection's client has not read {} MiB of earlier answers, \
             or its address {} MiB over its connections, or all clients together {} MiB (then \
             only answers up to {} KiB go out); read the responses before sending more \
             requests, or retry shortly",
            MAX_OWED_BYTES_PER_CONNECTION >> 20,
            MAX_OWED_BYTES_PER_CLIENT >> 20,
            MAX_OWED_BYTES >> 20,
            SMALL_ANSWER_BYTES >> 10,
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
    if flow.owe(response.as_json().get().len()).is_some() {
        return response;
    }
    metrics::counter!("rollup_rpc_answers_withheld_total").increment(1);
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
        let running = Running::start(&flow, 1);
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
        let running = Running::start(&flow, batch.len().max(1));
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
        let flow = Flow::new(Arc::clone(all), None);
        flow.websocket.store(true, Ordering::Release);
        flow
    }

    #[test]
    fn plain_http_is_never_paused() {
        let flow = Flow::new(Arc::default(), None);
        flow.stalled.store(true, Ordering::Release);
        assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION).is_some());
        assert!(!flow.must_pause());
    }

    #[test]
    fn reading_pauses_while_answers_are_owed_and_resumes_as_they_are_written() {
        let all = Arc::default();
        let flow = websocket_flow(&all);
        assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION - 1).is_some());
        assert!(!flow.must_pause());
        // The last answer that fits is counted, whatever its size; the next one is not.
        assert!(flow.owe(10).is_some());
        assert!(flow.must_pause());
        assert!(flow.owe(1).is_none());
        assert_eq!(
            all.0.load(Ordering::Acquire),
            MAX_OWED_BYTES_PER_CONNECTION + 9
        );
        // An answer is owed whole until its last byte is written: the buffer is held so long.
        flow.wrote(MAX_OWED_BYTES_PER_CONNECTION - 2);
        assert!(flow.must_pause());
        assert_eq!(
            flow.owed.load(Ordering::Acquire),
            MAX_OWED_BYTES_PER_CONNECTION + 9
        );
        flow.wrote(1);
        assert!(!flow.must_pause());
        assert_eq!(flow.owed.load(Ordering::Acquire), 10);
        // More written than owed (framing, pings): the count stops at zero, and the next
        // answer is owed from what has been written by then.
        flow.wrote(1 << 40);
        assert_eq!(flow.owed.load(Ordering::Acquire), 0);
        assert_eq!(all.0.load(Ordering::Acquire), 0);
        assert!(flow.owe(100).is_some());
        flow.wrote(99);
        assert_eq!(flow.owed.load(Ordering::Acquire), 100);
        flow.wrote(1);
        assert_eq!(flow.owed.load(Ordering::Acquire), 0);
        // A notification its subscription did not take is not owed.
        assert!(flow.owe(7).is_some());
        let five = flow.owe(5).unwrap();
        assert!(flow.owe(3).is_some());
        flow.release(five);
        assert_eq!(flow.owed.load(Ordering::Acquire), 10);
        flow.wrote(7);
        assert_eq!(flow.owed.load(Ordering::Acquire), 3);
        flow.wrote(3);
        assert_eq!(all.0.load(Ordering::Acquire), 0);
    }

    #[test]
    fn reading_pauses_while_the_socket_is_full_or_too_many_calls_run() {
        let flow = websocket_flow(&Arc::default());
        flow.stalled.store(true, Ordering::Release);
        assert!(flow.must_pause());
        flow.wrote(1);
        assert!(!flow.must_pause());
        let flow = Arc::new(flow);
        let batch = Running::start(&flow, MAX_RUNNING_CALLS_PER_CONNECTION - 1);
        assert!(!flow.must_pause());
        let call = Running::start(&flow, 1);
        assert!(flow.must_pause());
        drop(call);
        assert!(!flow.must_pause());
        drop(batch);
        assert_eq!(flow.running.load(Ordering::Acquire), 0);
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
        // And so is its socket's writing, which a client that reads nothing would hold up.
        let err = stream.write_all(b"answer").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    /// A read waiting in the socket fails as soon as the client is given up on from the
    /// writing side (its writes refused for the timeout), so the connection closes.
    #[tokio::test]
    async fn a_waiting_read_ends_when_the_writing_side_gives_the_client_up() {
        use tokio::io::AsyncReadExt;

        let (ours, _theirs) = tokio::io::duplex(64);
        let flow = Arc::new(websocket_flow(&Arc::default()));
        let mut stream = FlowStream::new(ours, Arc::clone(&flow));
        // On a task of its own, as the server's reading half: nothing else wakes it.
        let reading = tokio::spawn(async move {
            let mut buf = [0; 1];
            stream.read(&mut buf).await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        flow.give_up();
        let err = tokio::time::timeout(Duration::from_secs(2), reading)
            .await
            .expect("woken by the give-up")
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    /// A plain HTTP client that reads none of its answer is given up on once the socket has
    /// refused the write for the timeout; one whose socket takes the bytes is not.
    #[tokio::test]
    async fn an_http_client_that_reads_none_of_its_answer_is_given_up_on() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (ours, mut theirs) = tokio::io::duplex(64);
        let flow = Arc::new(Flow::new(Arc::default(), None));
        let mut stream = FlowStream::new(ours, Arc::clone(&flow));
        stream.client_read_timeout = Duration::from_millis(300);

        // Read as it comes: a large answer goes through, however long it takes.
        let answer = vec![7u8; 4_096];
        let reading = async {
            let mut got = vec![0; answer.len()];
            for chunk in got.chunks_mut(64) {
                tokio::time::sleep(Duration::from_millis(1)).await;
                theirs.read_exact(chunk).await.unwrap();
            }
            got
        };
        let (written, got) = tokio::join!(stream.write_all(&answer), reading);
        written.unwrap();
        assert_eq!(got, answer);

        // Not read at all: the write fails within the timeout, and so does every read.
        let err = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&answer))
            .await
            .expect("given up on within the timeout")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let mut buf = [0; 1];
        let err = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    /// One address owes at most its share over its connections: past it, its large answers
    /// are withheld while other addresses' still go out, and what it is paid or closes frees
    /// the share.
    #[test]
    fn one_address_owes_at_most_its_share() {
        let all: Arc<OwedBytes> = Arc::default();
        let ip = |last| Some(std::net::IpAddr::from([203, 0, 113, last]));
        let flows: Vec<_> = (0..MAX_OWED_BYTES_PER_CLIENT / MAX_OWED_BYTES_PER_CONNECTION + 1)
            .map(|_| Flow::new(Arc::clone(&all), ip(7)))
            .collect();
        for flow in &flows {
            assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION).is_some());
        }
        let one_more = Flow::new(Arc::clone(&all), ip(7));
        assert!(
            one_more.owe(SMALL_ANSWER_BYTES + 1).is_none(),
            "past the address's share"
        );
        assert!(
            one_more.owe(SMALL_ANSWER_BYTES).is_some(),
            "a small first answer still goes out"
        );
        let other = Flow::new(Arc::clone(&all), ip(8));
        assert!(
            other.owe(MAX_OWED_BYTES_PER_CONNECTION).is_some(),
            "another address is not held"
        );
        let uncapped = Flow::new(Arc::clone(&all), None);
        assert!(uncapped.owe(MAX_OWED_BYTES_PER_CONNECTION).is_some());
        drop(flows);
        let fresh = Flow::new(Arc::clone(&all), ip(7));
        assert!(
            fresh.owe(MAX_OWED_BYTES_PER_CONNECTION).is_some(),
            "closed connections freed it"
        );
        drop((fresh, one_more, other, uncapped));
        assert_eq!(all.0.load(Ordering::Acquire), 0);
        assert!(all.clients().is_empty());
    }

    #[test]
    fn the_server_wide_bound_holds_across_connections_and_a_closed_one_pays_its_debt() {
        let all = Arc::default();
        let flows: Vec<_> = (0..MAX_OWED_BYTES / MAX_OWED_BYTES_PER_CONNECTION)
            .map(|_| websocket_flow(&all))
            .collect();
        for flow in &flows {
            assert!(flow.owe(MAX_OWED_BYTES_PER_CONNECTION).is_some());
        }
        // A connection that owes nothing still gets a small answer, not a large one, plain
        // HTTP's as a WebSocket's; one that owes anything gets none.
        let http = Flow::new(Arc::clone(&all), None);
        assert!(
            http.owe(SMALL_ANSWER_BYTES + 1).is_none(),
            "a large first answer"
        );
        assert!(http.owe(SMALL_ANSWER_BYTES).is_some());
        http.wrote(SMALL_ANSWER_BYTES);
        let another = websocket_flow(&all);
        assert!(
            another.owe(SMALL_ANSWER_BYTES + 1).is_none(),
            "a large first answer"
        );
        assert!(another.owe(1).is_some());
        assert!(
            another.owe(1).is_none(),
            "the server owes its bound already"
        );
        drop(flows);
        assert_eq!(all.0.load(Ordering::Acquire), 1);
        assert!(another.owe(1).is_some());
        // What a refused answer and an overpaying write do leaves both counts exact.
        another.wrote(1 << 40);
        assert_eq!(all.0.load(Ordering::Acquire), 0);
        assert_eq!(another.owed.load(Ordering::Acquire), 0);
    }
}
