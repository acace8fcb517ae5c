//! Solidity ABI of the rollup contracts (`contracts/`), as the node reads and calls them.
//!
//! These declarations must match `contracts/interfaces` and `contracts/src`; the end-to-end
//! tests exercise every one of them against the deployed contracts.
#![allow(missing_docs, clippy::too_many_arguments)]

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

    /// The preimage of a proposal's root (`Withdrawals.OutputRoot`), as the contracts take it;
    /// built from [`crate::OutputRoot`], whose `hash` is `keccak256(abi.encode(this))`.
    #[derive(Debug, PartialEq, Eq)]
    struct OutputRoot {
        uint256 version;
        uint256 l2BlockNumber;
        bytes32 stateRoot;
        bytes32 l2BlockHash;
        uint256 inboxRecord;
        uint256 blockInRecord;
        uint256 l1Block;
    }

    /// What `L1Bridge.proveWithdrawal` checks (`Withdrawals.WithdrawalProof`): the output root
    /// preimage of the proposal's L2 block, and the withdrawal slot's proof against its state
    /// root.
    #[derive(Debug, PartialEq, Eq)]
    struct WithdrawalProof {
        OutputRoot output;
        uint256 slot;
        TrieProof trieProof;
    }

    /// A proven withdrawal (`L1Bridge.ProvenWithdrawal`), one per (withdrawal, prover).
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

    /// L1 bridge: the seed interface `IL1Bridge` (`deposit`, `withdraw`, `finalizeWithdrawal`)
    /// plus what security and contract callers need, and the events derivation reads.
    interface IL1Bridge {
        /// A deposit: `from` is the depositor's L2 identity (aliased when a contract called),
        /// `to` the L2 recipient, `refundTo` the L1 caller (paid back if the credit fails on
        /// L2), `tokenMetadata` empty for ETH, `abi.encode(name, symbol, decimals)` for ERC-20.
        event DepositInitiated(
            uint256 indexed nonce,
            address indexed from,
            address indexed to,
            address l1Token,
            address l2Token,
            uint256 amount,
            uint32 gasLimit,
            address refundTo,
            bytes tokenMetadata
        );
        /// A withdrawal started on L1: derivation runs `L2Bridge.withdrawTo` as `from` on L2.
        event ForcedWithdrawalInitiated(
            uint256 indexed nonce,
            address indexed from,
            address indexed to,
            address l1Token,
            address l2Token,
            uint256 amount,
            uint32 gasLimit
        );

        function deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit) external payable;
        function depositTo(address l1Token, address l2Token, uint256 amount, uint32 gasLimit, address to) external payable;
        function withdraw(address l1Token, address l2Token, uint256 amount) external;
        function withdrawTo(address l1Token, address l2Token, uint256 amount, address to) external;
        function finalizeWithdrawal(uint256 withdrawalId, address recipient, uint256 amount) external;
        function finalizeWithdrawalWithProof(uint256 withdrawalId, address recipient, uint256 amount, address prover) external;
        function predictL2Token(address l1Token) external view returns (address);
        function depositNonce() external view returns (uint256);
        function l2ChainId() external view returns (uint256);
        function stateManager() external view returns (address);
        function proveWithdrawal(uint256 proposalIndex, Withdrawal calldata withdrawal, WithdrawalProof calldata proof) external returns (bytes32);
        function hashWithdrawal(Withdrawal calldata withdrawal) external view returns (bytes32);
        function finalizedWithdrawals(bytes32 withdrawalId) external view returns (bool);
        function provenWithdrawals(bytes32 withdrawalId, address prover) external view returns (ProvenWithdrawal memory);
        function deposits(address l1Token) external view returns (uint256);
        /// The ETH the L2 genesis allocates, and whether it is locked behind the bridge.
        function genesisEth() external view returns (uint256);
        function genesisEthLocked() external view returns (bool);
        function lockGenesisEth() external payable;
        event WithdrawalProven(bytes32 indexed withdrawalId, uint256 indexed proposalIndex, address indexed recipient, address prover);
        event WithdrawalFinalized(bytes32 indexed withdrawalId, address indexed recipient, address l1Token, uint256 amount);
        function depositCountAt(uint256 l1Block) external view returns (uint256);
        function depositChain() external view returns (uint256 count, bytes32 chain);
        function depositChainAt(uint256 l1Block) external view returns (uint256 count, bytes32 chain);
        function depositChainMark(uint256 nonce) external view returns (bytes32 chain);
    }

    /// Batch inbox on L1.
    interface IBatchInbox {
        event BatchAppended(uint256 indexed index, uint64 firstBlock, uint16 blockCount, uint64 lastOrigin, uint64 depositCount, bool forced, bytes32 dataHash, bytes32 segmentRoot, bytes32 blocksHash, uint8 blobCount, bool lastBlockOpen);
        /// `forceInclude` closed the block record `index` left open.
        event OpenBlockClosed(uint256 indexed index, uint64 l2Block);
        function initialize(address owner, address batcher, address bridge, uint64 sequencingWindow, uint64 maxSequencerDrift, uint64 genesisOrigin, bytes32 genesisOriginHash, uint64 genesisOriginTimestamp, uint64 l2GenesisTimestamp) external;
        function postBatch(bytes calldata data) external;
        function postBlobBatch(bytes calldata envelope) external;
        function forceInclude(bytes[] calldata headers) external;
        function recordOrigins(bytes[] calldata headers) external;
        /// Proves old L1 block hashes backwards, so recording can resume after a long silence.
        function proveOriginHashes(bytes[] calldata headers) external;
        /// The hashes of L1 blocks `firstBlock - 1 ..= lastBlock` are proven.
        event OriginHashesProven(uint64 firstBlock, uint64 lastBlock);
        function provenOriginHash(uint256 number) external view returns (bytes32);
        function ORIGIN_PROOF_DEPTH() external view returns (uint256);
        error BatchInbox_BlockHashUnavailable(uint256 number);
        error BatchInbox_BlockHashMismatch(uint256 number);
        error BatchInbox_UnexpectedFirstBlock(uint64 expected, uint64 firstBlock);
        function recordCount() external view returns (uint256);
        function nextBlock() external view returns (uint64);
        function lastOrigin() external view returns (uint64);
        function lastTimestamp() external view returns (uint64);
        function lastRecordedOrigin() external view returns (uint64);
        function sequencingWindow() external view returns (uint64);
        function maxSequencerDrift() external view returns (uint64);
        function bridge() external view returns (address);
        function originHash(uint256 number) external view returns (bytes32);
        function originTimestamp(uint256 number) external view returns (uint64);
        function batcher() external view returns (address);

        /// An appended batch or forced block run (`BatchInbox.Record`).
        #[derive(Debug, PartialEq, Eq)]
        struct Record {
            uint64 firstBlock;
            uint16 blockCount;
            uint64 lastOrigin;
            uint64 depositCount;
            uint64 l1Block;
            bool forced;
            uint8 blobCount;
            bool lastBlockOpen;
            uint32 firstBlockTxOffset;
            uint16 txCount;
            uint16 lastBlockTxs;
            uint40 lastBlockDeltas;
            uint8 openSegments;
            bytes32 dataHash;
            bytes32 segmentRoot;
            bytes32 blocksHash;
        }
        function records(uint256 index) external view returns (Record memory);
        function recordOf(uint64 l2Block) external view returns (uint256 index);
    }

    /// State manager on L1 (seed interface `IStateManager`).
    interface IStateManager {
        event StateRootSubmitted(uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer);
        function initialize(address owner, address proposer) external;
        function submitStateRoot(bytes32 stateRoot, bytes32 batchRoot, bytes calldata proof) external;
        function verifyStateTransition(bytes32 fromState, bytes32 toState, bytes calldata proof) external returns (bool);
        function depositBond() external payable;
        function withdrawBond(uint256 amount) external;
        function bondBalance(address account) external view returns (uint256);
        function proposalBond() external view returns (uint256);
        function REMOVAL_REWARD_BPS() external view returns (uint256);
        function burnedBonds() external view returns (uint256);
        function challengePeriod() external view returns (uint256);
        function proposalCount() external view returns (uint256);
        function proposals(uint256 index) external view returns (Proposal memory);
        function latestProposal() external view returns (uint256 index, Proposal memory proposal);
        function isFinal(uint256 index) external view returns (bool);
        function returnBond(uint256 index) external;
        function setDisputeGame(address disputeGame) external;
        function setOneStepVerifier(address verifier) external;
        function setPermissionlessProposals(bool permissionless) external;
        function setBatchInbox(address inbox) external;
        function removeProposal(uint256 index, address bondRecipient) external returns (bool removed);
        function owner() external view returns (address);
        function transferOwnership(address newOwner) external payable;
        function proposer() external view returns (address);
        function disputeGame() external view returns (address);
        function oneStepVerifier() external view returns (address);
        function permissionlessProposals() external view returns (bool);
        function batchInbox() external view returns (address);
        function isDisputeGame(address account) external view returns (bool);
        function disputeOf(uint256 index) external view returns (ProposalDispute memory);
        function latestProposalOf(address account) external view returns (bool found, uint256 index);
        event ProposalL2Block(uint256 indexed index, uint256 indexed l2BlockNumber, bytes32 l2BlockHash);
        event ProposalRemoved(uint256 indexed index, address indexed bondRecipient, uint256 bond);
        event BondBurned(uint256 indexed index, uint256 amount);
        event ProposalChallenged(uint256 indexed index, address indexed game, uint256 openGames);
        event ProposalDefended(uint256 indexed index, address indexed game, uint256 openGames);
    }

    /// What the fraud proof adds to a proposal (`StateManager.ProposalDispute`).
    #[derive(Debug, PartialEq, Eq)]
    struct ProposalDispute {
        uint64 anchor;
        uint64 openGames;
        bool allowlisted;
    }

    /// A dispute game (`DisputeGame.Game`); `status`: 1 in progress, 2 proposer won,
    /// 3 challenger won.
    #[derive(Debug, PartialEq, Eq)]
    struct Game {
        uint64 proposal;
        address challenger;
        uint8 level;
        uint8 status;
        bool proposerToMove;
        uint64 lo;
        uint64 hi;
        uint64 l2Block;
        uint64 proposerUsed;
        uint64 challengerUsed;
        uint64 lastMove;
        bytes32 loClaim;
        bytes32 hiClaim;
        bytes32 midClaim;
        uint256 bond;
    }

    /// The dispute game on L1: one-against-one bisection games on `StateManager` proposals.
    interface IDisputeGame {
        function challenge(uint256 proposal, bytes32 outputRoot) external payable returns (uint256 id);
        function bisect(uint256 id, uint64 l2Block, uint64 position, bytes32 claim) external;
        function pick(uint256 id, uint64 l2Block, uint64 position, bytes32 midClaim, bool agree) external;
        function step(uint256 id, uint64 l2Block, uint64 position, bytes calldata witness) external;
        function resolve(uint256 id) external;
        function claimCredit(address recipient) external;
        function gameCount() external view returns (uint256);
        function games(uint256 id) external view returns (Game memory);
        function deadline(uint256 id) external view returns (uint256);
        function maxGameDuration(uint256 range) external view returns (uint256);
        function credit(address account) external view returns (uint256);
        function challengerBond() external view returns (uint256);
        function maxClockDuration() external view returns (uint64);
        function clockExtension() external view returns (uint64);
        function genesisOutputRoot() external view returns (bytes32);
        function stateManager() external view returns (address);
        function TRACE_DEPTH() external view returns (uint256);
        event GameCreated(uint256 indexed game, uint256 indexed proposal, address indexed challenger, uint256 lo, uint256 hi);
        event Bisected(uint256 indexed game, uint8 level, uint256 position, bytes32 claim);
        event Picked(uint256 indexed game, bool agree, uint8 level, uint256 lo, uint256 hi);
        event UnprovableStep(uint256 indexed game, uint256 indexed proposal, uint256 l2Block, uint256 position);
        event GameResolved(uint256 indexed game, uint8 status);
        event CreditClaimed(address indexed recipient, uint256 amount);
    }

    /// The one-step verifier behind `StateManager.verifyStateTransition`: `IOneStepVerifier`,
    /// and what `OneStepVerifier` adds (its witness structs and its deposit chain). A witness
    /// is `abi.encode(uint8 kind, bytes body)`.
    interface IOneStepVerifier {
        /// Where a disputed step is, as the dispute game states it (`StepContext`).
        #[derive(Debug, PartialEq, Eq)]
        struct StepContext {
            uint256 l2Block;
            uint256 position;
            uint256 horizonL1Block;
            bytes witness;
        }

        /// A trace state's preimage (`rollup_execution::TraceState`).
        #[derive(Debug, PartialEq, Eq)]
        struct TraceState {
            uint256 version;
            uint256 l2Block;
            uint256 inputs;
            bytes32 stateRoot;
            uint256 cumulativeGas;
            uint256 included;
            bytes32 txRoot;
            bytes32 receiptRoot;
            bytes32 logsBloomHash;
            bytes32 context;
        }

        /// The block context a trace state commits to (`rollup_execution::block_context`).
        #[derive(Debug, PartialEq, Eq)]
        struct BlockContext {
            bytes32 parentHash;
            uint256 number;
            uint256 timestamp;
            uint256 l1OriginNumber;
            bytes32 l1OriginHash;
            uint256 baseFee;
            uint256 gasLimit;
            address beneficiary;
            bytes32 prevrandao;
        }

        /// A bridge message as the deposit chain hashes it (`L1Bridge.ChainMessage`): kind 0 a
        /// deposit, 1 a forced withdrawal; its hash is `keccak256(abi.encode(message))`.
        #[derive(Debug, PartialEq, Eq)]
        struct ChainMessage {
            uint8 kind;
            uint256 nonce;
            address from;
            address to;
            address l1Token;
            address l2Token;
            uint256 amount;
            uint32 gasLimit;
            address refundTo;
            bytes32 metadataHash;
        }

        /// An account of the state trie (`exists` false for an absent leaf, every other field
        /// zero then).
        #[derive(Debug, PartialEq, Eq)]
        struct Account {
            bool exists;
            uint64 nonce;
            uint256 balance;
            bytes32 codeHash;
        }

        /// The witness of a deposit step (kind `STEP_DEPOSIT`).
        #[derive(Debug, PartialEq, Eq)]
        struct DepositWitness {
            TraceState state;
            BlockContext context;
            bytes parentHeader;
            ChainMessage message;
            bytes32 chainBefore;
            bytes32[] laterHashes;
            Account from;
            TrieProof fromProof;
            Account to;
            TrieProof toProof;
            bytes[] transactionsProof;
            bytes[] receiptsProof;
        }

        /// The witness of an input step L1 cannot decide (kind `STEP_INPUT`): a trace state
        /// past the seal. `blockTable` is the block table of the inbox record
        /// holding the block, `firstSegment` the batch's first segment with one of its
        /// transactions (zero if none).
        #[derive(Debug, PartialEq, Eq)]
        struct InputWitness {
            TraceState state;
            BlockContext context;
            bytes parentHeader;
            bytes blockTable;
            uint256 firstSegment;
        }

        /// The witness of the seal (kind `STEP_SEAL`): the `InputWitness` fields, then the
        /// block's 256-byte logs bloom (the preimage of `state.logsBloomHash`).
        #[derive(Debug, PartialEq, Eq)]
        struct SealWitness {
            TraceState state;
            BlockContext context;
            bytes parentHeader;
            bytes blockTable;
            uint256 firstSegment;
            bytes logsBloom;
        }

        /// The witness of the preamble (kind `STEP_PREAMBLE`): the parent's output root, its
        /// header, the block's record's block table and its L1 origin's header.
        #[derive(Debug, PartialEq, Eq)]
        struct PreambleWitness {
            OutputRoot parent;
            bytes parentHeader;
            bytes blockTable;
            bytes originHeader;
        }

        /// A batch transaction as its segment's leaf commits to it
        /// (`rollup_primitives::tx_leaf` is `keccak256(abi.encode(tx))`).
        #[derive(Debug, PartialEq, Eq)]
        struct BatchTx {
            uint256 txType;
            uint256 nonce;
            uint256 gasLimit;
            address to;
            bool isCreate;
            uint256 value;
            uint256 fee;
            uint256 priorityFee;
            uint256 yParity;
            bytes32 r;
            bytes32 s;
            bytes32 signingHash;
            bytes32 txHash;
            uint256 calldataLength;
            bytes32 calldataRoot;
            bytes32 accessListHash;
        }

        /// The witness of a batch transaction's step (kind `STEP_TRANSACTION`).
        #[derive(Debug, PartialEq, Eq)]
        struct TransactionWitness {
            TraceState state;
            BlockContext context;
            bytes parentHeader;
            bytes blockTable;
            uint256 firstSegment;
            BatchTx transaction;
            bytes32[] txProof;
            Account sender;
            TrieProof senderProof;
            Account recipient;
            TrieProof recipientProof;
            Account beneficiary;
            TrieProof beneficiaryProof;
            bytes data;
            bytes accessList;
            bytes encoded;
            bytes[] transactionsProof;
            bytes[] receiptsProof;
        }

        error NotProvableYet(uint256 l2Block, uint256 position);
        error OneStepVerifier_BadWitness();
        error OneStepVerifier_DepositStep(uint256 l2Block, uint256 position);
        error OneStepVerifier_BatchTransactionStep(uint256 l2Block, uint256 position);
        error OneStepVerifier_SealStep(uint256 l2Block, uint256 position);
        error OneStepVerifier_SegmentNotOpened(uint256 record, uint256 segment);
        error OneStepVerifier_ZeroAddress();

        function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external view returns (bool);
        /// The bridge whose deposit chain the deposit step reads (`OneStepVerifier` only).
        function depositChain() external view returns (address);
        /// The store of opened segments the transaction step reads (`OneStepVerifier` only).
        function segmentStore() external view returns (address);
        /// The inbox whose records fix each block's batch transactions (`OneStepVerifier` only).
        function inbox() external view returns (address);
    }

    /// The segments of calldata batches opened on L1 (`SegmentStore`), which a batch
    /// transaction's step proves its leaf against.
    interface ISegmentStore {
        /// What opening one segment gave.
        #[derive(Debug, PartialEq, Eq)]
        struct Segment {
            bool opened;
            bool ok;
            uint16 firstTx;
            uint16 txCount;
            bytes32 txRoot;
        }

        /// How far a blob segment's bytes are proven.
        #[derive(Debug, PartialEq, Eq)]
        struct BlobLoad {
            uint32 next;
            bytes32 chain;
        }

        /// Field elements of a blob segment to prove (`loadBlob`).
        #[derive(Debug, PartialEq, Eq)]
        struct BlobElements {
            uint256 record;
            bytes envelope;
            bytes32[] versionedHashes;
            uint256 segment;
            uint256 from;
            bytes commitments;
            bytes payloads;
            bytes proofs;
        }

        /// A whole blob of a blob batch to prove at once (`loadWholeBlob`).
        #[derive(Debug, PartialEq, Eq)]
        struct WholeBlob {
            uint256 record;
            bytes envelope;
            bytes32[] versionedHashes;
            uint256 blob;
            bytes commitment;
            bytes values;
            bytes proof;
        }

        event SegmentOpened(uint256 indexed record, uint256 indexed segment, bool ok, bytes32 txRoot);
        event BlobElementsLoaded(uint256 indexed record, uint256 indexed segment, uint256 next, uint256 total);

        error SegmentStore_BadConfig();
        error SegmentStore_NotCalldataBatch(uint256 record);
        error SegmentStore_DataMismatch(uint256 record);
        error SegmentStore_UnknownSegment(uint256 record, uint256 segment);
        error SegmentStore_NotBlobBatch(uint256 record);
        error SegmentStore_BlobHashesMismatch(uint256 record);
        error SegmentStore_BlobLoadOutOfOrder(uint256 next, uint256 from, uint256 total);
        error SegmentStore_BlobLoadMalformed();
        error SegmentStore_BadElementProof(uint256 element);
        error SegmentStore_BlobNotLoaded(uint256 record, uint256 segment);
        error SegmentStore_BadBlobProof(uint256 blob);
        error SegmentStore_BlobPartsWaiting(uint256 record, uint256 blob);

        function open(uint256 record, bytes calldata data, uint256 segment) external returns (Segment memory result);
        function loadBlob(BlobElements calldata e) external returns (uint256 next);
        function loadWholeBlob(WholeBlob calldata w) external;
        function blobChallenge(bytes calldata commitment, bytes calldata values) external pure returns (uint256 z);
        function evaluateBlob(bytes calldata values, uint256 z) external view returns (uint256 y);
        function openBlob(uint256 record, bytes calldata envelope, uint256 segment, bytes calldata covered) external returns (Segment memory result);
        function blobLoads(uint256 record, uint256 segment) external view returns (BlobLoad memory);
        function segments(uint256 record, uint256 segment) external view returns (Segment memory);
        function inbox() external view returns (address);
        function chainId() external view returns (uint256);
    }

    /// L2 bridge predeploy.
    interface IL2Bridge {
        event DepositFinalized(address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount);
        event DepositFailed(address indexed l1Token, address indexed from, address indexed refundTo, uint256 amount, bytes32 withdrawalHash);
        function finalizeDeposit(address l1Token, address l2Token, address from, address to, uint256 amount, address refundTo, bytes calldata tokenMetadata) external;
        function l2TokenOf(address l1Token) external view returns (address);
        function l1Bridge() external view returns (address);
        function withdraw(address l1Token, address l2Token, uint256 amount) external payable returns (bytes32);
        function withdrawTo(address l1Token, address l2Token, uint256 amount, address to) external payable returns (bytes32);
        event WithdrawalInitiated(uint256 indexed nonce, address indexed from, address indexed to, address l1Token, address l2Token, uint256 amount, bytes32 withdrawalHash);
    }

    /// OpenZeppelin's `TimelockController`: the owner of every upgradeable L1 contract.
    interface ITimelock {
        function schedule(address target, uint256 value, bytes calldata data, bytes32 predecessor, bytes32 salt, uint256 delay) external;
        function execute(address target, uint256 value, bytes calldata payload, bytes32 predecessor, bytes32 salt) external payable;
        function getMinDelay() external view returns (uint256);
        function hashOperation(address target, uint256 value, bytes calldata data, bytes32 predecessor, bytes32 salt) external pure returns (bytes32);
        function isOperationReady(bytes32 id) external view returns (bool);
    }

    /// OpenZeppelin's `ProxyAdmin`, created by each `TransparentUpgradeableProxy`.
    interface IProxyAdmin {
        function owner() external view returns (address);
        function upgradeAndCall(address proxy, address implementation, bytes calldata data) external payable;
    }

    /// OpenZeppelin's `TransparentUpgradeableProxy` event naming its `ProxyAdmin`.
    interface IProxy {
        event AdminChanged(address previousAdmin, address newAdmin);
    }

    /// Token metadata (ERC-20 optional functions).
    interface IERC20Metadata {
        function name() external view returns (string memory);
        function symbol() external view returns (string memory);
        function decimals() external view returns (uint8);
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

impl From<crate::OutputRoot> for OutputRoot {
    fn from(output: crate::OutputRoot) -> Self {
        use alloy_primitives::U256;
        Self {
            version: U256::from(output.version),
            l2BlockNumber: U256::from(output.l2_block_number),
            stateRoot: output.state_root,
            l2BlockHash: output.l2_block_hash,
            inboxRecord: U256::from(output.inbox_record),
            blockInRecord: U256::from(output.block_in_record),
            l1Block: U256::from(output.l1_block),
        }
    }
}
