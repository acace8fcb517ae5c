// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "test/utils/Test.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";

/// @notice Plays the rollup derivation inside a test: turns the L1 bridge's `DepositInitiated`
///         and `ForcedWithdrawalInitiated` logs into the L2 deposit transactions the node
///         builds (same sender, target, value, calldata and gas limit) and runs them against
///         the L2 bridge at its predeploy, in the same EVM. L2 ETH is minted with `deal`.
library Derivation {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Runs every bridge message `l1Bridge` emitted in `logs`, in order.
    /// @return succeeded Whether each message's L2 transaction succeeded (skipped logs omitted).
    function applyAll(Vm.Log[] memory logs, address l1Bridge) internal returns (bool[] memory succeeded) {
        uint256 count;
        bool[] memory all = new bool[](logs.length);
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != l1Bridge || logs[i].topics.length == 0) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic != IL1Bridge.DepositInitiated.selector && topic != IL1Bridge.ForcedWithdrawalInitiated.selector) {
                continue;
            }
            all[count++] = applyMessage(logs[i]);
        }
        succeeded = new bool[](count);
        for (uint256 i; i < count; ++i) {
            succeeded[i] = all[i];
        }
    }

    /// @notice Runs one bridge message's L2 transaction; returns whether it succeeded.
    function applyMessage(Vm.Log memory log) internal returns (bool ok) {
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
            if (l1Token == address(0)) {
                // Mint to `from`, then a value transfer `from` -> `to` (a pranked call's value
                // leaves the pranked sender); on failure the ETH stays with `from`.
                VM.deal(from, from.balance + amount);
                VM.prank(from);
                (ok,) = to.call{value: amount, gas: gasLimit - 21_000}("");
            } else {
                bytes memory data = abi.encodeCall(
                    L2Bridge.finalizeDeposit, (l1Token, l2Token, from, to, amount, refundTo, tokenMetadata)
                );
                VM.prank(Predeploys.DEPOSITOR);
                (ok,) = Predeploys.L2_BRIDGE.call{gas: gasLimit - intrinsicGas(data)}(data);
            }
        } else {
            (address l1Token, address l2Token, uint256 amount, uint32 gasLimit) =
                abi.decode(log.data, (address, address, uint256, uint32));
            bytes memory data = abi.encodeCall(L2Bridge.withdrawTo, (l1Token, l2Token, amount, to));
            uint256 value = l1Token == address(0) ? amount : 0;
            // A transaction whose sender lacks the value fails without executing.
            if (from.balance < value) return false;
            VM.prank(from);
            (ok,) = Predeploys.L2_BRIDGE.call{value: value, gas: gasLimit - intrinsicGas(data)}(data);
        }
    }

    /// @notice Intrinsic gas of a transaction with `data` as calldata (no access list, no create).
    function intrinsicGas(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }
}
