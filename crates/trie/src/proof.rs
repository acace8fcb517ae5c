//! Proofs of a key's value (or absence), their verification, and the root after updating the
//! proven key — what the fraud proof's one-step verifier computes on L1.

use crate::{
    error::{TrieError, VerifyError},
    node::{KEY_BITS, Node, NodePath, bit, common_prefix_len, internal_hash, leaf_hash},
    store::NodeStore,
};
use alloy_primitives::B256;

/// Proof of the value of one key, or of its absence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Sibling hashes from the root down: `siblings[i]` is the sibling of the node at depth
    /// `i + 1` on the key's path. The terminal sits at depth `siblings.len()`.
    pub siblings: Vec<B256>,
    /// What sits at the end of the key's path.
    pub terminal: Terminal,
    /// The node whose hash is the deepest sibling, if that sibling is not empty. Only needed to
    /// delete the key ([`update_root_with_proof`]): if it is a leaf it moves up, and hashes alone
    /// cannot tell a leaf from an internal node.
    pub last_sibling: Option<Node>,
}

/// The end of a key's path in a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// A leaf: the key itself (membership) or another key sharing the path so far
    /// (non-membership).
    Leaf {
        /// The leaf's key.
        key: B256,
        /// The leaf's value hash.
        value_hash: B256,
    },
    /// An empty subtree (non-membership).
    Empty,
}

impl Terminal {
    /// The terminal's hash (zero if empty).
    pub fn hash(&self) -> B256 {
        match self {
            Self::Leaf { key, value_hash } => leaf_hash(key, value_hash),
            Self::Empty => B256::ZERO,
        }
    }
}

/// Proof for `key` from the trie in `store`; checks every node it reads against its parent's
/// commitment.
pub fn prove<S: NodeStore>(store: &S, key: B256) -> Result<Proof, TrieError<S::Error>> {
    let read = |path: NodePath| {
        store
            .node(&path)
            .map_err(|source| TrieError::Store { path, source })
    };
    let read_committed = |path: NodePath, expected: B256| -> Result<Node, TrieError<S::Error>> {
        let node = read(path)?.ok_or(TrieError::MissingNode { path, expected })?;
        let found = node.hash();
        if found != expected {
            return Err(TrieError::HashMismatch {
                path,
                expected,
                found,
            });
        }
        Ok(node)
    };

    let mut siblings = Vec::new();
    let mut path = NodePath::ROOT;
    let mut node = read(path)?;
    let terminal = loop {
        match node {
            None => break Terminal::Empty,
            Some(Node::Leaf { key, value_hash }) => break Terminal::Leaf { key, value_hash },
            Some(Node::Internal { left, right }) => {
                if path.depth() == KEY_BITS {
                    return Err(TrieError::InternalAtMaxDepth { path });
                }
                let right_side = bit(&key, path.depth() as usize);
                let (next, sibling) = if right_side {
                    (right, left)
                } else {
                    (left, right)
                };
                siblings.push(sibling);
                path = path.child(right_side);
                node = if next.is_zero() {
                    None
                } else {
                    Some(read_committed(path, next)?)
                };
            }
        }
    };
    let last_sibling = match (siblings.last(), path.sibling()) {
        (Some(hash), Some(sibling_path)) if !hash.is_zero() => {
            Some(read_committed(sibling_path, *hash)?)
        }
        _ => None,
    };
    Ok(Proof {
        siblings,
        terminal,
        last_sibling,
    })
}

/// Checks that `proof` shows `key` holding `value_hash` (`None` or zero: absent) under `root`.
/// Ignores `proof.last_sibling`.
pub fn verify(
    root: B256,
    key: B256,
    value_hash: Option<B256>,
    proof: &Proof,
) -> Result<(), VerifyError> {
    let value_hash = value_hash.filter(|value| !value.is_zero());
    check_terminal(key, proof)?;
    match (proof.terminal, value_hash) {
        (
            Terminal::Leaf {
                key: found,
                value_hash: proven,
            },
            Some(claimed),
        ) if found == key => {
            if proven != claimed {
                return Err(VerifyError::ValueMismatch {
                    key,
                    claimed,
                    proven,
                });
            }
        }
        (
            Terminal::Leaf {
                key: found,
                value_hash: proven,
            },
            None,
        ) if found == key => {
            return Err(VerifyError::UnexpectedMembership {
                key,
                value_hash: proven,
            });
        }
        (_, Some(_)) => return Err(VerifyError::UnexpectedNonMembership { key }),
        (_, None) => {}
    }
    let computed = fold(key, proof.terminal.hash(), &proof.siblings);
    if computed != root {
        return Err(VerifyError::RootMismatch {
            expected: root,
            computed,
        });
    }
    Ok(())
}

