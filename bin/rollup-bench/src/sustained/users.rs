//! The simulated users: each sender's contiguous nonces, the refused transaction it resends, and
//! what an answer to `eth_sendRawTransaction` means.

use std::{
    collections::{BTreeMap, VecDeque},
    time::{Duration, Instant},
};

use alloy_transport::TransportError;
use serde_json::Value;

use crate::workload::SignedTx;

/// How the node answered one `eth_sendRawTransaction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// It took the transaction (answered with its hash).
    Accepted,
    /// A JSON-RPC error that says why.
    Refused { code: i64, message: String },
    /// A JSON-RPC error with an empty message: a refusal that tells the user nothing.
    NoMessage { code: i64 },
    /// No JSON-RPC answer (connection, HTTP status, a response that does not decode).
    Transport(String),
}

impl Answer {
    pub(crate) fn of(result: &Result<Value, TransportError>) -> Self {
        match result {
            Ok(_) => Self::Accepted,
            Err(err) => Self::from_error(
                err.as_error_resp()
                    .map(|payload| (payload.code, payload.message.as_ref())),
                err,
            ),
        }
    }

    /// `error_response`: the JSON-RPC error's code and message, if the server sent one.
    pub(crate) fn from_error(
        error_response: Option<(i64, &str)>,
        display: impl std::fmt::Display,
    ) -> Self {
        match error_response {
            Some((code, message)) if message.trim().is_empty() => Self::NoMessage { code },
            Some((code, message)) => Self::Refused {
                code,
                message: message.to_string(),
            },
            None => Self::Transport(display.to_string()),
        }
    }

    /// Whether the sender is done with the transaction: it was taken, or a refusal says the
    /// pool already has it or its nonce is used (an earlier send went through).
    fn settles(&self) -> bool {
        match self {
            Self::Accepted => true,
            Self::Refused { message, .. } => {
                message.starts_with("already known") || message.starts_with("nonce too low")
            }
            Self::NoMessage { .. } | Self::Transport(_) => false,
        }
    }
}

/// `message` with its numbers and hex values blanked, so refusals group by kind:
/// `sequencer is throttled: 291 234 bytes in 150 L2 blocks …` and `… 12 bytes in 3 L2 blocks …`
/// are one group. Digits that are part of a word (`L1`, `L2`) stay.
pub(crate) fn refusal_kind(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        let starts_value = c.is_ascii_digit() && !prev.is_some_and(|p| p.is_alphanumeric());
        if starts_value {
            if c == '0' && chars.peek() == Some(&'x') {
                chars.next();
                while chars.next_if(char::is_ascii_hexdigit).is_some() {}
                out.push_str("0x…");
            } else {
                while chars.next_if(char::is_ascii_digit).is_some() {}
                out.push('N');
            }
            prev = Some('N');
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// What the users were told, counted.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    /// Sends (resends included).
    pub(crate) offered: u64,
    /// Of which resends of a refused transaction.
    pub(crate) resent: u64,
    pub(crate) accepted: u64,
    /// Refusals with a message, by [`refusal_kind`]: count and the first message verbatim.
    pub(crate) refused: BTreeMap<String, (u64, String)>,
    /// Refusals without a message, and the first one's code.
    pub(crate) no_message: (u64, Option<i64>),
    /// Sends with no JSON-RPC answer, and the first error.
    pub(crate) transport: (u64, Option<String>),
}

impl Tally {
    pub(crate) fn record(&mut self, answer: &Answer, resend: bool) {
        self.offered += 1;
        self.resent += u64::from(resend);
        match answer {
            Answer::Accepted => self.accepted += 1,
            Answer::Refused { message, .. } => {
                self.refused
                    .entry(refusal_kind(message))
                    .or_insert_with(|| (0, message.clone()))
                    .0 += 1;
            }
            Answer::NoMessage { code } => {
                self.no_message.0 += 1;
                self.no_message.1.get_or_insert(*code);
            }
            Answer::Transport(err) => {
                self.transport.0 += 1;
                self.transport.1.get_or_insert_with(|| err.clone());
            }
        }
    }

    pub(crate) fn refused_total(&self) -> u64 {
        self.refused.values().map(|(n, _)| n).sum()
    }

    /// Answers that are failures of the node or the connection, not refusals a user can act on.
    pub(crate) fn failures(&self) -> u64 {
        self.no_message.0 + self.transport.0
    }
}

/// A transaction on its way: which sender, its nonce, and whether it is a resend.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) sender: usize,
    pub(crate) nonce: u64,
    pub(crate) tx: SignedTx,
    pub(crate) resend: bool,
}

