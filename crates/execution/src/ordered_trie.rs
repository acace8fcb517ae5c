//! An Ethereum ordered trie built one value at a time.
//!
//! A block header's `transactionsRoot` and `receiptsRoot` commit to an *ordered trie*: the
//! Merkle-Patricia trie that maps key `rlp(i)` to value number `i`. alloy computes its root in
//! one go ([`alloy_consensus::proofs::ordered_trie_root_with_encoder`]). Tracing a block needs
//! the root after every transaction, and the on-chain verifier needs to append one value to a
//! committed root. [`OrderedTrie`] serves both: it keeps the nodes in memory, inserts one value
//! with work proportional to the trie's depth, and caches each node's hash so a root costs only
//! the nodes changed since the last one.
//!
//! # Invariants
//! - After `n` pushes, [`OrderedTrie::root`] equals alloy's ordered trie root of the same `n`
//!   values, for any `n` (keys `rlp(i)` grow from 1 to 9 bytes as `i` grows).
//! - A node whose RLP is shorter than 32 bytes is embedded in its parent; every other node is
//!   referenced by its keccak. The root is always hashed.
//! - Keys `rlp(i)` are prefix-free (RLP is self-delimiting), so no key ends inside the trie:
//!   branches never hold a value, and a new key always leaves the trie below a branch's empty
//!   slot, a leaf, or an extension it does not follow.

use alloy_consensus::EMPTY_ROOT_HASH;
use alloy_primitives::{B256, Bytes, keccak256};
use alloy_rlp::{EMPTY_STRING_CODE, Encodable, Header};

/// An Ethereum ordered trie (key `rlp(i)` for value `i`), appended to one value at a time.
///
/// Pushing is `O(depth)`. [`Self::root`] re-hashes only the nodes on the paths pushed to since
/// the last call, so a root after every push stays cheap.
#[derive(Debug, Clone, Default)]
pub struct OrderedTrie {
    /// The root node; `None` while the trie is empty.
    root: Option<Node>,
    /// Values pushed so far: the next value's index.
    len: usize,
}

impl OrderedTrie {
    /// An empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of values pushed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value has been pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value` as value number [`Self::len`], under key `rlp(len)`.
    ///
    /// The value is stored as given: for a transactions root that is the EIP-2718 encoding,
    /// for a receipts root the receipt's. Only the nodes on the new key's path lose their
    /// cached hashes.
    pub fn push(&mut self, value: impl Into<Vec<u8>>) {
        let key = key_nibbles(self.len);
        let value = value.into();
        match &mut self.root {
            Some(root) => root.insert(&key, value),
            None => self.root = Some(Node::leaf(key, value)),
        }
        self.len += 1;
    }

    /// The trie's root hash: [`EMPTY_ROOT_HASH`] when empty.
    ///
    /// Hashes only the nodes changed since the last call; the others keep their cached hashes.
    pub fn root(&mut self) -> B256 {
        match &mut self.root {
            None => EMPTY_ROOT_HASH,
            Some(root) => match root.reference() {
                Reference::Hash(hash) => *hash,
                // A root is hashed whatever its size.
                Reference::Inline(rlp) => keccak256(rlp),
            },
        }
    }

    /// The proof needed to append the next value, under key `rlp(self.len())`.
    ///
    /// The RLP encodings of the nodes on that key's path, from the root node down to the node
    /// where the path leaves the trie: a branch whose slot for the key's next nibble is empty,
    /// a leaf, or an extension whose path the key does not follow. Empty when the trie is.
    ///
    /// A verifier holding the current root checks that `keccak256(proof[0])` is the root and
    /// that each later node is referenced by the one before (by its keccak, or embedded
    /// verbatim when its RLP is shorter than 32 bytes; never the case when every value is at
    /// least 32 bytes). The last node is the one the new leaf changes; re-hashing upwards from
    /// it gives the root after the append.
    pub fn append_proof(&mut self) -> Vec<Bytes> {
        let key = key_nibbles(self.len);
        let Some(root) = &mut self.root else {
            return Vec::new();
        };
        // Encoding a node reads its children's references: compute the stale ones first.
        root.reference();

        let mut proof = Vec::new();
        let mut node: &Node = root;
        let mut rest = key.as_slice();
        loop {
            proof.push(node.encode().into());
            match &node.kind {
                Kind::Branch { children } => match &children[usize::from(rest[0])] {
                    Some(child) => {
                        node = child;
                        rest = &rest[1..];
                    }
                    None => break,
                },
                Kind::Extension { path, child } if rest.starts_with(path) => {
                    node = child;
                    rest = &rest[path.len()..];
                }
                // A leaf, or an extension the key leaves: keys are prefix-free, so the key
                // cannot end here.
                Kind::Leaf { .. } | Kind::Extension { .. } => break,
            }
        }
        proof
    }
}

