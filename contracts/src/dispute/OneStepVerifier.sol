// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {SegmentOpener} from "src/dispute/SegmentOpener.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {OrderedTrie} from "src/libraries/OrderedTrie.sol";
import {TraceTries} from "src/dispute/TraceTries.sol";

/// @title OneStepVerifier
/// @notice The one-step verifier of fraud proof part 1, behind
///         `StateManager.verifyStateTransition`. It decides the last step of a game's level 1,
///         a step of one L2 block's input trace (`IOneStepVerifier.StepContext`).
///
///         Witness: `abi.encode(uint8 kind, bytes body)`.
///         - `STEP_PADDING` (body: `abi.encode(Withdrawals.OutputRoot)`): a position after the
///           seal. The agreed state must be the output root of the disputed block itself (the
///           block is sealed), and the step leaves it unchanged: valid iff `toState == fromState`.
///
///         - `STEP_PREAMBLE` (body: `abi.encode(PreambleWitness)`): position 0; the agreed
///           state is the output root of the parent block, and the step fixes the block's
///           context from L1 (the parent header, the inbox record's block table, the recorded
///           L1 origin and its header): `_preamble`.
///
///         - `STEP_INPUT` (body: `abi.encode(InputWitness)`: the trace state, the fields
///           `docs/fraud-proof.md` lists, with its context, the parent header and the block
///           table of the inbox record holding the block): a position inside the block's trace
///           that L1 cannot decide. At a position that runs one of the block's deposits it
///           reverts `OneStepVerifier_DepositStep`, at one of its batch transactions
///           `OneStepVerifier_BatchTransactionStep`, and at the seal
///           `OneStepVerifier_SealStep`: only their own witnesses decide those. A trace state
///           past the seal reverts `NotProvableYet`.
///
///         - `STEP_DEPOSIT` (body: `abi.encode(DepositWitness)`): the block's `position`-th
///           input when it is one of the block's deposits, an ETH deposit to an account without
///           code: proven against the bridge's deposit chain (`depositChainAt`) and the state
///           trie. A deposit that runs code (an ERC-20 deposit, a forced withdrawal, a recipient
///           with code or a precompile) reverts `NotProvableYet`; a position that is not a
///           deposit (the block starts no epoch, or its deposits are fewer) reverts
///           `OneStepVerifier_BadWitness`, since another witness decides it.
///
///         - `STEP_TRANSACTION` (body: `abi.encode(TransactionWitness)`): the block's
///           `position`-th input when it is one of the block's batch transactions (after its
///           deposits, within its block table count): the transaction's leaf is proven against
///           its segment, opened in the `SegmentStore` (a blob batch's once its bytes are
///           proven there by point evaluation). A transaction the block rules skip moves only
///           `inputs`; an included call that runs no code is applied to the state trie and the
///           trace state's transactions and receipts tries; anything else reverts
///           `NotProvableYet`.
///
///         - `STEP_SEAL` (body: `abi.encode(SealWitness)`): the position after the block's
///           last input, whatever the block's size: the trace state already holds the roots
///           of the block's transactions and receipts tries (each step that includes a
///           transaction appends to both, `TraceTries.append`) and the hash of its logs
///           bloom, whose 256 bytes the witness carries; the verifier builds the header and
///           the output root from them.
///
///         A step that reverts `NotProvableYet` is decided by the dispute game on the
///         proposer's allowlisting. It does so only once the witness has opened the agreed
///         state: a state opens as exactly one kind (hash preimages are unique), so a padding
///         step, whose agreed state is the block's output root, can never be passed off as
///         unprovable. Part 2's one-steps replace this contract through
///         `StateManager.setOneStepVerifier` (the timelock).
/// @dev    Reads nothing but its arguments, the bridge's deposit chain, the inbox's records and
///         the segment store; a witness that does not open `fromState` reverts.
contract OneStepVerifier is IOneStepVerifier {
    /// @notice Witness kind: an identity step after the block's seal.
    uint8 public constant STEP_PADDING = 1;

    /// @notice Witness kind: the block's preamble, from its parent's output root.
    uint8 public constant STEP_PREAMBLE = 2;

    /// @notice Witness kind: one input of the block (a transaction, or the seal), from a trace
    ///         state.
    uint8 public constant STEP_INPUT = 3;

    /// @notice Witness kind: one of the block's deposits.
    uint8 public constant STEP_DEPOSIT = 4;

    /// @notice Witness kind: one of the block's batch transactions.
    uint8 public constant STEP_TRANSACTION = 5;

    /// @notice Witness kind: the block's seal, from its last trace state to its output root.
    uint8 public constant STEP_SEAL = 6;

    /// @notice The version of the trace state layout: 2 holds the transactions and receipts
    ///         tries' roots and the logs bloom's hash (1 held hash chains of both lists).
    uint256 public constant TRACE_STATE_VERSION = 2;

    /// @notice `keccak256` of an empty logs bloom (256 zero bytes): a trace state's
    ///         `logsBloomHash` before any log.
    bytes32 public constant EMPTY_BLOOM_HASH = 0xd397b3b043d87fcd6fad1291ff0bfd16401c274896d8c63a923727f077b8e0b5;

    /// @notice Gas of a call that runs no code and carries no data (Prague).
    uint256 public constant TRANSFER_GAS = 21_000;

    /// @notice What a creation adds to the intrinsic gas, before its init code's words.
    uint256 public constant CREATE_GAS = 32_000;

    /// @notice The highest precompile address under Prague (BLS12-381 ends at 0x11): a call to
    ///         any address from 0x01 up to it runs code.
    uint160 public constant LAST_PRECOMPILE = 0x11;

    /// @notice `keccak256("")`: the code hash of an account without code.
    bytes32 public constant EMPTY_CODE_HASH = keccak256("");

    /// @notice The deposit chain keeps a mark after every this many messages
    ///         (`IDepositChain.depositChainMark`, `L1Bridge.DEPOSIT_CHAIN_MARK`).
    uint256 public constant DEPOSIT_CHAIN_MARK = 128;

    /// @notice The EIP-2718 type byte of deposit transactions and their receipts.
    uint8 public constant DEPOSIT_TX_TYPE = 0x7e;

    /// @notice `secp256k1n / 2`: a signature with a larger `s` does not recover (EIP-2), as
    ///         the node's `recover_signer` decides.
    uint256 public constant SECP256K1N_HALF = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice The most calldata a batch transaction's step reads (its intrinsic gas needs the
    ///         bytes); a step that would need more reverts `NotProvableYet`.
    uint256 public constant MAX_STEP_CALLDATA = 6144;

    /// @notice The most bytes of RLP access list a batch transaction's step reads.
    uint256 public constant MAX_STEP_ACCESS_LIST = 3072;

    /// @notice `keccak256(rlp([]))`: every L2 header's `ommersHash`.
    bytes32 public constant EMPTY_OMMERS_HASH = 0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347;

    /// @notice The bridge whose message chain fixes every deposit of the L2 chain.
    IDepositChain public immutable depositChain;

    /// @notice The opened segments of calldata batches (and, through it, the `BatchInbox`):
    ///         what fixes every batch transaction of the L2 chain.
    SegmentStore public immutable segmentStore;

    /// @notice The `BatchInbox` whose records fix each block's batch transactions.
    BatchInbox public immutable inbox;

    /// @notice Appends to a trace state's tries (deployed by the constructor).
    TraceTries public immutable tries;

    /// @notice A trace state's preimage: what a level-1 claim inside a block commits to.
    ///         `txRoot` and `receiptRoot` are the roots of the ordered tries of the
    ///         transactions included so far and their receipts (EIP-2718 encoded; at the seal,
    ///         the header's `transactionsRoot` and `receiptsRoot`), `logsBloomHash` the
    ///         `keccak256` of the union of their receipts' blooms.
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

    /// @notice The block context a trace state commits to (`context` is `keccak256` of its
    ///         ABI encoding; `rollup_execution::block_context_hash`).
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

    /// @notice A bridge message as the deposit chain hashes it (`L1Bridge.ChainMessage`).
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

    /// @notice An account of the state trie before the step; `exists` false for an absent
    ///         leaf (then every other field is zero).
    struct Account {
        bool exists;
        uint64 nonce;
        uint256 balance;
        bytes32 codeHash;
    }

    /// @notice The witness of a deposit step.
    /// @param state        The agreed trace state (`fromState`).
    /// @param context      The preimage of `state.context`.
    /// @param parentHeader The RLP of the parent L2 header (`context.parentHash`), whose
    ///                     `extraData` names the parent's L1 origin.
    /// @param message      The deposit's bridge message.
    /// @param chainBefore  The deposit chain before the message.
    /// @param laterHashes  The hashes of the messages after it in the same L1 block.
    /// @param from         The depositor's L2 account before the step.
    /// @param fromProof    Its proof against `state.stateRoot`.
    /// @param to           The recipient's account after the depositor's update (ignored when
    ///                     they are the same account).
    /// @param toProof      Its proof against the root after the depositor's update.
    /// @param transactionsProof The append proof of the deposit's transaction in
    ///                     `state.txRoot` (`TraceTries.append`; empty when the step runs code).
    /// @param receiptsProof     The append proof of its receipt in `state.receiptRoot`.
    struct DepositWitness {
        TraceState state;
        BlockContext context;
        bytes parentHeader;
        ChainMessage message;
        bytes32 chainBefore;
        bytes32[] laterHashes;
        Account from;
        SparseMerkleTrie.Proof fromProof;
        Account to;
        SparseMerkleTrie.Proof toProof;
        bytes[] transactionsProof;
        bytes[] receiptsProof;
    }

    /// @notice The witness of an input step that is neither a deposit nor a batch transaction
    ///         (`STEP_INPUT`): the agreed trace state, its context, the parent header, the
    ///         block table of the inbox record holding the block and the first segment with a
    ///         transaction of the block in the batch where it starts (the opened segments of
    ///         all its parts show whether the block kept its transactions), from which L1 tells
    ///         whether the position runs a deposit or a batch transaction.
    struct InputWitness {
        TraceState state;
        BlockContext context;
        bytes parentHeader;
        bytes blockTable;
        uint256 firstSegment;
    }

    /// @notice The witness of the preamble (`STEP_PREAMBLE`), from which L1 fixes the block's
    ///         context.
    /// @param parent       The parent's output root (`fromState`).
    /// @param parentHeader The RLP of the parent L2 header (`parent.l2BlockHash`).
    /// @param blockTable   The block table of the inbox record holding the block.
    /// @param originHeader The RLP of the block's L1 origin's header (its recorded hash), for
    ///                     its `prevrandao` (ignored for the genesis origin, whose is zero).
    struct PreambleWitness {
        Withdrawals.OutputRoot parent;
        bytes parentHeader;
        bytes blockTable;
        bytes originHeader;
    }

    /// @notice A batch transaction as `SegmentOpener` commits to it: `keccak256(abi.encode(tx))`
    ///         is its leaf (`rollup_primitives::tx_leaf`).
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

    /// @notice The witness of a batch transaction's step (`STEP_TRANSACTION`).
    /// @param state            The agreed trace state (`fromState`).
    /// @param context          The preimage of `state.context`.
    /// @param parentHeader     The RLP of the parent L2 header.
    /// @param blockTable       The block table of the inbox record holding the block (its
    ///                         `blocksHash` preimage).
    /// @param firstSegment     The first segment with a transaction of the block in the batch
    ///                         where the block starts (its first part, see `BlockParts`).
    /// @param transaction      The transaction, as its segment's leaf commits to it.
    /// @param txProof          The leaf's Merkle siblings in its segment, bottom up.
    /// @param sender           The signer's account before the step (ignored when the
    ///                         signature does not recover).
    /// @param senderProof      Its proof against `state.stateRoot`.
    /// @param recipient        `to`'s account after the sender's update (ignored when it is
    ///                         the sender).
    /// @param recipientProof   Its proof against the root after the sender's update.
    /// @param beneficiary      The beneficiary's account after the sender's and recipient's
    ///                         updates (ignored when it is one of them).
    /// @param beneficiaryProof Its proof against the root after those updates.
    /// @param data             The transaction's calldata (when it is included and runs no
    ///                         code: its intrinsic gas needs it).
    /// @param accessList       Its access list's RLP (likewise; empty for a legacy one).
    /// @param encoded          The transaction's EIP-2718 encoding, whose `keccak256` is
    ///                         `transaction.txHash` (likewise: the value it appends to
    ///                         `state.txRoot`).
    /// @param transactionsProof Its append proof in `state.txRoot` (`TraceTries.append`).
    /// @param receiptsProof    Its receipt's append proof in `state.receiptRoot`.
    struct TransactionWitness {
        TraceState state;
        BlockContext context;
        bytes parentHeader;
        bytes blockTable;
        uint256 firstSegment;
        BatchTx transaction;
        bytes32[] txProof;
        Account sender;
        SparseMerkleTrie.Proof senderProof;
        Account recipient;
        SparseMerkleTrie.Proof recipientProof;
        Account beneficiary;
        SparseMerkleTrie.Proof beneficiaryProof;
        bytes data;
        bytes accessList;
        bytes encoded;
        bytes[] transactionsProof;
        bytes[] receiptsProof;
    }

    /// @notice The witness of the seal (`STEP_SEAL`): the fields of `InputWitness`, then the
    ///         block's logs bloom (the preimage of `state.logsBloomHash`).
    struct SealWitness {
        TraceState state;
        BlockContext context;
        bytes parentHeader;
        bytes blockTable;
        uint256 firstSegment;
        bytes logsBloom;
    }

    /// @notice Thrown when the witness does not open the agreed state or names another block.
    error OneStepVerifier_BadWitness();

    /// @notice Thrown when a step that runs one of the block's deposits comes with another
    ///         witness than `STEP_DEPOSIT`: L1 decides a deposit's step from the deposit chain.
    /// @param l2Block  The L2 block.
    /// @param position The step's position.
    error OneStepVerifier_DepositStep(uint256 l2Block, uint256 position);

    /// @notice Thrown when a step that runs one of the block's batch transactions comes with
    ///         another witness than `STEP_TRANSACTION`: L1 decides it from the opened segment.
    /// @param l2Block  The L2 block.
    /// @param position The step's position.
    error OneStepVerifier_BatchTransactionStep(uint256 l2Block, uint256 position);

    /// @notice Thrown when a block's seal comes with another witness than `STEP_SEAL`.
    /// @param l2Block  The L2 block.
    /// @param position The step's position.
    error OneStepVerifier_SealStep(uint256 l2Block, uint256 position);

    /// @notice Thrown when a batch transaction's step needs a segment nobody opened yet: open it
    ///         with `SegmentStore.open`, then step.
    /// @param record  The inbox record of the batch.
    /// @param segment The segment's index in the batch.
    error OneStepVerifier_SegmentNotOpened(uint256 record, uint256 segment);

    /// @notice Thrown when deployed without a deposit chain or a segment store.
    error OneStepVerifier_ZeroAddress();

    /// @param depositChain_ The L1 bridge (its deposit chain).
    /// @param segmentStore_ The segment store (its inbox holds the batches).
    constructor(IDepositChain depositChain_, SegmentStore segmentStore_) {
        if (address(depositChain_) == address(0) || address(segmentStore_) == address(0)) {
            revert OneStepVerifier_ZeroAddress();
        }
        depositChain = depositChain_;
        segmentStore = segmentStore_;
        inbox = segmentStore_.inbox();
        tries = new TraceTries();
    }

    /// @inheritdoc IOneStepVerifier
    function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external view returns (bool) {
        StepContext memory ctx = abi.decode(proof, (StepContext));
        (uint8 kind, bytes memory body) = abi.decode(ctx.witness, (uint8, bytes));
        if (kind == STEP_PADDING) {
            if (ctx.position == 0) revert OneStepVerifier_BadWitness();
            Withdrawals.OutputRoot memory output = abi.decode(body, (Withdrawals.OutputRoot));
            if (
                output.version != Withdrawals.OUTPUT_ROOT_VERSION || output.l2BlockNumber != ctx.l2Block
                    || Withdrawals.hashOutputRoot(output) != fromState
            ) revert OneStepVerifier_BadWitness();
            return toState == fromState;
        }
        if (kind == STEP_PREAMBLE) return _preamble(ctx, fromState, toState, body);
        if (kind == STEP_INPUT) {
            InputWitness memory w = abi.decode(body, (InputWitness));
            _openTraceState(ctx, fromState, w.state, w.context, w.parentHeader);
            // Deposits, batch transactions and seals are decided by their own witnesses, never
            // passed off as unprovable.
            _sealRecord(ctx, w.context, w.parentHeader, w.blockTable, w.firstSegment);
            revert OneStepVerifier_SealStep(ctx.l2Block, ctx.position);
        }
        if (kind == STEP_SEAL) return _seal(ctx, fromState, toState, body);
        if (kind == STEP_DEPOSIT) return _deposit(ctx, fromState, toState, body);
        if (kind == STEP_TRANSACTION) return _transaction(ctx, fromState, toState, body);
        revert OneStepVerifier_BadWitness();
    }

    /// @dev Checks from L1 alone that the step's position is the block's seal: it runs none of
    ///      the block's deposits (else reverts `OneStepVerifier_DepositStep`) and none of its
    ///      batch transactions (`OneStepVerifier_BatchTransactionStep`). A block keeps its batch
    ///      transactions only if every segment holding one decodes (each opened in the
    ///      `SegmentStore`); otherwise it is empty, and its seal follows its deposits. Returns
    ///      the block's inbox record.
    function _sealRecord(
        StepContext memory ctx,
        BlockContext memory context,
        bytes memory parentHeader,
        bytes memory blockTable,
        uint256 firstSegment
    ) private view returns (uint256 record, BatchInbox.Record memory r) {
        (bool isDeposit,,,) = _depositAt(ctx, context, parentHeader);
        if (isDeposit) revert OneStepVerifier_DepositStep(ctx.l2Block, ctx.position);
        BlockParts memory parts;
        (record, r, parts) = _blockParts(ctx.l2Block, blockTable);
        uint256 k = _batchIndex(ctx, context, parentHeader);
        if (k < parts.total) {
            if (k == 0 && !_walkParts(parts, firstSegment, type(uint256).max).decodes) return (record, r);
            revert OneStepVerifier_BatchTransactionStep(ctx.l2Block, ctx.position);
        }
        // A trace state past the seal, where the block's output root stands: only a challenger
        // that agreed with a false claim gets here.
        if (k > parts.total) revert NotProvableYet(ctx.l2Block, ctx.position);
    }

    /// @dev Where a block's batch transactions are: its parts, in order, each a run of one
    ///      record's batch transactions. A block is one part of the record holding it unless
    ///      earlier records left it open (`BatchInbox.Record.lastBlockOpen`); then those hold
    ///      its first transactions, each its batch's last `lastBlockTxs`, and the record
    ///      holding it (which starts with it) the rest. The inbox keeps a block within
    ///      MAX_SEGMENTS_PER_BLOCK segments and each part holds one of its transactions, so a
    ///      block has at most that many parts.
    struct BlockParts {
        uint256 count;
        uint256 total;
        /// Per part: `record << 64 | first batch transaction << 32 | transaction count`.
        uint256[16] parts;
    }

    /// @dev Walks the opened segments of one part (`BlockParts.parts` entry `part`) from
    ///      `segment`, which must hold the part's first transaction; when `at` is the index of
    ///      one of the part's transactions, records its leaf in `walk`. Returns whether every
    ///      segment decodes (stopping at the first that does not).
    function _walkPart(Walk memory walk, uint256 part, uint256 segment, uint256 at) private view returns (bool) {
        uint256 record = part >> 64;
        uint256 first = (part >> 32) & 0xffffffff;
        uint256 end = first + (part & 0xffffffff);
        if (at != type(uint256).max) at += first;
        SegmentStore.Segment memory opened = _openedSegment(record, segment);
        if (opened.firstTx > first || uint256(opened.firstTx) + opened.txCount <= first) {
            revert OneStepVerifier_BadWitness();
        }
        while (true) {
            if (!opened.ok) return false;
            uint256 segmentEnd = uint256(opened.firstTx) + opened.txCount;
            if (at < segmentEnd) {
                (walk.root, walk.leafIndex, walk.leafCount) = (opened.txRoot, at - opened.firstTx, opened.txCount);
                at = type(uint256).max;
            }
            if (segmentEnd >= end) return true;
            opened = _openedSegment(record, ++segment);
        }
    }

    /// @dev One entry of `BlockParts.parts`.
    function _part(uint256 record, uint256 first, uint256 count) private pure returns (uint256) {
        return record << 64 | first << 32 | count;
    }

    /// @dev What one walk over a block's opened segments found: whether every segment holding
    ///      one of its transactions decodes and, if the walk looked for one, the segment root,
    ///      leaf index and leaf count of that transaction.
    struct Walk {
        bool decodes;
        bytes32 root;
        uint256 leafIndex;
        uint256 leafCount;
    }

    /// @dev The inbox record holding `l2Block` (checked against its block table `blockTable`)
    ///      and the block's parts.
    function _blockParts(uint256 l2Block, bytes memory blockTable)
        private
        view
        returns (uint256 index, BatchInbox.Record memory record, BlockParts memory parts)
    {
        uint256 blockTxs;
        uint256 txsBefore;
        (index, record, blockTxs, txsBefore) = _blockInBatch(l2Block, blockTable);
        // Earlier parts, newest first: the records before `index` left open, back to the one
        // where the block starts (the first that holds other blocks too, or continues none).
        // A record's flag stays set after a later record closed its block, so the walk stops
        // at the block's start, not at the flag.
        uint256 earlier;
        if (l2Block == record.firstBlock) {
            while (earlier < 15 && index > earlier) {
                BatchInbox.Record memory open = inbox.records(index - earlier - 1);
                if (!open.lastBlockOpen) break;
                ++earlier;
                parts.parts[15 - earlier] =
                    _part(index - earlier, uint256(open.txCount) - open.lastBlockTxs, open.lastBlockTxs);
                parts.total += open.lastBlockTxs;
                if (open.blockCount != 1 || open.firstBlockTxOffset == 0) break;
            }
            for (uint256 i; i < earlier; ++i) {
                parts.parts[i] = parts.parts[15 - earlier + i];
            }
        }
        // The inbox counted the same transactions before this record.
        if (l2Block == record.firstBlock && parts.total != record.firstBlockTxOffset) {
            revert OneStepVerifier_BadWitness();
        }
        parts.parts[earlier] = _part(index, txsBefore, blockTxs);
        parts.count = earlier + 1;
        parts.total += blockTxs;
    }

    /// @dev Walks the opened segments holding the block's transactions, part by part: in the
    ///      first part from `firstSegment` (which must hold the part's first transaction), in
    ///      later ones from segment 0 (they start their batch). Stops at the first segment that
    ///      does not decode. When `target` is one of the block's transactions, also finds its
    ///      leaf.
    function _walkParts(BlockParts memory parts, uint256 firstSegment, uint256 target)
        private
        view
        returns (Walk memory walk)
    {
        uint256 before;
        for (uint256 i; i < parts.count; ++i) {
            uint256 part = parts.parts[i];
            uint256 count = part & 0xffffffff;
            if (count == 0) continue;
            // The target's index among this part's transactions, if the part holds it.
            uint256 at = target >= before && target - before < count ? target - before : type(uint256).max;
            if (!_walkPart(walk, part, i == 0 ? firstSegment : 0, at)) return walk;
            before += count;
        }
        walk.decodes = true;
    }

    /// @dev The seal: from the block's last trace state to its output root. The trace state
    ///      holds both tries' roots; the witness's bloom must be its `logsBloomHash` preimage.
    ///      The verifier builds the header from the block context, the state root, the gas
    ///      used, the two roots and the bloom, and the output root from the block's hash and
    ///      its place in the inbox.
    function _seal(StepContext memory ctx, bytes32 fromState, bytes32 toState, bytes memory body)
        private
        view
        returns (bool)
    {
        SealWitness memory w = abi.decode(body, (SealWitness));
        TraceState memory state = w.state;
        _openTraceState(ctx, fromState, state, w.context, w.parentHeader);
        (uint256 record, BatchInbox.Record memory r) =
            _sealRecord(ctx, w.context, w.parentHeader, w.blockTable, w.firstSegment);
        if (w.logsBloom.length != 256 || keccak256(w.logsBloom) != state.logsBloomHash) {
            revert OneStepVerifier_BadWitness();
        }
        bytes32 blockHash = _blockHash(w.context, state, w.logsBloom);
        Withdrawals.OutputRoot memory output = Withdrawals.OutputRoot({
            version: Withdrawals.OUTPUT_ROOT_VERSION,
            l2BlockNumber: ctx.l2Block,
            stateRoot: state.stateRoot,
            l2BlockHash: blockHash,
            inboxRecord: record,
            blockInRecord: ctx.l2Block - r.firstBlock,
            l1Block: r.l1Block
        });
        return Withdrawals.hashOutputRoot(output) == toState;
    }

    /// @dev The hash of the block's header as the node builds it (`execute_block`): the
    ///      pre-Shanghai fields and the base fee, with the L1 origin in `extraData` and its
    ///      `prevrandao` in `mixHash`.
    function _blockHash(BlockContext memory c, TraceState memory state, bytes memory bloom)
        private
        pure
        returns (bytes32)
    {
        bytes memory head = abi.encodePacked(
            bytes1(0xa0),
            c.parentHash,
            bytes1(0xa0),
            EMPTY_OMMERS_HASH,
            bytes1(0x94),
            c.beneficiary,
            bytes1(0xa0),
            state.stateRoot,
            bytes1(0xa0),
            state.txRoot,
            bytes1(0xa0),
            state.receiptRoot,
            bytes3(0xb90100),
            bloom
        );
        bytes memory tail = _headerTail(c, state.cumulativeGas);
        // The payload is over 500 bytes and under 64 kB: a two-byte length.
        return keccak256(abi.encodePacked(bytes1(0xf9), uint16(head.length + tail.length), head, tail));
    }

    /// @dev The header's fields from `difficulty` on.
    function _headerTail(BlockContext memory c, uint256 gasUsed) private pure returns (bytes memory) {
        bytes memory numbers = abi.encodePacked(
            bytes1(0x80), _rlpUint(c.number), _rlpUint(c.gasLimit), _rlpUint(gasUsed), _rlpUint(c.timestamp)
        );
        return abi.encodePacked(
            numbers,
            bytes1(0xa8),
            // casting to 'uint64' is safe: the preamble took it from a header's 8-byte field
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(c.l1OriginNumber),
            c.l1OriginHash,
            bytes1(0xa0),
            c.prevrandao,
            bytes9(0x880000000000000000),
            _rlpUint(c.baseFee)
        );
    }

    /// @dev The deposit step: opens the agreed state, finds the deposit the position runs in the
    ///      bridge's chain, applies it to the two accounts and both tries, and compares the
    ///      resulting trace state with `toState`.
    function _deposit(StepContext memory ctx, bytes32 fromState, bytes32 toState, bytes memory body)
        private
        view
        returns (bool)
    {
        DepositWitness memory w = abi.decode(body, (DepositWitness));
        TraceState memory state = w.state;
        _openTraceState(ctx, fromState, state, w.context, w.parentHeader);
        (bool isDeposit, uint256 index, uint256 countAfter, bytes32 chainAfter) =
            _depositAt(ctx, w.context, w.parentHeader);
        // Another kind of position: its own witness decides it (never passed off as
        // unprovable).
        if (!isDeposit) revert OneStepVerifier_BadWitness();
        ChainMessage memory m = w.message;
        {
            // The message folds to the chain's next mark inside the L1 block, if one was kept,
            // else to the block's checkpoint: at most DEPOSIT_CHAIN_MARK hashes either way
            // once marks are kept.
            uint256 markEnd = (index / DEPOSIT_CHAIN_MARK + 1) * DEPOSIT_CHAIN_MARK;
            if (markEnd < countAfter) {
                bytes32 mark = depositChain.depositChainMark(markEnd - 1);
                if (mark != bytes32(0)) (countAfter, chainAfter) = (markEnd, mark);
            }
            bytes32[] memory later = w.laterHashes;
            if (later.length != countAfter - index - 1) revert OneStepVerifier_BadWitness();
            bytes32 chain = keccak256(abi.encode(w.chainBefore, keccak256(abi.encode(m))));
            // keccak256(abi.encode(chain, hash)) in scratch space: no allocation per message.
            assembly ("memory-safe") {
                let end := add(add(later, 0x20), shl(5, mload(later)))
                for { let p := add(later, 0x20) } lt(p, end) { p := add(p, 0x20) } {
                    mstore(0x00, chain)
                    mstore(0x20, mload(p))
                    chain := keccak256(0x00, 0x40)
                }
            }
            if (chain != chainAfter) revert OneStepVerifier_BadWitness();
        }
        // Anything but an ETH deposit to an account without code runs code (the L2 bridge, the
        // recipient's code or a precompile); derivation skips the malformed ones.
        if (
            m.kind != 0 || m.l1Token != address(0) || m.l2Token != address(0) || m.amount == 0
                || m.amount > type(uint128).max || m.gasLimit < TRANSFER_GAS || _isPrecompile(m.to)
        ) revert NotProvableYet(ctx.l2Block, ctx.position);

        TraceState memory next = _include(
            state,
            _applyTransfer(ctx, state.stateRoot, m, w),
            TRANSFER_GAS,
            _depositTx(m),
            DEPOSIT_TX_TYPE,
            w.transactionsProof,
            w.receiptsProof
        );
        return keccak256(abi.encode(next)) == toState;
    }

    /// @dev The trace state after `state` once a transaction that ran no code is included: its
    ///      post-state root `stateRoot`, `gasUsed` added, and its EIP-2718 encoding `encodedTx`
    ///      and its receipt (successful, of type `txType`, no logs) appended to the tries with
    ///      the witness's append proofs.
    function _include(
        TraceState memory state,
        bytes32 stateRoot,
        uint256 gasUsed,
        bytes memory encodedTx,
        uint8 txType,
        bytes[] memory transactionsProof,
        bytes[] memory receiptsProof
    ) private view returns (TraceState memory next) {
        uint256 cumulativeGas = state.cumulativeGas + gasUsed;
        next = TraceState({
            version: TRACE_STATE_VERSION,
            l2Block: state.l2Block,
            inputs: state.inputs + 1,
            stateRoot: stateRoot,
            cumulativeGas: cumulativeGas,
            included: state.included + 1,
            txRoot: tries.append(state.txRoot, state.included, encodedTx, transactionsProof),
            receiptRoot: tries.append(
                state.receiptRoot, state.included, _receipt(txType, cumulativeGas), receiptsProof
            ),
            logsBloomHash: state.logsBloomHash,
            context: state.context
        });
    }

    /// @dev The preamble: from the parent's output root to the block's first trace state, which
    ///      holds the parent's state root, nothing run yet, and the block context L1 fixes:
    ///      the parent's hash; the number; the timestamp and the L1 origin, the parent's plus
    ///      the block table's deltas; the origin's recorded hash and its header's `prevrandao`;
    ///      the base fee by EIP-1559 from the parent header; the parent's gas limit (every
    ///      block keeps the genesis one); no beneficiary (fees go to the zero address).
    function _preamble(StepContext memory ctx, bytes32 fromState, bytes32 toState, bytes memory body)
        private
        view
        returns (bool)
    {
        if (ctx.position != 0 || ctx.l2Block == 0) revert OneStepVerifier_BadWitness();
        PreambleWitness memory w = abi.decode(body, (PreambleWitness));
        Withdrawals.OutputRoot memory parent = w.parent;
        if (
            parent.version != Withdrawals.OUTPUT_ROOT_VERSION || parent.l2BlockNumber != ctx.l2Block - 1
                || Withdrawals.hashOutputRoot(parent) != fromState || keccak256(w.parentHeader) != parent.l2BlockHash
        ) revert OneStepVerifier_BadWitness();
        TraceState memory next = TraceState({
            version: TRACE_STATE_VERSION,
            l2Block: ctx.l2Block,
            inputs: 1,
            stateRoot: parent.stateRoot,
            cumulativeGas: 0,
            included: 0,
            txRoot: OrderedTrie.EMPTY_ROOT,
            receiptRoot: OrderedTrie.EMPTY_ROOT,
            logsBloomHash: EMPTY_BLOOM_HASH,
            context: keccak256(abi.encode(_context(ctx.l2Block, parent.l2BlockHash, w)))
        });
        return keccak256(abi.encode(next)) == toState;
    }

    /// @dev The block context of `l2Block` from its parent header, its block table entry and
    ///      its L1 origin (see `_preamble`).
    function _context(uint256 l2Block, bytes32 parentHash, PreambleWitness memory w)
        private
        view
        returns (BlockContext memory c)
    {
        bytes memory header = w.parentHeader;
        (,, uint256 entry) = _tableEntry(l2Block, w.blockTable);
        uint256 originDelta = uint8(w.blockTable[entry]);
        uint256 timestampDelta;
        for (uint256 i = 1; i < 5; ++i) {
            timestampDelta = (timestampDelta << 8) | uint8(w.blockTable[entry + i]);
        }
        c.parentHash = parentHash;
        c.number = l2Block;
        c.timestamp = _uintField(header, 11) + timestampDelta;
        c.l1OriginNumber = _originOf(header) + originDelta;
        c.l1OriginHash = inbox.originHash(c.l1OriginNumber);
        // The node starts at L2 genesis before it has read the genesis origin's header, so the
        // blocks of the genesis epoch run with `prevrandao` zero; every later origin's is its
        // header's `mixHash`.
        if (c.l1OriginNumber != inbox.genesisOrigin()) {
            if (keccak256(w.originHeader) != c.l1OriginHash) revert OneStepVerifier_BadWitness();
            (uint256 mixOffset, uint256 length) = _field(w.originHeader, 13);
            if (length != 32) revert OneStepVerifier_BadWitness();
            bytes memory originHeader = w.originHeader;
            bytes32 mixHash;
            assembly ("memory-safe") {
                mixHash := mload(add(add(originHeader, 0x20), mixOffset))
            }
            c.prevrandao = mixHash;
        }
        c.gasLimit = _uintField(header, 9);
        c.baseFee = _nextBaseFee(_uintField(header, 15), _uintField(header, 10), c.gasLimit);
    }

    /// @dev The base fee after a block with `baseFee`, `gasUsed` and `gasLimit` by EIP-1559
    ///      with Ethereum's parameters (elasticity 2, change denominator 8), as
    ///      `alloy_eips::calc_next_block_base_fee` computes it.
    function _nextBaseFee(uint256 baseFee, uint256 gasUsed, uint256 gasLimit) private pure returns (uint256) {
        uint256 target = gasLimit / 2;
        if (target == 0 || gasUsed == target) return baseFee;
        if (gasUsed > target) {
            uint256 increase = baseFee * (gasUsed - target) / (target * 8);
            return baseFee + uint64(increase == 0 ? 1 : increase);
        }
        uint256 decrease = uint64(baseFee * (target - gasUsed) / (target * 8));
        return decrease > baseFee ? 0 : baseFee - decrease;
    }

    /// @dev The batch transaction step: opens the agreed state, finds the transaction the
    ///      position runs in its opened segment, and decides it as the node does: skipped
    ///      (only `inputs` moves on) when its signature does not recover, it does not fit the
    ///      block's remaining gas or revm refuses it (fees, nonce, balance); otherwise, when it
    ///      runs no code, applied to the sender, the recipient and the beneficiary and to the
    ///      tries. Reverts `NotProvableYet` for a transaction that runs code, or whose
    ///      calldata or access list is larger than a step reads.
    function _transaction(StepContext memory ctx, bytes32 fromState, bytes32 toState, bytes memory body)
        private
        view
        returns (bool)
    {
        TransactionWitness memory w = abi.decode(body, (TransactionWitness));
        _openTraceState(ctx, fromState, w.state, w.context, w.parentHeader);
        (bool isDeposit,,,) = _depositAt(ctx, w.context, w.parentHeader);
        if (isDeposit) revert OneStepVerifier_DepositStep(ctx.l2Block, ctx.position);
        _checkLeaf(ctx, w);
        return keccak256(abi.encode(_applyTransaction(ctx, w))) == toState;
    }

    /// @dev Checks that `w.transaction` is the batch transaction the step's position runs,
    ///      from L1 alone: the block's place in its inbox record (the block table), the
    ///      position past the block's deposits, and the transaction's leaf in its segment,
    ///      opened in the `SegmentStore` like every other segment with a transaction of the
    ///      block (if one of them does not decode, the block is empty and the position is its
    ///      seal).
    function _checkLeaf(StepContext memory ctx, TransactionWitness memory w) private view {
        (,, BlockParts memory parts) = _blockParts(ctx.l2Block, w.blockTable);
        uint256 k = _batchIndex(ctx, w.context, w.parentHeader);
        // The seal (after the block's transactions, or after its deposits when a segment
        // holding one of them does not decode) is `STEP_SEAL`'s to decide; past it stands the
        // block's output root, where a trace state is false.
        if (k == parts.total) revert OneStepVerifier_SealStep(ctx.l2Block, ctx.position);
        if (k > parts.total) revert NotProvableYet(ctx.l2Block, ctx.position);
        Walk memory walk = _walkParts(parts, w.firstSegment, k);
        if (!walk.decodes) {
            if (k == 0) revert OneStepVerifier_SealStep(ctx.l2Block, ctx.position);
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        _verifyLeaf(keccak256(abi.encode(w.transaction)), walk.leafIndex, walk.leafCount, w.txProof, walk.root);
    }

    /// @dev A segment of record `record` as the store opened it; reverts if it was not.
    function _openedSegment(uint256 record, uint256 segment) private view returns (SegmentStore.Segment memory s) {
        s = segmentStore.segments(record, segment);
        if (!s.opened) revert OneStepVerifier_SegmentNotOpened(record, segment);
    }

    /// @dev Reverts unless `leaf` is leaf `index` of the `count` leaves under `root`
    ///      (`SegmentOpener.merkleRoot`: zero-padded to a power of two; one leaf is the root).
    function _verifyLeaf(bytes32 leaf, uint256 index, uint256 count, bytes32[] memory proof, bytes32 root)
        private
        pure
    {
        uint256 depth;
        while ((uint256(1) << depth) < count) ++depth;
        if (proof.length != depth) revert OneStepVerifier_BadWitness();
        bytes32 node = leaf;
        for (uint256 i; i < depth; ++i) {
            node = (index >> i) & 1 == 0
                ? keccak256(abi.encodePacked(node, proof[i]))
                : keccak256(abi.encodePacked(proof[i], node));
        }
        if (node != root) revert OneStepVerifier_BadWitness();
    }

    /// @dev The trace state after the batch transaction `w.transaction`, as the node's
    ///      derivation and `execute_block` decide it.
    function _applyTransaction(StepContext memory ctx, TransactionWitness memory w)
        private
        view
        returns (TraceState memory next)
    {
        TraceState memory state = w.state;
        next = TraceState({
            version: TRACE_STATE_VERSION,
            l2Block: state.l2Block,
            inputs: state.inputs + 1,
            stateRoot: state.stateRoot,
            cumulativeGas: state.cumulativeGas,
            included: state.included,
            txRoot: state.txRoot,
            receiptRoot: state.receiptRoot,
            logsBloomHash: state.logsBloomHash,
            context: state.context
        });
        BatchTx memory t = w.transaction;
        // Derivation skips a transaction whose signature does not recover.
        address sender = _signer(t);
        if (sender == address(0)) return next;
        (bytes32 senderOld, bytes32 senderCode) = _opened(w.sender);
        SparseMerkleTrie.verify(state.stateRoot, SparseMerkleTrie.accountKey(sender), senderOld, w.senderProof);
        if (!_admitted(t, w.sender, state.cumulativeGas, w.context)) return next;
        // revm refuses a gas limit below the intrinsic gas or the calldata floor before it
        // looks at any code: such a transaction is skipped whatever it would run. Otherwise a
        // call that runs no code uses exactly the larger of the two.
        uint256 gasUsed = _intrinsicGas(ctx, t, w);
        if (gasUsed > t.gasLimit) return next;
        // It runs no code only as a call from an account without code (an EIP-7702 delegation
        // would be allowed to send, but is code) to an account without code outside the
        // precompiles.
        if (senderCode != EMPTY_CODE_HASH || t.isCreate || _isPrecompile(t.to)) {
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        // The leaf commits to the transaction's hash: the witness's encoding is its preimage.
        if (keccak256(w.encoded) != t.txHash) revert OneStepVerifier_BadWitness();
        bytes32 root = _applyCall(ctx, state.stateRoot, sender, senderOld, senderCode, gasUsed, w);
        return _includeCall(w, root, gasUsed);
    }

    /// @dev `_include` for the batch transaction of `w`.
    function _includeCall(TransactionWitness memory w, bytes32 stateRoot, uint256 gasUsed)
        private
        view
        returns (TraceState memory)
    {
        return _include(
            w.state, stateRoot, gasUsed, w.encoded, uint8(w.transaction.txType), w.transactionsProof, w.receiptsProof
        );
    }

    /// @dev The gas a call that runs no code uses (Prague): the intrinsic gas (21,000, 4 per
    ///      zero and 16 per other calldata byte, 2,400 per access-list address and 1,900 per
    ///      storage key; for a creation also 32,000 and 2 per 32-byte word of init code) or the
    ///      EIP-7623 floor (21,000 plus 10 per token, a zero byte one token and any other four),
    ///      whichever is larger: below it revm refuses any transaction. The witness's calldata
    ///      must be the leaf's (its length and the Merkle root of its 32-byte chunks) and its
    ///      access list too (its `keccak256`; none for a legacy transaction). Beyond
    ///      `MAX_STEP_CALLDATA` bytes of calldata or `MAX_STEP_ACCESS_LIST` of access list,
    ///      `NotProvableYet`.
    function _intrinsicGas(StepContext memory ctx, BatchTx memory t, TransactionWitness memory w)
        private
        pure
        returns (uint256)
    {
        bytes memory data = w.data;
        bytes memory accessList = w.accessList;
        // The access list is the leaf's before its size can make the step unprovable (the
        // calldata's length is the leaf's own).
        if (t.txType == 0 ? accessList.length != 0 : keccak256(accessList) != t.accessListHash) {
            revert OneStepVerifier_BadWitness();
        }
        if (t.calldataLength > MAX_STEP_CALLDATA || accessList.length > MAX_STEP_ACCESS_LIST) {
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        if (data.length != t.calldataLength || _chunkRoot(data) != t.calldataRoot) revert OneStepVerifier_BadWitness();
        uint256 zeros = _zeroBytes(data);
        uint256 others = data.length - zeros;
        uint256 gas = TRANSFER_GAS + 4 * zeros + 16 * others;
        if (t.isCreate) gas += CREATE_GAS + 2 * ((data.length + 31) / 32);
        uint256 floor = TRANSFER_GAS + 10 * (zeros + 4 * others);
        if (t.txType != 0) {
            (uint256 addresses, uint256 keys) = _accessListCounts(accessList);
            gas += 2400 * addresses + 1900 * keys;
        }
        return gas > floor ? gas : floor;
    }

    /// @dev How many bytes of `data` are zero, a word at a time: a byte's top bit is set in
    ///      `~(((w & 0x7f..) + 0x7f..) | w | 0x7f..)` exactly when the byte is zero, and the
    ///      flags, moved to the bytes' low bits, sum into the top byte of their product with
    ///      `0x0101..01` (at most 32: no carry crosses a byte). The last word's bytes past the
    ///      end count as non-zero.
    function _zeroBytes(bytes memory data) private pure returns (uint256 zeros) {
        assembly ("memory-safe") {
            let low := 0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let length := mload(data)
            let start := add(data, 0x20)
            for { let offset := 0 } lt(offset, length) { offset := add(offset, 0x20) } {
                let w := mload(add(start, offset))
                let rest := sub(length, offset)
                // Past the end: make the bytes non-zero.
                if lt(rest, 0x20) { w := or(w, shr(mul(8, rest), not(0))) }
                let flags := not(or(or(add(and(w, low), low), w), low))
                zeros := add(zeros, shr(248, mul(shr(7, flags), ones)))
            }
        }
    }

    /// @dev The Merkle root of `data`'s 32-byte chunks, the last zero-padded
    ///      (`SegmentOpener`'s `calldataRoot`; zero without data).
    function _chunkRoot(bytes memory data) private pure returns (bytes32) {
        bytes32[] memory words = new bytes32[]((data.length + 31) / 32);
        assembly ("memory-safe") {
            mcopy(add(words, 0x20), add(data, 0x20), mload(data))
        }
        return SegmentOpener.merkleRoot(words);
    }

    /// @dev How many addresses and storage keys the RLP access list `list`
    ///      (`[[address, [key, ...]], ...]`) names.
    function _accessListCounts(bytes memory list) private pure returns (uint256 addresses, uint256 keys) {
        (uint256 pos, uint256 length, bool isList) = _rlpItem(list, 0);
        if (!isList || pos + length != list.length) revert OneStepVerifier_BadWitness();
        while (pos < list.length) {
            (uint256 entry, uint256 entryLength, bool entryIsList) = _rlpItem(list, pos);
            if (!entryIsList) revert OneStepVerifier_BadWitness();
            pos = entry + entryLength;
            ++addresses;
            keys += _entryKeys(list, entry, pos);
        }
    }

    /// @dev The storage keys of the access-list entry `[address, [key, ...]]` whose payload is
    ///      `list[entry..end]`.
    function _entryKeys(bytes memory list, uint256 entry, uint256 end) private pure returns (uint256 keys) {
        (uint256 at, uint256 size,) = _rlpItem(list, entry);
        (uint256 keyPos, uint256 keysLength, bool keysAreList) = _rlpItem(list, at + size);
        if (!keysAreList || keyPos + keysLength != end) revert OneStepVerifier_BadWitness();
        while (keyPos < end) {
            (uint256 key, uint256 keyLength,) = _rlpItem(list, keyPos);
            keyPos = key + keyLength;
            ++keys;
        }
    }

    /// @dev The transaction's signer, or zero when its signature does not recover: `s` above
    ///      half the curve order (EIP-2, as `recover_signer` refuses it) or no point.
    function _signer(BatchTx memory t) private pure returns (address signer) {
        if (t.yParity > 1 || uint256(t.s) > SECP256K1N_HALF) return address(0);
        // The precompile returns nothing for r or s outside 1..n-1 or no recoverable point.
        signer = ecrecover(t.signingHash, uint8(27 + t.yParity), t.r, t.s);
    }

    /// @dev Whether the node includes a transaction from `sender` (already recovered) at
    ///      cumulative gas `cumulativeGas`: it fits the block's remaining gas (else
    ///      `execute_block` defers it) and revm's checks pass (fee caps, intrinsic gas, nonce,
    ///      balance for `gasLimit * maxFee + value`, EIP-3607 aside, which the caller leaves
    ///      unprovable).
    function _admitted(BatchTx memory t, Account memory sender, uint256 cumulativeGas, BlockContext memory context)
        private
        pure
        returns (bool)
    {
        // The segment codec keeps gas limits within 64 bits and fees within 128; anything
        // else is refused like an overflowing payment.
        if (t.gasLimit > type(uint64).max || t.fee > type(uint128).max || t.priorityFee > type(uint128).max) {
            return false;
        }
        if (cumulativeGas + t.gasLimit > context.gasLimit) return false;
        if (t.gasLimit < TRANSFER_GAS) return false;
        if (t.txType == 2 && t.priorityFee > t.fee) return false;
        if (t.fee < context.baseFee) return false;
        if (t.nonce != sender.nonce || t.nonce == type(uint64).max) return false;
        uint256 gasCost = t.gasLimit * t.fee;
        if (gasCost > type(uint128).max || t.value > type(uint256).max - gasCost) return false;
        return sender.balance >= gasCost + t.value;
    }

    /// @dev The state root after a call that runs no code: the sender pays `gasUsed` at the
    ///      effective price and `value`, and its nonce grows; the recipient gets `value`;
    ///      the beneficiary gets the priority part of the fee (the base fee is burnt). Each
    ///      account changes once, in that order, and an account left empty is removed (the
    ///      call touched it; EIP-161).
    function _applyCall(
        StepContext memory ctx,
        bytes32 root,
        address sender,
        bytes32 senderOld,
        bytes32 senderCode,
        uint256 gasUsed,
        TransactionWitness memory w
    ) private pure returns (bytes32) {
        BatchTx memory t = w.transaction;
        uint256 baseFee = w.context.baseFee;
        uint256 price = t.fee;
        if (t.txType == 2 && baseFee + t.priorityFee < price) price = baseFee + t.priorityFee;
        uint256 reward = gasUsed * (price - baseFee);
        // `_admitted` checked balance >= gasLimit * fee + value, which covers the spending.
        root = _applySender(root, sender, senderOld, senderCode, gasUsed * price + t.value, reward, w);
        root = _applyRecipient(ctx, root, sender, reward, w);
        address beneficiary = w.context.beneficiary;
        if (beneficiary == sender || beneficiary == t.to) return root;
        (bytes32 old, bytes32 code) = _opened(w.beneficiary);
        return SparseMerkleTrie.computeUpdatedRoot(
            root,
            SparseMerkleTrie.accountKey(beneficiary),
            old,
            _touched(w.beneficiary.nonce, w.beneficiary.balance + reward, code),
            w.beneficiaryProof
        );
    }

    /// @dev The sender's update: `spent` paid, nonce bumped, and what comes back to it as the
    ///      recipient or the beneficiary.
    function _applySender(
        bytes32 root,
        address sender,
        bytes32 senderOld,
        bytes32 senderCode,
        uint256 spent,
        uint256 reward,
        TransactionWitness memory w
    ) private pure returns (bytes32) {
        uint256 balance = w.sender.balance - spent;
        if (w.transaction.to == sender) balance += w.transaction.value;
        if (w.context.beneficiary == sender) balance += reward;
        return SparseMerkleTrie.computeUpdatedRoot(
            root,
            SparseMerkleTrie.accountKey(sender),
            senderOld,
            SparseMerkleTrie.accountValueHash(w.sender.nonce + 1, balance, senderCode),
            w.senderProof
        );
    }

    /// @dev The recipient's update, unless it is the sender: `value`, and the reward when it is
    ///      the beneficiary too. A recipient with code makes the step unprovable.
    function _applyRecipient(
        StepContext memory ctx,
        bytes32 root,
        address sender,
        uint256 reward,
        TransactionWitness memory w
    ) private pure returns (bytes32) {
        address to = w.transaction.to;
        if (to == sender) return root;
        (bytes32 toOld, bytes32 toCode) = _opened(w.recipient);
        bytes32 toKey = SparseMerkleTrie.accountKey(to);
        // The recipient's code is read from a verified proof before it can make the step
        // unprovable.
        SparseMerkleTrie.verify(root, toKey, toOld, w.recipientProof);
        if (toCode != EMPTY_CODE_HASH) revert NotProvableYet(ctx.l2Block, ctx.position);
        uint256 balance = w.recipient.balance + w.transaction.value;
        if (w.context.beneficiary == to) balance += reward;
        return SparseMerkleTrie.computeUpdatedRoot(
            root, toKey, toOld, _touched(w.recipient.nonce, balance, toCode), w.recipientProof
        );
    }

    /// @dev The value hash of a touched account: zero (absent) when it is empty.
    function _touched(uint64 nonce, uint256 balance, bytes32 codeHash) private pure returns (bytes32) {
        if (nonce == 0 && balance == 0 && codeHash == EMPTY_CODE_HASH) return bytes32(0);
        return SparseMerkleTrie.accountValueHash(nonce, balance, codeHash);
    }

    /// @dev Checks that `state` (with its context and parent header) opens `fromState` at the
    ///      step's position, inside the block.
    function _openTraceState(
        StepContext memory ctx,
        bytes32 fromState,
        TraceState memory state,
        BlockContext memory context,
        bytes memory parentHeader
    ) private pure {
        if (
            ctx.position == 0 || state.version != TRACE_STATE_VERSION || state.l2Block != ctx.l2Block
                || state.inputs != ctx.position || keccak256(abi.encode(state)) != fromState
                || keccak256(abi.encode(context)) != state.context || context.number != ctx.l2Block
                || keccak256(parentHeader) != context.parentHash
        ) revert OneStepVerifier_BadWitness();
    }

    /// @dev Whether the step's input is one of the block's deposits, from L1 alone: only a block
    ///      that starts an epoch carries deposits, every message of its origin's L1 block (an
    ///      origin advances by at most one block per L2 block), before its batch transactions;
    ///      the step at position p runs the block's p-th input. With the message's index in the
    ///      chain and the chain's checkpoint after the origin.
    function _depositAt(StepContext memory ctx, BlockContext memory context, bytes memory parentHeader)
        private
        view
        returns (bool isDeposit, uint256 index, uint256 countAfter, bytes32 chainAfter)
    {
        uint256 countBefore;
        (countBefore, countAfter, chainAfter) = _blockDeposits(context, parentHeader);
        index = countBefore + ctx.position - 1;
        isDeposit = index < countAfter;
    }

    /// @dev The block's deposits as a range of the deposit chain, `countBefore..countAfter`
    ///      (empty unless the block starts an epoch), with the chain after them.
    function _blockDeposits(BlockContext memory context, bytes memory parentHeader)
        private
        view
        returns (uint256 countBefore, uint256 countAfter, bytes32 chainAfter)
    {
        uint256 origin = context.l1OriginNumber;
        if (origin == 0 || _originOf(parentHeader) == origin) return (0, 0, bytes32(0));
        (countBefore,) = depositChain.depositChainAt(origin - 1);
        (countAfter, chainAfter) = depositChain.depositChainAt(origin);
    }

    /// @dev Which of the block's batch transactions the step's position runs, counting from 0,
    ///      if it runs one (the caller compares with the block's count): the block's inputs are
    ///      its deposits, then its batch transactions, then the seal.
    function _batchIndex(StepContext memory ctx, BlockContext memory context, bytes memory parentHeader)
        private
        view
        returns (uint256)
    {
        (uint256 countBefore, uint256 countAfter,) = _blockDeposits(context, parentHeader);
        uint256 deposits = countAfter - countBefore;
        // Positions of deposits come out huge and are never below a block's count.
        unchecked {
            return ctx.position - 1 - deposits;
        }
    }

    /// @dev The inbox record holding `l2Block`, checked against its block table: the record's
    ///      index and contents, the block's transaction count and how many of the batch's
    ///      transactions come before the block's.
    function _blockInBatch(uint256 l2Block, bytes memory blockTable)
        private
        view
        returns (uint256 index, BatchInbox.Record memory record, uint256 blockTxs, uint256 txsBefore)
    {
        uint256 entry;
        (index, record, entry) = _tableEntry(l2Block, blockTable);
        // Up to 4,096 entries: the count of each (its last two bytes) read with one load.
        assembly ("memory-safe") {
            let data := add(blockTable, 0x20)
            for { let offset := 0 } lt(offset, entry) { offset := add(offset, 7) } {
                txsBefore := add(txsBefore, shr(240, mload(add(data, add(offset, 5)))))
            }
            blockTxs := shr(240, mload(add(data, add(entry, 5))))
        }
    }

    /// @dev The inbox record holding `l2Block` and where the block's entry starts in its block
    ///      table `blockTable`, checked against the record's `blocksHash`.
    function _tableEntry(uint256 l2Block, bytes memory blockTable)
        private
        view
        returns (uint256 index, BatchInbox.Record memory record, uint256 entry)
    {
        // casting to 'uint64' is safe: checked just before
        if (l2Block > type(uint64).max) revert OneStepVerifier_BadWitness();
        // forge-lint: disable-next-line(unsafe-typecast)
        index = inbox.recordOf(uint64(l2Block));
        record = inbox.records(index);
        if (blockTable.length != uint256(record.blockCount) * 7 || keccak256(blockTable) != record.blocksHash) {
            revert OneStepVerifier_BadWitness();
        }
        entry = (l2Block - record.firstBlock) * 7;
    }

    /// @dev The state root after the deposit: `amount` minted to `from`, whose nonce the call
    ///      bumps, then moved to `to` (no fee: deposits pay none).
    function _applyTransfer(StepContext memory ctx, bytes32 root, ChainMessage memory m, DepositWitness memory w)
        private
        pure
        returns (bytes32)
    {
        (bytes32 fromOld, bytes32 fromCode) = _opened(w.from);
        bytes32 fromKey = SparseMerkleTrie.accountKey(m.from);
        // The depositor's nonce and code are read from a verified proof before either can make
        // the step unprovable.
        SparseMerkleTrie.verify(root, fromKey, fromOld, w.fromProof);
        if (w.from.nonce == type(uint64).max) revert NotProvableYet(ctx.l2Block, ctx.position);
        if (m.from == m.to) {
            if (fromCode != EMPTY_CODE_HASH) revert NotProvableYet(ctx.l2Block, ctx.position);
            bytes32 updated = SparseMerkleTrie.accountValueHash(w.from.nonce + 1, w.from.balance + m.amount, fromCode);
            return SparseMerkleTrie.computeUpdatedRoot(root, fromKey, fromOld, updated, w.fromProof);
        }
        root = SparseMerkleTrie.computeUpdatedRoot(
            root,
            fromKey,
            fromOld,
            SparseMerkleTrie.accountValueHash(w.from.nonce + 1, w.from.balance, fromCode),
            w.fromProof
        );
        (bytes32 toOld, bytes32 toCode) = _opened(w.to);
        bytes32 toKey = SparseMerkleTrie.accountKey(m.to);
        SparseMerkleTrie.verify(root, toKey, toOld, w.toProof);
        if (toCode != EMPTY_CODE_HASH) revert NotProvableYet(ctx.l2Block, ctx.position);
        return SparseMerkleTrie.computeUpdatedRoot(
            root,
            toKey,
            toOld,
            SparseMerkleTrie.accountValueHash(w.to.nonce, w.to.balance + m.amount, toCode),
            w.toProof
        );
    }

    /// @dev Whether a call to `account` runs a Prague precompile (`0x01` to `0x11`).
    function _isPrecompile(address account) private pure returns (bool) {
        return account != address(0) && uint160(account) <= LAST_PRECOMPILE;
    }

    /// @dev An account's value hash in the trie (0: absent) and the code hash it keeps.
    function _opened(Account memory account) private pure returns (bytes32 valueHash, bytes32 codeHash) {
        if (!account.exists) {
            if (account.nonce != 0 || account.balance != 0 || account.codeHash != 0) {
                revert OneStepVerifier_BadWitness();
            }
            return (0, EMPTY_CODE_HASH);
        }
        return (SparseMerkleTrie.accountValueHash(account.nonce, account.balance, account.codeHash), account.codeHash);
    }

    /// @dev The deposit transaction's EIP-2718 encoding: `0x7e ‖ rlp([sourceHash, from, to,
    ///      mint, value, gasLimit, input])` with `mint` = `value` = `amount` and no input.
    function _depositTx(ChainMessage memory m) private pure returns (bytes memory) {
        bytes32 sourceHash = keccak256(abi.encode(bytes32(0), keccak256(abi.encode(m.nonce))));
        bytes memory payload = abi.encodePacked(
            bytes1(0xa0),
            sourceHash,
            bytes1(0x94),
            m.from,
            bytes1(0x94),
            m.to,
            _rlpUint(m.amount),
            _rlpUint(m.amount),
            _rlpUint(m.gasLimit),
            bytes1(0x80)
        );
        // The payload is 77 to 135 bytes: a one-byte length.
        return abi.encodePacked(bytes1(DEPOSIT_TX_TYPE), bytes1(0xf8), uint8(payload.length), payload);
    }

    /// @dev The EIP-2718 receipt of a successful call without logs of type `txType`:
    ///      `txType ‖ rlp([1, cumulativeGas, bloom, []])`, without the type byte for a legacy
    ///      transaction (type 0).
    function _receipt(uint8 txType, uint256 cumulativeGas) private pure returns (bytes memory) {
        bytes memory payload =
            abi.encodePacked(bytes1(0x01), _rlpUint(cumulativeGas), bytes3(0xb90100), new bytes(256), bytes1(0xc0));
        // The payload is 262 to 270 bytes: a two-byte length.
        bytes memory list = abi.encodePacked(bytes1(0xf9), uint16(payload.length), payload);
        return txType == 0 ? list : abi.encodePacked(txType, list);
    }

    /// @dev The RLP of an unsigned integer: minimal big-endian bytes.
    function _rlpUint(uint256 value) private pure returns (bytes memory) {
        if (value == 0) return hex"80";
        if (value < 0x80) return abi.encodePacked(uint8(value));
        uint256 size;
        for (uint256 v = value; v != 0; v >>= 8) {
            ++size;
        }
        bytes memory out = new bytes(size + 1);
        out[0] = bytes1(uint8(0x80 + size));
        for (uint256 i; i < size; ++i) {
            out[size - i] = bytes1(uint8(value >> (8 * i)));
        }
        return out;
    }

    /// @dev The L1 origin number in an L2 header's `extraData` (its 13th field: the origin's
    ///      number, 8 bytes, then its hash). The header is authenticated by its hash, so a
    ///      malformed one never matches; it still reverts cleanly.
    function _originOf(bytes memory header) private pure returns (uint256) {
        (uint256 dataOffset, uint256 dataLength) = _field(header, 12);
        if (dataLength != 40) revert OneStepVerifier_BadWitness();
        uint256 origin;
        for (uint256 i; i < 8; ++i) {
            origin = (origin << 8) | uint8(header[dataOffset + i]);
        }
        return origin;
    }

    /// @dev Field `index` of the RLP list `rlp` (which must span it exactly): where its payload
    ///      starts and how long it is; reverts if it is a list.
    function _field(bytes memory rlp, uint256 index) private pure returns (uint256 offset, uint256 length) {
        (uint256 start, uint256 listLength, bool list) = _rlpItem(rlp, 0);
        if (!list || start + listLength != rlp.length) revert OneStepVerifier_BadWitness();
        uint256 pos = start;
        for (uint256 i; i < index; ++i) {
            (uint256 itemOffset, uint256 itemLength,) = _rlpItem(rlp, pos);
            pos = itemOffset + itemLength;
        }
        bool isList;
        (offset, length, isList) = _rlpItem(rlp, pos);
        if (isList) revert OneStepVerifier_BadWitness();
    }

    /// @dev Field `index` of the RLP list `rlp` as an unsigned integer of at most 32 bytes.
    function _uintField(bytes memory rlp, uint256 index) private pure returns (uint256 value) {
        (uint256 offset, uint256 length) = _field(rlp, index);
        if (length > 32) revert OneStepVerifier_BadWitness();
        for (uint256 i; i < length; ++i) {
            value = (value << 8) | uint8(rlp[offset + i]);
        }
    }

    /// @dev The RLP item at `pos`: where its payload starts, its length, and whether it is a list.
    function _rlpItem(bytes memory data, uint256 pos) private pure returns (uint256 offset, uint256 length, bool list) {
        if (pos >= data.length) revert OneStepVerifier_BadWitness();
        uint256 prefix = uint8(data[pos]);
        if (prefix < 0x80) return (pos, 1, false);
        if (prefix < 0xb8) {
            (offset, length) = (pos + 1, prefix - 0x80);
        } else if (prefix < 0xc0) {
            (offset, length) = _longLength(data, pos, prefix - 0xb7);
        } else if (prefix < 0xf8) {
            (offset, length, list) = (pos + 1, prefix - 0xc0, true);
        } else {
            (offset, length) = _longLength(data, pos, prefix - 0xf7);
            list = true;
        }
        if (offset + length > data.length) revert OneStepVerifier_BadWitness();
    }

    /// @dev A long RLP length of `size` bytes after the prefix pos `pos`.
    function _longLength(bytes memory data, uint256 pos, uint256 size)
        private
        pure
        returns (uint256 offset, uint256 length)
    {
        if (size > 4 || pos + 1 + size > data.length) revert OneStepVerifier_BadWitness();
        for (uint256 i; i < size; ++i) {
            length = (length << 8) | uint8(data[pos + 1 + i]);
        }
        offset = pos + 1 + size;
    }
}