/// One sender. Its nonces go out in order, one transaction in flight at a time; a refused
/// transaction is kept and resent after a back-off before anything newer, so the pool never
/// holds a nonce gap of the bench's making.
#[derive(Debug, Default)]
pub(crate) struct Sender {
    /// Signed ahead: contiguous nonces, the first one the next to send.
    ready: VecDeque<(u64, SignedTx)>,
    /// The nonce the signer signs next.
    next_unsigned: u64,
    /// A refused transaction, resent before any newer nonce.
    retry: Option<(u64, SignedTx)>,
    not_before: Option<Instant>,
    in_flight: bool,
}

impl Sender {
    /// The nonces the signer should sign next to keep `depth` ready: `(first, count)`.
    pub(crate) fn wants_signed(&self, depth: usize) -> Option<(u64, usize)> {
        let missing = depth.saturating_sub(self.ready.len());
        (missing > 0).then_some((self.next_unsigned, missing))
    }

    /// Transactions signed for nonces `first..`; ignored unless `first` is the next unsigned one.
    pub(crate) fn signed(&mut self, first: u64, txs: Vec<SignedTx>) {
        if first != self.next_unsigned {
            return;
        }
        for tx in txs {
            self.ready.push_back((self.next_unsigned, tx));
            self.next_unsigned += 1;
        }
    }

    /// The transaction to send now, if this sender has one and nothing in flight.
    pub(crate) fn take(&mut self, index: usize, now: Instant) -> Option<Outgoing> {
        if self.in_flight || self.not_before.is_some_and(|t| now < t) {
            return None;
        }
        let (resend, (nonce, tx)) = match self.retry.take() {
            Some(retry) => (true, retry),
            None => (false, self.ready.pop_front()?),
        };
        self.in_flight = true;
        Some(Outgoing {
            sender: index,
            nonce,
            tx,
            resend,
        })
    }