/// A trie node with its reference cached.
#[derive(Debug, Clone)]
struct Node {
    /// What the node holds.
    kind: Kind,
    /// How the parent refers to this node, once computed; cleared whenever the node or a node
    /// below it changes.
    cached: Option<Reference>,
}

/// The three node kinds of a Merkle-Patricia trie without values in branches.
#[derive(Debug, Clone)]
enum Kind {
    /// The end of a key: the nibbles left of it and its value.
    Leaf {
        /// Remaining key nibbles, one per byte.
        path: Vec<u8>,
        /// The value, as pushed.
        value: Vec<u8>,
    },
    /// A run of nibbles shared by every key below, then a branch.
    Extension {
        /// The shared nibbles, one per byte; never empty.
        path: Vec<u8>,
        /// The branch the run leads to.
        child: Box<Node>,
    },
    /// One child per next nibble; at least two are present.
    Branch {
        /// Children by nibble; boxed so that leaves, the most numerous nodes, stay small.
        children: Box<[Option<Box<Node>>; 16]>,
    },
}

/// How a parent refers to a child node.
#[derive(Debug, Clone)]
enum Reference {
    /// The keccak of the child's RLP, which is at least 32 bytes long.
    Hash(B256),
    /// The child's RLP itself, shorter than 32 bytes, embedded in the parent.
    Inline(Vec<u8>),
}

impl Reference {
    /// The reference to a node with RLP `rlp`.
    fn new(rlp: Vec<u8>) -> Self {
        if rlp.len() < 32 {
            Self::Inline(rlp)
        } else {
            Self::Hash(keccak256(rlp))
        }
    }

    /// Writes the reference as an item of the parent's RLP list.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Hash(hash) => hash.encode(out),
            Self::Inline(rlp) => out.extend_from_slice(rlp),
        }
    }
}

impl Node {
    /// A node with nothing cached.
    fn new(kind: Kind) -> Self {
        Self { kind, cached: None }
    }

    /// A leaf holding `value` at the end of `path`.
    fn leaf(path: Vec<u8>, value: Vec<u8>) -> Self {
        Self::new(Kind::Leaf { path, value })
    }

    /// Inserts `value` under `key`, the key's nibbles from this node down.
    ///
    /// Only this node and the ones below it on the key's path change, so only they lose their
    /// cached references.
    fn insert(&mut self, key: &[u8], value: Vec<u8>) {
        self.cached = None;
        match &mut self.kind {
            Kind::Branch { children } => match &mut children[usize::from(key[0])] {
                Some(child) => child.insert(&key[1..], value),
                empty @ None => *empty = Some(Box::new(Self::leaf(key[1..].to_vec(), value))),
            },
            Kind::Extension { path, child } if key.starts_with(path) => {
                child.insert(&key[path.len()..], value);
            }
            Kind::Leaf { .. } | Kind::Extension { .. } => {
                // The key leaves this node's path: split it. An empty leaf is a placeholder
                // that allocates nothing.
                let old = std::mem::replace(self, Self::leaf(Vec::new(), Vec::new()));
                *self = old.split(key, value);
            }
        }
    }

