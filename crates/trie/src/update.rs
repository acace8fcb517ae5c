//! Incremental updates: apply a batch of key changes and compute the node writes and new root.

use crate::{
    error::TrieError,
    node::{KEY_BITS, Node, NodePath, bit, leaf_hash},
    store::NodeStore,
};
use alloy_primitives::B256;
use std::collections::{BTreeMap, HashMap};

/// Result of [`apply_updates`]: the new root and the node writes that turn the old store into
/// the new trie.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrieUpdate {
    /// Root after the updates.
    pub root: B256,
    /// Node writes by position: `Some` puts the node, `None` deletes the position.
    pub writes: BTreeMap<NodePath, Option<Node>>,
    /// For every position in [`Self::writes`], the node the store held there before the update
    /// (`None`: nothing). The update read each of them on its way, so a caller that keeps
    /// history needs no second read.
    pub priors: BTreeMap<NodePath, Option<Node>>,
}

/// The root of the trie in `store` (zero if empty).
pub fn root<S: NodeStore>(store: &S) -> Result<B256, TrieError<S::Error>> {
    let root = store
        .node(&NodePath::ROOT)
        .map_err(|source| TrieError::Store {
            path: NodePath::ROOT,
            source,
        })?;
    Ok(root.map_or(B256::ZERO, |node| node.hash()))
}

/// Applies `updates` (key → `Some(value hash)` to set, `None` to delete; a zero value hash also
/// deletes) on top of the trie in `store`, returning the new root and the writes a caller applies
/// to its store. Reads only the nodes on the paths of updated keys, plus a sibling wherever a
/// deletion may make it collapse upward; the store is not modified.
pub fn apply_updates<S: NodeStore>(
    store: &S,
    updates: &BTreeMap<B256, Option<B256>>,
) -> Result<TrieUpdate, TrieError<S::Error>> {
    let updates: Vec<(B256, Option<B256>)> = updates
        .iter()
        .map(|(key, value)| (*key, value.filter(|value| !value.is_zero())))
        .collect();
    let existing = store
        .node(&NodePath::ROOT)
        .map_err(|source| TrieError::Store {
            path: NodePath::ROOT,
            source,
        })?;
    if updates.is_empty() {
        let root = existing.map_or(B256::ZERO, |node| node.hash());
        return Ok(TrieUpdate {
            root,
            ..TrieUpdate::default()
        });
    }
    let mut updater = Updater {
        store,
        writes: BTreeMap::new(),
        loaded: HashMap::new(),
    };
    if let Some(node) = existing {
        updater.loaded.insert(NodePath::ROOT, node);
    }
    let subtree = updater.update(NodePath::ROOT, existing, &updates)?;
    let root = updater.place(NodePath::ROOT, subtree);
    // A position the update wrote without loading it held nothing: it lies under an empty
    // child (zero hash) or under a leaf, and empty subtrees are never stored.
    let priors = updater
        .writes
        .keys()
        .map(|path| (*path, updater.loaded.get(path).copied()))
        .collect();
    Ok(TrieUpdate {
        root,
        writes: updater.writes,
        priors,
    })
}

/// A subtree after updates, as its parent needs to see it.
enum Subtree {
    /// No keys; nothing stored at the position.
    Empty,
    /// Exactly one key. Not yet written: the parent decides where it lands (it moves up
    /// while its sibling is empty). Anything previously stored at the position is deleted.
    Leaf { key: B256, value_hash: B256 },
    /// An internal node already written at the position.
    Internal(B256),
    /// Untouched by the updates, with this (non-zero) hash; may be a leaf or an internal node.
    Unchanged(B256),
}

struct Updater<'a, S> {
    store: &'a S,
    writes: BTreeMap<NodePath, Option<Node>>,
    /// Every node read from the store, by position: the priors of the writes.
    loaded: HashMap<NodePath, Node>,
}

