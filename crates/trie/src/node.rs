//! Trie nodes, their hashes and encodings, and node positions.

use crate::error::DecodeError;
use alloy_primitives::{B256, keccak256};
use core::fmt;

/// Number of bits in a key, and so the greatest depth of a node.
pub const KEY_BITS: u16 = 256;

/// Length of [`Node::encode`]: a tag byte and two 32-byte words.
pub const NODE_ENCODED_LEN: usize = 65;

/// Domain byte of a leaf's hash preimage and encoding.
const LEAF_TAG: u8 = 0x00;
/// Domain byte of an internal node's hash preimage and encoding.
const INTERNAL_TAG: u8 = 0x01;

/// Bit `index` of `key`, most significant bit of byte 0 first; `true` means right.
#[inline]
pub(crate) fn bit(key: &B256, index: usize) -> bool {
    (key[index / 8] >> (7 - index % 8)) & 1 == 1
}

/// Number of leading bits `a` and `b` share (256 if equal).
pub(crate) fn common_prefix_len(a: &B256, b: &B256) -> usize {
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        let diff = x ^ y;
        if diff != 0 {
            return i * 8 + diff.leading_zeros() as usize;
        }
    }
    KEY_BITS as usize
}

#[inline]
fn hash_words(tag: u8, first: &B256, second: &B256) -> B256 {
    let mut preimage = [0u8; NODE_ENCODED_LEN];
    preimage[0] = tag;
    preimage[1..33].copy_from_slice(first.as_slice());
    preimage[33..].copy_from_slice(second.as_slice());
    keccak256(preimage)
}

/// `keccak256(0x00 ‖ key ‖ value_hash)`. Independent of the leaf's depth, so a leaf keeps its
/// hash when it moves up or down.
#[inline]
pub(crate) fn leaf_hash(key: &B256, value_hash: &B256) -> B256 {
    hash_words(LEAF_TAG, key, value_hash)
}

/// `keccak256(0x01 ‖ left ‖ right)`.
#[inline]
pub(crate) fn internal_hash(left: &B256, right: &B256) -> B256 {
    hash_words(INTERNAL_TAG, left, right)
}

/// A stored trie node. Empty subtrees are not stored: their hash is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// The only key of its subtree.
    Leaf {
        /// The full key.
        key: B256,
        /// Value hash; never zero.
        value_hash: B256,
    },
    /// A subtree with at least two keys.
    Internal {
        /// Hash of the child whose keys have the node's bit 0 (zero if empty).
        left: B256,
        /// Hash of the child whose keys have the node's bit 1 (zero if empty).
        right: B256,
    },
}

impl Node {
    /// The node's hash: keccak256 of [`Node::encode`].
    pub fn hash(&self) -> B256 {
        match self {
            Self::Leaf { key, value_hash } => leaf_hash(key, value_hash),
            Self::Internal { left, right } => internal_hash(left, right),
        }
    }

    /// Fixed 65-byte layout, which is also the hash preimage: `0x00 ‖ key ‖ value_hash` for a
    /// leaf, `0x01 ‖ left ‖ right` for an internal node.
    pub fn encode(&self) -> [u8; NODE_ENCODED_LEN] {
        let (tag, first, second) = match self {
            Self::Leaf { key, value_hash } => (LEAF_TAG, key, value_hash),
            Self::Internal { left, right } => (INTERNAL_TAG, left, right),
        };
        let mut out = [0u8; NODE_ENCODED_LEN];
        out[0] = tag;
        out[1..33].copy_from_slice(first.as_slice());
        out[33..].copy_from_slice(second.as_slice());
        out
    }

    /// Decodes [`Node::encode`]'s layout; rejects any other length or tag.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() != NODE_ENCODED_LEN {
            return Err(DecodeError::NodeLength { len: bytes.len() });
        }
        let first = B256::from_slice(&bytes[1..33]);
        let second = B256::from_slice(&bytes[33..]);
        match bytes[0] {
            LEAF_TAG => Ok(Self::Leaf {
                key: first,
                value_hash: second,
            }),
            INTERNAL_TAG => Ok(Self::Internal {
                left: first,
                right: second,
            }),
            tag => Err(DecodeError::NodeTag { tag }),
        }
    }
}

/// A node's position: its depth and the first `depth` bits every key below it shares, the
/// remaining bits zero. The root is at depth 0; a leaf can sit as deep as 256 (two keys that
/// differ only in their last bit), so the depth is a `u16` in `0..=256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodePath {
    depth: u16,
    prefix: B256,
}

impl NodePath {
    /// The root's position.
    pub const ROOT: Self = Self {
        depth: 0,
        prefix: B256::ZERO,
    };

    /// Position at `depth` on the path of `key`; `None` if `depth > 256`.
    pub fn new(depth: u16, key: B256) -> Option<Self> {
        (depth <= KEY_BITS).then(|| Self {
            depth,
            prefix: mask(key, depth),
        })
    }

    /// Depth, in `0..=256`.
    pub const fn depth(&self) -> u16 {
        self.depth
    }

    /// The first `depth` bits, the rest zero.
    pub const fn prefix(&self) -> B256 {
        self.prefix
    }

    /// The child position towards `right`.
    ///
    /// # Panics
    /// If the path is already at depth 256.
    pub fn child(&self, right: bool) -> Self {
        assert!(self.depth < KEY_BITS, "a node at depth 256 has no children");
        let mut prefix = self.prefix;
        if right {
            let index = self.depth as usize;
            prefix[index / 8] |= 0x80 >> (index % 8);
        }
        Self {
            depth: self.depth + 1,
            prefix,
        }
    }