    /// The node's answer to `sent`: settled, or kept to resend after `back_off`.
    pub(crate) fn answered(
        &mut self,
        sent: Outgoing,
        answer: &Answer,
        now: Instant,
        back_off: Duration,
    ) {
        self.in_flight = false;
        if answer.settles() {
            self.not_before = None;
        } else {
            self.retry = Some((sent.nonce, sent.tx));
            self.not_before = Some(now + back_off);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{B256, Bytes};

    use super::*;

    fn tx(nonce: u64) -> SignedTx {
        SignedTx {
            raw: Bytes::new(),
            hash: B256::with_last_byte(nonce as u8),
        }
    }

    fn fill(sender: &mut Sender, depth: usize) {
        if let Some((first, count)) = sender.wants_signed(depth) {
            sender.signed(first, (first..first + count as u64).map(tx).collect());
        }
    }

    fn throttled() -> Answer {
        Answer::Refused {
            code: -32000,
            message: "sequencer is throttled: 9 bytes in 1 L2 blocks wait to be posted to L1"
                .into(),
        }
    }

    #[test]
    fn a_refused_transaction_is_resent_before_any_newer_nonce_and_nonces_stay_contiguous() {
        let mut sender = Sender::default();
        let back_off = Duration::from_millis(200);
        let mut now = Instant::now();
        let mut settled = Vec::new();
        // Refuse every third send: the accepted nonces must still be 0, 1, 2, … without a gap.
        for round in 0..30 {
            fill(&mut sender, 4);
            let Some(out) = sender.take(0, now) else {
                now += back_off;
                continue;
            };
            assert!(
                sender.take(0, now).is_none(),
                "one transaction in flight at a time"
            );
            let answer = if round % 3 == 0 {
                throttled()
            } else {
                Answer::Accepted
            };
            if answer == Answer::Accepted {
                settled.push(out.nonce);
            }
            let (nonce, resend) = (out.nonce, out.resend);
            sender.answered(out, &answer, now, back_off);
            if answer != Answer::Accepted {
                assert!(sender.take(0, now).is_none(), "resent before its back-off");
                now += back_off;
                let again = sender.take(0, now).expect("resent after the back-off");
                assert_eq!((again.nonce, again.resend), (nonce, true));
                assert!(!resend || nonce == again.nonce);
                settled.push(again.nonce);
                sender.answered(again, &Answer::Accepted, now, back_off);
            }
        }
        assert_eq!(settled, (0..settled.len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn a_transport_failure_or_an_empty_error_keeps_the_transaction() {
        for answer in [
            Answer::Transport("connection reset".into()),
            Answer::NoMessage { code: -32000 },
        ] {
            let mut sender = Sender::default();
            fill(&mut sender, 2);
            let now = Instant::now();
            let out = sender.take(0, now).unwrap();
            sender.answered(out, &answer, now, Duration::ZERO);
            assert_eq!(sender.take(0, now).unwrap().nonce, 0);
        }
    }

    #[test]
    fn already_known_or_nonce_too_low_on_a_resend_moves_on() {
        for message in ["already known", "nonce too low: next nonce 1, tx nonce 0"] {
            let mut sender = Sender::default();
            fill(&mut sender, 2);
            let now = Instant::now();
            let out = sender.take(0, now).unwrap();
            let answer = Answer::Refused {
                code: -32000,
                message: message.into(),
            };
            sender.answered(out, &answer, now, Duration::from_secs(1));
            assert_eq!(sender.take(0, now).unwrap().nonce, 1, "{message}");
        }
    }

    #[test]
    fn signatures_for_the_wrong_nonce_are_dropped() {
        let mut sender = Sender::default();
        sender.signed(5, vec![tx(5)]);
        assert_eq!(sender.wants_signed(3), Some((0, 3)));
        fill(&mut sender, 3);
        assert_eq!(sender.wants_signed(3), None);
        assert_eq!(sender.wants_signed(4), Some((3, 1)));
    }

    #[test]
    fn refusals_group_by_kind_and_failures_are_counted_apart() {
        let mut tally = Tally::default();
        for answer in [
            throttled(),
            Answer::Refused {
                code: -32000,
                message:
                    "sequencer is throttled: 291234 bytes in 150 L2 blocks wait to be posted to L1"
                        .into(),
            },
            Answer::Refused {
                code: -32000,
                message: "txpool is full".into(),
            },
            Answer::Accepted,
            Answer::from_error(Some((-32000, " ")), "empty"),
            Answer::from_error(None, "error sending request: connection refused"),
        ] {
            tally.record(&answer, false);
        }
        assert_eq!(
            tally.refused.keys().collect::<Vec<_>>(),
            [
                "sequencer is throttled: N bytes in N L2 blocks wait to be posted to L1",
                "txpool is full"
            ]
        );
        assert_eq!(tally.refused_total(), 3);
        assert_eq!((tally.offered, tally.accepted), (6, 1));
        assert_eq!(tally.no_message, (1, Some(-32000)));
        assert_eq!(tally.transport.0, 1);
        assert_eq!(tally.failures(), 2);
    }

    #[test]
    fn refusal_kinds_blank_numbers_and_hex_but_keep_words() {
        assert_eq!(
            refusal_kind(
                "txpool is full: sender 0xAbC123 has 64 queued transactions behind a nonce gap"
            ),
            "txpool is full: sender 0x… has N queued transactions behind a nonce gap"
        );
        assert_eq!(
            refusal_kind("nonce too high: the account's nonce is 3 and the tx nonce 70"),
            "nonce too high: the account's nonce is N and the tx nonce N"
        );
        assert_eq!(refusal_kind("posted to L1 and L2"), "posted to L1 and L2");
    }
}
