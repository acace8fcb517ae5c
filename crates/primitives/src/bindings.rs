//! Solidity ABI of the rollup contracts (`contracts/`), as the node reads and calls them.
//!
//! These declarations must match `contracts/interfaces` and `contracts/src`; the end-to-end
//! tests exercise every one of them against the deployed contracts.
#![allow(missing_docs)]

alloy_sol_types::sol! {
    /// L1 bridge (seed interface `IL1Bridge` plus the deposit event derivation reads).
    interface IL1Bridge {
        event DepositInitiated(
            uint256 indexed nonce,
            address indexed from,
            address indexed to,
            address l1Token,
            address l2Token,
            uint256 amount,
            uint32 gasLimit
        );

        function deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit) external payable;
        function withdraw(address l1Token, address l2Token, uint256 amount) external;
        function finalizeWithdrawal(bytes32 withdrawalId, address recipient, uint256 amount) external;
        function predictL2Token(address l1Token) external view returns (address);
        function depositNonce() external view returns (uint256);
    }

    /// Batch inbox on L1.
    interface IBatchInbox {
        event BatchPosted(uint256 indexed index, bytes32 indexed commitment, uint256 length);
        function postBatch(bytes calldata data) external;
        function batchCount() external view returns (uint256);
    }

    /// State manager on L1 (seed interface `IStateManager`).
    interface IStateManager {
        event StateRootSubmitted(uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer);
        function submitStateRoot(bytes32 stateRoot, bytes32 batchRoot, bytes calldata proof) external payable;
        function verifyStateTransition(bytes32 fromState, bytes32 toState, bytes calldata proof) external view returns (bool);
    }

    /// L2 bridge predeploy.
    interface IL2Bridge {
        event DepositFinalized(address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount);
        function finalizeDeposit(address l1Token, address l2Token, address from, address to, uint256 amount) external;
        function l2TokenOf(address l1Token) external view returns (address);
    }

    /// The ERC-20 subset the node and tools use.
    interface IERC20 {
        event Transfer(address indexed from, address indexed to, uint256 value);
        function balanceOf(address owner) external view returns (uint256);
        function totalSupply() external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function mint(address to, uint256 amount) external;
    }
}
