//! Errors of the trie: reading a node store, decoding nodes and paths, verifying proofs.

use crate::node::NodePath;
use alloy_primitives::B256;

/// Failure to read or walk the trie held in a [`NodeStore`](crate::NodeStore).
///
/// `Store` is whatever the backing store reports (retry or stop, as that store's errors say);
/// every other variant means the store is inconsistent with the trie it should hold, which no
/// retry fixes: rebuild the store from state.
#[derive(Debug, thiserror::Error)]
pub enum TrieError<E> {
    /// The node store failed to read a node.
    #[error("node store failed to read the node at {path}: {source}")]
    Store {
        /// Position that was being read.
        path: NodePath,
        /// The store's error.
        source: E,
    },
    /// A parent commits to a non-empty child, but the store has no node at the child's position.
    #[error(
        "node at {path} is missing although its parent commits to hash {expected}; the node store is incomplete"
    )]
    MissingNode {
        /// Position of the missing node.
        path: NodePath,
        /// Hash the parent commits to.
        expected: B256,
    },
    /// A stored node does not hash to what its parent commits to.
    #[error(
        "node at {path} hashes to {found} but its parent commits to {expected}; the node store is corrupt"
    )]
    HashMismatch {
        /// Position of the node.
        path: NodePath,
        /// Hash the parent commits to.
        expected: B256,
        /// Hash of the stored node.
        found: B256,
    },
    /// An internal node is stored at depth 256, where only leaves can be.
    #[error(
        "internal node stored at {path}, below which no key bits remain; the node store is corrupt"
    )]
    InternalAtMaxDepth {
        /// Position of the node.
        path: NodePath,
    },
}

/// Failure to decode a [`Node`](crate::Node) or a [`NodePath`] from bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A node encoding has the wrong length.
    #[error(
        "node encoding is {len} bytes, expected {}",
        crate::node::NODE_ENCODED_LEN
    )]
    NodeLength {
        /// Length found.
        len: usize,
    },
    /// A node encoding starts with an unknown tag.
    #[error("node tag {tag:#04x} is neither leaf (0x00) nor internal (0x01)")]
    NodeTag {
        /// Tag found.
        tag: u8,
    },
    /// A node path encoding is shorter than its 2-byte depth.
    #[error("node path encoding is {len} bytes, shorter than its 2-byte depth")]
    PathTooShort {
        /// Length found.
        len: usize,
    },
    /// A node path's depth exceeds the key length.
    #[error("node path depth {depth} exceeds the 256 bits of a key")]
    PathDepth {
        /// Depth found.
        depth: u16,
    },
    /// A node path's prefix has the wrong number of bytes for its depth.
    #[error("node path of depth {depth} needs {expected} prefix bytes, found {found}")]
    PathLength {
        /// Depth of the path.
        depth: u16,
        /// `ceil(depth / 8)`.
        expected: usize,
        /// Prefix bytes found.
        found: usize,
    },
    /// A node path has bits set beyond its depth, so two encodings would name one position.
    #[error("node path of depth {depth} has bits set beyond its depth")]
    PathNotCanonical {
        /// Depth of the path.
        depth: u16,
    },
}

/// Why a [`Proof`](crate::Proof) does not show the claimed value of a key under a root.
///
/// Every variant means the proof (or the claim) is wrong; none is retryable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// More siblings than key bits.
    #[error("proof has {len} siblings, more than the 256 bits of a key")]
    TooManySiblings {
        /// Number of siblings.
        len: usize,
    },
    /// The terminal's deepest sibling is empty, so in the canonical trie the terminal would sit
    /// higher: the proof is padded or describes a trie this crate never builds.
    #[error("terminal at depth {depth} has an empty sibling; a canonical trie places it higher")]
    NonCanonical {
        /// Depth of the terminal.
        depth: usize,
    },
    /// The terminal is a leaf with a zero value hash, which the trie never stores.
    #[error(
        "proof terminal is a leaf of key {key} with a zero value hash, which the trie never stores"
    )]
    ZeroValueLeaf {
        /// The terminal leaf's key.
        key: B256,
    },
    /// The terminal is another key's leaf that does not lie on the proven key's path.
    #[error(
        "terminal leaf of key {terminal_key} at depth {depth} is not on the path of key {key}: the proof is for another key"
    )]
    TerminalOffPath {
        /// The proven key.
        key: B256,
        /// The terminal leaf's key.
        terminal_key: B256,
        /// Depth of the terminal.
        depth: usize,
    },
    /// The key is present with another value than claimed.
    #[error("key {key} holds value hash {proven}, not the claimed {claimed}")]
    ValueMismatch {
        /// The proven key.
        key: B256,
        /// The claimed value hash.
        claimed: B256,
        /// The value hash in the proof.
        proven: B256,
    },
    /// The key was claimed absent but the proof shows its leaf.
    #[error("key {key} was claimed absent but the proof shows it with value hash {value_hash}")]
    UnexpectedMembership {
        /// The proven key.
        key: B256,
        /// The value hash in the proof.
        value_hash: B256,
    },
    /// The key was claimed present but the proof shows it absent.
    #[error("key {key} was claimed present but the proof shows it absent")]
    UnexpectedNonMembership {
        /// The proven key.
        key: B256,
    },
    /// Folding the siblings does not give the root: a sibling is wrong, missing or extra.
    #[error(
        "proof folds to root {computed}, not {expected}: a sibling is tampered, missing or extra"
    )]
    RootMismatch {
        /// The root the proof was checked against.
        expected: B256,
        /// The root the proof folds to.
        computed: B256,
    },
    /// Deleting the key needs the deepest sibling's node to decide whether it collapses upward.
    #[error(
        "deleting the leaf at depth {depth} needs the node of its sibling (`Proof::last_sibling`)"
    )]
    MissingLastSibling {
        /// Depth of the deleted leaf.
        depth: usize,
    },
    /// `Proof::last_sibling` does not hash to the deepest sibling.
    #[error("proof's last sibling node hashes to {found}, not to the deepest sibling {expected}")]
    LastSiblingMismatch {
        /// The deepest sibling hash (zero if there are no siblings).
        expected: B256,
        /// Hash of `Proof::last_sibling`.
        found: B256,
    },
}
