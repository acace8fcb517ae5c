// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";

/// @notice Plain mintable test token.
contract MockERC20 is ERC20 {
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function name() public pure override returns (string memory) {
        return "Mock";
    }

    function symbol() public pure override returns (string memory) {
        return "MOCK";
    }
}

/// @notice Burns 1% (at least 1 wei) of every transfer.
contract FeeOnTransferERC20 is MockERC20 {
    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        uint256 fee = amount / 100 + 1;
        _spendAllowance(from, msg.sender, amount);
        _burn(from, fee);
        _transfer(from, to, amount - fee);
        return true;
    }
}

/// @notice Returns false from transferFrom without moving anything.
contract FalseReturningERC20 is MockERC20 {
    function transferFrom(address, address, uint256) public pure override returns (bool) {
        return false;
    }
}

/// @notice Tries to re-enter the bridge's deposit from transferFrom and records the revert data.
contract ReentrantERC20 is MockERC20 {
    address internal l2Token;
    bytes public reentryRevertData;

    function setL2Token(address l2Token_) external {
        l2Token = l2Token_;
    }

    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        try IL1Bridge(msg.sender).deposit(address(this), l2Token, amount, 1_000_000) {}
        catch (bytes memory reason) {
            reentryRevertData = reason;
        }
        return super.transferFrom(from, to, amount);
    }
}
