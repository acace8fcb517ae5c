//! Errors of the L1 follower.

use alloy_primitives::B256;
use alloy_transport::TransportError;

/// A `Result` whose error is [`L1Error`].
pub type Result<T, E = L1Error> = std::result::Result<T, E>;

/// What can go wrong while following L1.
///
/// [`L1Error::is_temporary`] classifies by handling: temporary errors are retried with backoff by
/// [`crate::L1Follower::run`]; the others stop it.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// An L1 transaction could not be landed.
    #[error(
        "L1 transaction to {to} not mined after {attempts} attempts (last fees: max {max_fee} wei, tip {tip} wei): {reason}"
    )]
    NotMined {
        /// Target contract.
        to: alloy_primitives::Address,
        /// Attempts made.
        attempts: u32,
        /// Last max fee per gas.
        max_fee: u128,
        /// Last priority fee.
        tip: u128,
        /// Last error or "timeout".
        reason: String,
    },
    /// A transaction's nonce was mined by another transaction of the account before its first
    /// submission: one of ours left pending by an earlier call or process, or another process
    /// with the same key. L1 changed since the caller decided to send it; nothing was sent.
    #[error(
        "nonce {nonce} was mined meanwhile by another transaction of {account} (one left pending by an earlier call or process, or another process with its key): L1 changed since this transaction to {to} was decided, so it was not sent"
    )]
    NonceTaken {
        /// The sending account.
        account: alloy_primitives::Address,
        /// The nonce.
        nonce: u64,
        /// The transaction's recipient.
        to: alloy_primitives::Address,
    },
    /// The sender was shut down (its cancellation token fired) before the call completed; a
    /// transaction already submitted may still be mined.
    #[error("L1 sender stopped before the call completed: shutting down")]
    Cancelled,

    /// The configured URL cannot be used.
    #[error("L1 RPC URL {url:?} is invalid: {reason}; pass an http(s) URL with --l1-rpc-url")]
    InvalidUrl {
        /// The configured URL.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The follower configuration or the stored history is unusable.
    #[error("invalid L1 follower setup: {0}")]
    InvalidSetup(String),
    /// An RPC call failed (connection refused, HTTP error, JSON-RPC error, bad response).
    #[error("{}", rpc_message(url, method, source))]
    Rpc {
        /// The L1 RPC URL.
        url: String,
        /// The JSON-RPC method that failed.
        method: &'static str,
        /// The transport error.
        #[source]
        source: TransportError,
    },
    /// L1 refused a transaction of ours because its account cannot pay for it.
    #[error(
        "the account {account} cannot pay for its L1 transaction ({method} at {url}): {reason}; send ETH to {account} on L1 (for gas, and for the bond or value the transaction carries)"
    )]
    Unfunded {
        /// The sending account.
        account: alloy_primitives::Address,
        /// The L1 RPC URL.
        url: String,
        /// The JSON-RPC method refused, or the check that stopped it before sending.
        method: &'static str,
        /// The node's words, or the check's.
        reason: String,
    },
    /// An RPC call did not answer in time.
    #[error(
        "L1 RPC at {url} did not answer {method} within {seconds}s; check that the L1 node is up and not overloaded"
    )]
    Timeout {
        /// The L1 RPC URL.
        url: String,
        /// The JSON-RPC method that timed out.
        method: &'static str,
        /// The timeout.
        seconds: u64,
    },
    /// The L1 node returned data that does not fit together, typically because L1 reorganised
    /// between two calls. Retried.
    #[error("L1 block {number} changed while it was being fetched: {reason}; retrying")]
    Inconsistent {
        /// The block number being fetched.
        number: u64,
        /// What did not match.
        reason: String,
    },
    /// The blobs of a batch transaction could not be had from the beacon API, or did not match
    /// their versioned hashes. Retried: derivation cannot go past the block without them.
    #[error("blobs of L1 block {number} from the beacon API at {url}: {reason}; retrying")]
    Blobs {
        /// The beacon API's URL.
        url: String,
        /// The L1 block.
        number: u64,
        /// What went wrong.
        reason: String,
    },
    /// The beacon API URL serves no blobs of this L1: no beacon API at all, or one of another
    /// chain. Not retried: the operator fixes `--l1-beacon-url`.
    #[error("--l1-beacon-url {url} {reason}")]
    WrongBeacon {
        /// The beacon API's URL.
        url: String,
        /// What it serves instead.
        reason: String,
    },
    /// None of the stored blocks is canonical any more: the reorg is deeper than the history the
    /// follower (or the consumer) kept.
    #[error(
        "L1 reorg is deeper than the stored history: none of the {count} stored L1 blocks \
         (oldest {oldest_number} {oldest_hash}) is canonical on L1 any more; \
         resync the rollup node from an older L1 block or point it at the right L1 chain"
    )]
    ReorgTooDeep {
        /// How many stored blocks were checked.
        count: usize,
        /// Number of the oldest stored block.
        oldest_number: u64,
        /// Hash of the oldest stored block.
        oldest_hash: B256,
    },
}

