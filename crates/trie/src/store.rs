//! Where the trie's nodes live: the [`NodeStore`] seam and an in-memory store.

use crate::{
    node::{Node, NodePath},
    update::TrieUpdate,
};
use alloy_primitives::B256;
use core::convert::Infallible;
use std::collections::BTreeMap;

/// Storage of nodes by position. The root is at [`NodePath::ROOT`]; a missing root is the empty
/// trie. Empty subtrees are never stored.
pub trait NodeStore {
    /// The store's read error.
    type Error;

    /// The node at `path`, if any.
    fn node(&self, path: &NodePath) -> Result<Option<Node>, Self::Error>;
}

impl<S: NodeStore + ?Sized> NodeStore for &S {
    type Error = S::Error;

    fn node(&self, path: &NodePath) -> Result<Option<Node>, Self::Error> {
        (**self).node(path)
    }
}

/// Nodes in a `BTreeMap`: for tests, benches and the fraud-proof verifier's tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryStore(BTreeMap<NodePath, Node>);

impl MemoryStore {
    /// The empty trie.
    pub const fn new() -> Self {
        Self(BTreeMap::new())
    }

    /// Applies an update's writes (puts and deletes).
    pub fn apply(&mut self, update: &TrieUpdate) {
        for (path, write) in &update.writes {
            match write {
                Some(node) => self.0.insert(*path, *node),
                None => self.0.remove(path),
            };
        }
    }

    /// All stored nodes by position.
    pub const fn nodes(&self) -> &BTreeMap<NodePath, Node> {
        &self.0
    }

    /// Number of stored nodes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the trie is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The root hash (zero for the empty trie).
    pub fn root(&self) -> B256 {
        self.0.get(&NodePath::ROOT).map_or(B256::ZERO, Node::hash)
    }
}

impl From<BTreeMap<NodePath, Node>> for MemoryStore {
    fn from(nodes: BTreeMap<NodePath, Node>) -> Self {
        Self(nodes)
    }
}

impl NodeStore for MemoryStore {
    type Error = Infallible;

    fn node(&self, path: &NodePath) -> Result<Option<Node>, Self::Error> {
        Ok(self.0.get(path).copied())
    }
}
