//! Every transaction the bench saw in a served block, and whether its receipt is still there.

use std::collections::HashMap;

use alloy_primitives::B256;
use serde_json::Value;

use crate::load::quantity;

/// The block a transaction was first seen in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inclusion {
    pub(crate) block: u64,
    pub(crate) block_hash: B256,
}

/// How a served receipt went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vanished {
    /// `eth_getTransactionReceipt` answers `null`.
    NoReceipt,
    /// The receipt is there but its status is not 1.
    Failed,
    /// The receipt names another block (number or hash) than the one first seen.
    Moved { block: u64 },
}

/// Transactions seen in served blocks, first sighting wins.
#[derive(Debug, Default)]
pub(crate) struct Served {
    first_seen: HashMap<B256, Inclusion>,
    /// The same hashes in the order seen, to sample from.
    order: Vec<B256>,
    /// Each transaction whose receipt went wrong, as first found.
    vanished: HashMap<B256, Vanished>,
}

impl Served {
    /// Records the transactions of a block the node served; returns how many were new.
    pub(crate) fn record(&mut self, block: u64, block_hash: B256, txs: &[B256]) -> usize {
        let mut new = 0;
        for hash in txs {
            self.first_seen.entry(*hash).or_insert_with(|| {
                new += 1;
                self.order.push(*hash);
                Inclusion { block, block_hash }
            });
        }
        new
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn get(&self, hash: &B256) -> Option<Inclusion> {
        self.first_seen.get(hash).copied()
    }

    /// Every transaction seen, in the order seen.
    pub(crate) fn all(&self) -> &[B256] {
        &self.order
    }

    /// Up to `n` distinct transactions picked at random.
    pub(crate) fn sample(&self, n: usize, rng: &mut Rng) -> Vec<B256> {
        if n >= self.order.len() {
            return self.order.clone();
        }
        let mut picked: Vec<usize> = Vec::with_capacity(n);
        // Floyd's algorithm: n distinct indices without shuffling the whole list.
        let len = self.order.len();
        for j in len - n..len {
            let t = rng.below(j as u64 + 1) as usize;
            picked.push(if picked.contains(&t) { j } else { t });
        }
        picked.into_iter().map(|i| self.order[i]).collect()
    }

    /// Checks the receipt now served for `hash` against the block it was first seen in;
    /// `None` if it is there, successful and in that block. A problem is remembered (the first
    /// one found per transaction).
    pub(crate) fn check(&mut self, hash: B256, receipt: &Value) -> Option<Vanished> {
        let seen = self.first_seen.get(&hash)?;
        let problem = if receipt.is_null() {
            Some(Vanished::NoReceipt)
        } else if quantity(&receipt["status"]) != Some(1) {
            Some(Vanished::Failed)
        } else {
            let block = quantity(&receipt["blockNumber"]).unwrap_or_default();
            let block_hash: Option<B256> =
                receipt["blockHash"].as_str().and_then(|h| h.parse().ok());
            (block != seen.block || block_hash != Some(seen.block_hash))
                .then_some(Vanished::Moved { block })
        };
        if let Some(problem) = problem {
            self.vanished.entry(hash).or_insert(problem);
        }
        problem
    }

    /// Transactions whose served receipt went wrong at some check.
    pub(crate) fn vanished(&self) -> &HashMap<B256, Vanished> {
        &self.vanished
    }
}

/// xorshift64*: enough to pick samples, no dependency.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;

    fn receipt(block: u64, block_hash: B256, status: u64) -> Value {
        json!({
            "blockNumber": format!("{block:#x}"),
            "blockHash": block_hash,
            "status": format!("{status:#x}"),
        })
    }

    #[test]
    fn the_first_sighting_wins_and_a_receipt_elsewhere_counts_as_vanished() {
        let (tx, other) = (B256::repeat_byte(1), B256::repeat_byte(2));
        let (b7, b9) = (B256::repeat_byte(7), B256::repeat_byte(9));
        let mut served = Served::default();
        assert_eq!(served.record(7, b7, &[tx]), 1);
        // Seen again in a later block (the unsafe chain was replaced): the first block stays.
        assert_eq!(served.record(9, b9, &[tx, other]), 1);
        assert_eq!(
            served.get(&tx),
            Some(Inclusion {
                block: 7,
                block_hash: b7
            })
        );

        assert_eq!(served.check(tx, &receipt(7, b7, 1)), None);
        assert_eq!(
            served.check(tx, &receipt(9, b9, 1)),
            Some(Vanished::Moved { block: 9 })
        );
        // Same number, another block: replaced at the same height.
        assert_eq!(
            served.check(other, &receipt(9, b7, 1)),
            Some(Vanished::Moved { block: 9 })
        );
        assert_eq!(served.check(tx, &Value::Null), Some(Vanished::NoReceipt));
        assert_eq!(served.vanished().len(), 2);
        assert_eq!(
            served.vanished()[&tx],
            Vanished::Moved { block: 9 },
            "the first problem found stays"
        );
    }

    #[test]
    fn a_failed_receipt_counts_and_unknown_hashes_are_ignored() {
        let (tx, b) = (B256::repeat_byte(1), B256::repeat_byte(3));
        let mut served = Served::default();
        served.record(3, b, &[tx]);
        assert_eq!(served.check(tx, &receipt(3, b, 0)), Some(Vanished::Failed));
        assert_eq!(served.check(B256::repeat_byte(4), &Value::Null), None);
        assert_eq!(served.vanished().len(), 1);
    }

    #[test]
    fn samples_are_distinct_and_drawn_from_what_was_seen() {
        let mut served = Served::default();
        let hashes: Vec<B256> = (0..1000u64)
            .map(|i| B256::left_padding_from(&i.to_be_bytes()))
            .collect();
        served.record(1, B256::ZERO, &hashes);
        let mut rng = Rng::new(42);
        let sample = served.sample(500, &mut rng);
        let distinct: HashSet<_> = sample.iter().collect();
        assert_eq!((sample.len(), distinct.len()), (500, 500));
        assert!(sample.iter().all(|h| served.get(h).is_some()));
        assert_eq!(served.sample(5000, &mut rng).len(), 1000);
    }
}