/// What a failed `eth_call` says, for a log line: `reverts: ` and the revert named from the
/// contracts' errors when the node sent revert data (its own text shows a custom error as a
/// bare selector), else the node's text, printable and bounded.
pub fn call_failure(err: &TransportError) -> String {
    match err
        .as_error_resp()
        .and_then(|payload| payload.as_revert_data())
    {
        Some(data) => format!("reverts: {}", rollup_primitives::describe_revert(&data)),
        None => bounded(&printable(&err.to_string())),
    }
}

/// What an [`L1Error::Rpc`] says: a node that answered with an error (a revert, a refused
/// transaction) was reached, so only a failure to get an answer points at the URL.
fn rpc_message(url: &str, method: &str, source: &TransportError) -> String {
    match source.as_error_resp() {
        // The node's own text renders the data lossily (a custom error's bare selector, a
        // string's raw bytes): name it from the contracts' errors instead.
        Some(payload) if let Some(data) = payload.as_revert_data() => format!(
            "{method} reverts on the L1 at {url}: {}",
            rollup_primitives::describe_revert(&data)
        ),
        Some(payload) => format!(
            "the L1 RPC at {url} refused {method}: {} (code {})",
            bounded(&printable(&payload.message)),
            payload.code
        ),
        None => {
            let detail = bounded(&printable(&source.to_string()));
            let http_status = match source {
                alloy_transport::RpcError::Transport(
                    alloy_transport::TransportErrorKind::HttpError(http)
                    | alloy_transport::TransportErrorKind::HttpErrorWithRetryAfter {
                        error: http,
                        ..
                    },
                ) => Some(http.status),
                // The retry layer gives up with its own error, which carries the last answer's
                // status only in its text ("Max retries exceeded HTTP error 429 …").
                _ => http_status_in(&detail),
            };
            let too_large = match source {
                alloy_transport::RpcError::Transport(
                    alloy_transport::TransportErrorKind::Custom(err),
                ) => err.downcast_ref::<crate::transport::AnswerTooLarge>(),
                _ => None,
            };
            match (http_status, source) {
                _ if let Some(too_large) = too_large => format!(
                    "the L1 RPC at {url} answered {method} with {too_large}; check that --l1-rpc-url is an L1 node's JSON-RPC endpoint"
                ),
                (Some(429), _) => format!(
                    "the L1 RPC at {url} is rate-limiting this node ({method}): {detail}; each call is retried a few times, but a provider that keeps refusing slows L1 following down: use a plan with more requests per second, or an L1 node of your own"
                ),
                (Some(status @ 500..=599), _) => format!(
                    "the L1 RPC at {url} failed {method} with HTTP {status}: {detail}; it answers, so the L1 node or a proxy in front of it is in trouble (the call is retried): look at its logs"
                ),
                (_, alloy_transport::RpcError::DeserError { .. }) => format!(
                    "the L1 RPC at {url} answered {method} with something that is not a valid JSON-RPC response: {detail}; check that --l1-rpc-url is an L1 node's JSON-RPC endpoint"
                ),
                _ => format!(
                    "cannot reach L1 RPC at {url} ({method}): {detail}; check --l1-rpc-url and that the L1 node is running"
                ),
            }
        }
    }
}