    /// The position sharing this one's parent; `None` for the root.
    pub fn sibling(&self) -> Option<Self> {
        let index = self.depth.checked_sub(1)? as usize;
        let mut prefix = self.prefix;
        prefix[index / 8] ^= 0x80 >> (index % 8);
        Some(Self {
            depth: self.depth,
            prefix,
        })
    }

    /// Whether `key` lies below this position.
    pub fn contains(&self, key: &B256) -> bool {
        mask(*key, self.depth) == self.prefix
    }

    /// Compact key for a key-value store: the depth as 2 big-endian bytes, then the
    /// `ceil(depth / 8)` prefix bytes (2 to 34 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let prefix_len = (self.depth as usize).div_ceil(8);
        let mut out = Vec::with_capacity(2 + prefix_len);
        out.extend_from_slice(&self.depth.to_be_bytes());
        out.extend_from_slice(&self.prefix[..prefix_len]);
        out
    }

    /// Decodes [`NodePath::encode`]'s layout; rejects bad lengths, depths over 256 and bits set
    /// beyond the depth (so each position has exactly one encoding).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let Some((depth, prefix)) = bytes.split_first_chunk::<2>() else {
            return Err(DecodeError::PathTooShort { len: bytes.len() });
        };
        let depth = u16::from_be_bytes(*depth);
        if depth > KEY_BITS {
            return Err(DecodeError::PathDepth { depth });
        }
        let expected = (depth as usize).div_ceil(8);
        if prefix.len() != expected {
            return Err(DecodeError::PathLength {
                depth,
                expected,
                found: prefix.len(),
            });
        }
        let mut full = B256::ZERO;
        full[..expected].copy_from_slice(prefix);
        if mask(full, depth) != full {
            return Err(DecodeError::PathNotCanonical { depth });
        }
        Ok(Self {
            depth,
            prefix: full,
        })
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix_len = (self.depth as usize).div_ceil(8);
        write!(
            f,
            "depth {} prefix 0x{}",
            self.depth,
            alloy_primitives::hex::encode(&self.prefix[..prefix_len])
        )
    }
}

/// `key` with every bit from `depth` on cleared.
fn mask(mut key: B256, depth: u16) -> B256 {
    let full_bytes = depth as usize / 8;
    let rest_bits = depth % 8;
    if full_bytes < 32 {
        key[full_bytes] &= !(0xffu8 >> rest_bits);
        key[full_bytes + 1..].fill(0);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_b256() -> impl Strategy<Value = B256> {
        any::<[u8; 32]>().prop_map(B256::from)
    }

    fn arb_node() -> impl Strategy<Value = Node> {
        prop_oneof![
            (arb_b256(), arb_b256()).prop_map(|(key, value_hash)| Node::Leaf { key, value_hash }),
            (arb_b256(), arb_b256()).prop_map(|(left, right)| Node::Internal { left, right }),
        ]
    }

    proptest! {
        #[test]
        fn node_codec_round_trips(node in arb_node()) {
            prop_assert_eq!(Node::decode(&node.encode())?, node);
            prop_assert_eq!(node.hash(), keccak256(node.encode()));
        }

        #[test]
        fn node_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let decoded = Node::decode(&bytes);
            if let Ok(node) = decoded {
                prop_assert_eq!(node.encode().to_vec(), bytes);
            }
        }

        #[test]
        fn path_codec_round_trips(depth in 0u16..=256, key in arb_b256()) {
            let path = NodePath::new(depth, key).unwrap();
            prop_assert_eq!(NodePath::decode(&path.encode())?, path);
            prop_assert!(path.contains(&key));
        }

        #[test]
        fn path_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(path) = NodePath::decode(&bytes) {
                prop_assert_eq!(path.encode(), bytes);
            }
        }

        #[test]
        fn common_prefix_len_matches_bits(a in arb_b256(), b in arb_b256(), flip in 0usize..256) {
            let mut c = a;
            c[flip / 8] ^= 0x80 >> (flip % 8);
            prop_assert_eq!(common_prefix_len(&a, &c), flip);
            let n = common_prefix_len(&a, &b);
            prop_assert!((0..n).all(|i| bit(&a, i) == bit(&b, i)));
            prop_assert!(n == 256 || bit(&a, n) != bit(&b, n));
        }
    }

    #[test]
    fn path_decode_rejects_malformed() {
        assert_eq!(
            NodePath::decode(&[0]),
            Err(DecodeError::PathTooShort { len: 1 })
        );
        assert_eq!(
            NodePath::decode(&[1, 1]),
            Err(DecodeError::PathDepth { depth: 257 })
        );
        assert_eq!(
            NodePath::decode(&[0, 9, 0xff]),
            Err(DecodeError::PathLength {
                depth: 9,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            NodePath::decode(&[0, 1, 0x40]),
            Err(DecodeError::PathNotCanonical { depth: 1 })
        );
        assert_eq!(
            NodePath::decode(&[0, 1, 0x80]).unwrap(),
            NodePath::ROOT.child(true)
        );
    }

    #[test]
    fn node_decode_rejects_malformed() {
        assert_eq!(
            Node::decode(&[0; 64]),
            Err(DecodeError::NodeLength { len: 64 })
        );
        let mut bytes = [0u8; 65];
        bytes[0] = 2;
        assert_eq!(Node::decode(&bytes), Err(DecodeError::NodeTag { tag: 2 }));
    }

    #[test]
    fn sibling_and_child_agree() {
        let left = NodePath::ROOT.child(false).child(true);
        let right = NodePath::ROOT.child(false).child(false);
        assert_eq!(left.sibling(), Some(right));
        assert_eq!(NodePath::ROOT.sibling(), None);
        let deepest = NodePath::new(256, B256::repeat_byte(0xff)).unwrap();
        assert_eq!(deepest.prefix(), B256::repeat_byte(0xff));
    }
}
