//! The HTTP transport of the L1 JSON-RPC client, with a bound on what one answer may hold.
//!
//! alloy's reqwest transport reads a whole body into memory, however large. An L1 provider (or
//! anything at its URL) that answers with hundreds of megabytes then costs gigabytes of memory
//! per answer, and the follower retries. This one reads at most [`MAX_RESPONSE_BYTES`] and
//! fails the call beyond that; otherwise it answers as alloy's does (HTTP errors with their
//! status and `Retry-After`, so the retry layer sees rate limits).
//!
//! Every request of the node to L1 passes here, so here each is timed
//! (`rollup_l1_request_seconds{method}`), a slow answer is warned about and a request long
//! unanswered is said to be waited for ([`LatencyLimits`]).

use std::{
    sync::{Arc, Mutex},
    task,
    time::{Duration, Instant},
};

use alloy_json_rpc::{RequestPacket, ResponsePacket};
use alloy_transport::{TransportError, TransportErrorKind, TransportFut, TransportResult};
use tracing::{debug, info, warn};

use crate::error::REPEATED_FAILURE_WARN_EVERY;

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

/// When a request to the L1 node counts as slow, and when one still unanswered is said to be
/// waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LatencyLimits {
    /// An answer that takes longer is slow: warned about (rate-limited, see [`SlowAnswers`]).
    pub(crate) slow: Duration,
    /// A request unanswered this long is logged once as still waited for.
    pub(crate) waiting: Duration,
    /// A stretch of slow answers ends with an answer in time when none was slow for this long.
    pub(crate) calm: Duration,
}

impl LatencyLimits {
    /// The limits of every L1 client: a block of 60M gas with its receipts answers well within
    /// a second from a healthy node, and the calls time out after 30 s.
    pub(crate) const DEFAULT: Self = Self {
        slow: Duration::from_secs(2),
        waiting: Duration::from_secs(5),
        calm: Duration::from_secs(30),
    };
}

/// The answer times of one client's requests, told to the operator: a slow L1 node degrades
/// following and every role's L1 calls without an error (the head and the cursor lag
/// together), and a hung one is silent until its calls time out.
#[derive(Debug)]
struct LatencyWatch {
    limits: LatencyLimits,
    slow: Mutex<SlowAnswers>,
    /// The requests said to be still unanswered, rate-limited as the slow answers are.
    hung: Mutex<SlowAnswers>,
}

impl LatencyWatch {
    /// Records one request's time in `rollup_l1_request_seconds{method}`.
    fn observe(method: &str, elapsed: Duration) {
        metrics::histogram!("rollup_l1_request_seconds", "method" => method.to_string())
            .record(elapsed);
    }

    /// Records one request's answer time (`answered`: whether it got an answer at all) in
    /// `rollup_l1_request_seconds{method}` and warns of a slow one.
    fn record(&self, method: &str, elapsed: Duration, answered: bool) {
        Self::observe(method, elapsed);
        let now = Instant::now();
        let mut slow = self
            .slow
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if elapsed >= self.limits.slow {
            match slow.slow_at(now) {
                Some(unwarned) => warn!(
                    target: "rollup::l1",
                    %method,
                    took = ?elapsed,
                    slow_since_last_warning = unwarned,
                    "the L1 node answers slowly: what this process reads from L1 and sends there waits as long (the node's L1 following and its roles' calls); check the L1 node's load and the network to it"
                ),
                None => debug!(target: "rollup::l1", %method, took = ?elapsed, "slow L1 answer"),
            }
        } else if answered && let Some(slow_answers) = slow.in_time_at(now, self.limits.calm) {
            info!(target: "rollup::l1", slow_answers, "the L1 node answers in time again");
        }
        if answered {
            let mut hung = self
                .hung
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            hung.in_time_at(now, self.limits.calm);
        }
    }

