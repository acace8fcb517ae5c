// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";

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
///         - `STEP_PREAMBLE` (body: `abi.encode(Withdrawals.OutputRoot)`): position 0; the agreed
///           state is the output root of the parent block.
///         - `STEP_INPUT` (body: `abi.encode(InputWitness)`: the trace state, the fields
///           `docs/fraud-proof.md` lists, with its context and the parent header): a position
///           inside the block's trace, from a trace state of this block that has consumed
///           exactly `position` inputs (a batch transaction, or the seal). At a position that
///           runs one of the block's deposits it reverts `OneStepVerifier_DepositStep`: only
///           `STEP_DEPOSIT` decides those.
///
///         - `STEP_DEPOSIT` (body: `abi.encode(DepositWitness)`): the block's `position`-th
///           input when it is one of the block's deposits, an ETH deposit to an account without
///           code: proven against the bridge's deposit chain (`depositChainAt`) and the state
///           trie. A deposit that runs code (an ERC-20 deposit, a forced withdrawal, a recipient
///           with code or a precompile) reverts `NotProvableYet`, and so does a position that is
///           not a deposit (the block starts no epoch, or its deposits are fewer).
///
///         The preamble and other input steps revert `NotProvableYet` in this version, so the dispute
///         game resolves a game that reaches one for an allowlisted proposer and against a
///         permissionless one. They do so only once the witness has opened the agreed state as
///         that kind of state: a state opens as exactly one kind (hash preimages are unique),
///         so a padding step, whose agreed state is the block's output root, can never be
///         passed off as unprovable. Their one-steps replace this contract through
///         `StateManager.setOneStepVerifier` (the timelock).
/// @dev    Reads nothing but its arguments and the bridge's deposit chain; a witness that does
///         not open `fromState` reverts.
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

    /// @notice The version of the trace state layout.
    uint256 public constant TRACE_STATE_VERSION = 1;

    /// @notice Gas of a call that runs no code and carries no data (Prague).
    uint256 public constant TRANSFER_GAS = 21_000;

    /// @notice The highest precompile address under Prague (BLS12-381 ends at 0x11): a call to
    ///         any address up to it runs code.
    uint160 public constant LAST_PRECOMPILE = 0x11;

    /// @notice `keccak256("")`: the code hash of an account without code.
    bytes32 public constant EMPTY_CODE_HASH = keccak256("");

    /// @notice The EIP-2718 type byte of deposit transactions and their receipts.
    uint8 public constant DEPOSIT_TX_TYPE = 0x7e;

    /// @notice The bridge whose message chain fixes every deposit of the L2 chain.
    IDepositChain public immutable depositChain;

    /// @notice A trace state's preimage: what a level-1 claim inside a block commits to.
    struct TraceState {
        uint256 version;
        uint256 l2Block;
        uint256 inputs;
        bytes32 stateRoot;
        uint256 cumulativeGas;
        uint256 included;
        bytes32 txAccumulator;
        bytes32 receiptAccumulator;
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
    }

    /// @notice The witness of an input step that is not a deposit (`STEP_INPUT`): the agreed
    ///         trace state, its context and the parent header, from which L1 tells whether the
    ///         position runs a deposit.
    struct InputWitness {
        TraceState state;
        BlockContext context;
        bytes parentHeader;
    }

    /// @notice Thrown when the witness does not open the agreed state or names another block.
    error OneStepVerifier_BadWitness();

    /// @notice Thrown when a step that runs one of the block's deposits comes with another
    ///         witness than `STEP_DEPOSIT`: L1 decides a deposit's step from the deposit chain.
    /// @param l2Block  The L2 block.
    /// @param position The step's position.
    error OneStepVerifier_DepositStep(uint256 l2Block, uint256 position);

    /// @notice Thrown when deployed without a deposit chain.
    error OneStepVerifier_ZeroAddress();

    /// @param depositChain_ The L1 bridge (its deposit chain).
    constructor(IDepositChain depositChain_) {
        if (address(depositChain_) == address(0)) revert OneStepVerifier_ZeroAddress();
        depositChain = depositChain_;
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
        if (kind == STEP_PREAMBLE) {
            if (ctx.position != 0 || ctx.l2Block == 0) revert OneStepVerifier_BadWitness();
            Withdrawals.OutputRoot memory parent = abi.decode(body, (Withdrawals.OutputRoot));
            if (
                parent.version != Withdrawals.OUTPUT_ROOT_VERSION || parent.l2BlockNumber != ctx.l2Block - 1
                    || Withdrawals.hashOutputRoot(parent) != fromState
            ) revert OneStepVerifier_BadWitness();
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        if (kind == STEP_INPUT) {
            InputWitness memory w = abi.decode(body, (InputWitness));
            _openTraceState(ctx, fromState, w.state, w.context, w.parentHeader);
            // A deposit's step is decided by its own witness, never passed off as unprovable.
            (bool isDeposit,,,) = _depositAt(ctx, w.context, w.parentHeader);
            if (isDeposit) revert OneStepVerifier_DepositStep(ctx.l2Block, ctx.position);
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        if (kind == STEP_DEPOSIT) return _deposit(ctx, fromState, toState, body);
        revert OneStepVerifier_BadWitness();
    }

    /// @dev The deposit step: opens the agreed state, finds the deposit the position runs in the
    ///      bridge's chain, applies it to the two accounts and the accumulators, and compares the
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
        if (!isDeposit) revert NotProvableYet(ctx.l2Block, ctx.position);
        ChainMessage memory m = w.message;
        {
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
                || m.amount > type(uint128).max || m.gasLimit < TRANSFER_GAS || uint160(m.to) <= LAST_PRECOMPILE
        ) revert NotProvableYet(ctx.l2Block, ctx.position);

        bytes32 root = _applyTransfer(ctx, state.stateRoot, m, w);
        uint256 cumulativeGas = state.cumulativeGas + TRANSFER_GAS;
        TraceState memory next = TraceState({
            version: TRACE_STATE_VERSION,
            l2Block: state.l2Block,
            inputs: state.inputs + 1,
            stateRoot: root,
            cumulativeGas: cumulativeGas,
            included: state.included + 1,
            txAccumulator: keccak256(abi.encodePacked(state.txAccumulator, keccak256(_depositTx(m)))),
            receiptAccumulator: keccak256(
                abi.encodePacked(state.receiptAccumulator, keccak256(_depositReceipt(cumulativeGas)))
            ),
            context: state.context
        });
        return keccak256(abi.encode(next)) == toState;
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
        uint256 origin = context.l1OriginNumber;
        if (origin == 0 || _originOf(parentHeader) == origin) return (false, 0, 0, 0);
        (uint256 countBefore,) = depositChain.depositChainAt(origin - 1);
        (countAfter, chainAfter) = depositChain.depositChainAt(origin);
        index = countBefore + ctx.position - 1;
        isDeposit = index < countAfter;
    }

    /// @dev The state root after the deposit: `amount` minted to `from`, whose nonce the call
    ///      bumps, then moved to `to` (no fee: deposits pay none).
    function _applyTransfer(StepContext memory ctx, bytes32 root, ChainMessage memory m, DepositWitness memory w)
        private
        pure
        returns (bytes32)
    {
        (bytes32 fromOld, bytes32 fromCode) = _opened(w.from);
        if (w.from.nonce == type(uint64).max) revert NotProvableYet(ctx.l2Block, ctx.position);
        bytes32 fromKey = SparseMerkleTrie.accountKey(m.from);
        if (m.from == m.to) {
            // The account's code is read from a verified proof before it can make the step
            // unprovable.
            SparseMerkleTrie.verify(root, fromKey, fromOld, w.fromProof);
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

    /// @dev The deposit's EIP-2718 receipt: `0x7e ‖ rlp([1, cumulativeGas, bloom, []])`, a
    ///      successful call without logs.
    function _depositReceipt(uint256 cumulativeGas) private pure returns (bytes memory) {
        bytes memory payload =
            abi.encodePacked(bytes1(0x01), _rlpUint(cumulativeGas), bytes3(0xb90100), new bytes(256), bytes1(0xc0));
        // The payload is 262 to 270 bytes: a two-byte length.
        return abi.encodePacked(bytes1(DEPOSIT_TX_TYPE), bytes1(0xf9), uint16(payload.length), payload);
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
        (uint256 offset, uint256 length, bool list) = _rlpItem(header, 0);
        if (!list || offset + length != header.length) revert OneStepVerifier_BadWitness();
        uint256 pos = offset;
        for (uint256 i; i < 12; ++i) {
            (uint256 itemOffset, uint256 itemLength,) = _rlpItem(header, pos);
            pos = itemOffset + itemLength;
        }
        (uint256 dataOffset, uint256 dataLength, bool isList) = _rlpItem(header, pos);
        if (isList || dataLength != 40) revert OneStepVerifier_BadWitness();
        uint256 origin;
        for (uint256 i; i < 8; ++i) {
            origin = (origin << 8) | uint8(header[dataOffset + i]);
        }
        return origin;
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