/// The root after setting `key` from `old` to `new` (`None` or zero: absent), given a proof of
/// `old` against `root`. Mirrors [`apply_updates`](crate::apply_updates) for a single key:
/// inserting into an empty slot, splitting another leaf's position, updating in place, and
/// deleting with the sibling leaf moving up past every empty sibling.
pub fn update_root_with_proof(
    root: B256,
    key: B256,
    old: Option<B256>,
    new: Option<B256>,
    proof: &Proof,
) -> Result<B256, VerifyError> {
    verify(root, key, old, proof)?;
    let new = new.filter(|value| !value.is_zero());
    let siblings = &proof.siblings;
    let depth = siblings.len();
    let Some(new) = new else {
        if !matches!(proof.terminal, Terminal::Leaf { key: found, .. } if found == key) {
            return Ok(root); // Deleting an absent key.
        }
        let Some(&last) = siblings.last() else {
            return Ok(B256::ZERO); // The key was the only leaf.
        };
        let last_sibling = proof
            .last_sibling
            .ok_or(VerifyError::MissingLastSibling { depth })?;
        let found = last_sibling.hash();
        if found != last {
            return Err(VerifyError::LastSiblingMismatch {
                expected: last,
                found,
            });
        }
        return Ok(match last_sibling {
            // Still two or more keys below the parent: the slot just empties.
            Node::Internal { .. } => fold(key, B256::ZERO, siblings),
            // The sibling leaf is now alone below the parent: it rises while its sibling is empty.
            Node::Leaf { .. } => {
                let mut top = depth - 1;
                while top > 0 && siblings[top - 1].is_zero() {
                    top -= 1;
                }
                fold(key, last, &siblings[..top])
            }
        });
    };
    let new_leaf = leaf_hash(&key, &new);
    let subtree = match proof.terminal {
        Terminal::Leaf {
            key: other,
            value_hash,
        } if other != key => {
            // Both leaves descend to the first bit where their keys differ.
            let split = common_prefix_len(&key, &other);
            let other_leaf = leaf_hash(&other, &value_hash);
            let mut hash = if bit(&key, split) {
                internal_hash(&other_leaf, &new_leaf)
            } else {
                internal_hash(&new_leaf, &other_leaf)
            };
            for index in (depth..split).rev() {
                hash = if bit(&key, index) {
                    internal_hash(&B256::ZERO, &hash)
                } else {
                    internal_hash(&hash, &B256::ZERO)
                };
            }
            hash
        }
        _ => new_leaf,
    };
    Ok(fold(key, subtree, siblings))
}

/// Checks the proof's shape: length, canonical placement, and a terminal leaf on `key`'s path.
fn check_terminal(key: B256, proof: &Proof) -> Result<(), VerifyError> {
    let depth = proof.siblings.len();
    if depth > KEY_BITS as usize {
        return Err(VerifyError::TooManySiblings { len: depth });
    }
    if proof.siblings.last().is_some_and(B256::is_zero) {
        return Err(VerifyError::NonCanonical { depth });
    }
    if let Terminal::Leaf {
        key: terminal_key,
        value_hash,
    } = proof.terminal
    {
        if value_hash.is_zero() {
            return Err(VerifyError::ZeroValueLeaf { key: terminal_key });
        }
        if terminal_key != key && common_prefix_len(&key, &terminal_key) < depth {
            return Err(VerifyError::TerminalOffPath {
                key,
                terminal_key,
                depth,
            });
        }
    }
    Ok(())
}

/// Hashes `hash`, sitting at depth `siblings.len()` on `key`'s path, up to the root.
fn fold(key: B256, mut hash: B256, siblings: &[B256]) -> B256 {
    for (index, sibling) in siblings.iter().enumerate().rev() {
        hash = if bit(&key, index) {
            internal_hash(sibling, &hash)
        } else {
            internal_hash(&hash, sibling)
        };
    }
    hash
}
