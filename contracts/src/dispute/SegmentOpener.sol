// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibFastLZ} from "src/libraries/LibFastLZ.sol";

/// @title SegmentOpener
/// @notice Opens one segment of a v2 batch on chain: decompresses it, parses the payload and
///         commits to every transaction with a leaf, exactly as `decode_segment`, `tx_leaf` and
///         `segment_tx_root` in `crates/primitives/src/batch/segment.rs` do (the batch format
///         v2 spec, sections 2 and 3): the same verdict on every input and, when the segment is
///         valid, the same leaves (`crates/execution/tests/segment_opener.rs` checks both in
///         revm).
/// @dev    Invariants:
///         - Nothing reverts on content: every malformed segment yields `ok == false`.
///         - Gas is bounded by the size limits alone, under 2^24 for every segment within them.
///           Typical: 200 ETH transfers take about 2.2M. The dearest segments found take about
///           13.4M: 16,384 FastLZ runs (the most a segment holds) making a 64 KiB payload of
///           access-list entries without keys, 23 RLP bytes per 3 payload bytes (see the
///           adversarial cases in the tests above).
///         How:
///         - The payload is parsed column by column into one 16-word record per transaction
///           that is, once complete, the ABI encoding its leaf hashes:
///             0x000 txType  0x020 nonce  0x040 gasLimit  0x060 to  0x080 isCreate  0x0a0 value
///             0x0c0 fee  0x0e0 priorityFee  0x100 yParity  0x120 r  0x140 s  0x160 signingHash
///             0x180 txHash  0x1a0 calldataLength  0x1c0 calldataRoot  0x1e0 accessListHash
///           Until the leaf pass, slots of values not yet known hold what they are computed
///           from: 0x160 the calldata header, 0x180 the raw calldata's payload pointer or the
///           ERC-20 call's address, 0x1c0 the ERC-20 amount, and for typed transactions 0x120 /
///           0x140 the start and end of the RLP fields encoded while parsing (below).
///         - Access lists are the one part whose cost grows faster than the payload (an entry
///           can take 2 payload bytes and 23 RLP bytes), so they are read once, without a loop
///           per byte: while parsing them, each typed transaction's RLP fields (everything but
///           the signature) are written to an arena, the access list last, and the leaf pass
///           only adds the list header and the signature around them. Legacy transactions are
///           encoded in the leaf pass, in one scratch region reused for each.
///         - A failed read moves the parse cursor to `FAILED`, beyond any payload end, so every
///           later read fails as well and one check at the end decides.
library SegmentOpener {
    /// @notice Largest compressed segment in bytes (the batch envelope's limit).
    uint256 internal constant MAX_SEGMENT_SIZE = 32_768;
    /// @notice Largest decompressed segment payload in bytes.
    uint256 internal constant MAX_SEGMENT_PAYLOAD = 65_536;
    /// @notice Most transactions in one segment.
    uint256 internal constant MAX_TRANSACTIONS_PER_SEGMENT = 256;

    /// @dev Parse cursor after an error: past every payload end, and far from overflowing.
    uint256 private constant FAILED = 1 << 128;
    /// @dev Bytes per transaction record (16 ABI words).
    uint256 private constant RECORD_SIZE = 0x200;
    /// @dev Bytes of the parse context (see `_open`).
    uint256 private constant CTX_SIZE = 0x320;

    /// @notice Opens a segment and returns its transactions' Merkle root.
    /// @param compressed The segment as posted (FastLZ-compressed payload).
    /// @param txCount    Its transaction count, from the batch's segment table.
    /// @param chainId    The L2 chain id (typed transactions carry it; legacy ones are EIP-155).
    /// @return ok     False if the segment is malformed, beyond a limit, or holds no
    ///                transactions (or `chainId` does not fit 64 bits).
    /// @return txRoot `merkleRoot(leaves)`; zero when `ok` is false.
    function open(bytes memory compressed, uint256 txCount, uint256 chainId)
        internal
        pure
        returns (bool ok, bytes32 txRoot)
    {
        bytes32[] memory leaves;
        (ok, leaves) = openLeaves(compressed, txCount, chainId);
        if (ok) txRoot = merkleRoot(leaves);
    }

    /// @notice Opens a segment and returns one leaf per transaction (spec section 3).
    /// @param compressed The segment as posted (FastLZ-compressed payload).
    /// @param txCount    Its transaction count, from the batch's segment table.
    /// @param chainId    The L2 chain id.
    /// @return ok     False if the segment is malformed or beyond a limit.
    /// @return leaves The transactions' leaves, in order; empty when `ok` is false.
    function openLeaves(bytes memory compressed, uint256 txCount, uint256 chainId)
        internal
        pure
        returns (bool ok, bytes32[] memory leaves)
    {
        if (
            compressed.length > MAX_SEGMENT_SIZE || txCount == 0 || txCount > MAX_TRANSACTIONS_PER_SEGMENT
                || chainId > type(uint64).max
        ) return (false, leaves);
        bytes memory payload;
        (ok, payload) = LibFastLZ.decompress(compressed, MAX_SEGMENT_PAYLOAD);
        if (!ok) return (false, leaves);
        return _open(payload, txCount, chainId);
    }

    /// @notice The Merkle root of `leaves`: zero for none, the leaf itself for one, otherwise
    ///         the root of the binary tree over the leaves padded with zero to a power of two,
    ///         each node `keccak256(left ‖ right)`.
    /// @param leaves The leaves (not modified).
    /// @return root The root.
    function merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            // Zero subtrees are hashed once per level, not materialised: an odd last node is
            // paired with the root of an all-zero subtree of its height.
            let count := mload(leaves)
            let ptr := mload(0x40)
            mcopy(ptr, add(leaves, 0x20), shl(5, count))
            let zero := 0
            for {} gt(count, 1) {} {
                let half := shr(1, count)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(ptr, shl(5, i)), keccak256(add(ptr, shl(6, i)), 0x40))
                }
                if and(count, 1) {
                    mstore(0x00, mload(add(ptr, shl(6, half))))
                    mstore(0x20, zero)
                    mstore(add(ptr, shl(5, half)), keccak256(0x00, 0x40))
                }
                count := add(half, and(count, 1))
                mstore(0x00, zero)
                mstore(0x20, zero)
                zero := keccak256(0x00, 0x40)
            }
            if count { root := mload(ptr) }
        }
    }

    /// @dev Parses the payload (spec section 2) and computes the leaves (section 3).
    function _open(bytes memory payload, uint256 n, uint256 chainId)
        private
        pure
        returns (bool ok, bytes32[] memory leaves)
    {
        assembly ("memory-safe") {
            // Memory, from the free pointer: the records (n x RECORD_SIZE, zeroed), a context
            // shared by the functions below (CTX_SIZE), then the arena of typed transactions'
            // RLP fields; once the payload is valid, the leaves array, then scratch.
            // Context: 0x00 payload end, 0x20 records, 0x40 n, 0x60 address table,
            // 0x80 address count, 0xa0 recent-list length, 0xc0 recent list (15 words),
            // 0x2a0 chain id, 0x2c0 arena end, 0x2e0 `entryWords` (0 until made), 0x300 the
            // bias of `putEntries`.

            // ---------------------------------------------------------------- reading

            function remaining(p, end) -> r {
                if lt(p, end) { r := sub(end, p) }
            }

            // Unsigned LEB128 of at most 10 bytes, the 10th at most 1.
            function varint(p, end) -> v, q {
                if lt(add(p, 1), end) {
                    // One or two bytes: no loop.
                    let word := mload(p)
                    v := byte(0, word)
                    if lt(v, 0x80) {
                        q := add(p, 1)
                        leave
                    }
                    let high := byte(1, word)
                    if lt(high, 0x80) {
                        v := or(and(v, 0x7f), shl(7, high))
                        q := add(p, 2)
                        leave
                    }
                }
                v := 0
                q := p
                for { let shift := 0 } 1 { shift := add(shift, 7) } {
                    if iszero(lt(q, end)) {
                        v := 0
                        q := FAILED
                        leave
                    }
                    let b := byte(0, mload(q))
                    q := add(q, 1)
                    if and(eq(shift, 63), gt(b, 1)) {
                        v := 0
                        q := FAILED
                        leave
                    }
                    v := or(v, shl(shift, and(b, 0x7f)))
                    if lt(b, 0x80) { leave }
                }
            }

            // Unsigned LEB128 of at most 37 bytes, the 37th at most 0x0f.
            function varint256(p, end) -> v, q {
                if lt(p, end) {
                    v := byte(0, mload(p))
                    if lt(v, 0x80) {
                        q := add(p, 1)
                        leave
                    }
                }
                v := 0
                q := p
                for { let shift := 0 } 1 { shift := add(shift, 7) } {
                    if iszero(lt(q, end)) {
                        v := 0
                        q := FAILED
                        leave
                    }
                    let b := byte(0, mload(q))
                    q := add(q, 1)
                    if and(eq(shift, 252), gt(b, 0x0f)) {
                        v := 0
                        q := FAILED
                        leave
                    }
                    v := or(v, shl(shift, and(b, 0x7f)))
                    if lt(b, 0x80) { leave }
                }
            }

            // 0 → 0; else the byte e + 1 (e <= 77) then a varint256 mantissa m: m * 10^e.
            function decimal(p, end) -> v, q {
                if iszero(lt(p, end)) {
                    q := FAILED
                    leave
                }
                let b := byte(0, mload(p))
                q := add(p, 1)
                if iszero(b) { leave }
                if gt(b, 78) {
                    q := FAILED
                    leave
                }
                let m
                m, q := varint256(q, end)
                let scale := exp(10, sub(b, 1))
                v := mul(m, scale)
                if iszero(eq(div(v, scale), m)) {
                    v := 0
                    q := FAILED
                }
            }

            function record(ctx, i) -> r {
                r := add(mload(add(ctx, 0x20)), mul(i, RECORD_SIZE))
            }

            // The address at `index` of the table; `found` is false past its end.
            function addressAt(ctx, index) -> a, found {
                found := lt(index, mload(add(ctx, 0x80)))
                if found { a := shr(96, mload(add(mload(add(ctx, 0x60)), mul(index, 20)))) }
            }

            // ---------------------------------------------------------------- RLP

            // Bytes of big-endian `v`, for v > 0 (a binary search, as solady's LibRLP).
            function byteLength(v) -> size {
                let r := shl(7, lt(0xffffffffffffffffffffffffffffffff, v))
                r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, v))))
                r := or(r, shl(5, lt(0xffffffff, shr(r, v))))
                r := or(r, shl(4, lt(0xffff, shr(r, v))))
                r := or(r, shl(3, lt(0xff, shr(r, v))))
                size := add(shr(3, r), 1)
            }

            function rlpHeaderLength(len) -> size {
                size := 1
                if gt(len, 55) { size := add(1, byteLength(len)) }
            }

            // The header of a string (base 0x80) or list (base 0xc0) of `len` bytes at `p`.
            // Writes a word from `p + 1`: everything is written forward, so that word is free.
            function putHeader(p, len, base) -> q {
                if lt(len, 56) {
                    mstore8(p, add(base, len))
                    q := add(p, 1)
                    leave
                }
                let size := byteLength(len)
                mstore8(p, add(add(base, 55), size))
                mstore(add(p, 1), shl(sub(256, shl(3, size)), len))
                q := add(add(p, 1), size)
            }

            // An integer, minimal big-endian.
            function putUint(p, v) -> q {
                if lt(v, 0x80) {
                    switch v
                    case 0 { mstore8(p, 0x80) }
                    default { mstore8(p, v) }
                    q := add(p, 1)
                    leave
                }
                let size := byteLength(v)
                mstore8(p, add(0x80, size))
                mstore(add(p, 1), shl(sub(256, shl(3, size)), v))
                q := add(add(p, 1), size)
            }

            // The list header for [start, end), written just before `start`; returns its start.
            // Clobbers the 32 bytes before `start`, which are reserved for it.
            function wrapList(start, end) -> headerStart {
                let len := sub(end, start)
                if lt(len, 56) {
                    headerStart := sub(start, 1)
                    mstore8(headerStart, add(0xc0, len))
                    leave
                }
                let size := byteLength(len)
                headerStart := sub(sub(start, 1), size)
                mstore(sub(start, 0x20), len)
                mstore8(headerStart, add(0xf7, size))
            }

            // keccak256 of `type ‖ RLP list [body, end)` (legacy: no type byte).
            function hashList(t, body, end) -> h {
                let start := wrapList(body, end)
                if t {
                    start := sub(start, 1)
                    mstore8(start, t)
                }
                h := keccak256(start, sub(end, start))
            }

            // selector ‖ 12 zero bytes ‖ to ‖ amount: `transfer` (header 1) or `approve` (3).
            function putErc20Call(p, header, to, amount) {
                let selector := 0xa9059cbb
                if eq(header, 3) { selector := 0x095ea7b3 }
                mstore(p, shl(224, selector))
                mstore(add(p, 4), to)
                mstore(add(p, 36), amount)
            }

            function putCalldata(p, r) -> q {
                let header := mload(add(r, 0x160))
                let src := mload(add(r, 0x180))
                if and(header, 1) {
                    mstore8(p, 0xb8)
                    mstore8(add(p, 1), 68)
                    putErc20Call(add(p, 2), header, src, mload(add(r, 0x1c0)))
                    q := add(p, 70)
                    leave
                }
                let len := mload(add(r, 0x1a0))
                if eq(len, 1) {
                    let b := byte(0, mload(src))
                    if lt(b, 0x80) {
                        mstore8(p, b)
                        q := add(p, 1)
                        leave
                    }
                }
                q := putHeader(p, len, 0x80)
                mcopy(q, src, len)
                q := add(q, len)
            }

            // The fields before the access list (legacy: before the EIP-155 or signature tail):
            // [chainId], nonce, [priorityFee], fee, gasLimit, to, value, data.
            function putFields(body, r, chainId_) -> q {
                let t := mload(r)
                q := body
                if t { q := putUint(q, chainId_) }
                q := putUint(q, mload(add(r, 0x20)))
                if eq(t, 2) { q := putUint(q, mload(add(r, 0xe0))) }
                q := putUint(q, mload(add(r, 0xc0)))
                q := putUint(q, mload(add(r, 0x40)))
                switch mload(add(r, 0x80))
                case 0 {
                    mstore(add(q, 1), shl(96, mload(add(r, 0x60))))
                    mstore8(q, 0x94)
                    q := add(q, 21)
                }
                default {
                    mstore8(q, 0x80)
                    q := add(q, 1)
                }
                q := putUint(q, mload(add(r, 0xa0)))
                q := putCalldata(q, r)
            }

            // ---------------------------------------------------------------- columns

            function readTypes(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                if gt(n_, remaining(p, mload(ctx))) {
                    q := FAILED
                    leave
                }
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let t := byte(0, mload(add(p, i)))
                    if gt(t, 2) {
                        q := FAILED
                        leave
                    }
                    mstore(record(ctx, i), t)
                }
                q := add(p, n_)
            }

            function readParities(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                let size := shr(3, add(n_, 7))
                if gt(size, remaining(p, mload(ctx))) {
                    q := FAILED
                    leave
                }
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let bit := and(shr(and(i, 7), byte(0, mload(add(p, shr(3, i))))), 1)
                    mstore(add(record(ctx, i), 0x100), bit)
                }
                q := add(p, size)
            }

            // Distances first (kept in the nonce slots), then a literal per zero distance.
            function readNonces(p, ctx) -> q {
                let end := mload(ctx)
                let n_ := mload(add(ctx, 0x40))
                q := p
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let d
                    d, q := varint(q, end)
                    mstore(add(record(ctx, i), 0x20), d)
                }
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    if gt(q, end) { leave }
                    let slot := add(record(ctx, i), 0x20)
                    let d := mload(slot)
                    let nonce
                    switch d
                    case 0 { nonce, q := varint(q, end) }
                    default {
                        if gt(d, i) {
                            q := FAILED
                            leave
                        }
                        let previous := mload(add(record(ctx, sub(i, d)), 0x20))
                        if eq(previous, 0xffffffffffffffff) {
                            q := FAILED
                            leave
                        }
                        nonce := add(previous, 1)
                    }
                    mstore(slot, nonce)
                }
            }

            // The next value of a recent column with 4-bit code `code`. `mode` 0: gas limits
            // (varint256 literals, at most 2^64 - 1); 1, 2: fees (decimal literals, at most
            // 2^128 - 1).
            function recentValue(p, ctx, code, mode) -> v, q {
                let len := mload(add(ctx, 0xa0))
                let list := add(ctx, 0xc0)
                switch code
                case 0 {
                    let end := mload(ctx)
                    switch mode
                    case 0 { v, q := varint256(p, end) }
                    default { v, q := decimal(p, end) }
                    let maxValue := 0xffffffffffffffffffffffffffffffff
                    if iszero(mode) { maxValue := 0xffffffffffffffff }
                    if or(gt(q, end), gt(v, maxValue)) {
                        v := 0
                        q := FAILED
                        leave
                    }
                    if eq(len, 15) { len := 14 }
                    mcopy(add(list, 0x20), list, shl(5, len))
                    mstore(add(ctx, 0xa0), add(len, 1))
                }
                default {
                    if gt(code, len) {
                        q := FAILED
                        leave
                    }
                    q := p
                    v := mload(add(list, shl(5, sub(code, 1))))
                    mcopy(add(list, 0x20), list, shl(5, sub(code, 1)))
                }
                mstore(list, v)
            }

            // A recent column: `mode` 0 gas limits, 1 fees (gas price or max fee), 2 priority
            // fees (type-2 transactions only).
            function readRecent(p, ctx, mode) -> q {
                let n_ := mload(add(ctx, 0x40))
                let onlyType2 := eq(mode, 2)
                {
                    let count := n_
                    if onlyType2 {
                        count := 0
                        for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                            count := add(count, eq(mload(record(ctx, i)), 2))
                        }
                    }
                    let size := shr(1, add(count, 1))
                    if gt(size, remaining(p, mload(ctx))) {
                        q := FAILED
                        leave
                    }
                    q := add(p, size)
                }
                let field := 0x40
                if mode { field := add(0xa0, shl(5, mode))} // 0xc0 fee, 0xe0 priority fee
                mstore(add(ctx, 0xa0), 0)
                let j := 0
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let r := record(ctx, i)
                    if onlyType2 { if iszero(eq(mload(r), 2)) { continue } }
                    // Code j: the low nibble of byte j / 2 when j is even, the high one when odd.
                    let code := and(shr(shl(2, and(j, 1)), byte(0, mload(add(p, shr(1, j))))), 0x0f)
                    let v
                    v, q := recentValue(q, ctx, code, mode)
                    if gt(q, mload(ctx)) { leave }
                    mstore(add(r, field), v)
                    j := add(j, 1)
                }
            }

            function readTo(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                q := p
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let k
                    k, q := varint(q, mload(ctx))
                    if gt(q, mload(ctx)) { leave }
                    let r := record(ctx, i)
                    switch k
                    case 0 { mstore(add(r, 0x80), 1) }
                    default {
                        let to, found := addressAt(ctx, sub(k, 1))
                        if iszero(found) {
                            q := FAILED
                            leave
                        }
                        mstore(add(r, 0x60), to)
                    }
                }
            }

            function readValues(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                q := p
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let v
                    v, q := decimal(q, mload(ctx))
                    mstore(add(record(ctx, i), 0xa0), v)
                }
            }

            // Headers into slot 0x160, calldata lengths into 0x1a0.
            function readCalldataHeaders(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                q := p
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let h
                    h, q := varint(q, mload(ctx))
                    let r := record(ctx, i)
                    mstore(add(r, 0x160), h)
                    switch and(h, 1)
                    case 0 { mstore(add(r, 0x1a0), shr(1, h)) }
                    default {
                        if gt(h, 3) {
                            q := FAILED
                            leave
                        }
                        mstore(add(r, 0x1a0), 68)
                    }
                }
            }

            // Raw: payload pointer into 0x180. ERC-20: address into 0x180, amount into 0x1c0.
            function readCalldataBodies(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                let end := mload(ctx)
                q := p
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let r := record(ctx, i)
                    switch and(mload(add(r, 0x160)), 1)
                    case 0 {
                        let len := mload(add(r, 0x1a0))
                        if gt(len, remaining(q, end)) {
                            q := FAILED
                            leave
                        }
                        mstore(add(r, 0x180), q)
                        q := add(q, len)
                    }
                    default {
                        let index
                        index, q := varint(q, end)
                        let to, found := addressAt(ctx, index)
                        if or(gt(q, end), iszero(found)) {
                            q := FAILED
                            leave
                        }
                        mstore(add(r, 0x180), to)
                        let amount
                        amount, q := decimal(q, end)
                        mstore(add(r, 0x1c0), amount)
                    }
                }
            }

            // The RLP of entry [address_i, []] for the first 128 addresses (those a one-byte
            // index reaches), as words: 0xd6 ‖ 0x94 ‖ address ‖ 0xc0 and 9 bytes of padding.
            // Made once, in the arena, before the first access list with entries is read.
            function entryWords(ctx) -> words {
                words := mload(add(ctx, 0x2e0))
                if words { leave }
                let count := mload(add(ctx, 0x80))
                if gt(count, 0x80) { count := 0x80 }
                words := mload(add(ctx, 0x2c0))
                let table := mload(add(ctx, 0x60))
                for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                    let a := shr(96, mload(add(table, mul(i, 20))))
                    mstore(
                        add(words, shl(5, i)),
                        or(0xd6940000000000000000000000000000000000000000c0000000000000000000, shl(80, a))
                    )
                }
                mstore(add(ctx, 0x2c0), add(words, shl(5, count)))
                mstore(add(ctx, 0x2e0), words)
            }

            // Sixteen fast entries (index bytes at the even bytes of `w`).
            function put16(out, w, words) -> end {
                mstore(add(out, 0), mload(add(words, shl(5, byte(0, w)))))
                mstore(add(out, 23), mload(add(words, shl(5, byte(2, w)))))
                mstore(add(out, 46), mload(add(words, shl(5, byte(4, w)))))
                mstore(add(out, 69), mload(add(words, shl(5, byte(6, w)))))
                mstore(add(out, 92), mload(add(words, shl(5, byte(8, w)))))
                mstore(add(out, 115), mload(add(words, shl(5, byte(10, w)))))
                mstore(add(out, 138), mload(add(words, shl(5, byte(12, w)))))
                mstore(add(out, 161), mload(add(words, shl(5, byte(14, w)))))
                mstore(add(out, 184), mload(add(words, shl(5, byte(16, w)))))
                mstore(add(out, 207), mload(add(words, shl(5, byte(18, w)))))
                mstore(add(out, 230), mload(add(words, shl(5, byte(20, w)))))
                mstore(add(out, 253), mload(add(words, shl(5, byte(22, w)))))
                mstore(add(out, 276), mload(add(words, shl(5, byte(24, w)))))
                mstore(add(out, 299), mload(add(words, shl(5, byte(26, w)))))
                mstore(add(out, 322), mload(add(words, shl(5, byte(28, w)))))
                mstore(add(out, 345), mload(add(words, shl(5, byte(30, w)))))
                end := add(out, 368)
            }

            // Entries without keys, of any encoding, read from the word `w` at the cursor: every
            // entry (at most `entries`) that ends in the word and before the first entry with
            // keys or an index from 2^14. Returns how many and the bytes they took: none if the
            // first entry is not such, FAILED bytes for an index past the table. Bytes past the
            // payload's end are garbage; the caller checks the entries read end before it.
            // Word-parallel, so any varint encoding costs the same:
            // - `ends`: the bytes below 0x80 (varint ends); their running parity tells an
            //   index's end from a key count's end, `keyEnds`; each complete entry has one.
            // - Every 7-bit group must be zero but an entry's first byte, and its second when
            //   the first continues (an index below 2^14); entries from the first byte that
            //   breaks this are left to the general decoder.
            // - No ten bytes in a row continue (a varint is at most 10 bytes; its 10th, a zero
            //   group, is then 0x00).
            // Entries are then read last to first (the lowest set bit is the cheap one to find),
            // each written right-aligned so that it clobbers only the bytes before it.
            function putWordEntries(w, out, ctx, entries) -> advance, count {
                let keyEnds
                let lastEnd
                {
                    let ends := and(not(w), 0x8080808080808080808080808080808080808080808080808080808080808080)
                    keyEnds := xor(ends, shr(8, ends))
                    keyEnds := xor(keyEnds, shr(16, keyEnds))
                    keyEnds := xor(keyEnds, shr(32, keyEnds))
                    keyEnds := xor(keyEnds, shr(64, keyEnds))
                    keyEnds := xor(keyEnds, shr(128, keyEnds))
                    keyEnds := and(ends, not(keyEnds))
                    // At most `entries` entries.
                    for {
                        count := byte(
                            0,
                            mul(shr(7, keyEnds), 0x0101010101010101010101010101010101010101010101010101010101010101)
                        )
                    } gt(count, entries) {
                        count := sub(count, 1)
                    } { keyEnds := and(keyEnds, sub(keyEnds, 1)) }
                    if iszero(keyEnds) {
                        count := 0
                        leave
                    }
                    let used := not(sub(shr(7, and(keyEnds, sub(0, keyEnds))), 1))
                    // Entry starts: byte 0 and the byte after each key count; their successor
                    // if the index continues. Other bytes with a non-zero group, as top-bit
                    // flags (a group plus 0x7f carries into the top bit), then smeared to every
                    // later byte: the entries ending there are kept.
                    let starts := or(shl(255, 1), shr(8, keyEnds))
                    let free := or(starts, shr(8, and(starts, not(ends))))
                    let bad :=
                        and(
                            add(
                                and(
                                    w,
                                    and(
                                        0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f,
                                        and(used, not(mul(shr(7, free), 0xff)))
                                    )
                                ),
                                0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f
                            ),
                            0x8080808080808080808080808080808080808080808080808080808080808080
                        )
                    bad := or(bad, shr(8, bad))
                    bad := or(bad, shr(16, bad))
                    bad := or(bad, shr(32, bad))
                    bad := or(bad, shr(64, bad))
                    bad := or(bad, shr(128, bad))
                    keyEnds := and(keyEnds, not(bad))
                    if iszero(keyEnds) {
                        count := 0
                        leave
                    }
                    lastEnd := and(keyEnds, sub(0, keyEnds))
                    used := not(sub(shr(7, lastEnd), 1))
                    // Runs of continuing bytes: 2, 4, 8, then 10 long.
                    let run := and(and(w, 0x8080808080808080808080808080808080808080808080808080808080808080), used)
                    let run2 := and(run, shr(8, run))
                    run := and(run2, shr(16, run2))
                    run := and(run, shr(32, run))
                    if and(run, shr(64, run2)) {
                        count := 0
                        leave
                    }
                }
                // The first entry, written right-aligned, clobbers the 9 bytes before `out`.
                mstore(0x00, mload(sub(out, 0x20)))
                count := byte(
                    0,
                    mul(shr(7, keyEnds), 0x0101010101010101010101010101010101010101010101010101010101010101)
                )
                let table := mload(add(ctx, 0x60))
                let addressCount := mload(add(ctx, 0x80))
                // Set if an index is past the table (checked once, after the loop).
                let past := 0
                // Where the entry's 32-byte word goes: 23 bytes per entry, 9 bytes before it.
                for { let at := add(out, sub(mul(count, 23), 32)) } keyEnds { at := sub(at, 23) } {
                    keyEnds := and(keyEnds, sub(keyEnds, 1))
                    // This entry starts after the previous key count's end, or at byte 0 (then
                    // the lowest bit is 0, and so is 32 mod 32). The index of a lone bit
                    // 2^(8(31 - i) + 7), as a byte of 0x0001..1f: 31 - i.
                    let start :=
                        and(
                            sub(
                                32,
                                byte(
                                    0,
                                    mul(
                                        shr(7, and(keyEnds, sub(0, keyEnds))),
                                        0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
                                    )
                                )
                            ),
                            31
                        )
                    // Its first two groups; the second is zero if the first byte ends it (then it
                    // is the key count's).
                    let index := or(and(byte(start, w), 0x7f), shl(7, and(byte(add(start, 1), w), 0x7f)))
                    past := or(past, iszero(lt(index, addressCount)))
                    // 0xd6 ‖ 0x94 ‖ address ‖ 0xc0, in the low 23 bytes.
                    mstore(
                        at,
                        or(
                            0x000000000000000000d6940000000000000000000000000000000000000000c0,
                            shl(8, shr(96, mload(add(table, mul(index, 20)))))
                        )
                    )
                }
                if past {
                    advance := FAILED
                    leave
                }
                mstore(sub(out, 0x20), mload(0x00))
                advance := sub(
                    32,
                    byte(0, mul(shr(7, lastEnd), 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f))
                )
            }

            // Reads `entries` access-list entries at `q`, writing their RLP at `out`. The caller
            // checked that the payload holds two bytes per entry, and that is kept true after
            // every entry, so the first two bytes of an entry need no bounds check.
            // Entries without keys are the most an access list can hold (2 payload bytes or
            // more, 23 RLP bytes), so they take no loop per byte: sixteen two-byte ones with an
            // index below min(address count, 128) at once, copied from `entryWords`; else the
            // entries of a word at once (`putWordEntries`). Only entries with keys (32 bytes
            // each) and errors take the general decoder.
            function putEntries(q, out, entries, ctx) -> q2, out2 {
                let words := mload(add(ctx, 0x2e0))
                let fast := mload(add(ctx, 0x80))
                if gt(fast, 0x80) { fast := 0x80 }
                // Adding 0x80 - fast to an index byte below 0x80 sets its top bit iff index >= fast.
                mstore(
                    add(ctx, 0x300),
                    mul(sub(0x80, fast), 0x0100010001000100010001000100010001000100010001000100010001000100)
                )
                for {} entries {} {
                    let w := mload(q)
                    if gt(entries, 15) {
                        // Sixteen two-byte entries: no index byte with its top bit set, no key
                        // count byte but zero, no index byte at or above `fast`.
                        if iszero(
                            or(
                                and(w, 0x80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff80ff),
                                and(
                                    add(
                                        and(w, 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00),
                                        mload(add(ctx, 0x300))
                                    ),
                                    0x8000800080008000800080008000800080008000800080008000800080008000
                                )
                            )
                        ) {
                            out := put16(out, w, words)
                            q := add(q, 32)
                            entries := sub(entries, 16)
                            continue
                        }
                    }
                    {
                        let advance, count := putWordEntries(w, out, ctx, entries)
                        if count {
                            q := add(q, advance)
                            out := add(out, mul(count, 23))
                            entries := sub(entries, count)
                            if gt(add(q, shl(1, entries)), mload(ctx)) {
                                q2 := FAILED
                                leave
                            }
                            continue
                        }
                    }
                    // Entries with keys, and errors: decoded in full.
                    q, out := putEntry(q, out, ctx)
                    entries := sub(entries, 1)
                    if gt(add(q, shl(1, entries)), mload(ctx)) {
                        q2 := FAILED
                        leave
                    }
                }
                q2 := q
                out2 := out
            }

            // Any access-list entry, decoded in full; FAILED if invalid.
            function putEntry(p, out, ctx) -> q, out2 {
                let end := mload(ctx)
                let index
                index, q := varint(p, end)
                let keys
                keys, q := varint(q, end)
                if or(or(gt(q, end), iszero(lt(index, mload(add(ctx, 0x80))))), gt(shl(5, keys), remaining(q, end))) {
                    q := FAILED
                    leave
                }
                out2 := putEntryWithKeys(out, mload(add(mload(add(ctx, 0x60)), mul(index, 20))), q, keys)
                q := add(q, shl(5, keys))
            }

            // An entry with keys: [address, [keys...]]; `a` holds the address in its top bytes.
            function putEntryWithKeys(out, a, keysStart, keys) -> q {
                let keysLen := mul(keys, 33)
                q := putHeader(out, add(add(21, rlpHeaderLength(keysLen)), keysLen), 0xc0)
                mstore(add(q, 1), a)
                mstore8(q, 0x94)
                q := putHeader(add(q, 21), keysLen, 0xc0)
                for { let keysEnd := add(keysStart, shl(5, keys)) } lt(keysStart, keysEnd) {
                    keysStart := add(keysStart, 0x20)
                } {
                    mstore(add(q, 1), mload(keysStart))
                    mstore8(q, 0xa0)
                    q := add(q, 33)
                }
            }

            // A list header for the `len` bytes before `start`, written byte by byte, since the
            // bytes before it are live; returns the header's start.
            function putHeaderBefore(start, len) -> headerStart {
                if lt(len, 56) {
                    headerStart := sub(start, 1)
                    mstore8(headerStart, add(0xc0, len))
                    leave
                }
                let size := byteLength(len)
                headerStart := sub(sub(start, 1), size)
                mstore8(headerStart, add(0xf7, size))
                for { let i := 0 } lt(i, size) { i := add(i, 1) } {
                    mstore8(sub(start, add(i, 1)), shr(shl(3, i), len))
                }
            }

            // The access list of typed record `r` at `p`: writes the transaction's RLP fields,
            // access list last, to the arena and records them (slots 0x120, 0x140, 0x1e0).
            function readAccessList(p, r, ctx) -> q {
                let end := mload(ctx)
                let entries
                entries, q := varint(p, end)
                // Each entry takes at least two bytes: reject impossible counts up front.
                if or(gt(q, end), gt(shl(1, entries), remaining(q, end))) {
                    q := FAILED
                    leave
                }
                // Allocated from the arena: before the fields are written there.
                if entries { pop(entryWords(ctx)) }
                // Room before the fields for the type byte and list header (`wrapList`).
                let body := add(mload(add(ctx, 0x2c0)), 0x40)
                let fieldsEnd := putFields(body, r, mload(add(ctx, 0x2a0)))
                // The access list header takes at most 5 bytes (its length is below 2^32).
                let contentStart := add(fieldsEnd, 5)
                let out
                q, out := putEntries(q, contentStart, entries, ctx)
                if gt(q, end) { leave }
                {
                    let listStart := putHeaderBefore(contentStart, sub(out, contentStart))
                    mstore(add(r, 0x1e0), keccak256(listStart, sub(out, listStart)))
                    // Close the gap between the fields and the list header.
                    let gap := sub(listStart, fieldsEnd)
                    mcopy(add(body, gap), body, sub(fieldsEnd, body))
                    body := add(body, gap)
                }
                mstore(add(r, 0x120), body)
                mstore(add(r, 0x140), out)
                // Room after them for the signature tail (at most 67 bytes, written by words).
                mstore(add(ctx, 0x2c0), add(out, 0xa0))
            }

            function readAccessLists(p, ctx) -> q {
                let n_ := mload(add(ctx, 0x40))
                q := p
                for { let i := 0 } lt(i, n_) { i := add(i, 1) } {
                    let r := record(ctx, i)
                    if iszero(mload(r)) { continue }
                    q := readAccessList(q, r, ctx)
                    if gt(q, mload(ctx)) { leave }
                }
            }

            // ---------------------------------------------------------------- leaves

            // The Merkle root of the 32-byte words at `ptr` (overwritten), as `merkleRoot`.
            function merkle(ptr, count) -> root {
                let zero := 0
                for {} gt(count, 1) {} {
                    let half := shr(1, count)
                    for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                        mstore(add(ptr, shl(5, i)), keccak256(add(ptr, shl(6, i)), 0x40))
                    }
                    if and(count, 1) {
                        mstore(0x00, mload(add(ptr, shl(6, half))))
                        mstore(0x20, zero)
                        mstore(add(ptr, shl(5, half)), keccak256(0x00, 0x40))
                    }
                    count := add(half, and(count, 1))
                    mstore(0x00, zero)
                    mstore(0x20, zero)
                    zero := keccak256(0x00, 0x40)
                }
                if count { root := mload(ptr) }
            }

            // Merkle root of the calldata in 32-byte chunks, the last zero-padded.
            function calldataRoot(r, scratch) -> root {
                let header := mload(add(r, 0x160))
                let len := mload(add(r, 0x1a0))
                switch and(header, 1)
                case 0 { mcopy(scratch, mload(add(r, 0x180)), len) }
                default { putErc20Call(scratch, header, mload(add(r, 0x180)), mload(add(r, 0x1c0))) }
                mstore(add(scratch, len), 0)
                root := merkle(scratch, shr(5, add(len, 31)))
            }

            // Typed: the fields are in the arena; add the list header, then the signature.
            function hashTyped(r, sig) -> signingHash, txHash {
                let t := mload(r)
                let body := mload(add(r, 0x120))
                let fieldsEnd := mload(add(r, 0x140))
                signingHash := hashList(t, body, fieldsEnd)
                let q := putUint(fieldsEnd, mload(add(r, 0x100)))
                q := putUint(q, mload(sig))
                q := putUint(q, mload(add(sig, 0x20)))
                txHash := hashList(t, body, q)
            }

            // Legacy (EIP-155): the fields, then chainId, 0, 0 to sign; v, r, s when signed.
            function hashLegacy(r, sig, chainId_, scratch) -> signingHash, txHash {
                let body := add(scratch, 0x40)
                let fieldsEnd := putFields(body, r, chainId_)
                let q := putUint(fieldsEnd, chainId_)
                mstore8(q, 0x80)
                mstore8(add(q, 1), 0x80)
                signingHash := hashList(0, body, add(q, 2))
                q := putUint(fieldsEnd, add(add(35, shl(1, chainId_)), mload(add(r, 0x100))))
                q := putUint(q, mload(sig))
                q := putUint(q, mload(add(sig, 0x20)))
                txHash := hashList(0, body, q)
            }

            // Completes record `r` with signature `sig` and returns its leaf.
            function complete(r, sig, ctx, scratch) -> leaf {
                let signingHash, txHash
                switch mload(r)
                case 0 { signingHash, txHash := hashLegacy(r, sig, mload(add(ctx, 0x2a0)), scratch) }
                default { signingHash, txHash := hashTyped(r, sig) }
                // Hashed: the scratch is free again.
                let root := calldataRoot(r, scratch)
                mstore(add(r, 0x120), mload(sig))
                mstore(add(r, 0x140), mload(add(sig, 0x20)))
                mstore(add(r, 0x160), signingHash)
                mstore(add(r, 0x180), txHash)
                mstore(add(r, 0x1c0), root)
                leaf := keccak256(r, RECORD_SIZE)
            }

            // ---------------------------------------------------------------- open

            let records := mload(0x40)
            calldatacopy(records, calldatasize(), mul(n, RECORD_SIZE)) // Zeroes them.
            let ctx := add(records, mul(n, RECORD_SIZE))
            let p := add(payload, 0x20)
            mstore(ctx, add(p, mload(payload)))
            mstore(add(ctx, 0x20), records)
            mstore(add(ctx, 0x40), n)
            mstore(add(ctx, 0x2a0), chainId)
            mstore(add(ctx, 0x2c0), add(ctx, CTX_SIZE))
            mstore(add(ctx, 0x2e0), 0)
            {
                let addressCount
                addressCount, p := varint(p, mload(ctx))
                if gt(mul(addressCount, 20), remaining(p, mload(ctx))) { p := FAILED }
                mstore(add(ctx, 0x60), p)
                mstore(add(ctx, 0x80), addressCount)
                p := add(p, mul(addressCount, 20))
            }
            p := readTypes(p, ctx)
            p := readParities(p, ctx)
            p := readNonces(p, ctx)
            p := readRecent(p, ctx, 0)
            p := readTo(p, ctx)
            p := readValues(p, ctx)
            p := readRecent(p, ctx, 1)
            p := readRecent(p, ctx, 2)
            p := readCalldataHeaders(p, ctx)
            p := readCalldataBodies(p, ctx)
            p := readAccessLists(p, ctx)
            if gt(shl(6, n), remaining(p, mload(ctx))) { p := FAILED }
            let signatures := p
            if eq(add(p, shl(6, n)), mload(ctx)) {
                ok := 1
                leaves := and(add(mload(add(ctx, 0x2c0)), 0x1f), not(0x1f))
                mstore(leaves, n)
                let scratch := add(add(leaves, 0x20), shl(5, n))
                mstore(0x40, scratch)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let leaf := complete(record(ctx, i), add(signatures, shl(6, i)), ctx, scratch)
                    mstore(add(leaves, shl(5, add(i, 1))), leaf)
                }
            }
        }
    }
}