    /// Replaces this leaf or extension, whose path `key` leaves, by a branch at the first
    /// nibble where they differ (under an extension for the nibbles they share) holding the
    /// old node's remainder and a new leaf for `value`.
    fn split(self, key: &[u8], value: Vec<u8>) -> Self {
        let (Kind::Leaf { path, .. } | Kind::Extension { path, .. }) = &self.kind else {
            unreachable!("only leaves and extensions are split")
        };
        let shared = path.iter().zip(key).take_while(|(a, b)| a == b).count();
        // Prefix-free keys: neither runs out before they differ.
        let (old_nibble, new_nibble) = (path[shared], key[shared]);
        let prefix = path[..shared].to_vec();

        let below = match self.kind {
            Kind::Leaf { path, value } => Self::leaf(path[shared + 1..].to_vec(), value),
            // The branch consumes the extension's last nibble: its child moves up, unchanged.
            Kind::Extension { path, child } if shared + 1 == path.len() => *child,
            Kind::Extension { path, child } => Self::new(Kind::Extension {
                path: path[shared + 1..].to_vec(),
                child,
            }),
            Kind::Branch { .. } => unreachable!("only leaves and extensions are split"),
        };
        let mut children: Box<[Option<Box<Self>>; 16]> = Box::default();
        children[usize::from(old_nibble)] = Some(Box::new(below));
        children[usize::from(new_nibble)] =
            Some(Box::new(Self::leaf(key[shared + 1..].to_vec(), value)));
        let branch = Self::new(Kind::Branch { children });
        if prefix.is_empty() {
            branch
        } else {
            Self::new(Kind::Extension {
                path: prefix,
                child: Box::new(branch),
            })
        }
    }

    /// The node's reference, computing it (and any stale one below) if not cached.
    fn reference(&mut self) -> &Reference {
        if self.cached.is_none() {
            match &mut self.kind {
                Kind::Leaf { .. } => {}
                Kind::Extension { child, .. } => {
                    child.reference();
                }
                Kind::Branch { children } => {
                    for child in children.iter_mut().flatten() {
                        child.reference();
                    }
                }
            }
            self.cached = Some(Reference::new(self.encode()));
        }
        self.cached.as_ref().expect("just computed")
    }

    /// The node's RLP encoding. Its children's references must be cached.
    fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        match &self.kind {
            Kind::Leaf { path, value } => {
                hex_prefix(path, true).as_slice().encode(&mut payload);
                value.as_slice().encode(&mut payload);
            }
            Kind::Extension { path, child } => {
                hex_prefix(path, false).as_slice().encode(&mut payload);
                child.cached_reference().encode(&mut payload);
            }
            Kind::Branch { children } => {
                for child in children.iter() {
                    match child {
                        Some(child) => child.cached_reference().encode(&mut payload),
                        None => payload.push(EMPTY_STRING_CODE),
                    }
                }
                // Branches never hold a value: keys are prefix-free.
                payload.push(EMPTY_STRING_CODE);
            }
        }
        let mut out = Vec::with_capacity(payload.len() + 3);
        Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    /// The cached reference, which [`Self::reference`] computed on the way down.
    fn cached_reference(&self) -> &Reference {
        self.cached
            .as_ref()
            .expect("children are hashed before their parent is encoded")
    }
}

/// The nibbles of key `rlp(index)`, one per byte, high nibble first.
fn key_nibbles(index: usize) -> Vec<u8> {
    nibbles(&alloy_rlp::encode(index))
}

/// `bytes` split into nibbles, one per byte, high nibble first.
fn nibbles(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0x0f])
        .collect()
}