    /// Says that a request of `method` is still unanswered after `waited`: a warning for the
    /// first, then once a minute with how many more there were (a hung L1 leaves every request
    /// in flight waiting, eight block fetches of the follower at once).
    fn still_waiting(&self, method: &str, waited: Duration) {
        let unwarned = self
            .hung
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .slow_at(Instant::now());
        match unwarned {
            Some(unwarned) => warn!(
                target: "rollup::l1",
                %method,
                waited = ?waited,
                still_waiting_since_last_warning = unwarned,
                "still waiting for the L1 node's answer; check that the L1 node is up and not overloaded"
            ),
            None => {
                debug!(target: "rollup::l1", %method, waited = ?waited, "still waiting for the L1 node's answer")
            }
        }
    }
}

/// Rate-limits the warnings of slow answers as [`crate::RepeatedFailure`] does failures: the
/// first slow answer is warned about, then one a minute ([`REPEATED_FAILURE_WARN_EVERY`]) with
/// how many were not; the stretch ends (worth an info line) with an answer in time once none
/// was slow for a while. Unlike a failure, one fast answer does not end it: a node that serves
/// big blocks slowly and the head at once would otherwise warn at every block.
#[derive(Debug, Default)]
struct SlowAnswers {
    stretch: Option<SlowStretch>,
}

#[derive(Debug)]
struct SlowStretch {
    /// When a slow answer was last warned about.
    warned_at: Instant,
    /// The last slow answer.
    last_slow: Instant,
    /// Slow answers since the last warning, not warned about.
    unwarned: u64,
    /// Slow answers in the stretch.
    slow: u64,
}

impl SlowAnswers {
    /// Records a slow answer; `Some(n)` when it is to be warned about, `n` being the slow
    /// answers since the last warning that were not (0 for the first of a stretch).
    fn slow_at(&mut self, now: Instant) -> Option<u64> {
        let Some(stretch) = &mut self.stretch else {
            self.stretch = Some(SlowStretch {
                warned_at: now,
                last_slow: now,
                unwarned: 0,
                slow: 1,
            });
            return Some(0);
        };
        stretch.slow += 1;
        stretch.last_slow = now;
        if now.duration_since(stretch.warned_at) < REPEATED_FAILURE_WARN_EVERY {
            stretch.unwarned += 1;
            return None;
        }
        stretch.warned_at = now;
        Some(std::mem::take(&mut stretch.unwarned))
    }

    /// Records an answer in time; `Some(n)` when it ends a stretch of `n` slow answers, none
    /// of them within `calm`.
    fn in_time_at(&mut self, now: Instant, calm: Duration) -> Option<u64> {
        let stretch = self.stretch.as_ref()?;
        if now.duration_since(stretch.last_slow) < calm {
            return None;
        }
        self.stretch.take().map(|stretch| stretch.slow)
    }
}

/// Times one request from its start to its answer, or to its end without one (the caller's
/// timeout, or the caller itself, dropped it): dropped unfinished, it counts in the metric, but
/// not as a slow answer (a poll cut short drops the fetches it no longer needs).
struct RequestTimer {
    watch: Arc<LatencyWatch>,
    method: String,
    started: Instant,
    finished: bool,
}

impl RequestTimer {
    fn finish(mut self, answered: bool) {
        self.finished = true;
        self.watch
            .record(&self.method, self.started.elapsed(), answered);
    }
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        if !self.finished {
            LatencyWatch::observe(&self.method, self.started.elapsed());
        }
    }
}

/// The method a request packet calls, for logs and the metric's label: a batch is `batch`.
fn method_of(request: &RequestPacket) -> String {
    match request {
        RequestPacket::Single(request) => request.method().to_string(),
        RequestPacket::Batch(_) => "batch".to_string(),
    }
}

/// A JSON-RPC transport over HTTP(S) whose answers are bounded ([`MAX_RESPONSE_BYTES`]) and
/// whose answer times are measured and told ([`LatencyLimits`]).
#[derive(Debug, Clone)]
pub(crate) struct BoundedHttp {
    client: reqwest::Client,
    url: reqwest::Url,
    latency: Arc<LatencyWatch>,
}

