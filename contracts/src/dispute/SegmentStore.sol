// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchInbox} from "src/L1/BatchInbox.sol";
import {SegmentOpener} from "src/dispute/SegmentOpener.sol";

/// @title SegmentStore
/// @notice Opens the segments of batches on L1, once each, and keeps what a one-step proof
///         needs of them: whether the segment decodes, where its transactions sit in the batch,
///         and the Merkle root of their leaves (`SegmentOpener`). Opening a segment costs up to
///         about 13.4M gas, more than one step may use, so it is a transaction of its own that
///         anyone may send; a step then proves one transaction's leaf against the stored root.
///
///         A calldata batch's segment is opened from the batch (`open`). A blob batch's segment
///         is in blobs, which L1 cannot read: its bytes are first proven with the EIP-4844
///         point-evaluation precompile against the batch's versioned hashes, and a keccak256 is
///         chained over them (a load may start wherever any load ended, so competing loaders
///         never stall each other). Either a whole blob at once (`loadWholeBlob`: one
///         evaluation at a point fixed by the values, about 4.4M to 6.5M gas, chaining every
///         segment the blob covers) or element by element (`loadBlob`, about 57,500 gas per
///         element of 31 bytes, for the few elements of a small part). Then `openBlob` takes
///         those bytes, checks them against the chain and opens the segment exactly as `open`
///         does. Element `i` of a blob is the blob polynomial's value at
///         `ω^bitrev(i)`, `ω` the 4096th root of unity of the consensus specs
///         (`ROOT_OF_UNITY`), `bitrev` the 12-bit bit reversal; bytes 1 to 31 of its value are
///         the stream's (see `BatchInbox`), and byte 0, which derivation ignores, is proven but
///         not chained.
/// @dev    Reads only the `BatchInbox`'s records: the batch data (or a blob batch's envelope)
///         must hash to the record's `dataHash` and a blob batch's versioned hashes to its
///         `segmentRoot`, which the inbox computed when it accepted the batch, so its envelope
///         is well formed and only the segment's contents are untrusted. Forced blocks have no
///         segments.
contract SegmentStore {
    /// @notice What opening one segment gave.
    /// @param opened  Whether it was opened (all other fields are zero until then).
    /// @param ok      Whether it decodes: if not, every block with a transaction in it is empty.
    /// @param firstTx The index in the batch of its first transaction.
    /// @param txCount Its transaction count (the batch's segment table's).
    /// @param txRoot  `SegmentOpener.merkleRoot` of its transactions' leaves; zero if not `ok`.
    struct Segment {
        bool opened;
        bool ok;
        uint16 firstTx;
        uint16 txCount;
        bytes32 txRoot;
    }

    /// @notice The inbox whose records fix the batches.
    BatchInbox public immutable inbox;

    /// @notice The L2 chain id the segments' transactions are decoded for.
    uint256 public immutable chainId;

    /// @dev Bytes of the envelope before the headers, of a block entry, of a segment entry.
    uint256 private constant _FIXED = 21;
    uint256 private constant _BLOCK_ENTRY = 7;
    uint256 private constant _SEGMENT_ENTRY = 6;
    /// @dev The envelope's segment count byte also carries `BatchInbox.OPEN_FLAG`.
    uint256 private constant _SEGMENT_COUNT_MASK = 0x7f;

    /// @notice The BLS12-381 scalar field's modulus (EIP-4844 `BLS_MODULUS`).
    uint256 public constant BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    /// @notice The primitive 4096th root of unity blobs are evaluated over:
    ///         `7^((BLS_MODULUS - 1) / 4096)` (the consensus specs' `PRIMITIVE_ROOT_OF_UNITY` 7).
    uint256 public constant ROOT_OF_UNITY = 0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306;

    /// @notice Field elements per blob.
    uint256 public constant FIELD_ELEMENTS_PER_BLOB = 4096;

    /// @notice Stream bytes per field element (`BatchInbox.BLOB_BYTES_PER_FIELD_ELEMENT`).
    uint256 public constant BYTES_PER_ELEMENT = 31;

    /// @dev The point-evaluation precompile and its input: versioned hash, z, y, commitment,
    ///      proof.
    address private constant _POINT_EVALUATION = address(0x0a);
    uint256 private constant _COMMITMENT = 48;
    uint256 private constant _PROOF = 48;

    /// @dev `4096^-1 mod BLS_MODULUS`, the barycentric formula's `1 / n`.
    uint256 private constant _INVERSE_OF_4096 = 0x73e66878b46ae3705eb6a46a89213de7d3686828bfce5c19400fffff00100001;

    mapping(uint256 record => mapping(uint256 segment => Segment)) private _segments;

    /// @notice How far a blob segment's bytes are proven.
    /// @param next  Elements proven, from the first covering the segment (the furthest load).
    /// @param chain `keccak256(previous ‖ bytes)` over their 31 stream bytes, from zero.
    struct BlobLoad {
        uint32 next;
        bytes32 chain;
    }

    mapping(uint256 record => mapping(uint256 segment => BlobLoad)) private _blobLoads;

    /// @dev The chain after the first `n` elements of a blob segment, for every `n` a load
    ///      ended at: a load may start at any of them, so a competing load never makes another
    ///      one stale.
    mapping(uint256 record => mapping(uint256 segment => mapping(uint256 n => bytes32 chain))) private _checkpoints;

    /// @notice Emitted when field elements of a blob segment are proven.
    /// @param record  The inbox record of its batch.
    /// @param segment Its index in the batch.
    /// @param next    Elements proven so far.
    /// @param total   Elements covering the segment.
    event BlobElementsLoaded(uint256 indexed record, uint256 indexed segment, uint256 next, uint256 total);

    /// @notice Emitted when a segment is opened.
    /// @param record  The inbox record of its batch.
    /// @param segment Its index in the batch.
    /// @param ok      Whether it decodes.
    /// @param txRoot  The Merkle root of its transactions' leaves (zero if not `ok`).
    event SegmentOpened(uint256 indexed record, uint256 indexed segment, bool ok, bytes32 txRoot);

    /// @notice Thrown when deployed without an inbox or with a chain id beyond 64 bits.
    error SegmentStore_BadConfig();

    /// @notice Thrown when the record is a blob batch or forced blocks: no segments in calldata.
    /// @param record The record index.
    error SegmentStore_NotCalldataBatch(uint256 record);

    /// @notice Thrown when the record is not a blob batch.
    /// @param record The record index.
    error SegmentStore_NotBlobBatch(uint256 record);

    /// @notice Thrown when the versioned hashes given are not the blob batch's.
    /// @param record The record index.
    error SegmentStore_BlobHashesMismatch(uint256 record);

    /// @notice Thrown when elements are loaded from a position no load ended at, or past the
    ///         segment.
    /// @param next     The furthest element proven.
    /// @param from     The position given.
    /// @param total    Elements covering the segment.
    error SegmentStore_BlobLoadOutOfOrder(uint256 next, uint256 from, uint256 total);

    /// @notice Thrown when a whole blob chains nothing: every segment part in it continues a
    ///         part in the blob before that is not chained yet (load that blob first).
    /// @param record The record index.
    /// @param blob   The blob's index in the batch.
    error SegmentStore_BlobPartsWaiting(uint256 record, uint256 blob);

    /// @notice Thrown when the lengths of the payloads, proofs or commitments do not match.
    error SegmentStore_BlobLoadMalformed();

    /// @notice Thrown when the point-evaluation precompile refuses an element's proof.
    /// @param element The element's index in the batch's blob stream.
    error SegmentStore_BadElementProof(uint256 element);

    /// @notice Thrown when the point-evaluation precompile refuses a whole blob's proof at its
    ///         challenge point: the values are not the blob's.
    /// @param blob The blob's index in the batch.
    error SegmentStore_BadBlobProof(uint256 blob);

    /// @notice Thrown when a blob segment is opened before all its elements are proven, or with
    ///         other bytes than those proven.
    /// @param record  The record index.
    /// @param segment The segment index.
    error SegmentStore_BlobNotLoaded(uint256 record, uint256 segment);

    /// @notice Thrown when the data given is not the record's batch.
    /// @param record The record index.
    error SegmentStore_DataMismatch(uint256 record);

    /// @notice Thrown when the batch has no such segment.
    /// @param record  The record index.
    /// @param segment The segment index.
    error SegmentStore_UnknownSegment(uint256 record, uint256 segment);

    /// @param inbox_   The batch inbox.
    /// @param chainId_ The L2 chain id.
    constructor(BatchInbox inbox_, uint256 chainId_) {
        if (address(inbox_) == address(0) || chainId_ == 0 || chainId_ > type(uint64).max) {
            revert SegmentStore_BadConfig();
        }
        inbox = inbox_;
        chainId = chainId_;
    }

    /// @notice Opens segment `segment` of the calldata batch of record `record` and stores the
    ///         result. Idempotent: a segment already opened is returned as stored.
    /// @param record  The inbox record index.
    /// @param data    The batch as posted (`postBatch`'s argument).
    /// @param segment The segment's index in the batch.
    /// @return result What opening gave.
    function open(uint256 record, bytes calldata data, uint256 segment) external returns (Segment memory result) {
        result = _segments[record][segment];
        if (result.opened) return result;
        BatchInbox.Record memory r = inbox.records(record);
        if (r.forced || r.blobCount != 0) revert SegmentStore_NotCalldataBatch(record);
        if (keccak256(data) != r.dataHash) revert SegmentStore_DataMismatch(record);
        (uint256 start, uint256 length, uint256 firstTx, uint256 txCount) = _locate(record, data, segment);
        result = _store(record, segment, data[start:start + length], firstTx, txCount);
    }

    /// @notice Field elements of a blob segment to prove (`loadBlob`).
    /// @param record          The inbox record index.
    /// @param envelope        The batch's envelope (`postBlobBatch`'s argument).
    /// @param versionedHashes The batch transaction's versioned hashes, in order.
    /// @param segment         The segment's index in the batch.
    /// @param from            The first element proven here, counted from the first covering
    ///                        the segment.
    /// @param commitments     The KZG commitment (48 bytes) of every blob of the batch, in order.
    /// @param payloads        Each element's 32 bytes (its first byte is not stream data).
    /// @param proofs          Each element's KZG proof (48 bytes) at its point.
    struct BlobElements {
        uint256 record;
        bytes envelope;
        bytes32[] versionedHashes;
        uint256 segment;
        uint256 from;
        bytes commitments;
        bytes payloads;
        bytes proofs;
    }

    /// @dev Where a blob segment sits: the first field element covering it (its index in the
    ///      batch's blob stream), how many cover it, its byte offset in the stream and length,
    ///      and its transactions' place in the batch.
    struct BlobRange {
        uint256 first;
        uint256 total;
        uint256 offset;
        uint256 length;
        uint256 firstTx;
        uint256 txCount;
    }

    /// @notice Proves field elements `from..from + payloads.length / 32` of those covering a
    ///         segment of a blob batch, in order, and extends the segment's chain with their
    ///         stream bytes. Anyone may call it, from any position a load ended at (0, or a
    ///         `next` that `blobLoads` reported): loads never make each other stale.
    /// @param e The elements and what they are checked against.
    /// @return next Elements proven after this call.
    function loadBlob(BlobElements calldata e) external returns (uint256 next) {
        BlobRange memory g = _blobRange(e.record, e.envelope, e.segment);
        if (keccak256(abi.encodePacked(e.versionedHashes)) != inbox.records(e.record).segmentRoot) {
            revert SegmentStore_BlobHashesMismatch(e.record);
        }
        uint256 count = e.payloads.length / 32;
        if (
            e.payloads.length != count * 32 || e.proofs.length != count * _PROOF
                || e.commitments.length != e.versionedHashes.length * _COMMITMENT
        ) revert SegmentStore_BlobLoadMalformed();
        BlobLoad memory load = _blobLoads[e.record][e.segment];
        bytes32 chain = _checkpoints[e.record][e.segment][e.from];
        if ((e.from != 0 && chain == bytes32(0)) || e.from + count > g.total || count == 0) {
            revert SegmentStore_BlobLoadOutOfOrder(load.next, e.from, g.total);
        }
        for (uint256 k; k < count; ++k) {
            bytes calldata value = e.payloads[k * 32:(k + 1) * 32];
            uint256 element = g.first + e.from + k;
            _verifyElement(e, element, value, e.proofs[k * _PROOF:(k + 1) * _PROOF]);
            // Byte 0 of an element is not stream data (derivation ignores it).
            chain = keccak256(abi.encodePacked(chain, value[1:]));
            // Crossing into the next blob: keep the chain at the boundary, where a whole-blob
            // load of that blob continues it.
            if ((element + 1) % FIELD_ELEMENTS_PER_BLOB == 0 && k + 1 < count) {
                _checkpoints[e.record][e.segment][element + 1 - g.first] = chain;
            }
        }
        next = e.from + count;
        _checkpoints[e.record][e.segment][next] = chain;
        if (next > load.next) {
            // casting to 'uint32' is safe: a segment is covered by at most 5 * 4096 elements
            // forge-lint: disable-next-line(unsafe-typecast)
            _blobLoads[e.record][e.segment] = BlobLoad({next: uint32(next), chain: chain});
        }
        emit BlobElementsLoaded(e.record, e.segment, next, g.total);
    }

    /// @dev Checks with the point-evaluation precompile that element `element` of the batch's
    ///      blob stream is `value` (32 bytes).
    function _verifyElement(BlobElements calldata e, uint256 element, bytes calldata value, bytes calldata proof)
        private
        view
    {
        uint256 blob = element / FIELD_ELEMENTS_PER_BLOB;
        if (blob >= e.versionedHashes.length) revert SegmentStore_BlobLoadMalformed();
        bytes memory input = abi.encodePacked(
            e.versionedHashes[blob],
            _point(element % FIELD_ELEMENTS_PER_BLOB),
            value,
            e.commitments[blob * _COMMITMENT:(blob + 1) * _COMMITMENT],
            proof
        );
        (bool ok, bytes memory out) = _POINT_EVALUATION.staticcall(input);
        if (!ok || out.length != 64) revert SegmentStore_BadElementProof(element);
    }

    /// @notice A whole blob of a blob batch to prove at once (`loadWholeBlob`).
    /// @param record          The inbox record index.
    /// @param envelope        The batch's envelope (`postBlobBatch`'s argument).
    /// @param versionedHashes The batch transaction's versioned hashes, in order.
    /// @param blob            The blob's index in the batch.
    /// @param commitment      Its KZG commitment (48 bytes).
    /// @param values          Its 4096 field elements, 32 bytes each, in blob order.
    /// @param proof           The KZG proof (48 bytes) of its polynomial at the challenge point
    ///                        (`blobChallenge`).
    struct WholeBlob {
        uint256 record;
        bytes envelope;
        bytes32[] versionedHashes;
        uint256 blob;
        bytes commitment;
        bytes values;
        bytes proof;
    }

    /// @notice Proves every field element of one blob of a blob batch with a single point
    ///         evaluation, and extends the chain of every segment the blob covers as `loadBlob`
    ///         would have element by element. The values fix a polynomial of degree below 4096;
    ///         the store evaluates it on chain (barycentric formula over the blob's domain) at
    ///         `z = blobChallenge(commitment, values)`, a point that depends on the values, and
    ///         the precompile checks that the committed blob takes the same value there. Two
    ///         different polynomials agree at a point chosen after both are fixed with
    ///         probability at most 4096 / BLS_MODULUS, so the values are the blob's. About 5M gas
    ///         (most of it the values' calldata) where element by element a blob costs about
    ///         235M. A segment's part in this blob is chained only from where its chain stands:
    ///         from its start, or from the end of its part in the blob before, once that is
    ///         chained; load the blobs of a segment in order.
    /// @param w The blob and what it is checked against.
    function loadWholeBlob(WholeBlob calldata w) external {
        BatchInbox.Record memory r = inbox.records(w.record);
        if (r.forced || r.blobCount == 0) revert SegmentStore_NotBlobBatch(w.record);
        if (keccak256(w.envelope) != r.dataHash) revert SegmentStore_DataMismatch(w.record);
        if (keccak256(abi.encodePacked(w.versionedHashes)) != r.segmentRoot) {
            revert SegmentStore_BlobHashesMismatch(w.record);
        }
        if (
            w.blob >= w.versionedHashes.length || w.commitment.length != _COMMITMENT || w.proof.length != _PROOF
                || w.values.length != FIELD_ELEMENTS_PER_BLOB * 32
        ) revert SegmentStore_BlobLoadMalformed();
        uint256 z = blobChallenge(w.commitment, w.values);
        uint256 y = evaluateBlob(w.values, z);
        (bool ok, bytes memory out) =
            _POINT_EVALUATION.staticcall(abi.encodePacked(w.versionedHashes[w.blob], z, y, w.commitment, w.proof));
        if (!ok || out.length != 64) revert SegmentStore_BadBlobProof(w.blob);
        uint256 segmentCount = _read(w.envelope, 12, 1) & _SEGMENT_COUNT_MASK;
        bool chained;
        for (uint256 segment; segment < segmentCount; ++segment) {
            if (_chainPart(w.record, segment, _rangeIn(w.record, w.envelope, segment), w.values, w.blob)) {
                chained = true;
            }
        }
        // Every part it covers waits for the blob before: nothing to pay for.
        if (!chained) revert SegmentStore_BlobPartsWaiting(w.record, w.blob);
    }

    /// @dev Extends the chain of segment `segment` (at `g`) with its elements in blob `blob`,
    ///      whose values are proven, if it covers any and its chain reaches them; whether it did.
    ///      A segment's chain past a blob boundary always has its checkpoint at the boundary
    ///      (both loaders keep it), so a whole-blob load continues any chain that reached it.
    function _chainPart(uint256 record, uint256 segment, BlobRange memory g, bytes calldata values, uint256 blob)
        private
        returns (bool)
    {
        uint256 blobFirst = blob * FIELD_ELEMENTS_PER_BLOB;
        uint256 lo = g.first > blobFirst ? g.first : blobFirst;
        uint256 hi = g.first + g.total;
        if (hi > blobFirst + FIELD_ELEMENTS_PER_BLOB) hi = blobFirst + FIELD_ELEMENTS_PER_BLOB;
        if (lo >= hi) return false;
        bytes32 chain = _checkpoints[record][segment][lo - g.first];
        // Its part in the blob before is not chained yet: this part waits for it.
        if (lo != g.first && chain == bytes32(0)) return false;
        chain = _chain(chain, values, lo - blobFirst, hi - blobFirst);
        uint256 next = hi - g.first;
        _checkpoints[record][segment][next] = chain;
        if (next > _blobLoads[record][segment].next) {
            // casting to 'uint32' is safe: a segment is covered by at most 5 * 4096 elements
            // forge-lint: disable-next-line(unsafe-typecast)
            _blobLoads[record][segment] = BlobLoad({next: uint32(next), chain: chain});
        }
        emit BlobElementsLoaded(record, segment, next, g.total);
        return true;
    }

    /// @notice The point a whole blob is checked at: `keccak256(commitment ‖ keccak256(values))`
    ///         reduced modulo `BLS_MODULUS`, fixed by the values before anyone can prove there.
    /// @param commitment The blob's KZG commitment.
    /// @param values     Its 4096 field elements, 32 bytes each.
    /// @return z The challenge point.
    function blobChallenge(bytes calldata commitment, bytes calldata values) public pure returns (uint256 z) {
        z = uint256(keccak256(abi.encodePacked(commitment, keccak256(values)))) % BLS_MODULUS;
    }

    /// @dev `chain` extended with the stream bytes (bytes 1 to 31) of elements `from..to` of
    ///      `values`, as `loadBlob` chains them.
    function _chain(bytes32 chain, bytes calldata values, uint256 from, uint256 to)
        private
        pure
        returns (bytes32 result)
    {
        assembly ("memory-safe") {
            result := chain
            for { let k := from } lt(k, to) { k := add(k, 1) } {
                mstore(0x00, result)
                calldatacopy(0x20, add(values.offset, add(mul(k, 32), 1)), 31)
                result := keccak256(0x00, 63)
            }
        }
    }

    /// @notice The value at `z` of the polynomial of degree below 4096 whose value at
    ///         `ω^bitrev(i)` is element `i` of `values`: by the barycentric formula over the
    ///         4096th roots of unity, `p(z) = (z^4096 - 1) / 4096 · Σ v_i·d_i / (z - d_i)` with
    ///         `d_i = ω^bitrev(i)`, the 4096 divisions done as one (a prefix product and one
    ///         inversion). Reverts `SegmentStore_BlobLoadMalformed` if `values` is not 4096
    ///         elements below `BLS_MODULUS` (they would not be a blob's) or `z` is in the domain.
    /// @param values 4096 field elements, 32 bytes each, in blob order.
    /// @param z      The point.
    /// @return y The polynomial's value at `z`.
    function evaluateBlob(bytes calldata values, uint256 z) public view returns (uint256 y) {
        if (values.length != FIELD_ELEMENTS_PER_BLOB * 32 || z >= BLS_MODULUS) revert SegmentStore_BlobLoadMalformed();
        uint256[] memory roots = _bitReversedRoots();
        // prefix[i] = (z - d_0)···(z - d_(i-1)); `product` all of them.
        uint256[] memory prefix = new uint256[](FIELD_ELEMENTS_PER_BLOB);
        uint256 product = 1;
        bool bad;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, FIELD_ELEMENTS_PER_BLOB) { i := add(i, 1) } {
                let d := addmod(z, sub(BLS_MODULUS, mload(add(roots, mul(add(i, 1), 0x20)))), BLS_MODULUS)
                bad := or(bad, iszero(d))
                mstore(add(prefix, mul(add(i, 1), 0x20)), product)
                product := mulmod(product, d, BLS_MODULUS)
            }
        }
        if (bad) revert SegmentStore_BlobLoadMalformed();
        // From the last element down: `inverse` is 1 / ((z - d_0)···(z - d_i)).
        uint256 inverse = _modexp(product, BLS_MODULUS - 2);
        uint256 sum;
        assembly ("memory-safe") {
            for { let i := FIELD_ELEMENTS_PER_BLOB } gt(i, 0) {} {
                let root := mload(add(roots, mul(i, 0x20)))
                let v := calldataload(add(values.offset, mul(sub(i, 1), 32)))
                bad := or(bad, iszero(lt(v, BLS_MODULUS)))
                let term :=
                    mulmod(
                        mulmod(v, root, BLS_MODULUS),
                        mulmod(inverse, mload(add(prefix, mul(i, 0x20))), BLS_MODULUS),
                        BLS_MODULUS
                    )
                sum := addmod(sum, term, BLS_MODULUS)
                inverse := mulmod(inverse, addmod(z, sub(BLS_MODULUS, root), BLS_MODULUS), BLS_MODULUS)
                i := sub(i, 1)
            }
        }
        if (bad) revert SegmentStore_BlobLoadMalformed();
        uint256 zn = _modexp(z, FIELD_ELEMENTS_PER_BLOB);
        y = mulmod(mulmod(sum, addmod(zn, BLS_MODULUS - 1, BLS_MODULUS), BLS_MODULUS), _INVERSE_OF_4096, BLS_MODULUS);
    }

    /// @dev `ω^bitrev(i)` for every element `i` of a blob, built bit by bit: setting bit `j` of
    ///      `i` adds `2^(11 - j)` to the exponent.
    function _bitReversedRoots() private pure returns (uint256[] memory roots) {
        roots = new uint256[](FIELD_ELEMENTS_PER_BLOB);
        // squares[k] = ω^(2^k).
        uint256[12] memory squares;
        squares[0] = ROOT_OF_UNITY;
        for (uint256 k = 1; k < 12; ++k) {
            squares[k] = mulmod(squares[k - 1], squares[k - 1], BLS_MODULUS);
        }
        assembly ("memory-safe") {
            let r := add(roots, 0x20)
            mstore(r, 1)
            for { let j := 0 } lt(j, 12) { j := add(j, 1) } {
                let g := mload(add(squares, mul(sub(11, j), 0x20)))
                let half := shl(j, 1)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(r, mul(add(i, half), 0x20)), mulmod(mload(add(r, mul(i, 0x20))), g, BLS_MODULUS))
                }
            }
        }
    }

    /// @dev `base^exponent mod BLS_MODULUS` with the modexp precompile.
    function _modexp(uint256 base, uint256 exponent) private view returns (uint256 result) {
        (bool ok, bytes memory out) = address(0x05).staticcall(abi.encode(32, 32, 32, base, exponent, BLS_MODULUS));
        if (!ok || out.length != 32) revert SegmentStore_BlobLoadMalformed();
        result = abi.decode(out, (uint256));
    }

    /// @notice Opens segment `segment` of the blob batch of record `record` from the bytes of
    ///         its elements, all proven with `loadBlob`, and stores the result as `open` does.
    ///         Idempotent.
    /// @param record   The inbox record index.
    /// @param envelope The batch's envelope.
    /// @param segment  The segment's index in the batch.
    /// @param covered  The 31-byte payloads of the elements covering the segment, in order.
    /// @return result What opening gave.
    function openBlob(uint256 record, bytes calldata envelope, uint256 segment, bytes calldata covered)
        external
        returns (Segment memory result)
    {
        result = _segments[record][segment];
        if (result.opened) return result;
        BlobRange memory g = _blobRange(record, envelope, segment);
        bytes32 loaded = _checkpoints[record][segment][g.total];
        if (loaded == bytes32(0) || covered.length != g.total * BYTES_PER_ELEMENT) {
            revert SegmentStore_BlobNotLoaded(record, segment);
        }
        bytes32 chain;
        for (uint256 k; k < g.total; ++k) {
            chain = keccak256(abi.encodePacked(chain, covered[k * BYTES_PER_ELEMENT:(k + 1) * BYTES_PER_ELEMENT]));
        }
        if (chain != loaded) revert SegmentStore_BlobNotLoaded(record, segment);
        // The segment's place in the covered bytes.
        uint256 start = g.offset - g.first * BYTES_PER_ELEMENT;
        result = _store(record, segment, covered[start:start + g.length], g.firstTx, g.txCount);
    }

    /// @notice How far the bytes of segment `segment` of blob batch `record` are proven.
    /// @param record  The inbox record index.
    /// @param segment The segment's index in the batch.
    /// @return The progress.
    function blobLoads(uint256 record, uint256 segment) external view returns (BlobLoad memory) {
        return _blobLoads[record][segment];
    }

    /// @dev Opens `compressed` as segment `segment` of record `record` and stores the result.
    function _store(uint256 record, uint256 segment, bytes calldata compressed, uint256 firstTx, uint256 txCount)
        private
        returns (Segment memory result)
    {
        (bool ok, bytes32[] memory leaves) = SegmentOpener.openLeaves(compressed, txCount, chainId);
        result.opened = true;
        result.ok = ok;
        // casting to 'uint16' is safe: at most 16 segments of at most 256 transactions each
        // forge-lint: disable-next-line(unsafe-typecast)
        result.firstTx = uint16(firstTx);
        // forge-lint: disable-next-line(unsafe-typecast)
        result.txCount = uint16(txCount);
        if (ok) result.txRoot = SegmentOpener.merkleRoot(leaves);
        _segments[record][segment] = result;
        emit SegmentOpened(record, segment, ok, result.txRoot);
    }

    /// @dev Where segment `segment` of the blob batch of record `record` (whose envelope is
    ///      `envelope`) sits in the batch's blob stream.
    function _blobRange(uint256 record, bytes calldata envelope, uint256 segment)
        private
        view
        returns (BlobRange memory g)
    {
        BatchInbox.Record memory r = inbox.records(record);
        if (r.forced || r.blobCount == 0) revert SegmentStore_NotBlobBatch(record);
        if (keccak256(envelope) != r.dataHash) revert SegmentStore_DataMismatch(record);
        g = _rangeIn(record, envelope, segment);
    }

    /// @dev Where segment `segment` sits in the blob stream of a batch whose envelope,
    ///      `envelope`, was checked against its record.
    function _rangeIn(uint256 record, bytes calldata envelope, uint256 segment)
        private
        pure
        returns (BlobRange memory g)
    {
        uint256 start;
        (start, g.length, g.firstTx, g.txCount) = _locate(record, envelope, segment);
        // The envelope ends with its segment table: the segments start the blob stream.
        g.offset = start - envelope.length;
        g.first = g.offset / BYTES_PER_ELEMENT;
        g.total = (g.offset + g.length + BYTES_PER_ELEMENT - 1) / BYTES_PER_ELEMENT - g.first;
    }

    /// @dev The evaluation point of element `index` of a blob: `ROOT_OF_UNITY^bitrev(index)`.
    function _point(uint256 index) private view returns (bytes32 z) {
        uint256 reversed;
        for (uint256 i; i < 12; ++i) {
            reversed = (reversed << 1) | ((index >> i) & 1);
        }
        // modexp (0x05): base, exponent and modulus of 32 bytes each.
        (bool ok, bytes memory out) =
            address(0x05).staticcall(abi.encode(32, 32, 32, ROOT_OF_UNITY, reversed, BLS_MODULUS));
        if (!ok || out.length != 32) revert SegmentStore_BadElementProof(index);
        // casting to 'bytes32' is safe: `out` is exactly 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        z = bytes32(out);
    }

    /// @dev Where segment `segment` of the batch `data` (of record `record`) starts and how long
    ///      it is, with the batch index of its first transaction and its transaction count, read
    ///      from the envelope the inbox accepted (so every length is within `data`).
    function _locate(uint256 record, bytes calldata data, uint256 segment)
        private
        pure
        returns (uint256 start, uint256 length, uint256 firstTx, uint256 txCount)
    {
        uint256 segmentCount = _read(data, 12, 1) & _SEGMENT_COUNT_MASK;
        if (segment >= segmentCount) revert SegmentStore_UnknownSegment(record, segment);
        uint256 table = _FIXED;
        for (uint256 headers = _read(data, 11, 1); headers != 0; --headers) {
            table += 2 + _read(data, table, 2);
        }
        table += _read(data, 9, 2) * _BLOCK_ENTRY;
        start = table + segmentCount * _SEGMENT_ENTRY;
        for (uint256 j; j < segment; ++j) {
            uint256 entry = _read(data, table + j * _SEGMENT_ENTRY, _SEGMENT_ENTRY);
            start += entry >> 16;
            firstTx += entry & 0xffff;
        }
        uint256 own = _read(data, table + segment * _SEGMENT_ENTRY, _SEGMENT_ENTRY);
        (length, txCount) = (own >> 16, own & 0xffff);
    }

    /// @notice What opening segment `segment` of record `record` gave (all zero if not opened).
    /// @param record  The inbox record index.
    /// @param segment The segment's index in the batch.
    /// @return The stored result.
    function segments(uint256 record, uint256 segment) external view returns (Segment memory) {
        return _segments[record][segment];
    }

    /// @dev The big-endian integer of `size` bytes at `offset`.
    function _read(bytes calldata data, uint256 offset, uint256 size) private pure returns (uint256 value) {
        for (uint256 i; i < size; ++i) {
            value = (value << 8) | uint8(data[offset + i]);
        }
    }
}
