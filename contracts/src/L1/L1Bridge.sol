// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {MetadataReaderLib} from "solady/utils/MetadataReaderLib.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {AddressAliasing} from "src/libraries/AddressAliasing.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @title L1Bridge
/// @notice Locks ETH and ERC-20 tokens on L1 and emits `DepositInitiated`, which the rollup
///         derivation turns into an L2 deposit transaction crediting the recipient on L2.
///         ERC-20 tokens are credited as the token's `BridgedERC20`, deployed by the L2 bridge
///         at a CREATE2 address this contract predicts and initialized with the name, symbol
///         and decimals read here from the L1 token.
///
///         Identities: an L1 caller's L2 identity is its own address if it is an EOA
///         (`msg.sender == tx.origin`) and its alias (`AddressAliasing.applyL1ToL2Alias`)
///         otherwise, since a contract on L1 does not control its address on L2. Deposits
///         credit the caller's L2 identity (`deposit`) or a chosen recipient (`depositTo`).
///
///         Withdrawals start on L2 (`L2Bridge.withdraw`/`withdrawTo`) or, when the sequencer
///         censors the user or is gone, here: `withdraw`/`withdrawTo` emit
///         `ForcedWithdrawalInitiated`, which derivation turns into the same L2 call made by the
///         caller's L2 identity, included within the sequencing window (the escape hatch). Either
///         way the withdrawal is then proven here against the state root inside a proposed
///         output root (`proveWithdrawal`, one proof per prover) and paid out once that
///         proposal is final (`finalizeWithdrawal`, `finalizeWithdrawalWithProof`). A proposal
///         removed by the dispute game invalidates the proofs made against it; the withdrawal
///         is proven again against another. Payouts never exceed what is locked per token.
///         A deposit whose ERC-20 credit fails on L2 becomes a refund withdrawal to its
///         `refundTo`, proven and finalized here like any other.
///
///         Every message (deposit or forced withdrawal) is also appended to a hash chain
///         (`IDepositChain`), checkpointed once per L1 block that has messages, so the messages
///         an L2 batch must include are fixed by L1 state: the BatchInbox checks each batch's
///         deposit count against `depositCountAt`.
/// @dev    Runs behind an OpenZeppelin `TransparentUpgradeableProxy` without an initializer:
///         its only configuration is immutable (`stateManager`, `l2ChainId`), and all storage
///         starts at zero. Withdrawal hashes bind `address(this)`, i.e. the proxy; deposits made
///         to the implementation directly are not watched by any node. Storage layout
///         (append-only across upgrades): slot 0 `depositNonce`, 1 `deposits`, 2 the block gas
///         budget, 3 `_provenWithdrawals`, 4 `finalizedWithdrawals`, 5 `_checkpointStarts`
///         (the deposit chain checkpoints' L1 blocks and first nonces), 6 `_checkpointChains`,
///         7 `_chainMarks` (the chain after every `DEPOSIT_CHAIN_MARK`-th message), 8
///         `genesisEthLocked` and `_depositBaseFee` (packed).
///
///         Deposit gas is priced: every L1 block gives deposits and forced withdrawals
///         `DEPOSIT_GAS_PER_L1_BLOCK` of L2 gas, and each pays for what it asks at a base fee
///         that follows EIP-1559 over L1 blocks (target a quarter of the budget: up by at most
///         3/8 per block, when the budget is full, down by at most 1/8, never below 1 wei per
///         gas), by burning L1 gas worth it. Unused,
///         the fee stays at 1 wei and costs nothing measurable; but whoever fills the budget
///         block after block, to keep forced withdrawals out before a timelocked upgrade, pays
///         37.5% more every block (OP Stack's resource metering does the same).
///
///         L2 genesis balances: the L2 genesis may give accounts ETH (`genesisEth` in total,
///         fixed at construction). `lockGenesisEth` locks exactly that much here, once, before
///         those balances can be withdrawn, so every wei of L2 ETH is backed by a wei in this
///         contract, and a genesis account's withdrawal is never paid out of depositors' ETH.
contract L1Bridge is IL1Bridge, IDepositChain, ReentrancyGuardTransient {
    using SafeTransferLib for address;

    /// @notice Thrown when a deposit's or forced withdrawal's amount is zero.
    error L1Bridge_ZeroAmount();

    /// @notice Thrown when an ETH amount exceeds 2^128 - 1 (the L2 deposit transaction's mint).
    error L1Bridge_AmountTooLarge();

    /// @notice Thrown when `msg.value` does not match the deposit (ETH: `amount`; ERC-20: zero).
    error L1Bridge_ValueMismatch();

    /// @notice Thrown when the token pair is neither (0, 0) for ETH nor (token, predictL2Token(token)).
    error L1Bridge_UnknownTokenMapping();

    /// @notice Thrown when the requested L2 gas limit is outside [minimum, MAX_DEPOSIT_GAS].
    error L1Bridge_GasLimitOutOfRange();

    /// @notice Thrown when the deposits and forced withdrawals of this L1 block would exceed
    ///         DEPOSIT_GAS_PER_L1_BLOCK.
    error L1Bridge_BlockDepositGasExhausted();

    /// @notice Thrown when an ERC-20 deposit or forced withdrawal names an address without code.
    error L1Bridge_NotAContract();

    /// @notice Thrown when the bridge received a different amount than the deposit states.
    error L1Bridge_FeeOnTransferToken();

    /// @notice Thrown when `depositTo` or `withdrawTo` names the zero address as recipient.
    error L1Bridge_ZeroRecipient();

    /// @notice Thrown when a forced withdrawal names this bridge as its L1 recipient: the L2
    ///         bridge refuses it (this bridge cannot take ETH, and tokens paid to it would be
    ///         stranded here), so only the L1 gas would be spent.
    error L1Bridge_RecipientIsBridge();

    /// @notice Thrown when too little gas is left to give a token metadata read its full
    ///         `TOKEN_METADATA_READ_GAS` (so a depositor cannot starve the read on purpose and
    ///         deploy the L2 token with blank metadata).
    error L1Bridge_InsufficientGasForMetadata();

    /// @notice Thrown when reading a deposit chain checkpoint index that does not exist.
    error L1Bridge_UnknownCheckpoint();

    /// @notice Thrown when the constructor is given the zero address as StateManager.
    error L1Bridge_ZeroAddress();

    /// @notice Thrown when the constructor is given a zero L2 chain id.
    error L1Bridge_ZeroChainId();

    /// @notice Thrown when the constructor is given more genesis ETH than a deposit may mint
    ///         (2^128 - 1).
    error L1Bridge_GenesisEthTooLarge();

    /// @notice Thrown when `lockGenesisEth` is called again.
    error L1Bridge_GenesisEthAlreadyLocked();

    /// @notice Thrown when `lockGenesisEth` is sent another amount than `genesisEth`.
    error L1Bridge_WrongGenesisEth();

    /// @notice Thrown when an ETH withdrawal is finalized before `lockGenesisEth` locked the L2
    ///         genesis' ETH: it would be paid out of depositors' ETH.
    error L1Bridge_GenesisEthNotLocked();

    /// @notice Thrown when a withdrawal names a proposal index that does not exist.
    error L1Bridge_UnknownProposal();

    /// @notice Thrown when proving against, or finalizing after proving against, a removed proposal.
    error L1Bridge_ProposalRemoved();

    /// @notice Thrown when finalizing before the proven-against proposal is final.
    error L1Bridge_ProposalNotFinal();

    /// @notice Thrown when finalizing with a prover that has not proven the withdrawal.
    error L1Bridge_WithdrawalNotProven();

    /// @notice Thrown when proving or finalizing a withdrawal that was already paid out.
    error L1Bridge_WithdrawalAlreadyFinalized();

    /// @notice Thrown when the finalize call's recipient or amount differ from the proven withdrawal.
    error L1Bridge_WithdrawalMismatch();

    /// @notice Thrown when a payout would exceed what is locked for the token (never, if L2 is sound).
    error L1Bridge_InsufficientLocked();

    /// @notice Bad proof, unknown output root layout: `proof.output.version` is not
    ///         `Withdrawals.OUTPUT_ROOT_VERSION`.
    error L1Bridge_UnknownOutputRootVersion();

    /// @notice Bad proof, wrong L2 block: the output root is for another L2 block than the
    ///         proposal's (`proof.output.l2BlockNumber != proposal.l2BlockNumber`).
    error L1Bridge_L2BlockMismatch();

    /// @notice Bad proof, another chain: the output root names another hash for the proposal's
    ///         L2 block than the proposal does (`proof.output.l2BlockHash != proposal.l2BlockHash`).
    error L1Bridge_L2BlockHashMismatch();

    /// @notice Bad proof, wrong root: the output root preimage does not hash to the proposal's
    ///         root (`Withdrawals.hashOutputRoot(proof.output) != proposal.stateRoot`), e.g. its
    ///         state root or derivation cursor differs from what the proposer claimed.
    error L1Bridge_OutputRootMismatch();

    /// @notice Bad proof, wrong slot: the proof is for another L2 bridge storage slot than the
    ///         withdrawal's (`proof.slot != Withdrawals.storageSlot(hash)`).
    error L1Bridge_WrongSlot();

    /// @notice Bad proof, proof for another withdrawal: the trie proof ends at another key's
    ///         leaf than the withdrawal's slot (e.g. the proof of another withdrawal).
    error L1Bridge_ProofKeyMismatch();

    /// @notice Minimum L2 gas of an ETH deposit.
    uint256 public constant MIN_ETH_DEPOSIT_GAS = DepositLimits.MIN_ETH_DEPOSIT_GAS;

    /// @notice Minimum L2 gas of an ERC-20 deposit (covers deploying and initializing the L2
    ///         token while keeping the L2 bridge's failure reserve).
    uint256 public constant MIN_ERC20_DEPOSIT_GAS = DepositLimits.MIN_ERC20_DEPOSIT_GAS;

    /// @notice Maximum L2 gas of any deposit.
    uint256 public constant MAX_DEPOSIT_GAS = DepositLimits.MAX_DEPOSIT_GAS;

    /// @notice Maximum sum of deposit and forced-withdrawal gas limits within one L1 block.
    uint256 public constant DEPOSIT_GAS_PER_L1_BLOCK = DepositLimits.DEPOSIT_GAS_PER_L1_BLOCK;

    /// @notice L2 gas limit of every forced withdrawal, charged to the block's deposit gas budget.
    uint256 public constant FORCED_WITHDRAWAL_GAS = DepositLimits.FORCED_WITHDRAWAL_GAS;

    /// @notice The deposit gas per L1 block at which the deposit base fee holds steady: a
    ///         quarter of the budget, so sustained use of all of it raises the fee by 37.5% a
    ///         block.
    uint256 public constant DEPOSIT_GAS_TARGET = DEPOSIT_GAS_PER_L1_BLOCK / 4;

    /// @notice The deposit base fee moves by at most 1/this per L1 block (EIP-1559's 8).
    uint256 public constant DEPOSIT_BASE_FEE_CHANGE_DENOMINATOR = 8;

    /// @notice The lowest deposit base fee, in wei per L2 gas.
    uint256 public constant MIN_DEPOSIT_BASE_FEE = 1;

    /// @notice The L1 gas price at least assumed when the deposit fee is turned into L1 gas to
    ///         burn (OP's rule), so a zero or tiny `block.basefee` does not make the burn huge.
    uint256 public constant MIN_BURN_GAS_PRICE = 1 gwei;

    /// @notice Longest token name or symbol passed to L2; longer ones are cut to this many bytes.
    uint256 public constant MAX_TOKEN_STRING_BYTES = DepositLimits.MAX_TOKEN_STRING_BYTES;

    /// @notice Gas given to each of the three metadata reads (`name`, `symbol`, `decimals`) of
    ///         an ERC-20 deposit: a hostile token can cost a depositor at most three times this
    ///         (plus a few thousand gas of decoding) on top of a deposit of a plain token
    ///         (measured in `L1Bridge.t.sol`: a token burning all gas in all three adds 84,066
    ///         gas; the test bounds it by 3 x 30,000 + 10,000). A token that needs more than
    ///         this for a read gets "" (or 18 decimals) on L2.
    uint256 public constant TOKEN_METADATA_READ_GAS = 30_000;

    /// @notice Every this many messages the deposit chain is kept (`depositChainMark`), so a
    ///         one-step proof of a deposit folds at most this many message hashes.
    uint256 public constant DEPOSIT_CHAIN_MARK = 128;

    /// @dev Gas that must be left before each metadata read so that the token gets its full
    ///      `TOKEN_METADATA_READ_GAS` despite the 63/64 rule, with room for the call's own cost.
    uint256 private constant _METADATA_READ_MIN_GAS_LEFT = TOKEN_METADATA_READ_GAS * 64 / 63 + 5_000;

    /// @dev Deposit chain message kinds.
    uint8 private constant _KIND_DEPOSIT = 0;
    uint8 private constant _KIND_FORCED_WITHDRAWAL = 1;

    /// @dev keccak256("") : the metadata hash of ETH deposits and forced withdrawals.
    bytes32 private constant _EMPTY_METADATA_HASH = keccak256("");

    /// @notice A proven withdrawal, as one prover proved it.
    /// @param proposalIndex The proposal it was proven against; it pays out once that is final.
    /// @param recipient     The L1 recipient (the withdrawal's `to`).
    /// @param l1Token       The L1 token paid out, or address(0) for ETH.
    /// @param provenAt      The L1 timestamp of the proof (never 0 once proven).
    /// @param amount        The amount paid out.
    struct ProvenWithdrawal {
        uint256 proposalIndex;
        address recipient;
        address l1Token;
        uint64 provenAt;
        uint256 amount;
    }

    /// @dev A bridge message as the deposit chain hashes it (`IDepositChain`): the fields of
    ///      its event, `refundTo` zero and `metadataHash` keccak256("") for a forced withdrawal.
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

    /// @notice Emitted when a withdrawal is proven against a proposal.
    /// @param withdrawalId  The withdrawal hash.
    /// @param proposalIndex The proposal it was proven against.
    /// @param recipient     The L1 recipient.
    /// @param prover        The account that proved it (the proof is stored under it).
    event WithdrawalProven(
        bytes32 indexed withdrawalId, uint256 indexed proposalIndex, address indexed recipient, address prover
    );

    /// @notice Emitted when a withdrawal is paid out.
    /// @param withdrawalId The withdrawal hash.
    /// @param recipient    The L1 recipient paid.
    /// @param l1Token      The L1 token paid, or address(0) for ETH.
    /// @param amount       The amount paid.
    event WithdrawalFinalized(bytes32 indexed withdrawalId, address indexed recipient, address l1Token, uint256 amount);

    /// @notice Emitted once, when the ETH the L2 genesis allocates is locked.
    /// @param payer  Who paid it.
    /// @param amount `genesisEth`.
    event GenesisEthLocked(address indexed payer, uint256 amount);

    /// @notice keccak256 of `BridgedERC20`'s creation code, the CREATE2 init code hash on L2.
    bytes32 public immutable bridgedTokenInitCodeHash;

    /// @notice The StateManager whose proposals withdrawals are proven against.
    StateManager public immutable stateManager;

    /// @notice The L2 chain id, part of every withdrawal hash.
    uint256 public immutable l2ChainId;

    /// @notice The ETH (wei) the L2 genesis gives its accounts, all of which `lockGenesisEth`
    ///         locks here. Zero when the genesis allocates none.
    uint256 public immutable genesisEth;

    /// @notice The nonce the next deposit or forced withdrawal receives; equals the number of
    ///         both made.
    uint256 public depositNonce;

    /// @notice Total amount locked per L1 token (address(0) for ETH).
    mapping(address l1Token => uint256 amount) public deposits;

    /// @dev L1 block of the last deposit and the deposit gas already used in it, packed.
    uint64 private _gasBlock;
    uint192 private _gasUsedInBlock;

    /// @dev Proven withdrawals, by withdrawal hash and prover.
    mapping(bytes32 withdrawalId => mapping(address prover => ProvenWithdrawal)) internal _provenWithdrawals;

    /// @notice Withdrawals paid out, by withdrawal hash.
    mapping(bytes32 withdrawalId => bool) public finalizedWithdrawals;

    /// @dev Deposit chain checkpoints, in L1 block order: `l1Block << 64 | firstNonce`, the
    ///      block and the nonce of its first message, two to a slot. Written once, when the
    ///      block's first message creates the checkpoint; the checkpoint's count is the next
    ///      checkpoint's first nonce, or `depositNonce` for the newest.
    uint128[] private _checkpointStarts;

    /// @dev Deposit chain checkpoints' chains, by checkpoint index (the newest one moves with
    ///      every message of the current L1 block).
    mapping(uint256 index => bytes32 chain) private _checkpointChains;

    /// @dev The chain after every `DEPOSIT_CHAIN_MARK`-th message, by its nonce
    ///      (`depositChainMark`).
    mapping(uint256 nonce => bytes32 chain) private _chainMarks;

    /// @notice Whether `genesisEth` is locked (`lockGenesisEth`). Until it is (and `genesisEth`
    ///         is not zero), no ETH withdrawal is paid: a genesis balance's would be paid out of
    ///         deposits. A deployment locks it before its L2 starts.
    bool public genesisEthLocked;

    /// @dev The deposit base fee (wei per L2 gas) of the L1 block `_gasBlock`; 0 before any
    ///      deposit, read as `MIN_DEPOSIT_BASE_FEE`.
    uint128 private _depositBaseFee;

    /// @notice Sets the immutables: the StateManager, the L2 chain id, the L2 genesis' ETH and
    ///         the L2 token init code hash used by `predictL2Token`. Nothing else needs
    ///         initializing; the genesis ETH is paid in by `lockGenesisEth`.
    /// @param stateManager_ The StateManager (its proxy) whose proposals withdrawals are proven against.
    /// @param l2ChainId_    The L2 chain id.
    /// @param genesisEth_   The sum of the L2 genesis' ETH balances (wei); an upgrade keeps it.
    constructor(address stateManager_, uint256 l2ChainId_, uint256 genesisEth_) {
        if (stateManager_ == address(0)) revert L1Bridge_ZeroAddress();
        if (l2ChainId_ == 0) revert L1Bridge_ZeroChainId();
        if (genesisEth_ > type(uint128).max) revert L1Bridge_GenesisEthTooLarge();
        stateManager = StateManager(stateManager_);
        l2ChainId = l2ChainId_;
        genesisEth = genesisEth_;
        bridgedTokenInitCodeHash = keccak256(type(BridgedERC20).creationCode);
    }

    // ------------------------------------------------------------------ genesis

    /// @notice Locks the ETH the L2 genesis allocates (`genesisEth`, exactly), once, so that
    ///         withdrawals of genesis balances are paid from it. Anyone may pay it; it credits
    ///         nothing on L2 (the genesis already did) and cannot be taken back.
    function lockGenesisEth() external payable nonReentrant {
        if (genesisEthLocked) revert L1Bridge_GenesisEthAlreadyLocked();
        if (msg.value != genesisEth) revert L1Bridge_WrongGenesisEth();
        genesisEthLocked = true;
        deposits[address(0)] += msg.value;
        emit GenesisEthLocked(msg.sender, msg.value);
    }

    // ------------------------------------------------------------------ deposits

    /// @inheritdoc IL1Bridge
    /// @dev `depositTo` with `to` = the caller's L2 identity.
    function deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit) external payable nonReentrant {
        _deposit(l1Token, l2Token, amount, gasLimit, _l2Identity());
    }

    /// @notice Locks `amount` of ETH or of an ERC-20 token and credits it to `to` on L2.
    /// @dev    ETH: `l1Token == l2Token == address(0)`, `msg.value == amount < 2^128`, gasLimit >=
    ///         MIN_ETH_DEPOSIT_GAS; if the L2 value transfer fails the ETH stays with the
    ///         depositor's L2 identity. ERC-20: `msg.value == 0`, `l1Token` a contract,
    ///         `l2Token == predictL2Token(l1Token)`, gasLimit >= MIN_ERC20_DEPOSIT_GAS; the
    ///         bridge must receive exactly `amount` (fee-on-transfer tokens are rejected;
    ///         rebasing tokens are unsupported); the token's metadata is read with capped
    ///         staticcalls and passed to L2; if the L2 credit fails, the L2 bridge records a
    ///         refund withdrawal to `msg.sender` here on L1.
    /// @param l1Token  The L1 token, or address(0) for ETH.
    /// @param l2Token  The L2 token the deposit mints, or address(0) for ETH.
    /// @param amount   The amount to deposit.
    /// @param gasLimit The gas limit of the resulting L2 deposit transaction.
    /// @param to       The L2 recipient; not zero.
    function depositTo(address l1Token, address l2Token, uint256 amount, uint32 gasLimit, address to)
        external
        payable
        nonReentrant
    {
        if (to == address(0)) revert L1Bridge_ZeroRecipient();
        _deposit(l1Token, l2Token, amount, gasLimit, to);
    }

    // ------------------------------------------------------------------ forced withdrawals

    /// @inheritdoc IL1Bridge
    /// @dev `withdrawTo` with `to = msg.sender`.
    function withdraw(address l1Token, address l2Token, uint256 amount) external nonReentrant {
        _forceWithdrawal(l1Token, l2Token, amount, msg.sender);
    }

    /// @notice Starts a forced withdrawal of `amount` from the caller's L2 identity to `to` on
    ///         L1. Emits `ForcedWithdrawalInitiated`; derivation runs `L2Bridge.withdrawTo(l1Token,
    ///         l2Token, amount, to)` as the caller's L2 identity (value `amount` for ETH) with
    ///         `FORCED_WITHDRAWAL_GAS`, within the sequencing window. If that account lacks the
    ///         funds the L2 call fails and nothing happens. Nothing is locked or paid here: the
    ///         withdrawal is proven and finalized later like one started on L2.
    /// @dev    Shares the deposit nonce and the per-L1-block deposit gas budget. Checks: amount
    ///         not zero, token pair valid (ETH (0, 0) with `amount < 2^128`; ERC-20 a contract
    ///         and `predictL2Token(l1Token)`), `to` neither zero nor this bridge.
    /// @param l1Token The L1 token to receive, or address(0) for ETH.
    /// @param l2Token The L2 token to burn, or address(0) for ETH.
    /// @param amount  The amount to withdraw.
    /// @param to      The L1 recipient; neither zero nor this bridge.
    function withdrawTo(address l1Token, address l2Token, uint256 amount, address to) external nonReentrant {
        if (to == address(0)) revert L1Bridge_ZeroRecipient();
        if (to == address(this)) revert L1Bridge_RecipientIsBridge();
        _forceWithdrawal(l1Token, l2Token, amount, to);
    }

    // ------------------------------------------------------------------ proofs and payouts

    /// @notice Proves that the L2 bridge recorded `withdrawal` in the state of the L2 block of
    ///         proposal `proposalIndex`, so it can be paid out once that proposal is final.
    ///         Anyone may prove any withdrawal; it always pays `withdrawal.to`. The proof is
    ///         stored under the caller: proving again replaces only the caller's own proof (e.g.
    ///         after its proposal was removed), and nobody can replace or delay anybody else's.
    /// @dev    A proposal's root is an output root (`Withdrawals.OutputRoot`): the proof carries
    ///         its preimage `proof.output`, which must be version `OUTPUT_ROOT_VERSION`, name the
    ///         proposal's L2 block (number and hash) and hash to `proposal.stateRoot`. Then the
    ///         storage leaf `SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE,
    ///         uint256(Withdrawals.storageSlot(hash)))` with value hash `bytes32(uint256(1))`
    ///         (`sentWithdrawals[hash] == true`) is proven against `proof.output.stateRoot`, where
    ///         `hash` binds `l2ChainId` and this bridge. Bad proofs revert with, in this order:
    ///         unknown output layout `L1Bridge_UnknownOutputRootVersion`; output root of another
    ///         L2 block `L1Bridge_L2BlockMismatch`, or of another block hash
    ///         `L1Bridge_L2BlockHashMismatch`; wrong root (the preimage hashes to something else)
    ///         `L1Bridge_OutputRootMismatch`; wrong slot `L1Bridge_WrongSlot`; proof for another
    ///         withdrawal (another key's leaf) `L1Bridge_ProofKeyMismatch`; truncated or tampered
    ///         siblings `SparseMerkleTrie_InvalidProof`; a proof showing the slot empty
    ///         `SparseMerkleTrie_KeyAbsent`, another value `SparseMerkleTrie_ValueMismatch`, an
    ///         empty deepest sibling `SparseMerkleTrie_NonCanonicalProof`, over 256 siblings
    ///         `SparseMerkleTrie_TooManySiblings`.
    /// @param proposalIndex The StateManager proposal whose output root the proof is against.
    /// @param withdrawal    The withdrawal, as the L2 bridge recorded it.
    /// @param proof         The output root preimage and the storage proof of the withdrawal's
    ///                      slot against its state root.
    /// @return withdrawalId The withdrawal hash.
    function proveWithdrawal(
        uint256 proposalIndex,
        Withdrawals.Withdrawal calldata withdrawal,
        Withdrawals.WithdrawalProof calldata proof
    ) external returns (bytes32 withdrawalId) {
        if (proposalIndex >= stateManager.proposalCount()) {
            revert L1Bridge_UnknownProposal();
        }
        StateManager.Proposal memory proposal = stateManager.proposals(proposalIndex);
        if (proposal.removed) revert L1Bridge_ProposalRemoved();
        bool isEth = withdrawal.l1Token == address(0);
        if (isEth ? withdrawal.l2Token != address(0) : withdrawal.l2Token != predictL2Token(withdrawal.l1Token)) {
            revert L1Bridge_UnknownTokenMapping();
        }

        withdrawalId = Withdrawals.hash(withdrawal, l2ChainId, address(this));
        if (finalizedWithdrawals[withdrawalId]) revert L1Bridge_WithdrawalAlreadyFinalized();

        Withdrawals.OutputRoot calldata output = proof.output;
        if (output.version != Withdrawals.OUTPUT_ROOT_VERSION) revert L1Bridge_UnknownOutputRootVersion();
        if (output.l2BlockNumber != proposal.l2BlockNumber) revert L1Bridge_L2BlockMismatch();
        if (output.l2BlockHash != proposal.l2BlockHash) revert L1Bridge_L2BlockHashMismatch();
        if (Withdrawals.hashOutputRoot(output) != proposal.stateRoot) revert L1Bridge_OutputRootMismatch();
        bytes32 slot = Withdrawals.storageSlot(withdrawalId);
        if (proof.slot != uint256(slot)) revert L1Bridge_WrongSlot();
        bytes32 key = SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, uint256(slot));
        SparseMerkleTrie.Proof calldata trieProof = proof.trieProof;
        if (trieProof.terminalValueHash != 0 && trieProof.terminalKey != key) revert L1Bridge_ProofKeyMismatch();
        SparseMerkleTrie.verify(output.stateRoot, key, Withdrawals.SENT_VALUE_HASH, trieProof);

        _provenWithdrawals[withdrawalId][msg.sender] = ProvenWithdrawal({
            proposalIndex: proposalIndex,
            recipient: withdrawal.to,
            l1Token: withdrawal.l1Token,
            provenAt: uint64(block.timestamp),
            amount: withdrawal.amount
        });
        emit WithdrawalProven(withdrawalId, proposalIndex, withdrawal.to, msg.sender);
    }

    /// @inheritdoc IL1Bridge
    /// @dev `finalizeWithdrawalWithProof` with `prover = msg.sender`.
    function finalizeWithdrawal(uint256 withdrawalId, address recipient, uint256 amount) external nonReentrant {
        _finalizeWithdrawal(bytes32(withdrawalId), recipient, amount, msg.sender);
    }

    /// @notice Pays out a withdrawal proven by `prover`, once the proposal that proof is against
    ///         is final. Anyone may call it; it always pays the proven recipient.
    /// @dev    `recipient` and `amount` must be the proven withdrawal's. Reverts
    ///         `L1Bridge_WithdrawalAlreadyFinalized`, `L1Bridge_WithdrawalNotProven` (by
    ///         `prover`), `L1Bridge_WithdrawalMismatch`, `L1Bridge_ProposalRemoved` (prove it
    ///         again against another proposal), `L1Bridge_ProposalNotFinal`,
    ///         `L1Bridge_InsufficientLocked`, in this order.
    /// @param withdrawalId The withdrawal's identifier, `uint256` of its hash.
    /// @param recipient    The L1 recipient.
    /// @param amount       The amount to pay out.
    /// @param prover       The account whose proof is used.
    function finalizeWithdrawalWithProof(uint256 withdrawalId, address recipient, uint256 amount, address prover)
        external
        nonReentrant
    {
        _finalizeWithdrawal(bytes32(withdrawalId), recipient, amount, prover);
    }

    // ------------------------------------------------------------------ views

    /// @notice The proof `prover` made of a withdrawal (all zero if none).
    /// @param withdrawalId The withdrawal hash.
    /// @param prover       The account that proved it.
    /// @return The proof record.
    function provenWithdrawals(bytes32 withdrawalId, address prover) external view returns (ProvenWithdrawal memory) {
        return _provenWithdrawals[withdrawalId][prover];
    }

    /// @notice The hash of a withdrawal paid out by this bridge, its `withdrawalId`:
    ///         `Withdrawals.hash(withdrawal, l2ChainId, address(this))`.
    /// @param withdrawal The withdrawal.
    /// @return The withdrawal hash.
    function hashWithdrawal(Withdrawals.Withdrawal calldata withdrawal) external view returns (bytes32) {
        return Withdrawals.hash(withdrawal, l2ChainId, address(this));
    }

    /// @notice The L2 token of `l1Token`: the address at which the L2 bridge deploys its
    ///         `BridgedERC20` with CREATE2 (salt = the L1 token address).
    /// @param l1Token The L1 token.
    /// @return The L2 token address.
    function predictL2Token(address l1Token) public view returns (address) {
        bytes32 hash = keccak256(
            abi.encodePacked(
                bytes1(0xff), Predeploys.L2_BRIDGE, bytes32(uint256(uint160(l1Token))), bridgedTokenInitCodeHash
            )
        );
        return address(uint160(uint256(hash)));
    }

    /// @notice Deposit gas (deposits and forced withdrawals) already requested in the current
    ///         L1 block.
    /// @return The sum of the gas limits of this block's deposits and forced withdrawals.
    function blockDepositGasUsed() external view returns (uint256) {
        return _gasBlock == block.number ? _gasUsedInBlock : 0;
    }

    /// @notice The deposit base fee in this L1 block, in wei per L2 gas: a deposit or forced
    ///         withdrawal asking `gasLimit` burns `gasLimit * depositBaseFee()` wei worth of L1
    ///         gas (at `block.basefee`, at least `MIN_BURN_GAS_PRICE`).
    /// @return The fee.
    function depositBaseFee() external view returns (uint256) {
        return _gasBlock == block.number ? _currentBaseFee() : _nextBaseFee();
    }

    // ------------------------------------------------------------------ deposit chain

    /// @inheritdoc IDepositChain
    function depositChain() external view returns (uint256 count, bytes32 chain) {
        uint256 checkpoints = _checkpointStarts.length;
        count = depositNonce;
        if (checkpoints != 0) chain = _checkpointChains[checkpoints - 1];
    }

    /// @inheritdoc IDepositChain
    function checkpointCount() external view returns (uint256) {
        return _checkpointStarts.length;
    }

    /// @inheritdoc IDepositChain
    /// @dev Reverts `L1Bridge_UnknownCheckpoint` if `index >= checkpointCount()`.
    function checkpoint(uint256 index) external view returns (Checkpoint memory) {
        uint256 checkpoints = _checkpointStarts.length;
        if (index >= checkpoints) revert L1Bridge_UnknownCheckpoint();
        // casting to 'uint64' is safe because the high half of a packed start is a block number
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 l1Block = uint64(_checkpointStarts[index] >> 64);
        return
            Checkpoint({l1Block: l1Block, count: _countAfter(index + 1, checkpoints), chain: _checkpointChains[index]});
    }

    /// @inheritdoc IDepositChain
    /// @dev Searches from the newest checkpoint (galloping, then binary search), so asking
    ///      about a recent L1 block reads a few slots however long the chain is.
    function depositCountAt(uint256 l1Block) external view returns (uint256) {
        uint256 checkpoints = _checkpointStarts.length;
        uint256 upTo = _checkpointsUpTo(l1Block, checkpoints);
        return upTo == 0 ? 0 : _countAfter(upTo, checkpoints);
    }

    /// @inheritdoc IDepositChain
    function depositChainMark(uint256 nonce) external view returns (bytes32 chain) {
        return _chainMarks[nonce];
    }

    /// @inheritdoc IDepositChain
    function depositChainAt(uint256 l1Block) external view returns (uint256 count, bytes32 chain) {
        uint256 checkpoints = _checkpointStarts.length;
        uint256 upTo = _checkpointsUpTo(l1Block, checkpoints);
        if (upTo != 0) {
            count = _countAfter(upTo, checkpoints);
            chain = _checkpointChains[upTo - 1];
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev Appends `message` to the deposit chain: the first message of an L1 block starts
    ///      that block's checkpoint, the others move its chain forward. `messageHash` is
    ///      keccak256 of the message's ABI encoding (a struct of static fields encodes as its
    ///      fields in order).
    function _appendMessage(ChainMessage memory message, bool firstInBlock) private {
        bytes32 messageHash = keccak256(abi.encode(message));
        uint256 checkpoints = _checkpointStarts.length;
        bytes32 chain;
        if (checkpoints != 0) chain = _checkpointChains[checkpoints - 1];
        chain = keccak256(abi.encode(chain, messageHash));
        if (message.nonce % DEPOSIT_CHAIN_MARK == DEPOSIT_CHAIN_MARK - 1) _chainMarks[message.nonce] = chain;
        // (`checkpoints == 0` only matters for a bridge upgraded from one without the chain in
        // a block that already had a message.)
        if (firstInBlock || checkpoints == 0) {
            // casting to 'uint128' is safe because block numbers and nonces are below 2^64
            // forge-lint: disable-next-line(unsafe-typecast)
            _checkpointStarts.push(uint128(block.number << 64 | message.nonce));
            _checkpointChains[checkpoints] = chain;
        } else {
            _checkpointChains[checkpoints - 1] = chain;
        }
    }

    /// @dev The message count after checkpoint `index - 1` (of `checkpoints`): the first nonce
    ///      of checkpoint `index`, or `depositNonce` after the newest.
    function _countAfter(uint256 index, uint256 checkpoints) private view returns (uint64) {
        // casting to 'uint64' keeps the low half of a packed start, and nonces are below 2^64
        // forge-lint: disable-next-line(unsafe-typecast)
        return index < checkpoints ? uint64(_checkpointStarts[index]) : uint64(depositNonce);
    }

    /// @dev The number of checkpoints (of `checkpoints`) with an L1 block at most `l1Block`.
    ///      Checkpoints are in block order; the search gallops back from the newest (1, 2, 4,
    ///      ... checkpoints) to bracket the answer, then bisects the bracket.
    function _checkpointsUpTo(uint256 l1Block, uint256 checkpoints) private view returns (uint256) {
        // Invariant: checkpoints below `low` are at most `l1Block`, those from `high` on after it.
        uint256 high = checkpoints;
        uint256 low;
        for (uint256 step = 1; step <= high; step <<= 1) {
            uint256 probe = high - step;
            if (_checkpointStarts[probe] >> 64 <= l1Block) {
                low = probe + 1;
                break;
            }
            high = probe;
        }
        while (low < high) {
            uint256 mid = (low + high) >> 1;
            if (_checkpointStarts[mid] >> 64 <= l1Block) low = mid + 1;
            else high = mid;
        }
        return low;
    }

    /// @dev Checks, accounts and emits a deposit to `to`, then pulls ERC-20 tokens.
    function _deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit, address to) private {
        bool isEth = _checkTokenPair(l1Token, l2Token, amount);
        if (isEth) {
            if (msg.value != amount) revert L1Bridge_ValueMismatch();
        } else {
            if (msg.value != 0) revert L1Bridge_ValueMismatch();
        }
        uint256 minGas = isEth ? MIN_ETH_DEPOSIT_GAS : MIN_ERC20_DEPOSIT_GAS;
        if (gasLimit < minGas || gasLimit > MAX_DEPOSIT_GAS) revert L1Bridge_GasLimitOutOfRange();
        bytes memory tokenMetadata = isEth ? bytes("") : _tokenMetadata(l1Token);
        bool firstInBlock = _useBlockDepositGas(gasLimit);

        uint256 nonce = depositNonce;
        depositNonce = nonce + 1;
        deposits[l1Token] += amount;
        ChainMessage memory message;
        message.kind = _KIND_DEPOSIT;
        message.nonce = nonce;
        message.from = _l2Identity();
        message.to = to;
        message.l1Token = l1Token;
        message.l2Token = l2Token;
        message.amount = amount;
        message.gasLimit = gasLimit;
        message.refundTo = msg.sender;
        message.metadataHash = isEth ? _EMPTY_METADATA_HASH : keccak256(tokenMetadata);
        _appendMessage(message, firstInBlock);
        emit DepositInitiated(nonce, message.from, to, l1Token, l2Token, amount, gasLimit, msg.sender, tokenMetadata);

        if (!isEth) {
            uint256 balanceBefore = l1Token.balanceOf(address(this));
            l1Token.safeTransferFrom(msg.sender, address(this), amount);
            if (l1Token.balanceOf(address(this)) - balanceBefore != amount) {
                revert L1Bridge_FeeOnTransferToken();
            }
        }
    }

    /// @dev Checks and emits a forced withdrawal from the caller's L2 identity to `to`.
    function _forceWithdrawal(address l1Token, address l2Token, uint256 amount, address to) private {
        _checkTokenPair(l1Token, l2Token, amount);
        bool firstInBlock = _useBlockDepositGas(FORCED_WITHDRAWAL_GAS);
        uint256 nonce = depositNonce;
        depositNonce = nonce + 1;
        // casting to 'uint32' is safe because FORCED_WITHDRAWAL_GAS is a constant below 2^32
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 gasLimit = uint32(FORCED_WITHDRAWAL_GAS);
        ChainMessage memory message;
        message.kind = _KIND_FORCED_WITHDRAWAL;
        message.nonce = nonce;
        message.from = _l2Identity();
        message.to = to;
        message.l1Token = l1Token;
        message.l2Token = l2Token;
        message.amount = amount;
        message.gasLimit = gasLimit;
        message.metadataHash = _EMPTY_METADATA_HASH;
        _appendMessage(message, firstInBlock);
        emit ForcedWithdrawalInitiated(nonce, message.from, to, l1Token, l2Token, amount, gasLimit);
    }

    /// @dev Checks a token pair and amount shared by deposits and forced withdrawals; returns
    ///      whether it is ETH.
    function _checkTokenPair(address l1Token, address l2Token, uint256 amount) private view returns (bool isEth) {
        if (amount == 0) revert L1Bridge_ZeroAmount();
        isEth = l1Token == address(0);
        if (isEth) {
            if (l2Token != address(0)) revert L1Bridge_UnknownTokenMapping();
            if (amount > type(uint128).max) revert L1Bridge_AmountTooLarge();
        } else {
            if (l1Token.code.length == 0) revert L1Bridge_NotAContract();
            if (l2Token != predictL2Token(l1Token)) revert L1Bridge_UnknownTokenMapping();
        }
    }

    /// @dev Pays out the withdrawal `withdrawalId` as proven by `prover`.
    function _finalizeWithdrawal(bytes32 withdrawalId, address recipient, uint256 amount, address prover) private {
        if (finalizedWithdrawals[withdrawalId]) revert L1Bridge_WithdrawalAlreadyFinalized();
        ProvenWithdrawal memory proven = _provenWithdrawals[withdrawalId][prover];
        if (proven.provenAt == 0) revert L1Bridge_WithdrawalNotProven();
        if (recipient != proven.recipient || amount != proven.amount) revert L1Bridge_WithdrawalMismatch();
        if (stateManager.proposals(proven.proposalIndex).removed) revert L1Bridge_ProposalRemoved();
        if (!stateManager.isFinal(proven.proposalIndex)) revert L1Bridge_ProposalNotFinal();
        address l1Token = proven.l1Token;
        if (l1Token == address(0) && genesisEth != 0 && !genesisEthLocked) revert L1Bridge_GenesisEthNotLocked();
        uint256 locked = deposits[l1Token];
        if (amount > locked) revert L1Bridge_InsufficientLocked();

        finalizedWithdrawals[withdrawalId] = true;
        deposits[l1Token] = locked - amount;
        emit WithdrawalFinalized(withdrawalId, recipient, l1Token, amount);

        if (l1Token == address(0)) recipient.safeTransferETH(amount);
        else l1Token.safeTransfer(recipient, amount);
    }

    /// @dev The caller's L2 identity: itself if an EOA, else its alias. `tx.origin` only tells
    ///      EOAs from contracts here (OP's rule: a contract, or code running in a constructor or
    ///      for an EIP-7702 account called by someone else, cannot sign for its address on L2);
    ///      it never authorizes anything.
    function _l2Identity() private view returns (address) {
        return msg.sender == tx.origin ? msg.sender : AddressAliasing.applyL1ToL2Alias(msg.sender);
    }

    /// @dev `abi.encode(name, symbol, decimals)` of `token`, each read with a staticcall capped
    ///      at `TOKEN_METADATA_READ_GAS`: a string or a bytes32 return is accepted (a failed,
    ///      empty or undecodable read gives ""), strings are cut to `MAX_TOKEN_STRING_BYTES`;
    ///      decimals missing, reverting or above 255 give 18. At most that many bytes of a
    ///      return are ever copied, so a huge return costs only the token's own capped gas.
    function _tokenMetadata(address token) private view returns (bytes memory) {
        _checkGasForMetadataRead();
        string memory name = MetadataReaderLib.readName(token, MAX_TOKEN_STRING_BYTES, TOKEN_METADATA_READ_GAS);
        _checkGasForMetadataRead();
        string memory symbol = MetadataReaderLib.readSymbol(token, MAX_TOKEN_STRING_BYTES, TOKEN_METADATA_READ_GAS);
        _checkGasForMetadataRead();
        return abi.encode(name, symbol, _readDecimals(token));
    }

    /// @dev The token's decimals, or 18 if the read fails, returns under 32 bytes or above 255.
    function _readDecimals(address token) private view returns (uint8) {
        bool ok;
        uint256 size;
        uint256 value;
        uint256 readGas = TOKEN_METADATA_READ_GAS;
        assembly ("memory-safe") {
            mstore(0x00, 0x313ce567) // `decimals()`.
            ok := staticcall(readGas, token, 0x1c, 0x04, 0x00, 0x20)
            size := returndatasize()
            value := mload(0x00)
        }
        if (!ok || size < 32 || value > type(uint8).max) return 18;
        // casting to 'uint8' is safe because it was checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint8(value);
    }

    /// @dev Reverts unless the next metadata read can get its full gas cap.
    function _checkGasForMetadataRead() private view {
        if (gasleft() < _METADATA_READ_MIN_GAS_LEFT) revert L1Bridge_InsufficientGasForMetadata();
    }

    /// @dev Charges `gasLimit` to the current L1 block's deposit gas budget; returns whether
    ///      this is the block's first message (every message is charged here, so a block whose
    ///      budget was never charged has had no message).
    function _useBlockDepositGas(uint256 gasLimit) private returns (bool firstInBlock) {
        firstInBlock = _gasBlock != block.number;
        uint256 used = firstInBlock ? gasLimit : _gasUsedInBlock + gasLimit;
        if (used > DEPOSIT_GAS_PER_L1_BLOCK) revert L1Bridge_BlockDepositGasExhausted();
        uint256 baseFee = firstInBlock ? _nextBaseFee() : _currentBaseFee();
        if (firstInBlock) {
            // casting to 'uint128' is safe because `_nextBaseFee` is capped at type(uint128).max
            // forge-lint: disable-next-line(unsafe-typecast)
            _depositBaseFee = uint128(baseFee);
        }
        _gasBlock = uint64(block.number);
        // casting to 'uint192' is safe because `used` <= DEPOSIT_GAS_PER_L1_BLOCK
        // forge-lint: disable-next-line(unsafe-typecast)
        _gasUsedInBlock = uint192(used);
        _burnGas(gasLimit * baseFee / _max(block.basefee, MIN_BURN_GAS_PRICE));
    }

    /// @dev The base fee of the block `_gasBlock` (the current one, once it has a deposit).
    function _currentBaseFee() private view returns (uint256) {
        return _max(_depositBaseFee, MIN_DEPOSIT_BASE_FEE);
    }

    /// @dev The base fee of the current block, before its first deposit: `_gasBlock`'s fee
    ///      moved by EIP-1559's rule for the gas it used, then lowered by 1/8 for every block
    ///      since in which nothing was deposited.
    function _nextBaseFee() private view returns (uint256 fee) {
        fee = _currentBaseFee();
        if (_gasBlock == 0) return fee;
        uint256 used = _gasUsedInBlock;
        if (used > DEPOSIT_GAS_TARGET) {
            uint256 delta = fee * (used - DEPOSIT_GAS_TARGET) / DEPOSIT_GAS_TARGET / DEPOSIT_BASE_FEE_CHANGE_DENOMINATOR;
            fee += _max(delta, 1);
            if (fee > type(uint128).max) fee = type(uint128).max;
        } else {
            fee -= fee * (DEPOSIT_GAS_TARGET - used) / DEPOSIT_GAS_TARGET / DEPOSIT_BASE_FEE_CHANGE_DENOMINATOR;
        }
        // Empty blocks since: each lowers the fee by 1/8 (at least 1 wei); at most about 680
        // take any fee to the floor, so the loop is bounded however long nobody deposited.
        uint256 empty = block.number - _gasBlock - 1;
        for (uint256 i; i < empty && fee > MIN_DEPOSIT_BASE_FEE; ++i) {
            fee -= _max(fee / DEPOSIT_BASE_FEE_CHANGE_DENOMINATOR, 1);
        }
        return _max(fee, MIN_DEPOSIT_BASE_FEE);
    }

    /// @dev Spends `amount` gas doing nothing (OP's `Burn.gas`): the deposit fee, paid in L1 gas
    ///      so that the deposit functions keep their arguments and value.
    function _burnGas(uint256 amount) private view {
        uint256 initial = gasleft();
        while (initial - gasleft() < amount) {}
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }

    /// @dev Always use transient storage for the reentrancy guard (L1 is post-Cancun).
    function _useTransientReentrancyGuardOnlyOnMainnet() internal pure override returns (bool) {
        return false;
    }
}