impl<S: NodeStore> Updater<'_, S> {
    /// Loads the node a parent commits to with non-zero `expected`.
    fn load(&mut self, path: NodePath, expected: B256) -> Result<Node, TrieError<S::Error>> {
        let node = self
            .store
            .node(&path)
            .map_err(|source| TrieError::Store { path, source })?
            .ok_or(TrieError::MissingNode { path, expected })?;
        self.loaded.insert(path, node);
        Ok(node)
    }

    /// Applies the sorted, non-empty `updates` (all below `path`) to the subtree whose stored
    /// node at `path` is `existing`.
    fn update(
        &mut self,
        path: NodePath,
        existing: Option<Node>,
        updates: &[(B256, Option<B256>)],
    ) -> Result<Subtree, TrieError<S::Error>> {
        match existing {
            None => Ok(self.build(path, updates, false)),
            Some(Node::Leaf { key, value_hash }) => {
                // The subtree held only this leaf: rebuild it from the leaf and the updates.
                match updates.binary_search_by(|(k, _)| k.cmp(&key)) {
                    Ok(_) => Ok(self.build(path, updates, true)),
                    Err(index) => {
                        let mut merged = Vec::with_capacity(updates.len() + 1);
                        merged.extend_from_slice(&updates[..index]);
                        merged.push((key, Some(value_hash)));
                        merged.extend_from_slice(&updates[index..]);
                        Ok(self.build(path, &merged, true))
                    }
                }
            }
            Some(Node::Internal { left, right }) => {
                if path.depth() == KEY_BITS {
                    return Err(TrieError::InternalAtMaxDepth { path });
                }
                let depth = path.depth() as usize;
                let split = updates.partition_point(|(key, _)| !bit(key, depth));
                let (lower, upper) = updates.split_at(split);
                let left = self.side(path.child(false), left, lower)?;
                let right = self.side(path.child(true), right, upper)?;
                self.combine(path, left, right, true)
            }
        }
    }

    /// One child of an internal node: untouched if no update falls in it.
    fn side(
        &mut self,
        path: NodePath,
        hash: B256,
        updates: &[(B256, Option<B256>)],
    ) -> Result<Subtree, TrieError<S::Error>> {
        if updates.is_empty() {
            return Ok(if hash.is_zero() {
                Subtree::Empty
            } else {
                Subtree::Unchanged(hash)
            });
        }
        let existing = if hash.is_zero() {
            None
        } else {
            Some(self.load(path, hash)?)
        };
        self.update(path, existing, updates)
    }

    /// Builds the subtree at `path` from scratch out of the `Some` entries of the sorted
    /// `entries`; nothing below `path` is stored, and the position itself held a node iff
    /// `occupied`.
    fn build(
        &mut self,
        path: NodePath,
        entries: &[(B256, Option<B256>)],
        occupied: bool,
    ) -> Subtree {
        let mut live = entries
            .iter()
            .filter_map(|(key, value)| value.map(|value| (*key, value)));
        let Some((key, value_hash)) = live.next() else {
            self.vacate(path, occupied);
            return Subtree::Empty;
        };
        if live.next().is_none() {
            self.vacate(path, occupied);
            return Subtree::Leaf { key, value_hash };
        }
        // Two distinct keys differ in some bit, so `path` is above depth 256.
        let depth = path.depth() as usize;
        let split = entries.partition_point(|(key, _)| !bit(key, depth));
        let left = self.build(path.child(false), &entries[..split], false);
        let right = self.build(path.child(true), &entries[split..], false);
        self.put_internal(path, left, right)
    }

    /// Joins the updated children of the internal node that was stored at `path`.
    fn combine(
        &mut self,
        path: NodePath,
        left: Subtree,
        right: Subtree,
        occupied: bool,
    ) -> Result<Subtree, TrieError<S::Error>> {
        match (left, right) {
            (Subtree::Empty, Subtree::Empty) => {
                self.vacate(path, occupied);
                Ok(Subtree::Empty)
            }
            (leaf @ Subtree::Leaf { .. }, Subtree::Empty)
            | (Subtree::Empty, leaf @ Subtree::Leaf { .. }) => {
                self.vacate(path, occupied);
                Ok(leaf)
            }
            (Subtree::Unchanged(hash), Subtree::Empty) => {
                self.collapse_into(path, path.child(false), hash, true, occupied)
            }
            (Subtree::Empty, Subtree::Unchanged(hash)) => {
                self.collapse_into(path, path.child(true), hash, false, occupied)
            }
            (left, right) => Ok(self.put_internal(path, left, right)),
        }
    }

    /// The other side of `path` became empty: an untouched child at `child` that is a leaf moves
    /// up; an internal child stays (its subtree still holds at least two keys).
    fn collapse_into(
        &mut self,
        path: NodePath,
        child: NodePath,
        hash: B256,
        child_is_left: bool,
        occupied: bool,
    ) -> Result<Subtree, TrieError<S::Error>> {
        match self.load(child, hash)? {
            Node::Leaf { key, value_hash } => {
                self.writes.insert(child, None);
                self.vacate(path, occupied);
                Ok(Subtree::Leaf { key, value_hash })
            }
            Node::Internal { .. } => {
                let (left, right) = if child_is_left {
                    (Subtree::Unchanged(hash), Subtree::Empty)
                } else {
                    (Subtree::Empty, Subtree::Unchanged(hash))
                };
                Ok(self.put_internal(path, left, right))
            }
        }
    }

    /// Writes the internal node at `path` over two children, placing any leaf child.
    fn put_internal(&mut self, path: NodePath, left: Subtree, right: Subtree) -> Subtree {
        let node = Node::Internal {
            left: self.place(path.child(false), left),
            right: self.place(path.child(true), right),
        };
        let hash = node.hash();
        self.writes.insert(path, Some(node));
        Subtree::Internal(hash)
    }

    /// Settles `subtree` at `path` (writing a leaf there) and returns its hash.
    fn place(&mut self, path: NodePath, subtree: Subtree) -> B256 {
        match subtree {
            Subtree::Empty => B256::ZERO,
            Subtree::Leaf { key, value_hash } => {
                self.writes
                    .insert(path, Some(Node::Leaf { key, value_hash }));
                leaf_hash(&key, &value_hash)
            }
            Subtree::Internal(hash) | Subtree::Unchanged(hash) => hash,
        }
    }

    /// Deletes the node previously stored at `path`, if there was one.
    fn vacate(&mut self, path: NodePath, occupied: bool) {
        if occupied {
            self.writes.insert(path, None);
        }
    }
}
