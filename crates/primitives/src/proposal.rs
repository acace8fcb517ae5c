//! What a state root proposal commits to.

use alloy_primitives::{B256, keccak256};

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
