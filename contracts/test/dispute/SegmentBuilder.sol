// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibZip} from "solady/utils/LibZip.sol";
import {LibRLP} from "solady/utils/LibRLP.sol";
import {DynamicBufferLib} from "solady/utils/DynamicBufferLib.sol";

/// @notice Test-side v2 segment encoder (spec section 2) and an independent leaf computation
///         (section 3, RLP by solady's LibRLP), to check `SegmentOpener` against.
library SegmentBuilder {
    using DynamicBufferLib for DynamicBufferLib.DynamicBuffer;
    using LibRLP for LibRLP.List;

    bytes4 internal constant TRANSFER = 0xa9059cbb;
    bytes4 internal constant APPROVE = 0x095ea7b3;

    struct AccessEntry {
        address account;
        bytes32[] keys;
    }

    struct Tx {
        uint8 txType;
        uint64 nonce;
        uint64 gasLimit;
        address to;
        bool isCreate;
        uint256 value;
        uint128 fee;
        uint128 priorityFee;
        uint8 yParity;
        bytes32 r;
        bytes32 s;
        bytes data;
        AccessEntry[] accessList;
    }

    // ---------------------------------------------------------------- encoding

    /// @notice The compressed segment of `txs`.
    function segment(Tx[] memory txs) internal pure returns (bytes memory) {
        return LibZip.flzCompress(payload(txs));
    }

    /// @notice The uncompressed payload of `txs`.
    function payload(Tx[] memory txs) internal pure returns (bytes memory) {
        uint256 n = txs.length;
        address[] memory table = _addressTable(txs);
        DynamicBufferLib.DynamicBuffer memory b;
        b.reserve(8192);
        _varint(b, table.length);
        for (uint256 i; i < table.length; ++i) {
            b.pAddress(table[i]);
        }
        for (uint256 i; i < n; ++i) {
            b.pUint8(txs[i].txType);
        }
        for (uint256 i; i < n; i += 8) {
            uint8 bits;
            for (uint256 k; k < 8 && i + k < n; ++k) {
                bits |= uint8(txs[i + k].yParity & 1) << uint8(k);
            }
            b.pUint8(bits);
        }
        _nonces(b, txs);
        {
            uint256[] memory gas = new uint256[](n);
            for (uint256 i; i < n; ++i) {
                gas[i] = txs[i].gasLimit;
            }
            _recent(b, gas, false);
        }
        for (uint256 i; i < n; ++i) {
            _varint(b, txs[i].isCreate ? 0 : _indexOf(table, txs[i].to) + 1);
        }
        for (uint256 i; i < n; ++i) {
            _decimal(b, txs[i].value);
        }
        {
            uint256[] memory fees = new uint256[](n);
            uint256 type2;
            for (uint256 i; i < n; ++i) {
                fees[i] = txs[i].fee;
                if (txs[i].txType == 2) ++type2;
            }
            _recent(b, fees, true);
            uint256[] memory priority = new uint256[](type2);
            type2 = 0;
            for (uint256 i; i < n; ++i) {
                if (txs[i].txType == 2) priority[type2++] = txs[i].priorityFee;
            }
            _recent(b, priority, true);
        }
        for (uint256 i; i < n; ++i) {
            uint256 form = erc20Form(txs[i].data);
            _varint(b, form == 0 ? 2 * txs[i].data.length : form);
        }
        for (uint256 i; i < n; ++i) {
            bytes memory data = txs[i].data;
            if (erc20Form(data) == 0) {
                b.p(data);
            } else {
                _varint(b, _indexOf(table, _erc20To(data)));
                _decimal(b, _erc20Amount(data));
            }
        }
        for (uint256 i; i < n; ++i) {
            if (txs[i].txType == 0) continue;
            AccessEntry[] memory list = txs[i].accessList;
            _varint(b, list.length);
            for (uint256 e; e < list.length; ++e) {
                _varint(b, _indexOf(table, list[e].account));
                _varint(b, list[e].keys.length);
                for (uint256 k; k < list[e].keys.length; ++k) {
                    b.p(abi.encodePacked(list[e].keys[k]));
                }
            }
        }
        for (uint256 i; i < n; ++i) {
            b.p(abi.encodePacked(txs[i].r, txs[i].s));
        }
        return b.data;
    }

    /// @notice 1 for an ERC-20 `transfer`, 3 for `approve` in the compact form, else 0.
    function erc20Form(bytes memory data) internal pure returns (uint256) {
        if (data.length != 68) return 0;
        for (uint256 i = 4; i < 16; ++i) {
            if (data[i] != 0) return 0;
        }
        bytes4 selector = bytes4(data);
        if (selector == TRANSFER) return 1;
        if (selector == APPROVE) return 3;
        return 0;
    }

    function _erc20To(bytes memory data) private pure returns (address to) {
        assembly {
            to := shr(96, mload(add(data, 0x30)))
        }
    }

    function _erc20Amount(bytes memory data) private pure returns (uint256 amount) {
        assembly {
            amount := mload(add(data, 0x44))
        }
    }

    function _addressTable(Tx[] memory txs) private pure returns (address[] memory table) {
        uint256 capacity;
        for (uint256 i; i < txs.length; ++i) {
            capacity += 2 + txs[i].accessList.length;
        }
        table = new address[](capacity);
        uint256 count;
        for (uint256 i; i < txs.length; ++i) {
            if (!txs[i].isCreate) count = _add(table, count, txs[i].to);
            if (erc20Form(txs[i].data) != 0) count = _add(table, count, _erc20To(txs[i].data));
            AccessEntry[] memory list = txs[i].accessList;
            for (uint256 e; e < list.length; ++e) {
                count = _add(table, count, list[e].account);
            }
        }
        assembly {
            mstore(table, count)
        }
    }

    function _add(address[] memory table, uint256 count, address a) private pure returns (uint256) {
        for (uint256 i; i < count; ++i) {
            if (table[i] == a) return count;
        }
        require(count < table.length, "SegmentBuilder: address table too small");
        table[count] = a;
        return count + 1;
    }

    function _indexOf(address[] memory table, address a) private pure returns (uint256) {
        for (uint256 i; i < table.length; ++i) {
            if (table[i] == a) return i;
        }
        revert("SegmentBuilder: address not in the table");
    }

    function _nonces(DynamicBufferLib.DynamicBuffer memory b, Tx[] memory txs) private pure {
        uint256 n = txs.length;
        uint256[] memory literals = new uint256[](n);
        uint256 literalCount;
        for (uint256 i; i < n; ++i) {
            uint256 distance;
            if (txs[i].nonce > 0) {
                for (uint256 j = i; j > 0; --j) {
                    if (txs[j - 1].nonce == txs[i].nonce - 1) {
                        distance = i - (j - 1);
                        break;
                    }
                }
            }
            _varint(b, distance);
            if (distance == 0) literals[literalCount++] = txs[i].nonce;
        }
        for (uint256 i; i < literalCount; ++i) {
            _varint(b, literals[i]);
        }
    }

    /// @dev A recent column: move-to-front over the last 15 values.
    function _recent(DynamicBufferLib.DynamicBuffer memory b, uint256[] memory values, bool decimals) private pure {
        uint256[] memory recent = new uint256[](16);
        uint256 len;
        uint8[] memory codes = new uint8[](values.length);
        DynamicBufferLib.DynamicBuffer memory literals;
        for (uint256 i; i < values.length; ++i) {
            uint256 v = values[i];
            uint256 position = type(uint256).max;
            for (uint256 k; k < len; ++k) {
                if (recent[k] == v) {
                    position = k;
                    break;
                }
            }
            if (position == type(uint256).max) {
                codes[i] = 0;
                if (decimals) _decimal(literals, v);
                else _varint(literals, v);
                if (len == 15) len = 14;
                position = len;
                ++len;
            } else {
                codes[i] = uint8(position + 1);
            }
            for (uint256 k = position; k > 0; --k) {
                recent[k] = recent[k - 1];
            }
            recent[0] = v;
        }
        for (uint256 i; i < values.length; i += 2) {
            uint8 high = i + 1 < values.length ? codes[i + 1] : 0;
            b.pUint8(codes[i] | (high << 4));
        }
        b.p(literals.data);
    }

    function _varint(DynamicBufferLib.DynamicBuffer memory b, uint256 v) internal pure {
        while (v >= 0x80) {
            b.pUint8(uint8(v & 0x7f) | 0x80);
            v >>= 7;
        }
        b.pUint8(uint8(v));
    }

    function _decimal(DynamicBufferLib.DynamicBuffer memory b, uint256 v) internal pure {
        if (v == 0) {
            b.pUint8(0);
            return;
        }
        uint8 e;
        while (v % 10 == 0 && e < 77) {
            v /= 10;
            ++e;
        }
        b.pUint8(e + 1);
        _varint(b, v);
    }

    // ---------------------------------------------------------------- leaves

    /// @notice The leaf of `t` for chain `chainId`, computed with LibRLP.
    function leaf(Tx memory t, uint256 chainId) internal pure returns (bytes32) {
        (bytes32 signingHash, bytes32 txHash, bytes32 accessListHash) = hashes(t, chainId);
        bytes memory head = bytes.concat(
            abi.encode(uint256(t.txType), uint256(t.nonce), uint256(t.gasLimit), t.isCreate ? address(0) : t.to),
            abi.encode(t.isCreate, t.value, uint256(t.fee), t.txType == 2 ? uint256(t.priorityFee) : 0)
        );
        bytes memory tail = bytes.concat(
            abi.encode(uint256(t.yParity), t.r, t.s, signingHash),
            abi.encode(txHash, t.data.length, merkleRoot(chunks(t.data)), accessListHash)
        );
        return keccak256(bytes.concat(head, tail));
    }

    /// @notice The RLP of `t`'s access list as the verifier's witness carries it: none for a
    ///         legacy transaction.
    function accessListRlp(Tx memory t) internal pure returns (bytes memory) {
        return t.txType == 0 ? bytes("") : LibRLP.encode(_accessList(t));
    }

    /// @notice Signing hash, transaction hash and access-list hash of `t`.
    function hashes(Tx memory t, uint256 chainId)
        internal
        pure
        returns (bytes32 signingHash, bytes32 txHash, bytes32 accessListHash)
    {
        if (t.txType == 0) {
            signingHash = keccak256(LibRLP.encode(_fields(t, chainId).p(chainId).p(uint256(0)).p(uint256(0))));
            return (signingHash, keccak256(encoded(t, chainId)), bytes32(0));
        }
        accessListHash = keccak256(LibRLP.encode(_accessList(t)));
        signingHash = keccak256(bytes.concat(bytes1(t.txType), LibRLP.encode(_fields(t, chainId))));
        txHash = keccak256(encoded(t, chainId));
    }

    /// @notice `t`'s EIP-2718 encoding (what its hash is of).
    function encoded(Tx memory t, uint256 chainId) internal pure returns (bytes memory) {
        if (t.txType == 0) {
            return LibRLP.encode(_fields(t, chainId).p(35 + 2 * chainId + t.yParity).p(uint256(t.r)).p(uint256(t.s)));
        }
        return bytes.concat(
            bytes1(t.txType), LibRLP.encode(_fields(t, chainId).p(uint256(t.yParity)).p(uint256(t.r)).p(uint256(t.s)))
        );
    }

    /// @dev The fields both hashes share, as a fresh list (LibRLP lists are appended in place).
    function _fields(Tx memory t, uint256 chainId) private pure returns (LibRLP.List memory fields) {
        fields = LibRLP.p();
        if (t.txType != 0) fields = fields.p(chainId);
        fields = fields.p(uint256(t.nonce));
        if (t.txType == 2) fields = fields.p(uint256(t.priorityFee));
        fields = fields.p(uint256(t.fee)).p(uint256(t.gasLimit));
        fields = t.isCreate ? fields.p(bytes("")) : fields.p(t.to);
        fields = fields.p(t.value).p(t.data);
        if (t.txType != 0) fields = fields.p(_accessList(t));
    }

    function _accessList(Tx memory t) private pure returns (LibRLP.List memory list) {
        list = LibRLP.p();
        for (uint256 e; e < t.accessList.length; ++e) {
            LibRLP.List memory keys = LibRLP.p();
            for (uint256 k; k < t.accessList[e].keys.length; ++k) {
                keys = keys.p(abi.encodePacked(t.accessList[e].keys[k]));
            }
            list = list.p(LibRLP.p(t.accessList[e].account).p(keys));
        }
    }

    /// @notice `data` as 32-byte chunks, the last zero-padded.
    function chunks(bytes memory data) internal pure returns (bytes32[] memory out) {
        out = new bytes32[]((data.length + 31) / 32);
        for (uint256 i; i < out.length; ++i) {
            bytes32 word;
            assembly {
                word := mload(add(add(data, 0x20), shl(5, i)))
            }
            uint256 tail = data.length - 32 * i;
            if (tail < 32) word &= bytes32(~(type(uint256).max >> (8 * tail)));
            out[i] = word;
        }
    }

    /// @notice Reference Merkle root: padded to a power of two with zero leaves.
    function merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        uint256 width = 1;
        while (width < leaves.length) width *= 2;
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i; i < leaves.length; ++i) {
            level[i] = leaves[i];
        }
        while (width > 1) {
            width /= 2;
            for (uint256 i; i < width; ++i) {
                level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
        }
        return level[0];
    }
}