/// The HTTP status an error's text names (`HTTP error 429`), if any.
fn http_status_in(text: &str) -> Option<u16> {
    let (_, after) = text.split_once("HTTP error ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The most of an L1 node's error text a message carries: a provider can answer with a body of
/// hundreds of megabytes, and every retry logs its error.
const MAX_ERROR_TEXT: usize = 1_024;

/// `text` cut to [`MAX_ERROR_TEXT`] bytes (at a character boundary), saying how long it was.
fn bounded(text: &str) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        return text.to_string();
    }
    let mut end = MAX_ERROR_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// `text` with control characters escaped, so a log line stays one clean line (an L1 node's
/// error text can carry raw bytes, revert data's NULs among them).
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl L1Error {
    /// Whether retrying later can succeed (network trouble, a reorg racing our calls).
    pub const fn is_temporary(&self) -> bool {
        matches!(
            self,
            Self::Rpc { .. }
                | Self::Unfunded { .. }
                | Self::Timeout { .. }
                | Self::Inconsistent { .. }
                | Self::Blobs { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_json_rpc::ErrorPayload;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            printable("custom error 0x640836c9: \0\0\u{7}ok"),
            "custom error 0x640836c9: \\u{0}\\u{0}\\u{7}ok"
        );
    }

    #[test]
    fn an_answer_is_not_called_unreachable() {
        let rpc = |source| {
            L1Error::Rpc {
                url: "http://l1".into(),
                method: "eth_estimateGas",
                source,
            }
            .to_string()
        };
        let unreachable = rpc(TransportError::local_usage_str("connection refused"));
        assert!(
            unreachable.starts_with("cannot reach L1 RPC at http://l1"),
            "{unreachable}"
        );
        // The retry layer's last word after a provider's 429s, and an answer of HTTP 500: the
        // L1 answered, so neither is "cannot reach".
        let limited = rpc(alloy_transport::TransportErrorKind::custom_str(
            r#"Max retries exceeded HTTP error 429 with body: {"error":"rate limited"}"#,
        ));
        assert!(limited.contains("is rate-limiting this node"), "{limited}");
        let failing = rpc(alloy_transport::TransportErrorKind::custom_str(
            "HTTP error 500 with body: internal error",
        ));
        assert!(
            failing.contains("failed eth_estimateGas with HTTP 500"),
            "{failing}"
        );
        let revert = |data: &str| {
            let payload: ErrorPayload = serde_json::from_str(&format!(
                r#"{{"code":3,"message":"execution reverted: \u0000\u0007","data":"{data}"}}"#
            ))
            .unwrap();
            rpc(TransportError::ErrorResp(payload))
        };
        // BatchInbox_BlockHashMismatch(12), named from the contracts' errors.
        let mismatch = format!(
            "0x{}{}",
            alloy_primitives::hex::encode(
                &alloy_primitives::keccak256("BatchInbox_BlockHashMismatch(uint256)")[..4]
            ),
            "0".repeat(62) + "0c"
        );
        assert_eq!(
            revert(&mismatch),
            "eth_estimateGas reverts on the L1 at http://l1: BatchInbox_BlockHashMismatch(number: 12)"
        );
        assert_eq!(
            revert("0xc0b6af16"),
            "eth_estimateGas reverts on the L1 at http://l1: unknown error 0xc0b6af16"
        );
        let refused: ErrorPayload =
            serde_json::from_str(r#"{"code":-32000,"message":"nonce too low\u0000"}"#).unwrap();
        let refused = rpc(TransportError::ErrorResp(refused));
        assert!(!refused.contains("cannot reach"), "{refused}");
        assert!(
            refused.contains(r"nonce too low\u{0} (code -32000)"),
            "{refused}"
        );
    }
}

/// A failure's text with its numbers (decimal, or hex after `0x`) left out, for telling
/// repeats apart: the same failure names another request id, byte offset or block each time
/// (`EOF while parsing a string at line 1 column 70`, `{"jsonrpc":"2.0","id":1589,…`), and
/// each counted as new.
fn shape(text: &str) -> String {
    let mut shaped = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let number = if let Some(hex) = rest.strip_prefix("0x") {
            Some(hex.trim_start_matches(|c: char| c.is_ascii_hexdigit()))
        } else if c.is_ascii_digit() {
            Some(rest.trim_start_matches(|c: char| c.is_ascii_digit()))
        } else {
            None
        };
        match number {
            Some(after) => {
                shaped.push('#');
                rest = after;
            }
            None => {
                shaped.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    shaped
}

/// How often a failure that repeats unchanged is logged again as a warning.
pub const REPEATED_FAILURE_WARN_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Tells a role's loop when a failed round is worth a warning: the first failure, one whose
/// text differs from the last, and the same one again once a minute
/// ([`REPEATED_FAILURE_WARN_EVERY`]); the repeats between are for the debug log. An L1 node
/// that is down for an hour made the devnet's two dispute agents warn 7 200 times, every one
/// the same line.
#[derive(Debug, Default)]
pub struct RepeatedFailure {
    /// The last failure's text, when it was last warned about, and the failures since.
    last: Option<(String, std::time::Instant, u64)>,
    /// Failures in a row.
    in_a_row: u64,
}

impl RepeatedFailure {
    /// Records a failure; `Some(n)` when it is to be warned about, `n` being the failures
    /// like it that were not (0 for a new one).
    pub fn failed(&mut self, text: &str) -> Option<u64> {
        self.failed_at(text, std::time::Instant::now())
    }

    fn failed_at(&mut self, text: &str, now: std::time::Instant) -> Option<u64> {
        self.in_a_row += 1;
        let text = &shape(text);
        match &mut self.last {
            Some((last, warned, quiet)) if last == text => {
                if now.duration_since(*warned) < REPEATED_FAILURE_WARN_EVERY {
                    *quiet += 1;
                    return None;
                }
                let repeats = *quiet;
                (*warned, *quiet) = (now, 0);
                Some(repeats)
            }
            _ => {
                self.last = Some((text.to_string(), now, 0));
                Some(0)
            }
        }
    }

    /// Records a success; the failures in a row before it, if any (worth an info line).
    pub fn succeeded(&mut self) -> Option<u64> {
        self.last = None;
        let failures = std::mem::take(&mut self.in_a_row);
        (failures > 0).then_some(failures)
    }
}

#[cfg(test)]
mod repeated_failure_tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn the_same_failure_is_warned_about_once_a_minute_and_a_new_one_at_once() {
        let mut failures = RepeatedFailure::default();
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        assert_eq!(failures.failed_at("L1 down", at(0)), Some(0));
        for secs in 1..60 {
            assert_eq!(failures.failed_at("L1 down", at(secs)), None, "at {secs} s");
        }
        assert_eq!(failures.failed_at("L1 down", at(60)), Some(59));
        assert_eq!(failures.failed_at("L1 down", at(61)), None);
        assert_eq!(failures.failed_at("no contract", at(62)), Some(0));
        assert_eq!(failures.failed_at("L1 down", at(63)), Some(0));
        assert_eq!(failures.succeeded(), Some(64));
        assert_eq!(failures.succeeded(), None);
        assert_eq!(
            failures.failed_at("L1 down", at(64)),
            Some(0),
            "a success forgets the last text"
        );
    }

    #[test]
    fn a_failure_that_names_other_numbers_each_time_is_a_repeat() {
        let mut failures = RepeatedFailure::default();
        let start = Instant::now();
        assert_eq!(
            failures.failed_at("EOF while parsing a string at line 1 column 70", start),
            Some(0)
        );
        for column in ["171", "1", "0x1f"] {
            assert_eq!(
                failures.failed_at(
                    &format!("EOF while parsing a string at line 1 column {column}"),
                    start
                ),
                None,
                "{column}"
            );
        }
        assert_eq!(
            failures.failed_at("bad gateway", start),
            Some(0),
            "another failure is said"
        );
        assert_eq!(failures.failed_at("fee cap too low", start), Some(0));
        assert_eq!(
            shape("id 1589, block 0xabc, 12 ms; café"),
            "id #, block #, # ms; café"
        );
    }
}
