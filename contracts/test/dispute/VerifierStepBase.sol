// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {InboxFixture} from "test/utils/InboxFixture.sol";
import {AccountTrie} from "test/utils/AccountTrie.sol";
import {L2Headers} from "test/utils/L2Headers.sol";
import {OrderedTries} from "test/utils/OrderedTries.sol";
import {SegmentBuilder} from "test/dispute/SegmentBuilder.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";

/// @notice What the tests of the one-step verifier's batch transaction step share: a real
///         `BatchInbox`, `SegmentStore` and `OneStepVerifier` over a real `L1Bridge` whose
///         deposit chain puts one deposit (to bob) before block 2's batch transactions; alice's
///         transactions signed here; the agreed trace state, the transaction witness and the
///         step contexts built without the verifier.
///
///         A test lays out its own records and transactions: it writes `_leafWitness` (the
///         block table, the first segment and the leaf, see `_fillLeaf`), `_accountWitness`
///         and `_segmentTxs`, and its own `_step`.
abstract contract VerifierStepBase is InboxFixture {
    uint256 internal constant SECP256K1N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant EMPTY = keccak256("");
    uint8 internal constant STEP_PREAMBLE = 2;
    uint8 internal constant STEP_INPUT = 3;
    uint8 internal constant STEP_TRANSACTION = 5;
    uint8 internal constant STEP_SEAL = 6;

    /// @dev The L1 origin of blocks 2 on (block 2 starts its epoch, with one deposit).
    uint256 internal constant ORIGIN = GENESIS + 1;
    uint256 internal constant BASE_FEE = 7 gwei;

    uint256 internal constant ALICE_KEY = 0xA11CE;
    uint256 internal constant DAVE_KEY = 0xDA7E;
    address internal constant BOB = address(uint160(uint256(keccak256("bob"))));
    address internal constant DEPOSITOR = address(uint160(uint256(keccak256("depositor"))));

    SegmentStore internal store;
    OneStepVerifier internal osv;
    address internal alice = vm.addr(ALICE_KEY);

    /// @dev The block table of each record.
    bytes[] internal blockTables;

    /// @dev One step's setting: the block, its `k`-th batch transaction, the agreed state's
    ///      accounts, context and gas so far.
    struct Step {
        uint256 l2Block;
        uint256 k;
        AccountTrie.Entry[] pre;
        OneStepVerifier.BlockContext context;
        uint256 cumulativeGas;
    }

    /// @dev Deploys the inbox, makes the deposit of block 2's epoch in L1 block ORIGIN, moves L1
    ///      on by two blocks and deploys the store and the verifier. The test posts its records.
    function _setUpVerifier() internal {
        _deployInbox();
        assertEq(block.number, ORIGIN);
        _deposit(DEPOSITOR, BOB, 1 ether);
        chain.roll(2);
        store = new SegmentStore(inbox, L2_CHAIN_ID);
        osv = new OneStepVerifier(IDepositChain(address(bridge)), store);
    }

    // ------------------------------------------------------------------ what a test lays out

    /// @dev The block table, the first segment, the transaction and its leaf's proof.
    function _leafWitness(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view virtual;

    /// @dev The sender, recipient and beneficiary accounts and their proofs.
    function _accountWitness(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view virtual;

    /// @dev The transactions of segment `segment` of record `record`.
    function _segmentTxs(uint256 record, uint256 segment) internal pure virtual returns (SegmentBuilder.Tx[] memory txs);

    // ------------------------------------------------------------------ transactions

    /// @dev `t` signed by `key` for the L2 chain (low s, as every signer gives it).
    function _sign(SegmentBuilder.Tx memory t, uint256 key) internal pure returns (SegmentBuilder.Tx memory) {
        (bytes32 signingHash,,) = SegmentBuilder.hashes(t, L2_CHAIN_ID);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, signingHash);
        (t.yParity, t.r, t.s) = (v - 27, r, s);
        if (uint256(s) > SECP256K1N / 2) (t.yParity, t.s) = (t.yParity ^ 1, bytes32(SECP256K1N - uint256(s)));
        return t;
    }

    /// @dev The transaction as its leaf commits to it (`SegmentOpener`'s record), with the
    ///      leaf computed by `SegmentBuilder` (LibRLP), which it must hash to.
    function _batchTx(SegmentBuilder.Tx memory t)
        internal
        pure
        returns (OneStepVerifier.BatchTx memory b, bytes32 leaf)
    {
        (bytes32 signingHash, bytes32 txHash, bytes32 accessListHash) = SegmentBuilder.hashes(t, L2_CHAIN_ID);
        b.txType = t.txType;
        b.nonce = t.nonce;
        b.gasLimit = t.gasLimit;
        b.to = t.isCreate ? address(0) : t.to;
        b.isCreate = t.isCreate;
        b.value = t.value;
        b.fee = t.fee;
        b.priorityFee = t.txType == 2 ? t.priorityFee : 0;
        b.yParity = t.yParity;
        (b.r, b.s) = (t.r, t.s);
        (b.signingHash, b.txHash, b.accessListHash) = (signingHash, txHash, accessListHash);
        b.calldataLength = t.data.length;
        b.calldataRoot = SegmentBuilder.merkleRoot(SegmentBuilder.chunks(t.data));
        leaf = SegmentBuilder.leaf(t, L2_CHAIN_ID);
        assertEq(keccak256(abi.encode(b)), leaf, "the witness's transaction is its leaf's");
    }

    /// @dev Leaf `index`'s siblings, bottom up, in the tree over `leaves` padded with zeros.
    function _merkleProof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory proof) {
        uint256 width = 1;
        uint256 depth;
        while (width < leaves.length) (width, depth) = (width * 2, depth + 1);
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i; i < leaves.length; ++i) {
            level[i] = leaves[i];
        }
        proof = new bytes32[](depth);
        for (uint256 d; d < depth; ++d) {
            proof[d] = level[index ^ 1];
            width /= 2;
            for (uint256 i; i < width; ++i) {
                level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
            index /= 2;
        }
    }

    // ------------------------------------------------------------------ states and witnesses

    /// @dev Block 2 starts the epoch of ORIGIN; the later blocks follow in it.
    function _parentOrigin(uint256 l2Block) internal pure returns (uint256) {
        return l2Block == 2 ? GENESIS : ORIGIN;
    }

    /// @dev The position of batch transaction `k`: block 2's deposit comes first.
    function _position(Step memory s) internal pure returns (uint256) {
        return (s.l2Block == 2 ? 2 : 1) + s.k;
    }

    /// @dev What the block included before its batch transactions: block 2 its deposit.
    function _included(uint256 l2Block) internal pure returns (uint256) {
        return l2Block == 2 ? 1 : 0;
    }

    function _witness(Step memory s)
        internal
        view
        returns (OneStepVerifier.TransactionWitness memory w, bytes32 fromState)
    {
        return _witnessAt(s, _position(s));
    }

    /// @dev The witness of transaction `s.k`'s step, from an agreed state at `position`.
    function _witnessAt(Step memory s, uint256 position)
        internal
        view
        returns (OneStepVerifier.TransactionWitness memory w, bytes32 fromState)
    {
        w.context = s.context;
        w.parentHeader = L2Headers.header(_parentOrigin(s.l2Block));
        // The tries hold one stand-in for each value included before.
        uint256 included = _included(s.l2Block);
        bytes32 txRoot;
        bytes32 receiptRoot;
        (txRoot, w.transactionsProof) = OrderedTries.build(_earlier(included, "tx"));
        (receiptRoot, w.receiptsProof) = OrderedTries.build(_earlier(included, "receipt"));
        w.state = OneStepVerifier.TraceState({
            version: 2,
            l2Block: s.l2Block,
            inputs: position,
            stateRoot: AccountTrie.root(s.pre),
            cumulativeGas: s.cumulativeGas,
            included: included,
            txRoot: txRoot,
            receiptRoot: receiptRoot,
            logsBloomHash: keccak256(new bytes(256)),
            context: keccak256(abi.encode(s.context))
        });
        fromState = keccak256(abi.encode(w.state));
        _leafWitness(s, w);
        _accountWitness(s, w);
    }

    /// @dev Sets `t` as the witness's transaction (its leaf, calldata, access list and
    ///      encoding), with its proof at `index` of segment `segment` of record `record`.
    function _fillLeaf(
        OneStepVerifier.TransactionWitness memory w,
        SegmentBuilder.Tx memory t,
        uint256 record,
        uint256 segment,
        uint256 index
    ) internal view {
        (w.transaction,) = _batchTx(t);
        w.data = t.data;
        w.accessList = SegmentBuilder.accessListRlp(t);
        w.encoded = SegmentBuilder.encoded(t, L2_CHAIN_ID);
        SegmentBuilder.Tx[] memory txs = _segmentTxs(record, segment);
        bytes32[] memory leaves = new bytes32[](txs.length);
        for (uint256 i; i < txs.length; ++i) {
            leaves[i] = SegmentBuilder.leaf(txs[i], L2_CHAIN_ID);
        }
        w.txProof = _merkleProof(leaves, index);
    }

    /// @dev The next trace state after `state` includes `t`, which used `gas`, leaving the
    ///      post-state `stateRoot`.
    function _includedState(
        OneStepVerifier.TraceState memory state,
        SegmentBuilder.Tx memory t,
        uint256 gas,
        bytes32 stateRoot
    ) internal pure returns (bytes32) {
        uint256 cumulativeGas = state.cumulativeGas + gas;
        bytes[] memory txs = _earlier(state.included + 1, "tx");
        txs[state.included] = SegmentBuilder.encoded(t, L2_CHAIN_ID);
        bytes[] memory receipts = _earlier(state.included + 1, "receipt");
        receipts[state.included] = _receipt(t.txType, cumulativeGas);
        (bytes32 txRoot,) = OrderedTries.build(txs);
        (bytes32 receiptRoot,) = OrderedTries.build(receipts);
        return keccak256(
            abi.encode(
                OneStepVerifier.TraceState({
                    version: 2,
                    l2Block: state.l2Block,
                    inputs: state.inputs + 1,
                    stateRoot: stateRoot,
                    cumulativeGas: cumulativeGas,
                    included: state.included + 1,
                    txRoot: txRoot,
                    receiptRoot: receiptRoot,
                    logsBloomHash: state.logsBloomHash,
                    context: state.context
                })
            )
        );
    }

    /// @dev The next trace state of a skipped transaction: only `inputs` moves.
    function _expectSkipped(OneStepVerifier.TraceState memory state) internal pure returns (bytes32) {
        OneStepVerifier.TraceState memory next = abi.decode(abi.encode(state), (OneStepVerifier.TraceState));
        next.inputs += 1;
        return keccak256(abi.encode(next));
    }

    /// @dev `count` stand-ins (64 bytes each) for what the block included before the step.
    function _earlier(uint256 count, string memory kind) internal pure returns (bytes[] memory values) {
        values = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            values[i] = abi.encode(keccak256(abi.encode(kind, i)), i);
        }
    }

    /// @dev The EIP-2718 receipt of a successful call without logs, written out:
    ///      `type ‖ rlp([0x01, cumulativeGas, 256 zero bytes, []])`, no type byte if legacy.
    function _receipt(uint8 txType, uint256 cumulativeGas) internal pure returns (bytes memory) {
        bytes memory gas;
        if (cumulativeGas < 1 << 16) gas = abi.encodePacked(hex"82", uint16(cumulativeGas));
        else if (cumulativeGas < 1 << 24) gas = abi.encodePacked(hex"83", uint24(cumulativeGas));
        else gas = abi.encodePacked(hex"84", uint32(cumulativeGas));
        bytes memory body = abi.encodePacked(hex"01", gas, hex"b90100", new bytes(256), hex"c0");
        bytes memory list = abi.encodePacked(hex"f9", uint16(body.length), body);
        return txType == 0 ? list : abi.encodePacked(txType, list);
    }

    // ------------------------------------------------------------------ step contexts

    /// @dev The proof `verify` takes for the step of `l2Block` at `position`: a witness of
    ///      kind `kind` (a `STEP_*`).
    function _stepCtx(uint256 l2Block, uint256 position, uint8 kind, bytes memory witness)
        internal
        view
        returns (bytes memory)
    {
        return abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: l2Block, position: position, horizonL1Block: block.number, witness: abi.encode(kind, witness)
            })
        );
    }

    function _ctx(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view returns (bytes memory) {
        return _ctxAt(s.l2Block, _position(s), w);
    }

    function _ctxAt(uint256 l2Block, uint256 position, OneStepVerifier.TransactionWitness memory w)
        internal
        view
        returns (bytes memory)
    {
        return _stepCtx(l2Block, position, STEP_TRANSACTION, abi.encode(w));
    }

    /// @dev The `STEP_INPUT` witness of the same agreed state as `w`.
    function _inputCtx(Step memory s, OneStepVerifier.TransactionWitness memory w)
        internal
        view
        returns (bytes memory)
    {
        return _inputCtxAt(s.l2Block, _position(s), w);
    }

    function _inputCtxAt(uint256 l2Block, uint256 position, OneStepVerifier.TransactionWitness memory w)
        internal
        view
        returns (bytes memory)
    {
        OneStepVerifier.InputWitness memory input = OneStepVerifier.InputWitness({
            state: w.state,
            context: w.context,
            parentHeader: w.parentHeader,
            blockTable: w.blockTable,
            firstSegment: w.firstSegment
        });
        return _stepCtx(l2Block, position, STEP_INPUT, abi.encode(input));
    }

    // ------------------------------------------------------------------ assertions

    function _expectBadWitness(Step memory s, OneStepVerifier.TransactionWitness memory w, bytes32 fromState) internal {
        _expectBadWitnessAt(s.l2Block, _position(s), w, fromState);
    }

    function _expectBadWitnessAt(
        uint256 l2Block,
        uint256 position,
        OneStepVerifier.TransactionWitness memory w,
        bytes32 fromState
    ) internal {
        bytes memory ctx = _ctxAt(l2Block, position, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), ctx);
    }
}
