//! The binary keccak sparse Merkle trie that commits to all L2 state (docs/architecture.md, "State
//! commitment"), chosen so the fraud proof's one-step verifier can read *and update* state on L1
//! with short Solidity (`contracts/src/libraries/SparseMerkleTrie.sol` mirrors [`verify`] and
//! [`update_root_with_proof`]).
//!
//! # Layout
//!
//! One flat trie over 256-bit keys holds accounts and storage slots:
//!
//! | leaf    | key                                        | value hash                                                       |
//! |---------|--------------------------------------------|------------------------------------------------------------------|
//! | account | `keccak256(0x00 ‖ address)`                | `keccak256(abi.encode(uint256(nonce), balance, codeHash))`       |
//! | storage | `keccak256(0x01 ‖ address ‖ slot)`         | the slot value as a 32-byte word; zero means the slot is absent  |
//!
//! A key's bits are read most significant first (bit 0 is the top bit of byte 0); bit `d`
//! chooses left (0) or right (1) below a node at depth `d`.
//!
//! The trie has *short paths* (a compact sparse Merkle trie, as Jellyfish/Libra):
//! - an empty subtree hashes to zero and is not stored;
//! - a subtree with exactly one key is that key's leaf, placed as high as possible;
//! - a subtree with two or more keys is an internal node (possibly with one empty child, when
//!   all its keys share the next bit).
//!
//! Hashes: leaf `keccak256(0x00 ‖ key ‖ value_hash)`, internal `keccak256(0x01 ‖ left ‖ right)`,
//! empty `0x00…00`. The domain byte keeps a leaf from passing for an internal node; a leaf's hash
//! does not depend on its depth, so it keeps its hash when it moves. Nodes are stored by position
//! ([`NodePath`]: depth and path prefix) and encode to their 65-byte hash preimage.
//!
//! # Invariants
//!
//! - **History independence**: the nodes and the root depend only on the set of (key, value hash)
//!   pairs, never on the order or batching of updates. Unwinding a block by re-applying the prior
//!   values restores the exact prior root and node set.
//! - **Zero is absence**: a zero value hash deletes the key, so no leaf ever holds zero (the
//!   Solidity verifier encodes "absent" as zero).
//! - **Incremental**: [`apply_updates`] reads and writes O(updated keys × depth) nodes: it
//!   descends only into subtrees holding updated keys, hashes each rewritten node once, and
//!   never modifies the store — the caller applies [`TrieUpdate::writes`] (e.g. in the same
//!   database transaction as the block).
//! - **Proofs bind the structure**: a proof verifies only if its siblings fold to the root, its
//!   terminal lies on the key's path and sits where the canonical trie places it, so the root
//!   [`update_root_with_proof`] computes equals what [`apply_updates`] computes for that key.
//!
//! # Deviations from the first sketch
//!
//! - Depths run `0..=256` (a `u16`), not `0..=255`: two keys that differ only in their last bit
//!   put their leaves at depth 256. [`NodePath::encode`] therefore uses 2 bytes for the depth.
//! - [`Proof::last_sibling`] carries the preimage of the deepest sibling: deleting a key makes a
//!   sibling *leaf* move up but leaves a sibling *internal node* in place, and a hash alone does
//!   not say which it is.

mod error;
mod keys;
mod node;
mod proof;
mod store;
mod update;

pub use error::{DecodeError, TrieError, VerifyError};
pub use keys::{account_key, account_value_hash, storage_key, storage_value_hash};
pub use node::{KEY_BITS, NODE_ENCODED_LEN, Node, NodePath};
pub use proof::{Proof, Terminal, prove, update_root_with_proof, verify};
pub use store::{MemoryStore, NodeStore};
pub use update::{TrieUpdate, apply_updates, root};
