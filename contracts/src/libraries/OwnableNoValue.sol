// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "solady/auth/Ownable.sol";

/// @title OwnableNoValue
/// @notice Solady's `Ownable`, whose ownership functions refuse ETH. Solady makes them
///         `payable` to save gas; ETH sent with one would stay in the contract for good, outside
///         every balance it accounts for (the StateManager's bonds, the inbox that holds none).
abstract contract OwnableNoValue is Ownable {
    /// @notice Thrown when an ownership function is called with ETH.
    error Ownable_ValueNotAccepted();

    /// @dev Refuses a call that carries ETH.
    modifier noValue() {
        if (msg.value != 0) revert Ownable_ValueNotAccepted();
        _;
    }

    /// @inheritdoc Ownable
    function transferOwnership(address newOwner) public payable virtual override noValue {
        super.transferOwnership(newOwner);
    }

    /// @inheritdoc Ownable
    function renounceOwnership() public payable virtual override noValue {
        super.renounceOwnership();
    }

    /// @inheritdoc Ownable
    function requestOwnershipHandover() public payable virtual override noValue {
        super.requestOwnershipHandover();
    }

    /// @inheritdoc Ownable
    function cancelOwnershipHandover() public payable virtual override noValue {
        super.cancelOwnershipHandover();
    }

    /// @inheritdoc Ownable
    function completeOwnershipHandover(address pendingOwner) public payable virtual override noValue {
        super.completeOwnershipHandover(pendingOwner);
    }
}