/// The hex-prefix (compact) encoding of a node's `path`: a flag nibble (2 for a leaf, plus 1
/// for an odd length) and, for an even length, a zero nibble, then the path packed in bytes.
fn hex_prefix(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2 } else { 0 };
    let (first, rest) = if path.len() % 2 == 1 {
        (((flag + 1) << 4) | path[0], &path[1..])
    } else {
        (flag << 4, path)
    };
    let mut out = Vec::with_capacity(1 + rest.len() / 2);
    out.push(first);
    out.extend(rest.chunks_exact(2).map(|pair| (pair[0] << 4) | pair[1]));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use alloy_consensus::proofs::ordered_trie_root_encoded;

    use super::*;

    /// A tiny deterministic xorshift generator: reproducible values without a dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// `count` random values, each `min..=max` bytes long.
        fn values(&mut self, count: usize, min: usize, max: usize) -> Vec<Vec<u8>> {
            (0..count)
                .map(|_| {
                    let len = min + (self.next() as usize) % (max - min + 1);
                    (0..len).map(|_| self.next() as u8).collect()
                })
                .collect()
        }
    }

    fn alloy_root(values: &[Vec<u8>]) -> B256 {
        ordered_trie_root_encoded(values)
    }

    /// Pushes `values` one by one, checking the root against alloy's after every push to a
    /// length `check` accepts.
    fn assert_roots_match(values: &[Vec<u8>], check: impl Fn(usize) -> bool) {
        let mut trie = OrderedTrie::new();
        for n in 0..=values.len() {
            assert_eq!(trie.len(), n);
            if check(n) {
                assert_eq!(
                    trie.root(),
                    alloy_root(&values[..n]),
                    "root after {n} values"
                );
            }
            if n < values.len() {
                trie.push(values[n].clone());
            }
        }
    }

    #[test]
    fn long_values_match_alloy() {
        let values = XorShift(0x5eed_0001).values(1100, 40, 300);
        assert_roots_match(&values, |n| n <= 300 || n == 1000 || n == 1100);

        // Without intermediate roots, nothing is cached until the end.
        let mut trie = OrderedTrie::new();
        values.iter().for_each(|value| trie.push(value.as_slice()));
        assert_eq!(trie.root(), alloy_root(&values));
        assert_eq!(trie.len(), 1100);
    }

    #[test]
    fn short_values_with_inline_nodes_match_alloy() {
        let values = XorShift(0x5eed_0002).values(300, 1, 20);
        assert_roots_match(&values, |_| true);
        // Single-byte values make the smallest nodes, and the most inlined.
        let values = XorShift(0x5eed_0003).values(300, 1, 1);
        assert_roots_match(&values, |_| true);
    }

    #[test]
    fn empty_trie() {
        let mut trie = OrderedTrie::new();
        assert!(trie.is_empty());
        assert_eq!(trie.root(), EMPTY_ROOT_HASH);
        assert!(trie.append_proof().is_empty());
    }

    #[test]
    fn keys_of_four_bytes_match_alloy() {
        // rlp(i) grows from 3 to 4 bytes at 65536: small values keep alloy's side quick.
        let values = XorShift(0x5eed_0004).values(65_540, 1, 4);
        assert_roots_match(&values, |n| n == 65_535 || n == 65_536 || n == 65_540);
    }

    #[test]
    fn ten_thousand_pushes_with_a_root_after_each_are_fast() {
        let values = XorShift(0x5eed_0005).values(10_000, 110, 130);
        // The yardstick: alloy hashing the whole trie once. A root after every push re-hashes
        // only the push's path, about ten times that work in all; rebuilding the trie for each
        // root would be thousands of times. Relative, so debug builds (slow keccak) pass too.
        let start = Instant::now();
        let expected = alloy_root(&values);
        let one_shot = start.elapsed();

        let start = Instant::now();
        let mut trie = OrderedTrie::new();
        let mut last = EMPTY_ROOT_HASH;
        for value in &values {
            trie.push(value.as_slice());
            last = trie.root();
        }
        let elapsed = start.elapsed();
        assert_eq!(last, expected);
        assert!(
            elapsed < one_shot * 50,
            "10,000 pushes and roots took {elapsed:?}, one alloy root {one_shot:?}"
        );
    }

    /// The append proof for value `n` is empty only for the empty trie, and its first node is
    /// the root's.
    fn assert_starts_at_root(n: usize, root: B256, proof: &[Bytes]) {
        assert_eq!(proof.is_empty(), n == 0, "proof for value {n}");
        if let Some(first) = proof.first() {
            assert_eq!(
                keccak256(first),
                root,
                "proof for value {n} starts at the root"
            );
        }
    }

    #[test]
    fn append_proofs_reach_where_the_next_key_leaves_the_trie() {
        let values = XorShift(0x5eed_0006).values(1100, 40, 300);
        let mut trie = OrderedTrie::new();
        for (n, value) in values.iter().enumerate() {
            let root = trie.root();
            let proof = trie.append_proof();
            assert_starts_at_root(n, root, &proof);
            for pair in proof.windows(2) {
                let child = keccak256(&pair[1]);
                let parent = decode_items(&pair[0]);
                assert!(
                    parent.contains(&child.as_slice()),
                    "proof for value {n}: node not referenced by the one above"
                );
            }

            // `apply_append_proof` also checks that the last node is where the key leaves.
            let expected = apply_append_proof(root, &proof, n, value);
            trie.push(value.as_slice());
            assert_eq!(
                trie.root(),
                expected,
                "root after appending value {n} with its proof"
            );

            if n == 300 {
                // Past the one-byte and two-byte key boundaries; spot-check beyond.
                assert_eq!(trie.root(), alloy_root(&values[..=n]));
            }
        }
    }

    #[test]
    fn append_proofs_with_inline_nodes_embed_them_verbatim() {
        let values = XorShift(0x5eed_0007).values(300, 1, 20);
        let mut trie = OrderedTrie::new();
        for (n, value) in values.iter().enumerate() {
            let root = trie.root();
            let proof = trie.append_proof();
            assert_starts_at_root(n, root, &proof);
            for pair in proof.windows(2) {
                let (parent, child) = (&pair[0], &pair[1]);
                let reference = if child.len() < 32 {
                    child.to_vec()
                } else {
                    alloy_rlp::encode(keccak256(child))
                };
                assert!(
                    parent
                        .windows(reference.len())
                        .any(|window| window == reference.as_slice()),
                    "proof for value {n}: node not referenced by the one above"
                );
            }
            trie.push(value.as_slice());
        }
    }

    /// A node of a trie whose every child reference is a 32-byte hash.
    // A handful live at a time: plain arrays read better than boxes.
    #[allow(clippy::large_enum_variant)]
    #[derive(Debug, Clone)]
    enum ProofNode {
        Branch([Option<B256>; 16]),
        Extension(Vec<u8>, B256),
        Leaf(Vec<u8>, Vec<u8>),
    }

    /// The string items of a node's RLP list. A list item (an inline node) fails.
    fn decode_items(rlp: &[u8]) -> Vec<&[u8]> {
        let mut buf = rlp;
        let mut payload = Header::decode_bytes(&mut buf, true).expect("a node is an RLP list");
        assert!(buf.is_empty(), "trailing bytes after a node");
        let mut items = Vec::new();
        while !payload.is_empty() {
            items.push(
                Header::decode_bytes(&mut payload, false)
                    .expect("a string item: child references are hashes, not inline nodes"),
            );
        }
        items
    }

    fn decode_node(rlp: &[u8]) -> ProofNode {
        let items = decode_items(rlp);
        match items.as_slice() {
            [children @ .., value] if children.len() == 16 => {
                assert!(value.is_empty(), "branches hold no value");
                ProofNode::Branch(std::array::from_fn(|i| match children[i].len() {
                    0 => None,
                    32 => Some(B256::from_slice(children[i])),
                    len => panic!("a {len}-byte child reference"),
                }))
            }
            [encoded_path, second] => {
                let (path, leaf) = decode_hex_prefix(encoded_path);
                if leaf {
                    ProofNode::Leaf(path, second.to_vec())
                } else {
                    assert_eq!(second.len(), 32, "an extension's child is a hash");
                    ProofNode::Extension(path, B256::from_slice(second))
                }
            }
            _ => panic!("a node of {} items", items.len()),
        }
    }

    /// A hex-prefix path back to nibbles, and whether it is a leaf's.
    fn decode_hex_prefix(encoded: &[u8]) -> (Vec<u8>, bool) {
        let flag = encoded[0] >> 4;
        assert!(flag < 4, "hex-prefix flag {flag}");
        let mut path = if flag & 1 == 1 {
            vec![encoded[0] & 0x0f]
        } else {
            assert_eq!(encoded[0] & 0x0f, 0, "even paths pad with a zero nibble");
            Vec::new()
        };
        path.extend(nibbles(&encoded[1..]));
        (path, flag & 2 == 2)
    }

    /// The keccak of a node's RLP; with values of 32 bytes or more, every node is that long,
    /// so every reference is a hash.
    fn hash_node(node: &ProofNode) -> B256 {
        let items: Vec<Vec<u8>> = match node {
            ProofNode::Branch(children) => children
                .iter()
                .map(|child| child.map_or_else(Vec::new, |hash| hash.to_vec()))
                .chain([Vec::new()])
                .collect(),
            ProofNode::Extension(nibbles, child) => {
                vec![hex_prefix(nibbles, false), child.to_vec()]
            }
            ProofNode::Leaf(nibbles, value) => vec![hex_prefix(nibbles, true), value.clone()],
        };
        let mut rlp = Vec::new();
        alloy_rlp::encode_list::<_, [u8]>(&items, &mut rlp);
        assert!(
            rlp.len() >= 32,
            "a node shorter than 32 bytes would be inlined"
        );
        keccak256(rlp)
    }

    /// A branch at a nibble where two paths part, under an extension for the `shared` nibbles
    /// before it, if any.
    fn fork(shared: &[u8], one: (u8, B256), other: (u8, B256)) -> B256 {
        let mut children = [None; 16];
        children[usize::from(one.0)] = Some(one.1);
        children[usize::from(other.0)] = Some(other.1);
        let branch = hash_node(&ProofNode::Branch(children));
        if shared.is_empty() {
            branch
        } else {
            hash_node(&ProofNode::Extension(shared.to_vec(), branch))
        }
    }

    /// The root after appending `value` as value number `index` to the trie with root `root`,
    /// from the append proof alone: what the on-chain verifier computes.
    ///
    /// 1. Walk the proof down key `rlp(index)`, checking each node against the hash its parent
    ///    holds and noting how many key nibbles lie above it, until the key leaves the trie.
    /// 2. Replace the last node: fill a branch's empty slot with the new leaf, or split a leaf
    ///    or extension at the first nibble where its path and the key differ.
    /// 3. Re-hash upwards, putting each new hash in its parent's slot for the key.
    fn apply_append_proof(root: B256, proof: &[Bytes], index: usize, value: &[u8]) -> B256 {
        let key = key_nibbles(index);
        if proof.is_empty() {
            assert_eq!(
                root, EMPTY_ROOT_HASH,
                "only an empty trie has an empty proof"
            );
            return hash_node(&ProofNode::Leaf(key, value.to_vec()));
        }

        // 1. Walk down.
        let mut path = Vec::new();
        let mut expected = root;
        let mut depth = 0;
        for (i, rlp) in proof.iter().enumerate() {
            assert_eq!(
                keccak256(rlp),
                expected,
                "proof node {i} is not the one referenced"
            );
            let node = decode_node(rlp);
            let last = i + 1 == proof.len();
            let below = match &node {
                ProofNode::Branch(children) => {
                    children[usize::from(key[depth])].map(|child| (child, depth + 1))
                }
                ProofNode::Extension(nibbles, child) => key[depth..]
                    .starts_with(nibbles)
                    .then(|| (*child, depth + nibbles.len())),
                ProofNode::Leaf(..) => None,
            };
            match below {
                Some((child, child_depth)) => {
                    assert!(!last, "the proof stops before the key leaves the trie");
                    path.push((depth, node));
                    expected = child;
                    depth = child_depth;
                }
                None => {
                    assert!(last, "the proof goes on after the key left the trie");
                    path.push((depth, node));
                }
            }
        }

        // 2. Replace the node where the key leaves the trie.
        let (depth, bottom) = path.pop().expect("the proof is not empty");
        let rest = &key[depth..];
        let shared = |nibbles: &[u8]| nibbles.iter().zip(rest).take_while(|(a, b)| a == b).count();
        let new_leaf =
            |from: usize| hash_node(&ProofNode::Leaf(rest[from..].to_vec(), value.to_vec()));
        let mut hash = match bottom {
            ProofNode::Branch(mut children) => {
                children[usize::from(rest[0])] = Some(new_leaf(1));
                hash_node(&ProofNode::Branch(children))
            }
            ProofNode::Leaf(nibbles, old_value) => {
                let s = shared(&nibbles);
                let old = hash_node(&ProofNode::Leaf(nibbles[s + 1..].to_vec(), old_value));
                fork(&nibbles[..s], (nibbles[s], old), (rest[s], new_leaf(s + 1)))
            }
            ProofNode::Extension(nibbles, child) => {
                let s = shared(&nibbles);
                // The new branch takes the extension's next nibble; what is left of the
                // extension, if anything, stays above its child.
                let old = if s + 1 == nibbles.len() {
                    child
                } else {
                    hash_node(&ProofNode::Extension(nibbles[s + 1..].to_vec(), child))
                };
                fork(&nibbles[..s], (nibbles[s], old), (rest[s], new_leaf(s + 1)))
            }
        };

        // 3. Re-hash upwards.
        for (depth, node) in path.into_iter().rev() {
            hash = match node {
                ProofNode::Branch(mut children) => {
                    children[usize::from(key[depth])] = Some(hash);
                    hash_node(&ProofNode::Branch(children))
                }
                ProofNode::Extension(nibbles, _) => hash_node(&ProofNode::Extension(nibbles, hash)),
                ProofNode::Leaf(..) => unreachable!("a leaf ends the walk"),
            };
        }
        hash
    }
}