impl BoundedHttp {
    pub(crate) fn new(url: reqwest::Url) -> Self {
        Self::with_client(reqwest::Client::new(), url, LatencyLimits::DEFAULT)
    }

    /// A transport whose every request fails after `timeout` without a whole answer (and whose
    /// connections fail after 10 s, or `timeout` if shorter).
    fn with_timeout(url: reqwest::Url, timeout: Duration, limits: LatencyLimits) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .unwrap_or_default();
        Self::with_client(client, url, limits)
    }

    fn with_client(client: reqwest::Client, url: reqwest::Url, limits: LatencyLimits) -> Self {
        Self {
            client,
            url,
            latency: Arc::new(LatencyWatch {
                limits,
                slow: Mutex::default(),
                hung: Mutex::default(),
            }),
        }
    }

    /// Sends `request`, timing it: a request unanswered after [`LatencyLimits::waiting`] is
    /// logged once, so a hung L1 is not silent until the caller's timeout.
    async fn send(self, request: RequestPacket) -> TransportResult<ResponsePacket> {
        let timer = RequestTimer {
            watch: Arc::clone(&self.latency),
            method: method_of(&request),
            started: Instant::now(),
            finished: false,
        };
        let waiting = self.latency.limits.waiting;
        let exchange = self.exchange(request);
        tokio::pin!(exchange);
        let answer = tokio::select! {
            answer = &mut exchange => answer,
            () = tokio::time::sleep(waiting) => {
                timer.watch.still_waiting(&timer.method, waiting);
                exchange.await
            }
        };
        timer.finish(answer.is_ok());
        answer
    }

    async fn exchange(self, request: RequestPacket) -> TransportResult<ResponsePacket> {
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
    alloy_rpc_client::RpcClient::new(
        BoundedHttp::with_timeout(url, timeout, LatencyLimits::DEFAULT),
        local,
    )
}

#[cfg(test)]
mod tests {
    use std::{
        io::{BufRead, BufReader, Read, Write},
        net::TcpListener,
        sync::{Arc, Mutex},
    };

    use alloy_primitives::U64;

    use super::*;

