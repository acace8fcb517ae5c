//! What a state root proposal commits to.

use alloy_primitives::{B256, U256, keccak256};
use serde::{Deserialize, Serialize};

/// Version of the [`OutputRoot`] layout below.
pub const OUTPUT_ROOT_VERSION: u64 = 1;

/// What a proposal claims about one L2 block: its state and hash, and where derivation stood
/// when it became safe. Proposals carry `keccak256` of it ([`OutputRoot::hash`]) as their root;
/// withdrawals are proven against its `state_root`, and a dispute bisects over these claims.
///
/// `hash = keccak256(abi.encode(uint256 version, uint256 l2BlockNumber, bytes32 stateRoot,
/// bytes32 l2BlockHash, uint256 inboxRecord, uint256 blockInRecord, uint256 l1Block))`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputRoot {
    /// [`OUTPUT_ROOT_VERSION`].
    pub version: u64,
    /// The L2 block.
    pub l2_block_number: u64,
    /// Its state root.
    pub state_root: B256,
    /// Its hash.
    pub l2_block_hash: B256,
    /// The `BatchInbox` record it was derived from (the derivation cursor) ...
    pub inbox_record: u64,
    /// ... its position among that record's blocks, from 0 ...
    pub block_in_record: u64,
    /// ... and the L1 block whose processing made it safe (the record's L1 block).
    pub l1_block: u64,
}

impl OutputRoot {
    /// The output root of the L2 genesis (block 0), the anchor of proposals anchored on nothing
    /// (`DisputeGame.genesisOutputRoot`): no inbox record holds it, so its derivation cursor is
    /// record 0, position 0, and its L1 block is the genesis' L1 origin.
    pub fn genesis(state_root: B256, block_hash: B256, l1_origin: u64) -> Self {
        Self {
            version: OUTPUT_ROOT_VERSION,
            l2_block_number: 0,
            state_root,
            l2_block_hash: block_hash,
            inbox_record: 0,
            block_in_record: 0,
            l1_block: l1_origin,
        }
    }

    /// The root a proposal carries.
    pub fn hash(&self) -> B256 {
        let words: [B256; 7] = [
            U256::from(self.version).into(),
            U256::from(self.l2_block_number).into(),
            self.state_root,
            self.l2_block_hash,
            U256::from(self.inbox_record).into(),
            U256::from(self.block_in_record).into(),
            U256::from(self.l1_block).into(),
        ];
        keccak256(words.concat())
    }
}

/// The root of a binary keccak Merkle tree over the batch commitments (`keccak256` of each
/// batch's data, as `BatchInbox` records it) an L2 block range was derived from, in L1 order.
/// Leaves are the commitments; a parent is `keccak256(left ‖ right)`; an odd node at any level is
/// paired with `bytes32(0)`. No batches give `bytes32(0)`. A dispute opens any transaction of
/// the range by proving its batch's commitment under this root.
pub fn batch_root(commitments: &[B256]) -> B256 {
    if commitments.is_empty() {
        return B256::ZERO;
    }
    let mut level = commitments.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| {
                let right = pair.get(1).copied().unwrap_or_default();
                keccak256([pair[0].as_slice(), right.as_slice()].concat())
            })
            .collect();
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answer `L1BridgeWithdrawals.t.sol` (`test_hashOutputRoot_knownAnswer_succeeds`)
    /// asserts for `Withdrawals.hashOutputRoot`: L1 and the node hash the same layout.
    #[test]
    fn output_root_known_answer_matches_solidity() {
        let output = OutputRoot {
            version: OUTPUT_ROOT_VERSION,
            l2_block_number: 0x1234,
            state_root: B256::repeat_byte(0x11),
            l2_block_hash: B256::repeat_byte(0x22),
            inbox_record: 7,
            block_in_record: 3,
            l1_block: 0xabcdef,
        };
        assert_eq!(
            output.hash(),
            alloy_primitives::b256!(
                "bce73d6c6c40fef8d25a98fa9134a3cdaef9a46906b8ef83db3f9a41759a35bd"
            )
        );
        // The contracts' struct (`bindings::OutputRoot`) encodes to exactly the hashed words.
        let abi = alloy_sol_types::SolValue::abi_encode(&crate::bindings::OutputRoot::from(output));
        assert_eq!(keccak256(abi), output.hash());
        // Every field is committed to.
        let changed = [
            OutputRoot {
                version: 2,
                ..output
            },
            OutputRoot {
                l2_block_number: 0x1235,
                ..output
            },
            OutputRoot {
                state_root: B256::repeat_byte(0x12),
                ..output
            },
            OutputRoot {
                l2_block_hash: B256::repeat_byte(0x23),
                ..output
            },
            OutputRoot {
                inbox_record: 8,
                ..output
            },
            OutputRoot {
                block_in_record: 4,
                ..output
            },
            OutputRoot {
                l1_block: 0xabcdf0,
                ..output
            },
        ];
        for other in changed {
            assert_ne!(other.hash(), output.hash(), "{other:?}");
        }
    }

    #[test]
    fn batch_root_known_answers() {
        let a = B256::repeat_byte(1);
        let b = B256::repeat_byte(2);
        let c = B256::repeat_byte(3);
        assert_eq!(batch_root(&[]), B256::ZERO);
        assert_eq!(batch_root(&[a]), a);
        let ab = keccak256([a.as_slice(), b.as_slice()].concat());
        assert_eq!(batch_root(&[a, b]), ab);
        let c0 = keccak256([c.as_slice(), B256::ZERO.as_slice()].concat());
        assert_eq!(
            batch_root(&[a, b, c]),
            keccak256([ab.as_slice(), c0.as_slice()].concat())
        );
        assert_ne!(batch_root(&[b, a]), batch_root(&[a, b]), "order matters");
    }
}
