// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OwnableNoValue} from "src/libraries/OwnableNoValue.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {L1Header} from "src/libraries/L1Header.sol";
import {L1BlockHashes} from "src/libraries/L1BlockHashes.sol";

/// @title BatchInbox
/// @notice The L1 record of the L2 chain's inputs. Every L2 block's inputs are fixed here, at
///         posting, by data L1 itself checks: the batcher posts batches (`postBatch`) whose
///         envelope (batch format v2) states, per L2 block, its L1 origin, timestamp and
///         transaction count, and for the batch the number of bridge messages it includes; the
///         inbox checks all of it against the L1 origins it has recorded (`recordOrigins`, or
///         headers inside a batch) and against the bridge's deposit chain, and appends a
///         record committing to the batch's data, block table and segments. The segments
///         travel in calldata after the envelope (`postBatch`) or in the transaction's EIP-4844
///         blobs (`postBlobBatch`). If the batcher posts nothing for a sequencing window, anyone
///         can append a forced block (`forceInclude`) that takes the next L1 origin's bridge
///         messages and nothing else.
///
///         L1 origins are recorded as a chain of real L1 headers: each header must be the next
///         block's and name the previous one as parent, and the newest must hash to what L1
///         reports for its number (`blockhash`, or the EIP-2935 history contract beyond 256
///         blocks). So every recorded origin hash and timestamp is L1's own.
///
///         Envelope (all integers big-endian):
///         `version uint8 (2) ‖ firstBlock uint64 ‖ blockCount uint16 ‖ headerCount uint8 ‖
///         segmentCount uint8 ‖ depositCount uint64 ‖ headerCount × (length uint16 ‖ RLP header)
///         ‖ blockCount × (originDelta uint8 ‖ timestampDelta uint32 ‖ txCount uint16) ‖
///         segmentCount × (length uint32 ‖ txCount uint16) ‖ segments`. Segments (FastLZ
///         compressed transactions) are only hashed here, never decompressed: a fraud proof
///         opens them.
///
///         Blocks spanning batches: the segment count byte may carry OPEN_FLAG, which leaves
///         the batch's last block open (it holds at least one transaction here). `nextBlock`
///         then stays at that block, so it is in no record yet, and the next batch must start
///         with it again: its first entry repeats the open block's origin and timestamp deltas
///         (not stepped again) with at least one further transaction. The record that closes a
///         block starts with it, so `recordOf` names it; its `firstBlockTxOffset` counts the
///         block's transactions in the records before, each of which holds its part as its
///         batch's last `lastBlockTxs` transactions. A block's transactions sit in at most
///         MAX_SEGMENTS_PER_BLOCK segments over all its records. `forceInclude` closes an open
///         block with the parts posted before appending forced blocks.
///
///         Blob batches: `postBlobBatch` takes the envelope without the segments (it ends with
///         the segment table) and is checked exactly like `postBatch`'s. The segments, back to
///         back in table order, are the first `S` bytes (`S` the sum of their lengths) of the
///         transaction's blob data stream: each blob gives bytes 1 to 31 of each of its 4096
///         32-byte field elements (BLOB_BYTES_PER_FIELD_ELEMENT, so BLOB_DATA_SIZE per blob;
///         byte 0 is left zero, keeping the element below the BLS12-381 modulus, and ignored
///         when read), blobs in the order of the transaction's versioned hashes; bytes after
///         `S` are ignored. The transaction carries exactly `ceil(S / BLOB_DATA_SIZE)` blobs
///         (at least one, at most five: 16 segments of 32 KiB), which the inbox checks with
///         `BLOBHASH`; it never sees the bytes. The record's `segmentRoot` is then keccak256 of
///         the versioned hashes, which commit to the segments' bytes.
///
///         Opening a blob segment (built in `SegmentStore.loadBlob` and `openBlob`): a fraud
///         proof needs a segment's bytes in L1 state for the SegmentOpener. `loadBlob` takes the
///         record's versioned hashes (checked against `segmentRoot`) and the envelope (against
///         `dataHash`; its segment table gives the segment's offset in the stream), then proves
///         the field elements covering the segment, in order, with the EIP-4844
///         point-evaluation precompile (0x0a): element `i` of a blob is the blob polynomial's
///         value at `ω^bitrev12(i)`, `ω` the 4096th root of unity `ROOT_OF_UNITY` (the power
///         computed with the modexp precompile), and its value is `0x00 ‖` 31 stream bytes.
///         Each element costs about 57,500 gas (50,000 of it the precompile) and yields 31
///         bytes; the node proves 200 per transaction, about 11.5M gas. The store chains a
///         keccak256 over the proven bytes across transactions; once they cover the segment,
///         `openBlob` takes them, checks them against the chain and opens the segment exactly
///         as `open` does for a calldata batch.
/// @dev    Runs behind a proxy: `initialize` sets owner, batcher, bridge, the sequencing rules
///         and the L2 genesis in the proxy's storage; the implementation itself can never be
///         initialized. v2 storage is not v1's: a v2 inbox is deployed fresh, not upgraded from
///         v1. Storage layout (append-only from here; owner and initializer state sit in
///         Solady's fixed slots): slot 0 `batcher`, 1 `bridge`, 2 `sequencingWindow`,
///         `maxSequencerDrift`, `genesisOrigin`, `lastRecordedOrigin` (packed), 3 the cursor
///         (`nextBlock`, `lastOrigin`, `lastTimestamp`, `blocksAtLastTimestamp`, packed),
///         4 recorded origins, 5 records (five slots each: `firstBlock`, `blockCount`,
///         `lastOrigin`, `depositCount` packed; `l1Block`, `forced`, `blobCount` and the open
///         block fields `lastBlockOpen`, `firstBlockTxOffset`, `txCount`, `lastBlockTxs`,
///         `lastBlockDeltas`, `openSegments` packed; `dataHash`; `segmentRoot`; `blocksHash`:
///         the later fields took free bytes, so a record kept its five slots), 6 proven L1
///         block hashes (`proveOriginHashes`).
contract BatchInbox is OwnableNoValue, Initializable {
    /// @notice An appended batch (or forced block): a run of consecutive L2 blocks.
    /// @param firstBlock   The L2 number of its first block.
    /// @param blockCount   The number of L2 blocks.
    /// @param lastOrigin   The L1 origin of its last block.
    /// @param depositCount The bridge messages in L1 blocks up to `lastOrigin`: the L2 chain has
    ///                     included exactly these after its last block.
    /// @param l1Block      The L1 block it was appended in.
    /// @param forced       Whether `forceInclude` appended it (blocks with no transactions).
    /// @param blobCount    The blobs carrying its segments: 0 for a calldata batch or forced
    ///                     blocks, 1 to 5 for a blob batch (`postBlobBatch`).
    /// @param dataHash     keccak256 of the posted batch data, for a blob batch of its envelope
    ///                     (zero if forced).
    /// @param segmentRoot  For a calldata batch, merkleRoot of keccak256 of each segment (zero
    ///                     if no segments); for a blob batch, keccak256 of its versioned hashes
    ///                     in order (the segments' commitment a fraud proof opens by point
    ///                     evaluation); zero if forced.
    /// @param blocksHash   keccak256 of the block table (7 bytes per block).
    /// @param lastBlockOpen      Whether its last block continues in the next record (the
    ///                           envelope's open flag): that block is not in the inbox until a
    ///                           later record closes it (or `forceInclude` does, clearing this).
    /// @param firstBlockTxOffset If its first block continues an open block of earlier records,
    ///                           that block's transactions in them; else 0. The block's
    ///                           transaction `k` is then this batch's transaction
    ///                           `k - firstBlockTxOffset`.
    /// @param txCount            The batch's transactions (the block table's counts summed).
    /// @param lastBlockTxs       Its last block's transactions in this batch: the batch's last
    ///                           `lastBlockTxs` transactions.
    /// @param lastBlockDeltas    Its last block's entry without the count (`originDelta <<
    ///                           32 | timestampDelta`), which a continuation repeats.
    /// @param openSegments       If `lastBlockOpen`, the segments (of this and earlier records)
    ///                           holding that block's transactions so far; else 0.
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

    /// @dev A recorded L1 origin.
    struct Origin {
        bytes32 hash;
        uint64 timestamp;
    }

    /// @dev Where the L2 chain stands: one storage slot, read and written once per batch.
    struct Cursor {
        uint64 nextBlock;
        uint64 lastOrigin;
        uint64 lastTimestamp;
        uint64 blocksAtLastTimestamp;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when the owner, batcher or bridge would be the zero address.
    error BatchInbox_ZeroAddress();

    /// @notice Thrown when initializing with a zero sequencing window (no batch could ever land).
    error BatchInbox_ZeroSequencingWindow();

    /// @notice Thrown when initializing with a zero genesis origin hash.
    error BatchInbox_ZeroGenesisOriginHash();

    /// @notice Thrown when the genesis origin hash differs from the hash L1 reports for that
    ///         block (checked when L1 can still tell: `blockhash` or the history contract).
    /// @param number The genesis origin.
    error BatchInbox_GenesisOriginHashMismatch(uint256 number);

    /// @notice Thrown when a caller other than the batcher posts a batch.
    error BatchInbox_NotBatcher();

    /// @notice Thrown when a batch is not posted by a plain EOA's own transaction
    ///         (`msg.sender == tx.origin` and no code): derivation reads batches from the
    ///         calldata (and blobs) of top-level transactions only.
    error BatchInbox_CallerNotEOA();

    /// @notice Thrown when the calldata is not the canonical ABI encoding of `postBatch(data)`
    ///         or `postBlobBatch(envelope)` (offset 0x20, no trailing bytes, zero padding), so
    ///         derivation reads one `data`.
    error BatchInbox_NonCanonicalCalldata();

    /// @notice Thrown when the batch data (a blob batch's envelope) exceeds MAX_BATCH_SIZE.
    /// @param length The batch data length.
    error BatchInbox_BatchTooLarge(uint256 length);

    /// @notice Thrown when the envelope ends before a field, header, block or segment table
    ///         entry it announces.
    error BatchInbox_BatchTruncated();

    /// @notice Thrown when the batch's version byte is not BATCH_VERSION.
    /// @param version The version byte.
    error BatchInbox_UnsupportedVersion(uint8 version);

    /// @notice Thrown when the batch does not start at the next L2 block.
    /// @param expected   `nextBlock`.
    /// @param firstBlock The batch's first block.
    error BatchInbox_UnexpectedFirstBlock(uint64 expected, uint64 firstBlock);

    /// @notice Thrown when a batch has no blocks or more than MAX_BLOCKS_PER_BATCH.
    /// @param blockCount The batch's block count.
    error BatchInbox_InvalidBlockCount(uint256 blockCount);

    /// @notice Thrown when a batch has more than MAX_SEGMENTS_PER_BATCH segments.
    /// @param segmentCount The batch's segment count.
    error BatchInbox_TooManySegments(uint256 segmentCount);

    /// @notice Thrown when a batch continuing an open block repeats its entry with other
    ///         deltas (origin or timestamp) than the record that opened it.
    /// @param l2Block The open block.
    error BatchInbox_ContinuationMismatch(uint256 l2Block);

    /// @notice Thrown when a batch leaves its last block open, or continues an open block,
    ///         with none of that block's transactions in it.
    /// @param l2Block The block.
    error BatchInbox_EmptyPart(uint256 l2Block);

    /// @notice Thrown when a block's transactions, over all the records holding them, would sit
    ///         in more than MAX_SEGMENTS_PER_BLOCK segments.
    /// @param l2Block  The block.
    /// @param segments The segments holding them.
    error BatchInbox_BlockTooLarge(uint256 l2Block, uint256 segments);

    /// @notice Thrown when a header's number field is not the block the run needs: the first
    ///         header must be an origin after genesis up to the next unrecorded one, every
    ///         other the block after the previous header.
    /// @param expected The L1 block the header must be (for the first: the next unrecorded).
    /// @param number   The header's number field.
    error BatchInbox_HeaderNumberMismatch(uint256 expected, uint256 number);

    /// @notice Thrown when the header of L1 block `number` does not name the recorded (or
    ///         previous header's) hash of block `number - 1` as its parent.
    /// @param number The header's block number.
    error BatchInbox_ParentHashMismatch(uint256 number);

    /// @notice Thrown when L1 cannot tell the hash of block `number`: it is not in the past,
    ///         more than 256 blocks old with no EIP-2935 history contract, or the history
    ///         contract has no answer; and `proveOriginHashes` has not proven it.
    /// @param number The L1 block.
    error BatchInbox_BlockHashUnavailable(uint256 number);

    /// @notice Thrown when a header does not hash to L1's hash of its block: the recorded
    ///         hash for an origin already recorded, `blockhash` (or EIP-2935, or a hash
    ///         `proveOriginHashes` proved) for the newest new one.
    /// @param number The header's block number.
    error BatchInbox_BlockHashMismatch(uint256 number);

    /// @notice Thrown when `proveOriginHashes` is given no headers, or headers of blocks that
    ///         are not `ORIGIN_PROOF_DEPTH` blocks old yet.
    /// @param number The newest header's block number (0 for none).
    error BatchInbox_HeadersTooNew(uint256 number);

    /// @notice Thrown when an L1 origin needed (by a block, a forced block or a view) has not
    ///         been recorded.
    /// @param number The L1 block.
    error BatchInbox_OriginNotRecorded(uint256 number);

    /// @notice Thrown when a block's origin delta is neither 0 nor 1.
    /// @param l2Block The L2 block.
    error BatchInbox_InvalidOriginDelta(uint256 l2Block);

    /// @notice Thrown when the batch's first block names an origin more than two sequencing
    ///         windows old (`block.number >= origin + 2 * sequencingWindow`). After one window
    ///         anyone may force the epoch in (`forceInclude`); the second window is the
    ///         sequencer's grace to catch up after an outage or a forced run, whichever lands
    ///         first wins. After two, only `forceInclude` extends the chain.
    /// @param origin The first block's L1 origin.
    error BatchInbox_SequencingWindowExpired(uint256 origin);

    /// @notice Thrown when more than MAX_L2_BLOCKS_PER_SECOND consecutive blocks share a
    ///         timestamp (counting the blocks before the batch).
    /// @param l2Block The first L2 block over the limit.
    error BatchInbox_TooManyBlocksPerSecond(uint256 l2Block);

    /// @notice Thrown when a block's timestamp is before its origin's.
    /// @param l2Block The L2 block.
    error BatchInbox_TimestampBeforeOrigin(uint256 l2Block);

    /// @notice Thrown when a block's timestamp is more than `maxSequencerDrift` after its
    ///         origin's.
    /// @param l2Block The L2 block.
    error BatchInbox_TimestampDriftExceeded(uint256 l2Block);

    /// @notice Thrown when a block's timestamp would not fit in 64 bits.
    /// @param l2Block The L2 block.
    error BatchInbox_TimestampOverflow(uint256 l2Block);

    /// @notice Thrown when a segment's length is 0 or above MAX_SEGMENT_SIZE.
    /// @param segment The segment's index.
    /// @param length  Its length.
    error BatchInbox_InvalidSegmentLength(uint256 segment, uint256 length);

    /// @notice Thrown when a segment's transaction count is 0 or above
    ///         MAX_TRANSACTIONS_PER_SEGMENT.
    /// @param segment The segment's index.
    /// @param txCount Its transaction count.
    error BatchInbox_InvalidSegmentTxCount(uint256 segment, uint256 txCount);

    /// @notice Thrown when the bytes after the segment table are not the segments: for
    ///         `postBatch` the segment lengths must add up to them, for `postBlobBatch` (whose
    ///         segments travel in blobs) there must be none.
    /// @param remaining    The bytes after the segment table.
    /// @param segmentBytes The bytes expected there: the sum of the segment lengths
    ///                     (`postBatch`), or 0 (`postBlobBatch`).
    error BatchInbox_SegmentLengthMismatch(uint256 remaining, uint256 segmentBytes);

    /// @notice Thrown when the blocks' transaction counts and the segments' differ.
    /// @param blockTxCount   The sum over the blocks.
    /// @param segmentTxCount The sum over the segments.
    error BatchInbox_TxCountMismatch(uint256 blockTxCount, uint256 segmentTxCount);

    /// @notice Thrown when the batch's deposit count is not the bridge's message count up to
    ///         the batch's last origin.
    /// @param expected     `bridge.depositCountAt(lastOrigin)`.
    /// @param depositCount The batch's deposit count.
    error BatchInbox_DepositCountMismatch(uint256 expected, uint256 depositCount);

    /// @notice Thrown when a blob batch has no segment bytes (no segments): no blob would carry
    ///         anything. Post such a batch with `postBatch`.
    error BatchInbox_NoBlobData();

    /// @notice Thrown when a blob batch's transaction does not carry exactly the blobs its
    ///         segments fill.
    /// @param expected `ceil(S / BLOB_DATA_SIZE)`, `S` the sum of the segment lengths.
    /// @param actual   The transaction's blob count: the indices from 0 up to the first whose
    ///                 BLOBHASH is zero.
    error BatchInbox_BlobCountMismatch(uint256 expected, uint256 actual);

    /// @notice Thrown when forcing a block before the next origin's sequencing window has passed.
    /// @param origin     The forced block's origin (`lastOrigin + 1`).
    /// @param forcibleAt The first L1 block at which it can be forced.
    error BatchInbox_SequencingWindowOpen(uint256 origin, uint256 forcibleAt);

    /// @notice Thrown when a forced block's timestamp would be more than 2^32 - 1 seconds after
    ///         the previous block's (its block entry cannot express the gap).
    /// @param gap The gap in seconds.
    error BatchInbox_ForcedTimestampGapTooLarge(uint256 gap);

    /// @notice Thrown when reading a record index that does not exist.
    /// @param index The index.
    error BatchInbox_UnknownRecord(uint256 index);

    /// @notice Thrown when asking for the record of an L2 block no record covers (genesis, or
    ///         not yet appended).
    /// @param l2Block The L2 block.
    error BatchInbox_BlockNotRecorded(uint64 l2Block);

    // ------------------------------------------------------------------ events

    /// @notice Emitted for every appended batch or forced block.
    /// @param index        The record's index, from 0.
    /// @param firstBlock   Its first L2 block.
    /// @param blockCount   Its number of L2 blocks.
    /// @param lastOrigin   The L1 origin of its last block.
    /// @param depositCount The bridge messages up to `lastOrigin`.
    /// @param forced       Whether it was forced.
    /// @param dataHash     keccak256 of the batch data, for a blob batch of its envelope (zero
    ///                     if forced).
    /// @param segmentRoot  merkleRoot of the segments' hashes, for a blob batch keccak256 of its
    ///                     versioned hashes (zero if forced).
    /// @param blocksHash   keccak256 of the block table.
    /// @param blobCount    The blobs carrying its segments (0 unless a blob batch).
    /// @param lastBlockOpen Whether its last block continues in the next record.
    event BatchAppended(
        uint256 indexed index,
        uint64 firstBlock,
        uint16 blockCount,
        uint64 lastOrigin,
        uint64 depositCount,
        bool forced,
        bytes32 dataHash,
        bytes32 segmentRoot,
        bytes32 blocksHash,
        uint8 blobCount,
        bool lastBlockOpen
    );

    /// @notice Emitted when `forceInclude` closes the block the last record left open: the
    ///         block holds the transactions its records posted, no more.
    /// @param index   The record that left it open (its `lastBlockOpen` is now false).
    /// @param l2Block The block.
    event OpenBlockClosed(uint256 indexed index, uint64 l2Block);

    /// @notice Emitted when L1 origins `firstOrigin..lastOrigin` are recorded.
    /// @param firstOrigin The first L1 block recorded.
    /// @param lastOrigin  The last L1 block recorded (the new `lastRecordedOrigin`).
    /// @param lastHash    Its hash.
    event OriginsRecorded(uint64 firstOrigin, uint64 lastOrigin, bytes32 lastHash);

    /// @notice Emitted when `proveOriginHashes` proves the hashes of L1 blocks
    ///         `firstBlock..lastBlock` (and of `firstBlock - 1`, the oldest one's parent).
    /// @param firstBlock The oldest header's block.
    /// @param lastBlock  The newest header's block.
    event OriginHashesProven(uint64 firstBlock, uint64 lastBlock);

    /// @notice Emitted when the batcher changes (including at initialization).
    /// @param previousBatcher The old batcher (zero at initialization).
    /// @param newBatcher      The new batcher.
    event BatcherUpdated(address indexed previousBatcher, address indexed newBatcher);

    // ------------------------------------------------------------------ constants

    /// @notice The envelope version this inbox accepts.
    uint8 public constant BATCH_VERSION = 2;

    /// @notice Largest batch data (for a blob batch, its envelope), in bytes.
    uint256 public constant MAX_BATCH_SIZE = 120_000;

    /// @notice Most L2 blocks in one batch.
    uint256 public constant MAX_BLOCKS_PER_BATCH = 4096;

    /// @notice Most segments in one batch.
    uint256 public constant MAX_SEGMENTS_PER_BATCH = 16;

    /// @notice The flag in the envelope's segment count byte (`segmentCount | OPEN_FLAG`) that
    ///         leaves the batch's last block open: its transactions continue in the next batch,
    ///         which must start with that block again.
    uint8 public constant OPEN_FLAG = 0x80;

    /// @notice Most segments holding one block's transactions, over all the records holding
    ///         them: what a fraud proof may have to open for one step.
    uint256 public constant MAX_SEGMENTS_PER_BLOCK = 16;

    /// @notice Largest segment (compressed), in bytes.
    uint256 public constant MAX_SEGMENT_SIZE = 32_768;

    /// @notice Most transactions in one segment.
    uint256 public constant MAX_TRANSACTIONS_PER_SEGMENT = 256;

    /// @notice Most consecutive L2 blocks sharing one timestamp.
    uint256 public constant MAX_L2_BLOCKS_PER_SECOND = 10;

    /// @notice Most blocks one `forceInclude` appends.
    uint256 public constant MAX_FORCED_BLOCKS_PER_CALL = 256;

    /// @notice Data bytes in each 32-byte field element of a blob: bytes 1 to 31 (byte 0 stays
    ///         zero, keeping the element below the BLS12-381 modulus).
    uint256 public constant BLOB_BYTES_PER_FIELD_ELEMENT = 31;

    /// @notice Data bytes one blob carries in the blob data stream: 4096 field elements ×
    ///         BLOB_BYTES_PER_FIELD_ELEMENT.
    uint256 public constant BLOB_DATA_SIZE = 126_976;

    /// @notice The EIP-2935 block hash history contract, asked for hashes older than 256 blocks.
    address public constant HISTORY_STORAGE_ADDRESS = L1BlockHashes.HISTORY_STORAGE_ADDRESS;

    /// @notice How old (in L1 blocks) the newest header given to `proveOriginHashes` must be:
    ///         two epochs, out of reach of the reorgs L1 sees. (A proof resting on a block L1
    ///         later reorged away is dropped with that fork, since it checked the hash there.)
    uint256 public constant ORIGIN_PROOF_DEPTH = 64;

    /// @dev Envelope layout: fixed fields, then 7-byte block entries and 6-byte segment entries.
    uint256 private constant _ENVELOPE_FIXED_SIZE = 21;
    uint256 private constant _BLOCK_ENTRY_SIZE = 7;
    uint256 private constant _SEGMENT_ENTRY_SIZE = 6;

    // ------------------------------------------------------------------ storage

    /// @notice The only account allowed to post batches.
    address public batcher;

    /// @notice The L1 bridge whose deposit chain batches must follow.
    IDepositChain public bridge;

    /// @notice L1 blocks after a block's origin within which its batch must be posted: a batch
    ///         whose first block has origin `o` is accepted only while `block.number < o +
    ///         sequencingWindow`; after that the next block can be forced.
    uint64 public sequencingWindow;

    /// @notice Seconds an L2 block's timestamp may run ahead of its origin's.
    uint64 public maxSequencerDrift;

    /// @notice The L1 origin of L2 genesis (block 0): the first recorded origin.
    uint64 public genesisOrigin;

    /// @notice The newest recorded L1 origin; origins `genesisOrigin..lastRecordedOrigin` are
    ///         recorded.
    uint64 public lastRecordedOrigin;

    /// @dev See `nextBlock`, `lastOrigin`, `lastTimestamp`, `blocksAtLastTimestamp`.
    Cursor private _cursor;

    /// @dev Recorded L1 origins, by block number.
    mapping(uint256 number => Origin) private _origins;

    /// @dev Appended records, by index.
    Record[] private _records;

    /// @dev L1 block hashes proven by `proveOriginHashes`, by block number: consulted only for
    ///      blocks L1 can no longer tell (see `L1BlockHashes.tryCanonicalHash`).
    mapping(uint256 number => bytes32 hash) private _provenHashes;

    // ------------------------------------------------------------------ setup

    /// @notice Locks the implementation: only a proxy's storage is ever initialized.
    constructor() {
        _disableInitializers();
    }

    /// @notice Sets up a proxy. Once; the proxy's constructor calls it, so nobody can initialize
    ///         a deployed proxy in between.
    /// @dev    The genesis origin hash is checked against L1 when L1 can still tell (the block is
    ///         in the past and `blockhash` or the history contract knows it); otherwise it is
    ///         taken as given.
    /// @param owner_                  The account that may change the batcher (the timelock).
    /// @param batcher_                The account that may post batches.
    /// @param bridge_                 The L1 bridge (its deposit chain).
    /// @param sequencingWindow_       See `sequencingWindow`; not zero.
    /// @param maxSequencerDrift_      See `maxSequencerDrift`.
    /// @param genesisOrigin_          The L1 origin of L2 genesis.
    /// @param genesisOriginHash_      Its hash; not zero.
    /// @param genesisOriginTimestamp_ Its timestamp.
    /// @param l2GenesisTimestamp_     The timestamp of L2 genesis (block 0).
    function initialize(
        address owner_,
        address batcher_,
        address bridge_,
        uint64 sequencingWindow_,
        uint64 maxSequencerDrift_,
        uint64 genesisOrigin_,
        bytes32 genesisOriginHash_,
        uint64 genesisOriginTimestamp_,
        uint64 l2GenesisTimestamp_
    ) external initializer {
        if (owner_ == address(0) || batcher_ == address(0) || bridge_ == address(0)) {
            revert BatchInbox_ZeroAddress();
        }
        if (sequencingWindow_ == 0) revert BatchInbox_ZeroSequencingWindow();
        if (genesisOriginHash_ == bytes32(0)) revert BatchInbox_ZeroGenesisOriginHash();
        (bool known, bytes32 canonical) = L1BlockHashes.tryCanonicalHash(genesisOrigin_);
        if (known && canonical != genesisOriginHash_) revert BatchInbox_GenesisOriginHashMismatch(genesisOrigin_);

        _initializeOwner(owner_);
        batcher = batcher_;
        bridge = IDepositChain(bridge_);
        sequencingWindow = sequencingWindow_;
        maxSequencerDrift = maxSequencerDrift_;
        genesisOrigin = genesisOrigin_;
        lastRecordedOrigin = genesisOrigin_;
        _origins[genesisOrigin_] = Origin({hash: genesisOriginHash_, timestamp: genesisOriginTimestamp_});
        _cursor = Cursor({
            nextBlock: 1, lastOrigin: genesisOrigin_, lastTimestamp: l2GenesisTimestamp_, blocksAtLastTimestamp: 1
        });
        emit BatcherUpdated(address(0), batcher_);
    }

    /// @notice Replaces the batcher. Only the owner.
    /// @param newBatcher The new batcher.
    function setBatcher(address newBatcher) external onlyOwner {
        if (newBatcher == address(0)) revert BatchInbox_ZeroAddress();
        address previous = batcher;
        batcher = newBatcher;
        emit BatcherUpdated(previous, newBatcher);
    }

    // ------------------------------------------------------------------ origins

    /// @notice Records L1 origins: `headers` are the RLP headers of consecutive L1 blocks, each
    ///         naming the previous block's hash as parent, that extend the recorded ones: the
    ///         first is at most `lastRecordedOrigin + 1`, and the newest must hash to L1's hash
    ///         of its block (`blockhash` within 256 blocks, else the EIP-2935 history contract,
    ///         else a hash `proveOriginHashes` proved). Headers of origins already recorded must be the recorded ones and change nothing,
    ///         so two parties recording the same blocks do not make each other revert. Anyone
    ///         may call it; an empty list (or one of recorded origins only) records nothing.
    /// @dev    Malformed RLP reverts with an `L1Header_*` error; see the `BatchInbox_*` errors
    ///         for the chain checks.
    /// @param headers The RLP-encoded headers, oldest first.
    function recordOrigins(bytes[] calldata headers) external {
        _recordOrigins(headers);
    }

    // ------------------------------------------------------------------ batches

    /// @notice Appends a batch. Only the batcher, from its own EOA transaction, with canonically
    ///         encoded calldata (derivation reads the batch from the transaction's input).
    /// @dev    Reverts unless: the envelope is well formed (see the contract's notice;
    ///         `data.length <= MAX_BATCH_SIZE`, version 2); `firstBlock == nextBlock`; `1 <=
    ///         blockCount <= MAX_BLOCKS_PER_BATCH`; `segmentCount <= MAX_SEGMENTS_PER_BATCH`; the
    ///         headers extend the recorded origins (as in `recordOrigins`); every block's origin
    ///         delta is 0 or 1 and its origin recorded; at most MAX_L2_BLOCKS_PER_SECOND
    ///         consecutive blocks share a timestamp (counting the blocks before the batch);
    ///         every block's timestamp is within `[originTimestamp, originTimestamp +
    ///         maxSequencerDrift]`; the first block's origin `o` has `block.number < o +
    ///         sequencingWindow`; every segment has `1 <= length <= MAX_SEGMENT_SIZE` and `1 <=
    ///         txCount <= MAX_TRANSACTIONS_PER_SEGMENT`, the lengths sum to the bytes left and
    ///         the transaction counts to the blocks'; `depositCount ==
    ///         bridge.depositCountAt(last block's origin)`. Checked in this order (the caller,
    ///         the calldata, the fixed fields, the headers, block by block, the segment table,
    ///         the deposit count); the first failing check names itself.
    /// @param data The batch (envelope v2).
    function postBatch(bytes calldata data) external {
        (Record memory record, Cursor memory cursor, uint256 segmentBytes) = _checkBatch(data, false);
        record.segmentRoot = _segmentRoot(data, segmentBytes);
        _append(record, cursor);
    }

    /// @notice Appends a blob batch: `envelope` is a batch (envelope v2) that ends with its
    ///         segment table, and the segments are the first bytes of the transaction's blob data
    ///         stream (see the contract's notice). Only the batcher, from its own EOA (type 3)
    ///         transaction, with canonically encoded calldata.
    /// @dev    Checks everything `postBatch` checks, in the same order, except that no bytes may
    ///         follow the segment table (`BatchInbox_SegmentLengthMismatch(remaining, 0)`); then
    ///         that the segments hold bytes (`S > 0`) and that the transaction carries exactly
    ///         `n = ceil(S / BLOB_DATA_SIZE)` blobs (`blobhash(i) != 0` for `i < n`,
    ///         `blobhash(n) == 0`). The record has `blobCount = n`, `dataHash =
    ///         keccak256(envelope)` and `segmentRoot = keccak256(blobhash(0) ‖ ... ‖
    ///         blobhash(n - 1))`. Segments are at most 16 × 32 KiB, so `n <= 5`, which one
    ///         transaction may carry on every fork since Cancun (six at most per transaction).
    /// @param envelope The batch without its segments.
    function postBlobBatch(bytes calldata envelope) external {
        (Record memory record, Cursor memory cursor, uint256 segmentBytes) = _checkBatch(envelope, true);
        if (segmentBytes == 0) revert BatchInbox_NoBlobData();
        uint256 blobCount = (segmentBytes + BLOB_DATA_SIZE - 1) / BLOB_DATA_SIZE;
        record.segmentRoot = _versionedHashesRoot(blobCount);
        // casting to 'uint8' is safe because segmentBytes <= 16 * MAX_SEGMENT_SIZE, so blobCount <= 5
        // forge-lint: disable-next-line(unsafe-typecast)
        record.blobCount = uint8(blobCount);
        _append(record, cursor);
    }

    /// @notice Appends forced L2 blocks when the batcher has let the sequencing window of the
    ///         next L1 origin pass: one block per origin `E = lastOrigin + 1, + 2, ...` whose
    ///         window has closed (`block.number >= E + sequencingWindow`) and which is recorded,
    ///         at most MAX_FORCED_BLOCKS_PER_CALL, in one record. Each has no transactions but
    ///         its origin's bridge messages, and timestamp `max(previous, originTimestamp(E))`
    ///         (plus one second if that would make more than MAX_L2_BLOCKS_PER_SECOND blocks
    ///         share it). Anyone may call it, so a sequencer that goes quiet for N L1 blocks
    ///         needs one call, not N.
    /// @dev    `headers` first extend the recorded origins as in `recordOrigins` (may be empty).
    ///         Reverts unless at least the first origin qualifies. The record has `dataHash =
    ///         segmentRoot = 0` and `blocksHash = keccak256` of the generated 7-byte entries
    ///         `(1, timestamp step, 0)`.
    /// @param headers RLP-encoded headers extending the recorded origins, oldest first.
    function forceInclude(bytes[] calldata headers) external {
        _recordOrigins(headers);
        Cursor memory cursor = _cursor;
        _closeOpenBlock(cursor);
        uint256 origin = uint256(cursor.lastOrigin) + 1;
        if (origin > lastRecordedOrigin) revert BatchInbox_OriginNotRecorded(origin);
        uint256 forcibleAt = origin + sequencingWindow;
        if (block.number < forcibleAt) revert BatchInbox_SequencingWindowOpen(origin, forcibleAt);

        uint64 firstBlock = cursor.nextBlock;
        bytes memory entries;
        uint256 count;
        while (
            count < MAX_FORCED_BLOCKS_PER_CALL && origin <= lastRecordedOrigin
                && block.number >= origin + sequencingWindow
        ) {
            uint256 previousTimestamp = cursor.lastTimestamp;
            uint256 timestamp = _origins[origin].timestamp;
            uint256 sameTimestampBlocks = 1;
            if (timestamp <= previousTimestamp) {
                timestamp = previousTimestamp;
                sameTimestampBlocks = uint256(cursor.blocksAtLastTimestamp) + 1;
                if (sameTimestampBlocks > MAX_L2_BLOCKS_PER_SECOND) {
                    timestamp = previousTimestamp + 1;
                    sameTimestampBlocks = 1;
                }
            }
            uint256 gap = timestamp - previousTimestamp;
            if (gap > type(uint32).max) revert BatchInbox_ForcedTimestampGapTooLarge(gap);
            if (timestamp > type(uint64).max) revert BatchInbox_TimestampOverflow(cursor.nextBlock);
            // casting is safe: the values were bounded above (origin <= lastRecordedOrigin, a
            // uint64; gap < 2^32; timestamp < 2^64; sameTimestampBlocks <= 10)
            // forge-lint: disable-next-line(unsafe-typecast)
            entries = abi.encodePacked(entries, uint8(1), uint32(gap), uint16(0));
            // forge-lint: disable-next-line(unsafe-typecast)
            cursor.lastOrigin = uint64(origin);
            // forge-lint: disable-next-line(unsafe-typecast)
            cursor.lastTimestamp = uint64(timestamp);
            // forge-lint: disable-next-line(unsafe-typecast)
            cursor.blocksAtLastTimestamp = uint64(sameTimestampBlocks);
            cursor.nextBlock += 1;
            ++count;
            ++origin;
        }
        _append(
            Record({
                firstBlock: firstBlock,
                // casting is safe: count <= MAX_FORCED_BLOCKS_PER_CALL
                // forge-lint: disable-next-line(unsafe-typecast)
                blockCount: uint16(count),
                lastOrigin: cursor.lastOrigin,
                // forge-lint: disable-next-line(unsafe-typecast)
                depositCount: uint64(bridge.depositCountAt(cursor.lastOrigin)),
                l1Block: uint64(block.number),
                forced: true,
                blobCount: 0,
                lastBlockOpen: false,
                firstBlockTxOffset: 0,
                txCount: 0,
                lastBlockTxs: 0,
                lastBlockDeltas: 0,
                openSegments: 0,
                dataHash: bytes32(0),
                segmentRoot: bytes32(0),
                blocksHash: keccak256(entries)
            }),
            cursor
        );
    }

    // ------------------------------------------------------------------ views

    /// @notice The next L2 block a batch must start at (L2 genesis is block 0, so from 1).
    /// @return The next L2 block number.
    function nextBlock() external view returns (uint64) {
        return _cursor.nextBlock;
    }

    /// @notice The L1 origin of the last appended L2 block (of genesis before any).
    /// @return The L1 block number.
    function lastOrigin() external view returns (uint64) {
        return _cursor.lastOrigin;
    }

    /// @notice The timestamp of the last appended L2 block (of genesis before any).
    /// @return The timestamp.
    function lastTimestamp() external view returns (uint64) {
        return _cursor.lastTimestamp;
    }

    /// @notice How many consecutive L2 blocks up to the last appended one share its timestamp.
    /// @return The count (1 to MAX_L2_BLOCKS_PER_SECOND).
    function blocksAtLastTimestamp() external view returns (uint64) {
        return _cursor.blocksAtLastTimestamp;
    }

    /// @notice The hash of recorded L1 origin `number`.
    /// @dev    Reverts `BatchInbox_OriginNotRecorded` outside `genesisOrigin..lastRecordedOrigin`.
    /// @param number The L1 block number.
    /// @return The block hash.
    function originHash(uint256 number) external view returns (bytes32) {
        return _recordedOrigin(number).hash;
    }

    /// @notice The hash `proveOriginHashes` proved for L1 block `number`, or zero.
    /// @param number The L1 block.
    /// @return The proven hash.
    function provenOriginHash(uint256 number) external view returns (bytes32) {
        return _provenHashes[number];
    }

    /// @notice The timestamp of recorded L1 origin `number`.
    /// @dev    Reverts `BatchInbox_OriginNotRecorded` outside `genesisOrigin..lastRecordedOrigin`.
    /// @param number The L1 block number.
    /// @return The block timestamp.
    function originTimestamp(uint256 number) external view returns (uint64) {
        return _recordedOrigin(number).timestamp;
    }

    /// @notice The number of records.
    /// @return The record count; the next record gets this index.
    function recordCount() external view returns (uint256) {
        return _records.length;
    }

    /// @notice The record at `index`.
    /// @param index The record index.
    /// @return The record.
    function records(uint256 index) external view returns (Record memory) {
        if (index >= _records.length) revert BatchInbox_UnknownRecord(index);
        return _records[index];
    }

    /// @notice The index of the record covering L2 block `l2Block` (binary search).
    /// @dev    Reverts `BatchInbox_BlockNotRecorded` for genesis (0) and for blocks from
    ///         `nextBlock` on. Records are contiguous from block 1, so every other block has one.
    /// @param l2Block The L2 block.
    /// @return index The record index.
    function recordOf(uint64 l2Block) external view returns (uint256 index) {
        if (l2Block == 0 || l2Block >= _cursor.nextBlock) revert BatchInbox_BlockNotRecorded(l2Block);
        // Invariant: records[index].firstBlock <= l2Block < records[high].firstBlock (or high
        // is the record count).
        uint256 high = _records.length;
        while (high - index > 1) {
            uint256 mid = (index + high) >> 1;
            if (_records[mid].firstBlock <= l2Block) index = mid;
            else high = mid;
        }
    }

    /// @notice Proves the hashes of old L1 blocks, so that recording can go on after a gap
    ///         longer than L1 remembers. Recording (`recordOrigins`, `forceInclude`, a batch's
    ///         headers) checks its newest header against L1's hash of that block, which L1
    ///         tells for 8191 blocks (EIP-2935; 256 without it), and cannot be split across
    ///         transactions; so after about a day in which nobody recorded, no run from
    ///         `lastRecordedOrigin` could reach a block L1 still tells, and the chain and its
    ///         escape hatch would stop for good. This proves the hashes backwards instead, in
    ///         as many transactions as it takes: `headers` are consecutive, oldest first, and
    ///         the newest must hash to L1's hash of its block, or to one proven before (the
    ///         parent named by an earlier call's oldest header). Each header's hash, and its
    ///         oldest header's parent, are kept; recording then accepts a run ending at any of
    ///         them. Anyone may call it.
    /// @dev    The newest header must be at least `ORIGIN_PROOF_DEPTH` blocks old, beyond the
    ///         reorgs L1 sees. A proven hash is only consulted where L1 no longer tells one.
    /// @param headers The RLP-encoded headers, oldest first.
    function proveOriginHashes(bytes[] calldata headers) external {
        uint256 count = headers.length;
        if (count == 0) revert BatchInbox_HeadersTooNew(0);
        bytes32[] memory hashes = new bytes32[](count);
        uint256 first;
        bytes32 firstParent;
        uint256 previous;
        for (uint256 k; k < count; ++k) {
            (bytes32 parentHash, uint64 number,) = L1Header.parse(headers[k]);
            bytes32 hash = keccak256(headers[k]);
            if (k == 0) {
                first = number;
                firstParent = parentHash;
            } else {
                if (number != previous + 1) revert BatchInbox_HeaderNumberMismatch(previous + 1, number);
                if (parentHash != hashes[k - 1]) revert BatchInbox_ParentHashMismatch(number);
            }
            hashes[k] = hash;
            previous = number;
        }
        uint256 last = previous;
        if (last + ORIGIN_PROOF_DEPTH > block.number || first == 0) revert BatchInbox_HeadersTooNew(last);
        (bool known, bytes32 canonical) = L1BlockHashes.tryCanonicalHash(last);
        if (!known) {
            canonical = _provenHashes[last];
            if (canonical == bytes32(0)) revert BatchInbox_BlockHashUnavailable(last);
        }
        if (canonical != hashes[count - 1]) revert BatchInbox_BlockHashMismatch(last);
        for (uint256 k; k < count; ++k) {
            _provenHashes[first + k] = hashes[k];
        }
        _provenHashes[first - 1] = firstParent;
        // casting to 'uint64' is safe because both are headers' 64-bit number fields
        // forge-lint: disable-next-line(unsafe-typecast)
        emit OriginHashesProven(uint64(first), uint64(last));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Extends the recorded origins by `headers` (see `recordOrigins`).
    function _recordOrigins(bytes[] calldata headers) private {
        Extension memory extension = _beginExtension();
        for (uint256 k; k < headers.length; ++k) {
            _extend(extension, headers[k]);
        }
        _endExtension(extension);
    }

    /// @dev Extends the recorded origins by the headers inside a batch; returns the offset of
    ///      the block table, which follows them.
    function _recordBatchHeaders(bytes calldata data, uint256 headerCount) private returns (uint256 offset) {
        offset = _ENVELOPE_FIXED_SIZE;
        Extension memory extension = _beginExtension();
        for (uint256 k; k < headerCount; ++k) {
            if (offset + 2 > data.length) revert BatchInbox_BatchTruncated();
            uint256 headerEnd = offset + 2 + _readUint(data, offset, 2);
            if (headerEnd > data.length) revert BatchInbox_BatchTruncated();
            _extend(extension, data[offset + 2:headerEnd]);
            offset = headerEnd;
        }
        _endExtension(extension);
    }

    /// @dev A run of headers being recorded.
    /// @param recordedUpTo `lastRecordedOrigin` before the run.
    /// @param next         The number the next header must have (0 before the first).
    /// @param parentHash   The hash the next header must name as parent.
    struct Extension {
        uint256 recordedUpTo;
        uint256 next;
        bytes32 parentHash;
    }

    function _beginExtension() private view returns (Extension memory extension) {
        extension.recordedUpTo = lastRecordedOrigin;
    }

    /// @dev Takes the next header of a run. The first may start at any recorded origin after
    ///      genesis (so a run overlapping origins someone recorded meanwhile still lands); the
    ///      others follow it block by block. A header of a recorded origin must be the recorded
    ///      one; a new one is stored.
    function _extend(Extension memory extension, bytes calldata header) private {
        (bytes32 parentHash, uint64 number, uint64 timestamp) = L1Header.parse(header);
        if (extension.next == 0) {
            if (number <= genesisOrigin || number > extension.recordedUpTo + 1) {
                revert BatchInbox_HeaderNumberMismatch(extension.recordedUpTo + 1, number);
            }
            extension.parentHash = _origins[number - 1].hash;
        } else if (number != extension.next) {
            revert BatchInbox_HeaderNumberMismatch(extension.next, number);
        }
        if (parentHash != extension.parentHash) revert BatchInbox_ParentHashMismatch(number);
        bytes32 hash = keccak256(header);
        if (number <= extension.recordedUpTo) {
            if (hash != _origins[number].hash) revert BatchInbox_BlockHashMismatch(number);
        } else {
            _origins[number] = Origin({hash: hash, timestamp: timestamp});
        }
        extension.parentHash = hash;
        extension.next = uint256(number) + 1;
    }

    /// @dev Ends a run: if it recorded new origins, checks the newest against L1 and moves
    ///      `lastRecordedOrigin` to it.
    function _endExtension(Extension memory extension) private {
        if (extension.next <= extension.recordedUpTo + 1) return; // nothing new (or no header)
        uint256 last = extension.next - 1;
        (bool known, bytes32 canonical) = L1BlockHashes.tryCanonicalHash(last);
        if (!known) {
            canonical = _provenHashes[last];
            if (canonical == bytes32(0)) revert BatchInbox_BlockHashUnavailable(last);
        }
        if (canonical != extension.parentHash) revert BatchInbox_BlockHashMismatch(last);
        // casting to 'uint64' is safe because `last` is a header's 64-bit number field
        // forge-lint: disable-next-line(unsafe-typecast)
        lastRecordedOrigin = uint64(last);
        // forge-lint: disable-next-line(unsafe-typecast)
        emit OriginsRecorded(uint64(extension.recordedUpTo + 1), uint64(last), extension.parentHash);
    }

    /// @dev A batch's place among open blocks: whether it continues the block the last record
    ///      left open (with that block's deltas, transactions and segments so far), whether it
    ///      leaves its own last block open, and what its table says of its first and last block.
    struct Parts {
        bool continues;
        bool open;
        uint40 openDeltas;
        uint32 txOffset;
        uint256 segmentsSoFar;
        uint256 firstTxs;
        uint256 lastEntry;
        uint256 txCount;
    }

    /// @dev The open block the last record left, if any, as `parts` sees it.
    function _openParts(bool open) private view returns (Parts memory parts) {
        parts.open = open;
        uint256 count = _records.length;
        if (count == 0) return parts;
        Record storage last = _records[count - 1];
        if (!last.lastBlockOpen) return parts;
        parts.continues = true;
        parts.openDeltas = last.lastBlockDeltas;
        // The open block is the next record's first: its transactions in `last` follow those
        // of the records before when `last` started with it too.
        uint256 before = last.blockCount == 1 ? last.firstBlockTxOffset : 0;
        // casting to 'uint32' is safe: at most 16 segments of 256 transactions hold a block
        // forge-lint: disable-next-line(unsafe-typecast)
        parts.txOffset = uint32(before + last.lastBlockTxs);
        parts.segmentsSoFar = last.openSegments;
    }

    /// @dev Checks every block entry against the cursor's state, advancing `cursor` past the
    ///      batch's last block; returns the blocks' total transaction count. A batch continuing
    ///      an open block starts with it again (the cursor already stands after it): its entry
    ///      must repeat the opening entry's deltas and is not stepped again.
    function _walkBlocks(bytes calldata blocks, Cursor memory cursor, Parts memory parts)
        private
        view
        returns (uint256 txCount)
    {
        uint256 recordedUpTo = lastRecordedOrigin;
        uint256 drift = maxSequencerDrift;
        uint256 l2Block = cursor.nextBlock;
        uint256 origin = cursor.lastOrigin;
        uint256 timestamp = cursor.lastTimestamp;
        uint256 sameTimestampBlocks = cursor.blocksAtLastTimestamp;
        uint256 originTimestamp_ = _origins[origin].timestamp;
        for (uint256 offset; offset < blocks.length; offset += _BLOCK_ENTRY_SIZE) {
            uint256 entry = _readUint(blocks, offset, _BLOCK_ENTRY_SIZE);
            parts.lastEntry = entry;
            if (offset == 0) parts.firstTxs = entry & 0xffff;
            if (offset == 0 && parts.continues) {
                if (entry >> 16 != parts.openDeltas) revert BatchInbox_ContinuationMismatch(l2Block);
                if (entry & 0xffff == 0) revert BatchInbox_EmptyPart(l2Block);
                if (block.number >= origin + 2 * uint256(sequencingWindow)) {
                    revert BatchInbox_SequencingWindowExpired(origin);
                }
                txCount += entry & 0xffff;
                ++l2Block;
                continue;
            }
            uint256 originDelta = entry >> 48;
            if (originDelta > 1) revert BatchInbox_InvalidOriginDelta(l2Block);
            if (originDelta == 1) {
                ++origin;
                if (origin > recordedUpTo) revert BatchInbox_OriginNotRecorded(origin);
                originTimestamp_ = _origins[origin].timestamp;
            }
            if (offset == 0 && block.number >= origin + 2 * uint256(sequencingWindow)) {
                revert BatchInbox_SequencingWindowExpired(origin);
            }
            uint256 timestampDelta = (entry >> 16) & 0xffffffff;
            if (timestampDelta == 0) {
                if (++sameTimestampBlocks > MAX_L2_BLOCKS_PER_SECOND) {
                    revert BatchInbox_TooManyBlocksPerSecond(l2Block);
                }
            } else {
                timestamp += timestampDelta;
                sameTimestampBlocks = 1;
            }
            if (timestamp < originTimestamp_) revert BatchInbox_TimestampBeforeOrigin(l2Block);
            if (timestamp > originTimestamp_ + drift) revert BatchInbox_TimestampDriftExceeded(l2Block);
            if (timestamp > type(uint64).max) revert BatchInbox_TimestampOverflow(l2Block);
            txCount += entry & 0xffff;
            ++l2Block;
        }
        // casting to 'uint64' is safe: l2Block grows by at most 4096 per batch from a uint64,
        // origin <= lastRecordedOrigin, timestamp and sameTimestampBlocks were bounded above
        // forge-lint: disable-next-line(unsafe-typecast)
        cursor.nextBlock = uint64(l2Block);
        // forge-lint: disable-next-line(unsafe-typecast)
        cursor.lastOrigin = uint64(origin);
        // forge-lint: disable-next-line(unsafe-typecast)
        cursor.lastTimestamp = uint64(timestamp);
        // forge-lint: disable-next-line(unsafe-typecast)
        cursor.blocksAtLastTimestamp = uint64(sameTimestampBlocks);
    }

    /// @dev The checks `postBatch` and `postBlobBatch` share, in `postBatch`'s order: the
    ///      caller, the calldata, the envelope (fixed fields, headers, blocks, segment table,
    ///      deposit count). `segmentsInBlobs` says whether the segments follow the table in
    ///      `data` or travel in blobs (then nothing may follow it). Returns the record (with
    ///      `dataHash`, without `segmentRoot` and `blobCount`), the cursor after the batch's last
    ///      block and the sum of the segment lengths.
    function _checkBatch(bytes calldata data, bool segmentsInBlobs)
        private
        returns (Record memory record, Cursor memory cursor, uint256 segmentBytes)
    {
        if (msg.sender != batcher) revert BatchInbox_NotBatcher();
        if (msg.sender != tx.origin || msg.sender.code.length != 0) revert BatchInbox_CallerNotEOA();
        _checkCanonicalCalldata(data);
        if (data.length > MAX_BATCH_SIZE) revert BatchInbox_BatchTooLarge(data.length);
        if (data.length != 0 && uint8(data[0]) != BATCH_VERSION) revert BatchInbox_UnsupportedVersion(uint8(data[0]));
        if (data.length < _ENVELOPE_FIXED_SIZE) revert BatchInbox_BatchTruncated();

        cursor = _cursor;
        // casting to 'uint64' is safe because an 8-byte field is below 2^64
        // forge-lint: disable-next-line(unsafe-typecast)
        record.firstBlock = uint64(_readUint(data, 1, 8));
        if (record.firstBlock != cursor.nextBlock) {
            revert BatchInbox_UnexpectedFirstBlock(cursor.nextBlock, record.firstBlock);
        }
        uint256 blockCount = _readUint(data, 9, 2);
        if (blockCount == 0 || blockCount > MAX_BLOCKS_PER_BATCH) revert BatchInbox_InvalidBlockCount(blockCount);
        // casting to 'uint16' is safe because blockCount <= 4096
        // forge-lint: disable-next-line(unsafe-typecast)
        record.blockCount = uint16(blockCount);
        Parts memory parts = _openParts(_readUint(data, 12, 1) & OPEN_FLAG != 0);
        uint256 segmentCount = _readUint(data, 12, 1) & ~uint256(OPEN_FLAG);
        if (segmentCount > MAX_SEGMENTS_PER_BATCH) revert BatchInbox_TooManySegments(segmentCount);

        uint256 blocksStart = _recordBatchHeaders(data, _readUint(data, 11, 1));
        uint256 blocksEnd = blocksStart + blockCount * _BLOCK_ENTRY_SIZE;
        if (blocksEnd > data.length) revert BatchInbox_BatchTruncated();
        parts.txCount = _walkBlocks(data[blocksStart:blocksEnd], cursor, parts);
        segmentBytes = _checkSegmentTable(data, blocksEnd, segmentCount, parts.txCount, segmentsInBlobs);

        {
            uint256 depositCount = _readUint(data, 13, 8);
            uint256 expected = bridge.depositCountAt(cursor.lastOrigin);
            if (depositCount != expected) revert BatchInbox_DepositCountMismatch(expected, depositCount);
            // casting to 'uint64' is safe because depositCount is an 8-byte field
            // forge-lint: disable-next-line(unsafe-typecast)
            record.depositCount = uint64(depositCount);
        }
        record.lastOrigin = cursor.lastOrigin;
        record.l1Block = uint64(block.number);
        record.dataHash = keccak256(data);
        record.blocksHash = keccak256(data[blocksStart:blocksEnd]);
        _checkParts(record, cursor, parts, data[blocksEnd:blocksEnd + segmentCount * _SEGMENT_ENTRY_SIZE]);
    }

    /// @dev The open-block rules for a checked batch, filling `record`'s open-block fields: a
    ///      continued block and a block left open each hold at least one transaction here; the
    ///      segments holding a block's transactions over all its records stay within
    ///      MAX_SEGMENTS_PER_BLOCK; a batch leaving its last block open leaves the cursor at it.
    function _checkParts(Record memory record, Cursor memory cursor, Parts memory parts, bytes calldata segmentTable)
        private
        pure
    {
        uint256 txCount = parts.txCount;
        uint256 lastTxs = parts.lastEntry & 0xffff;
        uint256 lastBlock = uint256(cursor.nextBlock) - 1;
        uint256 firstSegments = _segmentsHolding(segmentTable, 0, parts.firstTxs);
        uint256 lastSegments = _segmentsHolding(segmentTable, txCount - lastTxs, txCount);
        uint256 blockCount = record.blockCount;
        if (parts.continues) {
            uint256 soFar = parts.segmentsSoFar + firstSegments;
            if (soFar > MAX_SEGMENTS_PER_BLOCK) revert BatchInbox_BlockTooLarge(record.firstBlock, soFar);
            // A batch of the continued block alone may leave it open again.
            if (blockCount == 1) lastSegments = soFar;
            record.firstBlockTxOffset = parts.txOffset;
        }
        if (parts.open) {
            if (lastTxs == 0) revert BatchInbox_EmptyPart(lastBlock);
            // A continuation adds at least one segment: an open block must leave room for it.
            if (lastSegments >= MAX_SEGMENTS_PER_BLOCK) revert BatchInbox_BlockTooLarge(lastBlock, lastSegments + 1);
            record.lastBlockOpen = true;
            // casting to 'uint8' is safe: checked against MAX_SEGMENTS_PER_BLOCK just before
            // forge-lint: disable-next-line(unsafe-typecast)
            record.openSegments = uint8(lastSegments);
            cursor.nextBlock -= 1;
        }
        // casting is safe: at most 16 segments of 256 transactions; a 2-byte count; a 5-byte field
        // forge-lint: disable-next-line(unsafe-typecast)
        record.txCount = uint16(txCount);
        // forge-lint: disable-next-line(unsafe-typecast)
        record.lastBlockTxs = uint16(lastTxs);
        // forge-lint: disable-next-line(unsafe-typecast)
        record.lastBlockDeltas = uint40(parts.lastEntry >> 16);
    }

    /// @dev How many segments of `segmentTable` (6-byte entries, checked) hold one of the
    ///      batch's transactions `from..to - 1`: none if the range is empty.
    function _segmentsHolding(bytes calldata segmentTable, uint256 from, uint256 to)
        private
        pure
        returns (uint256 count)
    {
        if (from >= to) return 0;
        uint256 start;
        for (uint256 offset; offset < segmentTable.length; offset += _SEGMENT_ENTRY_SIZE) {
            uint256 end = start + (_readUint(segmentTable, offset, _SEGMENT_ENTRY_SIZE) & 0xffff);
            if (end > from && start < to) ++count;
            start = end;
        }
    }

    /// @dev Checks the segment table at `offset`: every entry's length and transaction count,
    ///      the bytes after the table (the segments, or none if they travel in blobs) and the
    ///      transaction counts' sum against the blocks'. Returns the sum of the segment lengths.
    function _checkSegmentTable(
        bytes calldata data,
        uint256 offset,
        uint256 segmentCount,
        uint256 blockTxCount,
        bool segmentsInBlobs
    ) private pure returns (uint256 segmentBytes) {
        uint256 segmentsStart = offset + segmentCount * _SEGMENT_ENTRY_SIZE;
        if (segmentsStart > data.length) revert BatchInbox_BatchTruncated();
        uint256 segmentTxCount;
        for (uint256 j; j < segmentCount; ++j) {
            uint256 entry = _readUint(data, offset + j * _SEGMENT_ENTRY_SIZE, _SEGMENT_ENTRY_SIZE);
            uint256 length = entry >> 16;
            uint256 txCount = entry & 0xffff;
            if (length == 0 || length > MAX_SEGMENT_SIZE) revert BatchInbox_InvalidSegmentLength(j, length);
            if (txCount == 0 || txCount > MAX_TRANSACTIONS_PER_SEGMENT) {
                revert BatchInbox_InvalidSegmentTxCount(j, txCount);
            }
            segmentBytes += length;
            segmentTxCount += txCount;
        }
        uint256 inlineBytes = segmentsInBlobs ? 0 : segmentBytes;
        if (data.length - segmentsStart != inlineBytes) {
            revert BatchInbox_SegmentLengthMismatch(data.length - segmentsStart, inlineBytes);
        }
        if (segmentTxCount != blockTxCount) revert BatchInbox_TxCountMismatch(blockTxCount, segmentTxCount);
    }

    /// @dev The merkle root of the keccak256 hashes of the segments of a checked calldata batch:
    ///      its last `segmentBytes` bytes, cut as the segment table just before them says.
    function _segmentRoot(bytes calldata data, uint256 segmentBytes) private pure returns (bytes32) {
        uint256 segmentCount = _readUint(data, 12, 1) & ~uint256(OPEN_FLAG);
        if (segmentCount == 0) return bytes32(0);
        uint256 segmentStart = data.length - segmentBytes;
        uint256 table = segmentStart - segmentCount * _SEGMENT_ENTRY_SIZE;
        uint256 width = 1;
        while (width < segmentCount) width <<= 1;
        bytes32[] memory nodes = new bytes32[](width);
        for (uint256 j; j < segmentCount; ++j) {
            uint256 segmentEnd = segmentStart + _readUint(data, table + j * _SEGMENT_ENTRY_SIZE, 4);
            nodes[j] = keccak256(data[segmentStart:segmentEnd]);
            segmentStart = segmentEnd;
        }
        return _merkleRoot(nodes);
    }

    /// @dev keccak256 of the transaction's versioned hashes, after checking that it carries
    ///      exactly `blobCount` blobs. BLOBHASH is nonzero exactly below the transaction's blob
    ///      count (a versioned hash starts with 0x01), and the protocol caps a transaction's
    ///      blobs, so counting to the first zero ends.
    function _versionedHashesRoot(uint256 blobCount) private view returns (bytes32) {
        uint256 actual;
        while (blobhash(actual) != bytes32(0)) ++actual;
        if (actual != blobCount) revert BatchInbox_BlobCountMismatch(blobCount, actual);
        bytes32[] memory hashes = new bytes32[](blobCount);
        for (uint256 i; i < blobCount; ++i) {
            hashes[i] = blobhash(i);
        }
        return keccak256(abi.encodePacked(hashes));
    }

    /// @dev The merkle root of `nodes` (a power-of-two count, zero-padded): keccak256(left ‖
    ///      right) level by level; one node is its own root. Overwrites `nodes`.
    function _merkleRoot(bytes32[] memory nodes) private pure returns (bytes32) {
        for (uint256 width = nodes.length; width > 1; width >>= 1) {
            for (uint256 i; i < width >> 1; ++i) {
                nodes[i] = keccak256(abi.encodePacked(nodes[2 * i], nodes[2 * i + 1]));
            }
        }
        return nodes[0];
    }

    /// @dev Closes the block the last record left open, if any: it holds the transactions its
    ///      records posted, and `cursor` moves past it.
    function _closeOpenBlock(Cursor memory cursor) private {
        uint256 count = _records.length;
        if (count == 0 || !_records[count - 1].lastBlockOpen) return;
        Record storage last = _records[count - 1];
        last.lastBlockOpen = false;
        last.openSegments = 0;
        emit OpenBlockClosed(count - 1, cursor.nextBlock);
        cursor.nextBlock += 1;
    }

    /// @dev Stores `record` and the new cursor, and emits `BatchAppended`.
    function _append(Record memory record, Cursor memory cursor) private {
        uint256 index = _records.length;
        _records.push(record);
        _cursor = cursor;
        emit BatchAppended(
            index,
            record.firstBlock,
            record.blockCount,
            record.lastOrigin,
            record.depositCount,
            record.forced,
            record.dataHash,
            record.segmentRoot,
            record.blocksHash,
            record.blobCount,
            record.lastBlockOpen
        );
    }

    /// @dev The recorded origin `number`; reverts if it is not recorded.
    function _recordedOrigin(uint256 number) private view returns (Origin storage origin) {
        if (number < genesisOrigin || number > lastRecordedOrigin) revert BatchInbox_OriginNotRecorded(number);
        return _origins[number];
    }

    /// @dev Reverts unless the calldata is exactly `selector ‖ 0x20 ‖ data.length ‖ data ‖ zero
    ///      padding to 32 bytes`.
    function _checkCanonicalCalldata(bytes calldata data) private pure {
        uint256 length = data.length;
        bool canonical;
        assembly ("memory-safe") {
            let padded := and(add(length, 31), not(31))
            canonical := and(eq(calldatasize(), add(0x44, padded)), eq(calldataload(0x04), 0x20))
            // The word at the data's end holds the padding, then zeros past the calldata.
            if and(canonical, iszero(iszero(and(length, 31)))) {
                canonical := iszero(calldataload(add(0x44, length)))
            }
        }
        if (!canonical) revert BatchInbox_NonCanonicalCalldata();
    }

    /// @dev The big-endian unsigned integer of `size` (<= 32) bytes at `offset` of `data`; the
    ///      caller has checked that they lie inside `data`.
    function _readUint(bytes calldata data, uint256 offset, uint256 size) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := shr(sub(256, shl(3, size)), calldataload(add(data.offset, offset)))
        }
    }
}
