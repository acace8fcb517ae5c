// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibZip} from "solady/utils/LibZip.sol";
import {Test, console} from "test/utils/Test.sol";
import {SegmentOpener} from "src/dispute/SegmentOpener.sol";
import {SegmentOpenerHarness} from "src/dispute/SegmentOpenerHarness.sol";
import {SegmentBuilder} from "test/dispute/SegmentBuilder.sol";

/// @notice Measures `SegmentOpener.open` alone (no ABI copies) for the gas tests.
contract SegmentOpenerGasProbe {
    function openGas(bytes memory compressed, uint256 txCount, uint256 chainId)
        external
        view
        returns (bool ok, bytes32 root, uint256 gasUsed)
    {
        uint256 before = gasleft();
        (ok, root) = SegmentOpener.open(compressed, txCount, chainId);
        gasUsed = before - gasleft();
    }
}

/// @notice `SegmentOpener`: the leaves of hand-built and encoded segments match an independent
///         computation (LibRLP), every error of spec section 2 is an `ok == false`, accepted
///         non-canonical forms are accepted, nothing reverts, and the gas stays bounded.
contract SegmentOpenerTest is Test {
    uint256 internal constant CHAIN_ID = 42_069;

    SegmentOpenerHarness internal harness = new SegmentOpenerHarness();
    SegmentOpenerGasProbe internal probe = new SegmentOpenerGasProbe();

    // ---------------------------------------------------------------- builders

    function _tx(uint8 txType, uint256 seed) internal pure returns (SegmentBuilder.Tx memory t) {
        t.txType = txType;
        t.nonce = uint64(seed % 1000);
        t.gasLimit = 21_000;
        t.to = address(uint160(uint256(keccak256(abi.encode("to", seed)))));
        t.value = (seed % 97) * 1e15;
        t.fee = 2e9;
        t.priorityFee = txType == 2 ? 1e8 : 0;
        t.yParity = uint8(seed % 2);
        t.r = keccak256(abi.encode("r", seed));
        t.s = bytes32(uint256(keccak256(abi.encode("s", seed))) >> 1);
    }

    function _one(SegmentBuilder.Tx memory t) internal pure returns (SegmentBuilder.Tx[] memory txs) {
        txs = new SegmentBuilder.Tx[](1);
        txs[0] = t;
    }

    function _keys(uint256 count, uint256 seed) internal pure returns (bytes32[] memory keys) {
        keys = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            keys[i] = keccak256(abi.encode("key", seed, i));
        }
    }

    function _bytes(uint256 len, uint256 seed) internal pure returns (bytes memory data) {
        data = new bytes(len);
        for (uint256 i; i < len; ++i) {
            data[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i / 32))) >> (8 * (i % 32))));
        }
    }

    /// @dev Opens the encoding of `txs` and checks every leaf and the root.
    function _assertOpens(SegmentBuilder.Tx[] memory txs) internal pure {
        bytes memory segment = SegmentBuilder.segment(txs);
        _assertOpens(segment, txs);
    }

    function _assertOpens(bytes memory segment, SegmentBuilder.Tx[] memory txs) internal pure {
        (bool ok, bytes32[] memory leaves) = SegmentOpener.openLeaves(segment, txs.length, CHAIN_ID);
        assertTrue(ok, "segment opens");
        assertEq(leaves.length, txs.length, "leaf count");
        for (uint256 i; i < txs.length; ++i) {
            assertEq(leaves[i], SegmentBuilder.leaf(txs[i], CHAIN_ID), "leaf");
        }
        bytes32 root;
        (ok, root) = SegmentOpener.open(segment, txs.length, CHAIN_ID);
        assertTrue(ok, "open");
        assertEq(root, SegmentBuilder.merkleRoot(leaves), "root");
    }

    function _assertRejects(bytes memory payload, uint256 txCount, string memory why) internal pure {
        (bool ok, bytes32 root) = SegmentOpener.open(LibZip.flzCompress(payload), txCount, CHAIN_ID);
        assertFalse(ok, why);
        assertEq(root, bytes32(0), "no root on failure");
    }

    function _assertAccepts(bytes memory payload, uint256 txCount, string memory why)
        internal
        pure
        returns (bytes32[] memory leaves)
    {
        bool ok;
        (ok, leaves) = SegmentOpener.openLeaves(LibZip.flzCompress(payload), txCount, CHAIN_ID);
        assertTrue(ok, why);
    }

    /// @dev One legacy transaction's payload, column by column, to edit one column at a time.
    struct Parts {
        bytes addresses;
        bytes types;
        bytes parities;
        bytes nonces;
        bytes gas;
        bytes to;
        bytes values;
        bytes fees;
        bytes priorityFees;
        bytes calldataHeaders;
        bytes calldataBodies;
        bytes accessLists;
        bytes signatures;
    }

    bytes internal constant ADDRESS = hex"1111111111111111111111111111111111111111";

    function _parts() internal pure returns (Parts memory p) {
        p.addresses = bytes.concat(hex"01", ADDRESS);
        p.types = hex"00";
        p.parities = hex"00";
        p.nonces = hex"0005"; // distance 0, then the literal 5
        p.gas = hex"0088a401"; // code 0, then 21000
        p.to = hex"01";
        p.values = hex"00";
        p.fees = hex"000a01"; // code 0, then 10^9
        p.priorityFees = "";
        p.calldataHeaders = hex"00";
        p.calldataBodies = "";
        p.accessLists = "";
        p.signatures = bytes.concat(keccak256("r"), keccak256("s"));
    }

    function _join(Parts memory p) internal pure returns (bytes memory) {
        bytes memory head = bytes.concat(bytes.concat(p.addresses, p.types, p.parities), bytes.concat(p.nonces, p.gas));
        bytes memory middle =
            bytes.concat(bytes.concat(p.to, p.values, p.fees), bytes.concat(p.priorityFees, p.calldataHeaders));
        bytes memory tail = bytes.concat(p.calldataBodies, p.accessLists, p.signatures);
        return bytes.concat(head, middle, tail);
    }

    /// @dev The transaction `_parts()` describes.
    function _partsTx() internal pure returns (SegmentBuilder.Tx memory t) {
        t.nonce = 5;
        t.gasLimit = 21_000;
        t.to = address(bytes20(ADDRESS));
        t.fee = 1e9;
        t.r = keccak256("r");
        t.s = keccak256("s");
    }

    // ---------------------------------------------------------------- valid segments

    function test_open_handBuiltLegacy_succeeds() external pure {
        bytes32[] memory leaves = _assertAccepts(_join(_parts()), 1, "hand-built legacy");
        assertEq(leaves[0], SegmentBuilder.leaf(_partsTx(), CHAIN_ID), "leaf");
        (bool ok, bytes32 root) = SegmentOpener.open(LibZip.flzCompress(_join(_parts())), 1, CHAIN_ID);
        assertTrue(ok, "open");
        assertEq(root, leaves[0], "one leaf is the root");
    }

    function test_open_eachType_succeeds() external pure {
        for (uint8 t; t < 3; ++t) {
            _assertOpens(_one(_tx(t, t + 1)));
        }
    }

    function test_open_mixedSegment_succeeds() external pure {
        SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](12);
        for (uint256 i; i < txs.length; ++i) {
            txs[i] = _tx(uint8(i % 3), i);
        }
        // Consecutive nonces of one sender, out of order, and a gap.
        txs[1].nonce = 7;
        txs[4].nonce = 8;
        txs[5].nonce = 6;
        txs[9].nonce = 9;
        // Creation with init code.
        txs[2].isCreate = true;
        txs[2].to = address(0);
        txs[2].data = _bytes(300, 2);
        txs[2].gasLimit = 1_000_000;
        // ERC-20 forms.
        txs[3].data = abi.encodeWithSelector(SegmentBuilder.TRANSFER, address(0xBEEF), 123e18);
        txs[4].data = abi.encodeWithSelector(SegmentBuilder.APPROVE, txs[0].to, type(uint256).max);
        // Calldata lengths around the RLP boundaries: 1 byte below and above 0x80, 55, 56.
        txs[6].data = hex"7f";
        txs[7].data = hex"80";
        txs[8].data = _bytes(55, 8);
        txs[9].data = _bytes(56, 9);
        txs[10].data = _bytes(4000, 10);
        // Access lists: empty, keys, several entries, a long one.
        txs[1].accessList = new SegmentBuilder.AccessEntry[](2);
        txs[1].accessList[0] = SegmentBuilder.AccessEntry(address(0xA1), _keys(0, 1));
        txs[1].accessList[1] = SegmentBuilder.AccessEntry(txs[3].to, _keys(3, 2));
        txs[5].accessList = new SegmentBuilder.AccessEntry[](1);
        txs[5].accessList[0] = SegmentBuilder.AccessEntry(address(0xA2), _keys(40, 3));
        // Large values and fees, zero signature parts.
        txs[11].value = type(uint256).max;
        txs[11].fee = type(uint128).max;
        txs[11].priorityFee = type(uint128).max;
        txs[11].gasLimit = type(uint64).max;
        txs[11].nonce = type(uint64).max;
        txs[11].r = bytes32(0);
        txs[11].s = bytes32(uint256(1));
        _assertOpens(txs);
    }

    function test_open_maxTransactions_succeeds() external pure {
        SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](256);
        for (uint256 i; i < txs.length; ++i) {
            txs[i] = _tx(uint8(i % 3), i);
            txs[i].nonce = uint64(i / 3);
            txs[i].fee = uint128(1e9 * (1 + i % 20)); // more distinct values than the recent list
        }
        _assertOpens(txs);
    }

    function testFuzz_open_randomTransactions_succeeds(uint256 seed, uint256 count) external pure {
        count = bound(count, 1, 24);
        SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](count);
        for (uint256 i; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            SegmentBuilder.Tx memory t = _tx(uint8(r % 3), r);
            t.nonce = uint64((r >> 8) % 4);
            t.gasLimit = uint64(r >> 16) % 5 == 0 ? uint64(r >> 24) : 21_000 + uint64((r >> 24) % 3) * 1000;
            t.fee = uint128((r >> 40) % 4 * 1e9 + (r >> 48) % 3);
            t.priorityFee = t.txType == 2 ? uint128((r >> 56) % 3) : 0;
            t.value = (r >> 64) % 7 == 0 ? r >> 64 : ((r >> 64) % 100) * 10 ** ((r >> 72) % 20);
            t.isCreate = (r >> 80) % 11 == 0;
            if (t.isCreate) t.to = address(0);
            uint256 form = (r >> 88) % 4;
            if (form == 1) {
                t.data = abi.encodeWithSelector(SegmentBuilder.TRANSFER, address(uint160(r >> 96)), r % 1e20);
            }
            if (form == 2) t.data = abi.encodeWithSelector(SegmentBuilder.APPROVE, address(uint160(r >> 96)), r);
            if (form == 3) t.data = _bytes((r >> 100) % 200, r);
            if (t.txType != 0 && (r >> 110) % 2 == 0) {
                t.accessList = new SegmentBuilder.AccessEntry[]((r >> 112) % 4);
                for (uint256 e; e < t.accessList.length; ++e) {
                    t.accessList[e] = SegmentBuilder.AccessEntry(
                        address(uint160((r >> 120) % 3 + e)), _keys((r >> (130 + e)) % 4, r + e)
                    );
                }
            }
            txs[i] = t;
        }
        _assertOpens(txs);
    }

    // ---------------------------------------------------------------- accepted, non-canonical

    function test_open_nonMinimalVarints_succeeds() external pure {
        Parts memory p = _parts();
        p.to = hex"8180808000"; // 1 in five bytes
        p.nonces = hex"8000858080808080808000"; // distance 0 in two bytes; 5 in ten bytes, 10th = 0
        p.gas = hex"0088a48180808000"; // 21000 with trailing zero groups
        bytes32[] memory leaves = _assertAccepts(_join(p), 1, "non-minimal varints");
        assertEq(leaves[0], SegmentBuilder.leaf(_partsTx(), CHAIN_ID), "same transaction");
    }

    function test_open_unusedAndDuplicateAddresses_succeeds() external pure {
        Parts memory p = _parts();
        p.addresses = bytes.concat(bytes.concat(hex"04", ADDRESS, ADDRESS), bytes20(address(0xdead)), ADDRESS);
        p.to = hex"04";
        bytes32[] memory leaves = _assertAccepts(_join(p), 1, "unused and duplicate addresses");
        assertEq(leaves[0], SegmentBuilder.leaf(_partsTx(), CHAIN_ID), "same transaction");
    }

    function test_open_paddingBitsIgnored_succeeds() external pure {
        Parts memory p = _parts();
        p.parities = hex"fe"; // bit 0 clear: yParity 0; the rest is padding
        p.gas = hex"f088a401"; // high nibble unused
        p.fees = hex"f00a01";
        bytes32[] memory leaves = _assertAccepts(_join(p), 1, "padding bits");
        assertEq(leaves[0], SegmentBuilder.leaf(_partsTx(), CHAIN_ID), "same transaction");
    }

    function test_open_rawErc20Calldata_succeeds() external pure {
        SegmentBuilder.Tx memory t = _partsTx();
        t.data = abi.encodeWithSelector(SegmentBuilder.TRANSFER, address(0xBEEF), 5e18);
        Parts memory p = _parts();
        p.calldataHeaders = hex"8801"; // raw, 68 bytes
        p.calldataBodies = t.data;
        bytes32[] memory leaves = _assertAccepts(_join(p), 1, "raw calldata in the ERC-20 form");
        assertEq(leaves[0], SegmentBuilder.leaf(t, CHAIN_ID), "raw form");
        p.calldataHeaders = hex"01";
        p.addresses = bytes.concat(hex"02", ADDRESS, bytes20(address(0xBEEF)));
        p.calldataBodies = hex"011305"; // address 1, 5 * 10^18
        leaves = _assertAccepts(_join(p), 1, "compact form");
        assertEq(leaves[0], SegmentBuilder.leaf(t, CHAIN_ID), "compact form, same leaf");
    }

    function test_open_writtenOutRecentValueAndZeroMantissa_succeeds() external pure {
        // Two transactions with the same gas limit, both written out.
        bytes memory payload = bytes.concat(
            bytes.concat(hex"01", ADDRESS, hex"000000", hex"00000708"),
            bytes.concat(hex"0088a40188a401", hex"0101", hex"050000"),
            bytes.concat(hex"10", hex"0a01", hex"0000"),
            bytes.concat(keccak256("r"), keccak256("s"), keccak256("r"), keccak256("s"))
        );
        bytes32[] memory leaves = _assertAccepts(payload, 2, "written-out recent value");
        SegmentBuilder.Tx memory t = _partsTx();
        t.nonce = 7;
        assertEq(leaves[0], SegmentBuilder.leaf(t, CHAIN_ID), "first");
        t.nonce = 8;
        assertEq(leaves[1], SegmentBuilder.leaf(t, CHAIN_ID), "second (value 0 * 10^4)");
    }

    function test_open_boundaryValues_succeeds() external pure {
        Parts memory p = _parts();
        p.nonces = hex"00ffffffffffffffffff01"; // 2^64 - 1
        p.gas = hex"00ffffffffffffffffff01";
        p.values = bytes.concat(hex"01", _ones(36), hex"0f"); // 2^256 - 1
        p.fees = bytes.concat(hex"0001", _ones(18), hex"03"); // 2^128 - 1
        SegmentBuilder.Tx memory t = _partsTx();
        t.nonce = type(uint64).max;
        t.gasLimit = type(uint64).max;
        t.value = type(uint256).max;
        t.fee = type(uint128).max;
        bytes32[] memory leaves = _assertAccepts(_join(p), 1, "largest values");
        assertEq(leaves[0], SegmentBuilder.leaf(t, CHAIN_ID), "leaf");
        p.values = hex"4e01"; // 10^77
        t.value = 1e77;
        leaves = _assertAccepts(_join(p), 1, "10^77");
        assertEq(leaves[0], SegmentBuilder.leaf(t, CHAIN_ID), "leaf 10^77");
    }

    function test_open_noTransactions_fails() external pure {
        // The payload of no transactions is well formed, but a segment holds at least one.
        (bool ok, bytes32 root) = SegmentOpener.open(LibZip.flzCompress(hex"00"), 0, CHAIN_ID);
        assertFalse(ok, "no transactions");
        assertEq(root, bytes32(0), "no root");
    }

    function _ones(uint256 count) internal pure returns (bytes memory b) {
        b = new bytes(count);
        for (uint256 i; i < count; ++i) {
            b[i] = 0xff;
        }
    }

    // ---------------------------------------------------------------- errors

    function test_open_limits_fails() external pure {
        bytes memory segment = LibZip.flzCompress(_join(_parts()));
        (bool ok,) = SegmentOpener.open(segment, 1, CHAIN_ID);
        assertTrue(ok, "baseline");
        (ok,) = SegmentOpener.open(new bytes(32_769), 1, CHAIN_ID);
        assertFalse(ok, "larger than MAX_SEGMENT_SIZE");
        (ok,) = SegmentOpener.open(segment, 257, CHAIN_ID);
        assertFalse(ok, "more than MAX_TRANSACTIONS_PER_SEGMENT");
        (ok,) = SegmentOpener.open(segment, 1, uint256(type(uint64).max) + 1);
        assertFalse(ok, "chain id beyond 64 bits");
        (ok,) = SegmentOpener.open(segment, 2, CHAIN_ID);
        assertFalse(ok, "wrong transaction count");
        (ok,) = SegmentOpener.open(segment, 0, CHAIN_ID);
        assertFalse(ok, "zero transactions against a payload of one");
        (ok,) = SegmentOpener.open("", 1, CHAIN_ID);
        assertFalse(ok, "empty segment");
    }

    function test_open_malformedFastLZ_fails() external pure {
        bytes memory payload = _join(_parts());
        bytes memory segment = LibZip.flzCompress(payload);
        (bool ok,) = SegmentOpener.open(bytes.concat(segment, hex"20"), 1, CHAIN_ID);
        assertFalse(ok, "truncated match");
        (ok,) = SegmentOpener.open(bytes.concat(hex"3fff", segment), 1, CHAIN_ID);
        assertFalse(ok, "match before the start");
        (ok,) = SegmentOpener.open(bytes.concat(segment, hex"05aa"), 1, CHAIN_ID);
        assertFalse(ok, "literal run past the end");
        // A payload over 65536 bytes: 257 long runs of 264 bytes.
        bytes memory big = new bytes(2 + 3 * 257);
        big[1] = 0x42;
        for (uint256 i = 2; i < big.length; i += 3) {
            big[i] = 0xe0;
            big[i + 1] = 0xff;
        }
        (ok,) = SegmentOpener.open(big, 1, CHAIN_ID);
        assertFalse(ok, "payload past MAX_SEGMENT_PAYLOAD");
    }

    function test_open_badTypes_fails() external pure {
        Parts memory p = _parts();
        p.types = hex"03";
        _assertRejects(_join(p), 1, "type 3");
        p.types = hex"7e";
        _assertRejects(_join(p), 1, "type 0x7e");
    }

    function test_open_badNonces_fails() external pure {
        Parts memory p = _parts();
        p.nonces = hex"01";
        _assertRejects(_join(p), 1, "nonce distance before the first transaction");
        p.nonces = hex"00ffffffffffffffffff02";
        _assertRejects(_join(p), 1, "nonce varint past 64 bits");
        p.nonces = hex"00ffffffffffffffffffff01";
        _assertRejects(_join(p), 1, "varint of 11 bytes");
        // Two transactions: the second is one more than 2^64 - 1.
        bytes memory payload = bytes.concat(
            bytes.concat(hex"01", ADDRESS, hex"000000", hex"0001ffffffffffffffffff01"),
            bytes.concat(hex"1088a401", hex"01010000", hex"100a010000"),
            bytes.concat(keccak256("r"), keccak256("s"), keccak256("r"), keccak256("s"))
        );
        _assertRejects(payload, 2, "nonce overflow");
        payload[26] = 0xfe; // 2^64 - 2: the second is 2^64 - 1
        _assertAccepts(payload, 2, "nonce 2^64 - 1");
    }

    function test_open_badGasLimits_fails() external pure {
        Parts memory p = _parts();
        p.gas = hex"0080808080808080808002";
        _assertRejects(_join(p), 1, "gas limit 2^64");
        p.gas = hex"01";
        _assertRejects(_join(p), 1, "recent code past the list");
        p.gas = hex"02";
        _assertRejects(_join(p), 1, "recent code 2 of an empty list");
    }

    function test_open_badTo_fails() external pure {
        Parts memory p = _parts();
        p.to = hex"02";
        _assertRejects(_join(p), 1, "to index past the table");
        p.to = hex"ffffffffffffffffff01";
        _assertRejects(_join(p), 1, "to index 2^64 - 1");
    }

    function test_open_badDecimals_fails() external pure {
        Parts memory p = _parts();
        p.values = hex"4f01";
        _assertRejects(_join(p), 1, "exponent 78");
        p.values = hex"ff01";
        _assertRejects(_join(p), 1, "exponent 254");
        p.values = hex"4e02";
        _assertRejects(_join(p), 1, "2 * 10^77 overflows");
        p.values = bytes.concat(hex"01", _ones(36), hex"10");
        _assertRejects(_join(p), 1, "varint256 37th byte 0x10");
        p.values = bytes.concat(hex"02", _ones(36), hex"0f");
        _assertRejects(_join(p), 1, "(2^256 - 1) * 10 overflows");
    }

    function test_open_badFees_fails() external pure {
        Parts memory p = _parts();
        p.fees = hex"002801"; // 10^39 > 2^128 - 1
        _assertRejects(_join(p), 1, "fee beyond 128 bits");
        // A type-2 transaction with a priority fee beyond 128 bits.
        p = _parts();
        p.types = hex"02";
        p.priorityFees = hex"002801";
        p.accessLists = hex"00";
        _assertRejects(_join(p), 1, "priority fee beyond 128 bits");
        p.priorityFees = hex"000a01";
        _assertAccepts(_join(p), 1, "type 2 baseline");
        p.priorityFees = hex"01";
        _assertRejects(_join(p), 1, "priority recent code past the list");
        p.priorityFees = "";
        _assertRejects(_join(p), 1, "missing priority fee column");
    }

    function test_open_badCalldata_fails() external pure {
        Parts memory p = _parts();
        p.calldataHeaders = hex"05";
        _assertRejects(_join(p), 1, "odd header 5");
        p.calldataHeaders = hex"0a";
        p.calldataBodies = hex"01020304";
        _assertRejects(_join(p), 1, "raw calldata longer than its bytes");
        p.calldataHeaders = hex"01";
        p.calldataBodies = hex"010a01";
        _assertRejects(_join(p), 1, "ERC-20 address index past the table");
        p.calldataBodies = hex"000a01";
        _assertAccepts(_join(p), 1, "ERC-20 baseline");
        p.calldataHeaders = hex"ffffffffffffffffff01";
        p.calldataBodies = "";
        _assertRejects(_join(p), 1, "odd header 2^64 - 1");
        p.calldataHeaders = hex"feffffffffffffffff01";
        _assertRejects(_join(p), 1, "raw calldata of 2^63 - 1 bytes");
    }

    function test_open_badAccessLists_fails() external pure {
        Parts memory p = _parts();
        p.types = hex"01";
        p.accessLists = hex"00";
        _assertAccepts(_join(p), 1, "type 1 baseline");
        p.accessLists = hex"010000";
        _assertAccepts(_join(p), 1, "one entry without keys");
        p.accessLists = hex"010100";
        _assertRejects(_join(p), 1, "entry address index past the table");
        p.accessLists = hex"0100ffffffffffffffff01";
        _assertRejects(_join(p), 1, "key count past the payload");
        p.accessLists = hex"ffffffffffffffffff01";
        _assertRejects(_join(p), 1, "entry count past the payload");
        p.accessLists = hex"020000";
        _assertRejects(_join(p), 1, "second entry eats into the signature");
        p.accessLists = "";
        _assertRejects(_join(p), 1, "missing access list");
    }

    function test_open_badEnd_fails() external pure {
        Parts memory p = _parts();
        p.signatures = bytes.concat(p.signatures, hex"00");
        _assertRejects(_join(p), 1, "trailing byte");
        p = _parts();
        p.signatures = bytes.concat(keccak256("r"), bytes31(keccak256("s")));
        _assertRejects(_join(p), 1, "signature short of one byte");
        p = _parts();
        p.addresses = hex"ff01";
        _assertRejects(_join(p), 1, "address table past the end");
        _assertRejects("", 1, "empty payload");
    }

    /// @dev Every truncation of a valid payload fails; reaching the assertions means no revert.
    function test_open_everyTruncation_fails() external pure {
        SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](3);
        txs[0] = _tx(0, 1);
        txs[1] = _tx(1, 2);
        txs[1].accessList = new SegmentBuilder.AccessEntry[](1);
        txs[1].accessList[0] = SegmentBuilder.AccessEntry(address(0xA1), _keys(2, 2));
        txs[2] = _tx(2, 3);
        txs[2].data = abi.encodeWithSelector(SegmentBuilder.TRANSFER, address(0xBEEF), 7e18);
        bytes memory payload = SegmentBuilder.payload(txs);
        _assertAccepts(payload, 3, "baseline");
        for (uint256 len; len < payload.length; ++len) {
            bytes memory cut = new bytes(len);
            for (uint256 i; i < len; ++i) {
                cut[i] = payload[i];
            }
            _assertRejects(cut, 3, "truncated payload");
        }
    }

    function testFuzz_open_randomBytes_neverReverts(bytes memory compressed, uint256 txCount) external view {
        txCount = bound(txCount, 0, 300);
        (bool ok, bytes32 root) = harness.open(compressed, txCount, CHAIN_ID);
        if (!ok) assertEq(root, bytes32(0), "no root on failure");
        (ok, root) = harness.open(LibZip.flzCompress(compressed), txCount, CHAIN_ID);
        if (!ok) assertEq(root, bytes32(0), "no root on failure");
    }

    /// @dev Single-byte mutations of a valid payload: never a revert, and an accepted mutant's
    ///      leaves have the right count.
    function testFuzz_open_mutatedPayload_neverReverts(uint256 seed, uint256 position, uint8 value) external view {
        SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](4);
        for (uint256 i; i < 4; ++i) {
            txs[i] = _tx(uint8((seed % 3 + i) % 3), seed / 2 + i);
            if (i == 1) txs[i].data = _bytes(seed % 70, seed);
            if (i == 2 && txs[i].txType != 0) {
                txs[i].accessList = new SegmentBuilder.AccessEntry[](1);
                txs[i].accessList[0] = SegmentBuilder.AccessEntry(address(0xA1), _keys(1, seed));
            }
        }
        bytes memory payload = SegmentBuilder.payload(txs);
        payload[position % payload.length] = bytes1(value);
        (bool ok, bytes32[] memory leaves) = harness.openLeaves(LibZip.flzCompress(payload), 4, CHAIN_ID);
        assertEq(leaves.length, ok ? 4 : 0, "leaf count");
    }

    // ---------------------------------------------------------------- gas

    function test_open_gasTypicalSegment() external view {
        // 200 EIP-1559 ETH transfers: distinct senders' nonces, distinct recipients, round
        // values, one fee pair.
        SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](200);
        for (uint256 i; i < txs.length; ++i) {
            txs[i] = _tx(2, i);
            txs[i].nonce = uint64(uint256(keccak256(abi.encode("nonce", i))) % 5000);
            txs[i].value = (1 + i % 50) * 1e16;
            txs[i].fee = 3e9;
            txs[i].priorityFee = 1e9;
        }
        bytes memory segment = SegmentBuilder.segment(txs);
        (bool ok, bytes32 root, uint256 gasUsed) = probe.openGas(segment, txs.length, CHAIN_ID);
        assertTrue(ok, "typical segment opens");
        assertTrue(root != bytes32(0), "root");
        uint256 before = gasleft();
        harness.open(segment, txs.length, CHAIN_ID);
        uint256 callGas = before - gasleft();
        console.log("typical: 200 ETH transfers, segment bytes", segment.length);
        console.log("typical: open gas (library)", gasUsed);
        console.log("typical: open gas (external call, memory calldata)", callGas);
        assertLt(gasUsed, 2_500_000, "typical segment gas");
    }

    /// @dev One EIP-2930 transaction whose access list fills the payload with entries of no
    ///      keys: 2 payload bytes become 23 RLP bytes, hashed three times.
    function test_open_gasLongestAccessList() external view {
        uint256 entries = (65_536 - 102) / 2;
        Parts memory p = _parts();
        p.types = hex"01";
        bytes memory list = new bytes(3 + 2 * entries);
        _putCount(list, entries);
        p.accessLists = list;
        bytes memory payload = _join(p);
        assertEq(payload.length, 65_536, "payload at the bound");
        bytes memory segment = LibZip.flzCompress(payload);
        (bool ok,, uint256 gasUsed) = probe.openGas(segment, 1, CHAIN_ID);
        assertTrue(ok, "opens");
        console.log("longest access list: entries", entries);
        console.log("longest access list: open gas", gasUsed);
        assertLt(gasUsed, 1 << 24, "under 2^24");
    }

    /// @dev The dearest segment found (see `crates/execution/tests/segment_opener.rs`): the
    ///      most FastLZ instructions a segment holds, 4-byte matches at distance 3 (runs), making
    ///      the largest payload, an access list of entries with a non-minimal index (3 bytes
    ///      each, 23 RLP bytes, none of the two-byte fast path).
    function test_open_gasWorstSegment() external view {
        Parts memory p = _parts();
        p.types = hex"01";
        bytes memory head = _join(p);
        // head without its signature, then the entry count (3 bytes), the entries, the signature
        uint256 headLength = head.length - 64;
        // Stream: head and count as 1-byte literals, one entry as literals, then 4-byte matches.
        uint256 budget = 32_768 - 2 * (headLength + 3) - 6 - 128 - 6; // 6: the tail literals
        uint256 matches = budget / 2;
        uint256 entries = (3 + 4 * matches) / 3;
        uint256 matched = 3 * entries - 3;
        matches = matched / 4;
        uint256 tail = matched % 4; // emitted as literals
        bytes memory stream = new bytes(2 * (headLength + 3) + 6 + 2 * matches + 2 * tail + 128);
        uint256 o;
        bytes memory count = new bytes(3);
        _putCount(count, entries);
        for (uint256 i; i < headLength + 3; ++i) {
            stream[o + 1] = i < headLength ? head[i] : count[i - headLength];
            o += 2;
        }
        bytes memory entry = hex"800000";
        for (uint256 i; i < 3; ++i) {
            stream[o + 1] = entry[i];
            o += 2;
        }
        for (uint256 i; i < matches; ++i) {
            stream[o] = 0x40; // length 4
            stream[o + 1] = 0x02; // distance 3
            o += 2;
        }
        for (uint256 i; i < tail; ++i) {
            stream[o + 1] = entry[i % 3]; // 4 * matches = 0 (mod 4) continues the pattern at 0
            o += 2;
        }
        for (uint256 i; i < 64; ++i) {
            stream[o + 1] = head[headLength + i];
            o += 2;
        }
        assertEq(o, stream.length, "stream length");
        assertLe(stream.length, 32_768, "segment size");
        (bool ok,, uint256 gasUsed) = probe.openGas(stream, 1, CHAIN_ID);
        assertTrue(ok, "opens");
        console.log("worst segment: entries", entries);
        console.log("worst segment: open gas", gasUsed);
        assertLt(gasUsed, 1 << 24, "under 2^24");
    }

    /// @dev A 3-byte varint of `count` at the start of `out`.
    function _putCount(bytes memory out, uint256 count) internal pure {
        out[0] = bytes1(uint8(count & 0x7f) | 0x80);
        out[1] = bytes1(uint8((count >> 7) & 0x7f) | 0x80);
        out[2] = bytes1(uint8(count >> 14));
    }
}
