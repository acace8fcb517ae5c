// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "test/utils/Test.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";

/// @notice The deposit chain as a node computes it: from the bridge's `DepositInitiated` and
///         `ForcedWithdrawalInitiated` logs alone (the spec's §4), independently of the bridge's
///         own code.
library DepositChainLogs {
    /// @notice Whether `log` is a bridge message of `bridge`.
    function isMessage(Vm.Log memory log, address bridge) internal pure returns (bool) {
        if (log.emitter != bridge || log.topics.length == 0) return false;
        return log.topics[0] == IL1Bridge.DepositInitiated.selector
            || log.topics[0] == IL1Bridge.ForcedWithdrawalInitiated.selector;
    }

    /// @notice The message hash of a bridge message log.
    function messageHash(Vm.Log memory log) internal pure returns (bytes32) {
        uint256 nonce = uint256(log.topics[1]);
        address from = address(uint160(uint256(log.topics[2])));
        address to = address(uint160(uint256(log.topics[3])));
        if (log.topics[0] == IL1Bridge.DepositInitiated.selector) {
            (
                address l1Token,
                address l2Token,
                uint256 amount,
                uint32 gasLimit,
                address refundTo,
                bytes memory tokenMetadata
            ) = abi.decode(log.data, (address, address, uint256, uint32, address, bytes));
            return _hash(0, nonce, from, to, l1Token, l2Token, amount, gasLimit, refundTo, keccak256(tokenMetadata));
        }
        (address l1Token_, address l2Token_, uint256 amount_, uint32 gasLimit_) =
            abi.decode(log.data, (address, address, uint256, uint32));
        return _hash(1, nonce, from, to, l1Token_, l2Token_, amount_, gasLimit_, address(0), keccak256(""));
    }

    /// @notice `chain` extended by every message of `bridge` in `logs`; `count` counts them.
    function extend(bytes32 chain, uint256 count, Vm.Log[] memory logs, address bridge)
        internal
        pure
        returns (bytes32, uint256)
    {
        for (uint256 i; i < logs.length; ++i) {
            if (!isMessage(logs[i], bridge)) continue;
            require(uint256(logs[i].topics[1]) == count, "DepositChainLogs: nonce gap");
            chain = keccak256(abi.encode(chain, messageHash(logs[i])));
            ++count;
        }
        return (chain, count);
    }

    function _hash(
        uint8 kind,
        uint256 nonce,
        address from,
        address to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit,
        address refundTo,
        bytes32 metadataHash
    ) private pure returns (bytes32) {
        bytes memory head = abi.encode(kind, nonce, from, to, l1Token);
        return keccak256(bytes.concat(head, abi.encode(l2Token, amount, gasLimit, refundTo, metadataHash)));
    }
}