    /// An HTTP server on a free port that answers request `i` (from 0) after `delay(i)` with
    /// the number `0x2a`, each connection on a thread of its own. Returns its URL.
    fn slow_l1(delay: impl Fn(usize) -> Duration + Send + Sync + 'static) -> reqwest::Url {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let delay = Arc::new(delay);
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let (delay, served) = (Arc::clone(&delay), Arc::clone(&served));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let (mut line, mut length) = (String::new(), 0usize);
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                                break;
                            }
                            if let Some(value) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = value.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; length];
                        if line != "\r\n" || reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        let index = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(delay(index));
                        let answer = serde_json::json!({"jsonrpc": "2.0", "id": request["id"], "result": "0x2a"})
                            .to_string();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            answer.len()
                        );
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(answer.as_bytes()).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        url.parse().unwrap()
    }

    /// The messages of the `rollup::l1` events logged while it is the thread's subscriber, with
    /// their fields: `level message field=value …`.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<String>>>);

    impl Captured {
        fn lines(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    struct Fields(String);

    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0.insert_str(0, &format!("{value:?}"));
            } else {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
    }

    impl tracing::Subscriber for Captured {
        fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
            metadata.target() == "rollup::l1" && *metadata.level() <= tracing::Level::INFO
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            let line = format!("{} {}", event.metadata().level(), fields.0);
            self.0.lock().unwrap().push(line);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    const LIMITS: LatencyLimits = LatencyLimits {
        slow: Duration::from_millis(400),
        waiting: Duration::from_millis(1_000),
        calm: Duration::from_millis(600),
    };

    /// A slow L1 node is warned about when it starts being slow (method and time), then not at
    /// every answer; one that hangs is said to be waited for long before the call times out; and
    /// the log says when it answers in time again. Before, a node taking seconds per answer
    /// degraded following in silence, and a hung one was silent for the 30 s of the timeout.
    #[tokio::test]
    async fn slow_and_hung_answers_are_told() {
        let captured = Captured::default();
        let _subscriber = tracing::subscriber::set_default(captured.clone());
        // Requests 1 and 2 are slow, 3 and 4 hang past the client's timeout, 8 is slow past
        // the caller's patience, the rest are quick.
        let url = slow_l1(|index| match index {
            1 | 2 => Duration::from_millis(600),
            3 | 4 => Duration::from_secs(5),
            8 => Duration::from_secs(2),
            _ => Duration::ZERO,
        });
        let client = alloy_rpc_client::RpcClient::new(
            BoundedHttp::with_timeout(url, Duration::from_millis(1_500), LIMITS),
            true,
        );
        let head = || async {
            client
                .request_noparams::<U64>("eth_blockNumber")
                .await
                .map(|number| number.to::<u64>())
        };

        assert_eq!(head().await.unwrap(), 42);
        assert_eq!(
            captured.lines(),
            Vec::<String>::new(),
            "a quick answer is not told"
        );

        assert_eq!(head().await.unwrap(), 42);
        let lines = captured.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("WARN the L1 node answers slowly")
                && lines[0].contains("method=eth_blockNumber")
                && lines[0].contains("took=6")
                && lines[0].contains("slow_since_last_warning=0"),
            "{lines:?}"
        );

        assert_eq!(head().await.unwrap(), 42);
        assert_eq!(
            captured.lines(),
            Vec::<String>::new(),
            "the next slow answer is not"
        );

        let started = Instant::now();
        head().await.expect_err("the hung call times out");
        assert!(started.elapsed() < Duration::from_secs(3));
        let lines = captured.lines();
        assert!(
            lines.len() == 1
                && lines[0].starts_with("WARN still waiting for the L1 node's answer")
                && lines[0].contains("method=eth_blockNumber")
                && lines[0].contains("waited=1s"),
            "{lines:?}"
        );
        // Another hung call within the minute: not told again (a hung L1 leaves every request
        // in flight waiting).
        head().await.expect_err("the hung call times out");
        assert_eq!(captured.lines(), Vec::<String>::new());

        // Quick again: told once no answer was slow for `calm`, not at the first quick one.
        assert_eq!(head().await.unwrap(), 42);
        assert_eq!(captured.lines(), Vec::<String>::new());
        tokio::time::sleep(LIMITS.calm).await;
        assert_eq!(head().await.unwrap(), 42);
        let lines = captured.lines();
        assert!(
            lines.len() == 1
                && lines[0].starts_with("INFO the L1 node answers in time again")
                && lines[0].contains("slow_answers=4"),
            "{lines:?}"
        );
        assert_eq!(head().await.unwrap(), 42);
        assert_eq!(captured.lines(), Vec::<String>::new());
        // A request its caller gives up on is no slow answer of the L1 node's.
        tokio::time::timeout(Duration::from_millis(600), head())
            .await
            .expect_err("the caller gives up");
        assert_eq!(captured.lines(), Vec::<String>::new());
    }

    #[test]
    fn a_slow_stretch_is_warned_about_once_a_minute_and_ends_after_a_calm() {
        let mut slow = SlowAnswers::default();
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let calm = Duration::from_secs(30);
        assert_eq!(slow.slow_at(at(0)), Some(0));
        for secs in 1..60 {
            assert_eq!(slow.slow_at(at(secs)), None, "at {secs} s");
            // Quick answers between slow ones do not end the stretch.
            assert_eq!(slow.in_time_at(at(secs), calm), None, "at {secs} s");
        }
        assert_eq!(slow.slow_at(at(60)), Some(59));
        assert_eq!(slow.slow_at(at(61)), None);
        assert_eq!(slow.in_time_at(at(90), calm), None);
        assert_eq!(slow.in_time_at(at(91), calm), Some(62));
        assert_eq!(slow.in_time_at(at(92), calm), None, "told once");
        assert_eq!(
            slow.slow_at(at(93)),
            Some(0),
            "a new stretch is warned about"
        );
    }
}
