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

/// @notice A token whose `name`, `symbol` and `decimals` answer as configured: raw return data
///         (any bytes, e.g. a bytes32 or a malformed string), a revert, a return bomb of
///         `size` bytes, a loop that burns all gas it is given, or raw data after a loop of
///         `size` iterations (a slow but honest token).
contract MetadataERC20 is ERC20 {
    enum Mode {
        Raw,
        Revert,
        Bomb,
        BurnGas,
        Slow
    }

    struct Reply {
        Mode mode;
        uint256 size;
        bytes raw;
    }

    mapping(bytes4 selector => Reply) internal replies;

    constructor(bytes memory name_, bytes memory symbol_, bytes memory decimals_) {
        replies[this.name.selector].raw = name_;
        replies[this.symbol.selector].raw = symbol_;
        replies[this.decimals.selector].raw = decimals_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setReply(bytes4 selector, Mode mode, uint256 size, bytes calldata raw) external {
        replies[selector] = Reply(mode, size, raw);
    }

    function name() public view override returns (string memory) {
        _reply(this.name.selector);
    }

    function symbol() public view override returns (string memory) {
        _reply(this.symbol.selector);
    }

    function decimals() public view override returns (uint8) {
        _reply(this.decimals.selector);
    }

    function _reply(bytes4 selector) internal view {
        Reply storage reply = replies[selector];
        Mode mode = reply.mode;
        if (mode == Mode.Revert) revert("no metadata");
        if (mode == Mode.BurnGas) {
            uint256 i;
            while (true) {
                ++i;
            }
        }
        if (mode == Mode.Slow) {
            uint256 rounds = reply.size;
            uint256 acc;
            for (uint256 i; i < rounds; ++i) {
                acc = uint256(keccak256(abi.encode(acc, i)));
            }
        }
        if (mode == Mode.Bomb) {
            uint256 size = reply.size;
            assembly {
                // A string of `size - 64` bytes of 0x41 ("A"), or `size` bytes of memory.
                mstore(0x00, 0x20)
                mstore(0x20, sub(size, 0x40))
                return(0x00, size)
            }
        }
        bytes memory raw = reply.raw;
        assembly {
            return(add(raw, 0x20), mload(raw))
        }
    }
}

/// @notice A minimal Safe-like multisig: owners approve a transaction's hash, and once
///         `threshold` of them did, anyone executes it (the wallet is `msg.sender` of the call,
///         the executing owner is `tx.origin`).
contract MockSafe {
    address[] internal owners;
    uint256 public immutable threshold;
    uint256 public nonce;
    mapping(bytes32 txHash => mapping(address owner => bool)) public approved;

    constructor(address[] memory owners_, uint256 threshold_) {
        owners = owners_;
        threshold = threshold_;
    }

    receive() external payable {}

    function isOwner(address account) public view returns (bool) {
        for (uint256 i; i < owners.length; ++i) {
            if (owners[i] == account) return true;
        }
        return false;
    }

    function transactionHash(address to, uint256 value, bytes memory data, uint256 nonce_)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(address(this), block.chainid, to, value, data, nonce_));
    }

    function approveHash(bytes32 txHash) external {
        require(isOwner(msg.sender), "not an owner");
        approved[txHash][msg.sender] = true;
    }

    function execTransaction(address to, uint256 value, bytes calldata data) external returns (bytes memory result) {
        bytes32 txHash = transactionHash(to, value, data, nonce);
        uint256 approvals;
        for (uint256 i; i < owners.length; ++i) {
            if (approved[txHash][owners[i]]) ++approvals;
        }
        require(approvals >= threshold, "not enough approvals");
        ++nonce;
        bool ok;
        (ok, result) = to.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}

/// @notice Etched at an L2 token address: every mint reverts (with a large revert payload).
contract RevertingMint {
    function mint(address, uint256) external pure {
        assembly {
            revert(0x00, 0x4000)
        }
    }
}

/// @notice Etched at an L2 token address: every mint burns all the gas it is given.
contract GasBurningMint {
    function mint(address, uint256) external pure {
        uint256 i;
        while (true) {
            ++i;
        }
    }
}
