//! Solidity ABI of the rollup contracts (`contracts/`), as the node reads and calls them.
//!
//! These declarations must match `contracts/interfaces` and `contracts/src`; the end-to-end
//! tests exercise every one of them against the deployed contracts.
#![allow(missing_docs)]

alloy_sol_types::sol! {
    /// A withdrawal as `L2Bridge.withdraw` records it (`Withdrawals.Withdrawal`).
    #[derive(Debug, PartialEq, Eq)]
    struct Withdrawal {
        uint256 nonce;
        address from;
        address to;
        address l1Token;
        address l2Token;
        uint256 amount;
    }

    /// A sparse Merkle trie proof (`SparseMerkleTrie.Proof`); `terminalValueHash == 0` means
    /// the path ends in an empty subtree, `lastSibling` is empty when not needed.
    #[derive(Debug, PartialEq, Eq)]
    struct TrieProof {
        bytes32[] siblings;
        bytes32 terminalKey;
        bytes32 terminalValueHash;
        bytes lastSibling;
    }

    /// What `L1Bridge.proveWithdrawal` checks (`Withdrawals.WithdrawalProof`).
    #[derive(Debug, PartialEq, Eq)]
    struct WithdrawalProof {
        bytes32 stateRoot;
        uint256 slot;
        TrieProof trieProof;
    }

    /// A proven withdrawal (`L1Bridge.ProvenWithdrawal`).
    #[derive(Debug, PartialEq, Eq)]
    struct ProvenWithdrawal {
        uint256 proposalIndex;
        address recipient;
        address l1Token;
        uint64 provenAt;
        uint256 amount;
    }

    /// A state root proposal (`StateManager.Proposal`).
    #[derive(Debug, PartialEq, Eq)]
    struct Proposal {
        bytes32 stateRoot;
        bytes32 batchRoot;
        bytes32 l2BlockHash;
        uint64 l2BlockNumber;
        address proposer;
        uint64 timestamp;
        uint64 l1Block;
        bool removed;
        bool bondReturned;
        uint256 bond;
    }

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
        function proveWithdrawal(uint256 proposalIndex, Withdrawal calldata withdrawal, WithdrawalProof calldata proof) external returns (bytes32);
        function finalizedWithdrawals(bytes32 withdrawalId) external view returns (bool);
        function provenWithdrawals(bytes32 withdrawalId) external view returns (ProvenWithdrawal memory);
        function deposits(address l1Token) external view returns (uint256);
        event WithdrawalProven(bytes32 indexed withdrawalId, uint256 indexed proposalIndex, address indexed recipient);
        event WithdrawalFinalized(bytes32 indexed withdrawalId, address indexed recipient, address l1Token, uint256 amount);
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
        function proposalBond() external view returns (uint256);
        function challengePeriod() external view returns (uint256);
        function proposalCount() external view returns (uint256);
        function proposals(uint256 index) external view returns (Proposal memory);
        function latestProposal() external view returns (uint256 index, Proposal memory proposal);
        function isFinal(uint256 index) external view returns (bool);
        function returnBond(uint256 index) external;
        function setDisputeGame(address disputeGame) external;
        function removeProposal(uint256 index, address bondRecipient) external;
        event ProposalL2Block(uint256 indexed index, uint256 indexed l2BlockNumber, bytes32 l2BlockHash);
    }

    /// L2 bridge predeploy.
    interface IL2Bridge {
        event DepositFinalized(address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount);
        function finalizeDeposit(address l1Token, address l2Token, address from, address to, uint256 amount) external;
        function l2TokenOf(address l1Token) external view returns (address);
        function withdraw(address l1Token, address l2Token, uint256 amount) external payable returns (bytes32);
        event WithdrawalInitiated(uint256 indexed nonce, address indexed from, address indexed to, address l1Token, address l2Token, uint256 amount, bytes32 withdrawalHash);
    }

    /// The ERC-20 subset the node and tools use.
    interface IERC20 {
        event Transfer(address indexed from, address indexed to, uint256 value);
        function balanceOf(address owner) external view returns (uint256);
        function totalSupply() external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
        function allowance(address owner, address spender) external view returns (uint256);
        function transfer(address to, uint256 amount) external returns (bool);
        function mint(address to, uint256 amount) external;
    }
}
