// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Presets
/// @notice The deployment parameters the project ships: PRODUCTION for a real L1, DEVNET for a
///         local chain where the whole withdrawal life cycle runs in a test. The Rust node mirrors
///         these numbers; change both together.
/// @dev    Invariant of every preset: the timelock delay exceeds the challenge period, so a user
///         who rejects a scheduled upgrade can start a withdrawal on L1 (the forced `withdraw`),
///         have it proven and wait out the challenge period before the upgrade can execute.
///         Production's 3 days of margin cover the sequencing window, the wait for a proposal
///         covering the withdrawal and L1 congestion.
///
///         The challenge period is when a proposal can be CHALLENGED, not when it is final: a
///         proposal with an open dispute game is final only once every game on it closed in its
///         favour, so the real finality bound of a proposal is
///         `challengePeriod + DisputeGame.maxGameDuration(range)` (range: the L2 blocks between
///         its anchor and its block): with a week of 2-second L2 blocks (19 levels over the
///         blocks, 16 over a block's trace, 71 turns) that is 7 days + 2 x 3.5 days + 71 x 3
///         hours, about 23 days, in the worst case where both sides use every second and every
///         extension; on the devnet 60 + 2 x 30 + 10 x (2 x levels + 1) seconds. The timelock
///         delay exceeds the challenge period, not this bound: games hold up only the proposals
///         they dispute, so a user whose exit's proposal is in a game proves it against another
///         (later, unchallenged) proposal, and honest proposals keep coming every interval.
library Presets {
    /// @notice A deployment preset.
    /// @param challengePeriod Seconds after a proposal before it is final.
    /// @param timelockDelay   The timelock's minimum delay (seconds) between scheduling and
    ///                        executing an upgrade or an owner action.
    /// @param proposalBond    The bond (wei) each proposal locks.
    /// @param sequencingWindow  L1 blocks within which an L2 block's batch must be posted
    ///                          (BatchInbox `sequencingWindow`).
    /// @param maxSequencerDrift Seconds an L2 block's timestamp may run ahead of its L1 origin
    ///                          (BatchInbox `maxSequencerDrift`).
    /// @param challengerBond    The bond (wei) a challenger posts with each game
    ///                          (DisputeGame `challengerBond`).
    /// @param maxClockDuration  Seconds of thinking time each side of a game has
    ///                          (DisputeGame `maxClockDuration`).
    /// @param clockExtension    The least time a side gets when its turn starts
    ///                          (DisputeGame `clockExtension`); below `maxClockDuration`.
    /// @param permissionlessProposals Whether anyone may propose (StateManager
    ///                          `permissionlessProposals`); only the devnet, until the EVM one-step
    ///                          proof exists.
    struct Preset {
        uint256 challengePeriod;
        uint256 timelockDelay;
        uint256 proposalBond;
        uint256 sequencingWindow;
        uint256 maxSequencerDrift;
        uint256 challengerBond;
        uint64 maxClockDuration;
        uint64 clockExtension;
        bool permissionlessProposals;
    }

    /// @notice Production challenge period: 7 days, the window a challenger has to dispute.
    uint256 internal constant PRODUCTION_CHALLENGE_PERIOD = 7 days;

    /// @notice Production timelock delay: 10 days, the challenge period plus 3 days to exit.
    uint256 internal constant PRODUCTION_TIMELOCK_DELAY = 10 days;

    /// @notice The gas price the production bonds are sized at.
    uint256 internal constant BOND_REFERENCE_GAS_PRICE = 30 gwei;

    /// @notice The most gas opening one batch segment on L1 may take (`SegmentStore.open`, or
    ///         a blob segment's `openBlob`): one transaction, so at most EIP-7825's cap. The
    ///         adversarial search in `crates/execution/tests/segment_opener.rs` keeps the opener
    ///         itself under it (the dearest segment found takes 14.02M), so every segment can be
    ///         opened.
    uint256 internal constant WORST_CASE_OPENING_GAS = 2 ** 24;

    /// @notice The most segments a step may need opened: every segment of a batch
    ///         (`BatchInbox.MAX_SEGMENTS_PER_BATCH`). A step shows every segment holding one of its
    ///         block's transactions opened and decoding (a block with a segment that does not
    ///         decode is empty), and one L2 block may span them all.
    uint256 internal constant WORST_CASE_OPENINGS = 16;

    /// @notice The most blobs a blob batch's openings may need proven first: 16 segments of
    ///         `BatchInbox.MAX_SEGMENT_SIZE` bytes fill 5 blobs of `BLOB_DATA_SIZE`.
    uint256 internal constant WORST_CASE_BLOB_LOADS = 5;

    /// @notice The most gas proving one whole blob takes (`SegmentStore.loadWholeBlob`): a test
    ///         in `crates/execution/tests/one_step_transaction.rs` asserts it for a blob full of
    ///         incompressible data (6.53M measured).
    uint256 internal constant WORST_CASE_BLOB_LOAD_GAS = 8_000_000;

    /// @notice The most gas one side spends on its own moves in a game: 36 bisections under
    ///         100k gas each and one step at EIP-7825's cap (today's dearest step takes 0.99M, so
    ///         a whole defence 3.9M, `docs/benchmarks.md`; the cap leaves room for part 2's EVM
    ///         step).
    uint256 internal constant WORST_CASE_MOVES_GAS = 21_000_000;

    /// @notice The most gas a side that is right may spend to win one game: every opening its
    ///         step can need, every blob those openings read, and its moves, about 329M. Each
    ///         production bond pays it to the winner at `BOND_REFERENCE_GAS_PRICE` (9.88 ether
    ///         at 30 gwei).
    uint256 internal constant WORST_CASE_GAME_GAS = WORST_CASE_OPENINGS * WORST_CASE_OPENING_GAS + WORST_CASE_BLOB_LOADS
        * WORST_CASE_BLOB_LOAD_GAS + WORST_CASE_MOVES_GAS;

    /// @notice Production proposal bond: 20 ether. Half of a removed proposal's bond pays the
    ///         challenger who wins (`StateManager.REMOVAL_REWARD_BPS`; the other half is burned,
    ///         so a proposer removing its own false proposal still loses it), so 10 ether covers
    ///         `WORST_CASE_GAME_GAS` up to about 30 gwei. Most games cost far less: the moves and
    ///         a full 30M-gas block of transfers (about 1,400, six segments of about 2.85M to
    ///         open) come to about 21M gas (0.63 ether at 30 gwei). The proposer locks one bond
    ///         per live proposal, so its capital is bond x challenge period / proposal interval
    ///         (3,360 ether when proposing hourly, 560 ether every six hours).
    uint256 internal constant PRODUCTION_PROPOSAL_BOND = 20 ether;

    /// @notice Production sequencing window: 3,600 L1 blocks (12 hours).
    uint256 internal constant PRODUCTION_SEQUENCING_WINDOW = 3_600;

    /// @notice Production maximum sequencer drift: 1,800 seconds (30 minutes).
    uint256 internal constant PRODUCTION_MAX_SEQUENCER_DRIFT = 1_800;

    /// @notice Production challenger bond: 10 ether. It pays the proposer's worst-case gas to
    ///         defend its proposal in one game, `WORST_CASE_GAME_GAS`, up to about 30 gwei: the
    ///         challenger chooses where the game ends, so it can steer to the block whose step
    ///         needs the most segments opened. A challenger that loses pays it to the proposer,
    ///         so spamming games on an honest proposal costs 10 ether a game.
    uint256 internal constant PRODUCTION_CHALLENGER_BOND = 10 ether;

    /// @notice Production clock: 3.5 days of thinking time per side and game, so both clocks
    ///         together fit in the 7-day challenge period's order of magnitude.
    uint64 internal constant PRODUCTION_MAX_CLOCK_DURATION = 3.5 days;

    /// @notice Production clock extension: 3 hours, the least a side gets to answer a move made
    ///         at the last second (an L1 congestion's worth).
    uint64 internal constant PRODUCTION_CLOCK_EXTENSION = 3 hours;

    /// @notice Production proposals are allowlisted (the `proposer` only) until the EVM
    ///         one-step proof exists: a code-running step resolves for allowlisted proposers.
    bool internal constant PRODUCTION_PERMISSIONLESS_PROPOSALS = false;

    /// @notice Devnet challenge period: 60 seconds.
    uint256 internal constant DEVNET_CHALLENGE_PERIOD = 60;

    /// @notice Devnet timelock delay: 120 seconds.
    uint256 internal constant DEVNET_TIMELOCK_DELAY = 120;

    /// @notice Devnet proposal bond: 0.1 ether (the devnet's funded dev accounts).
    uint256 internal constant DEVNET_PROPOSAL_BOND = 0.1 ether;

    /// @notice Devnet sequencing window: 20 L1 blocks.
    uint256 internal constant DEVNET_SEQUENCING_WINDOW = 20;

    /// @notice Devnet maximum sequencer drift: 600 seconds.
    uint256 internal constant DEVNET_MAX_SEQUENCER_DRIFT = 600;

    /// @notice Devnet challenger bond: 0.1 ether (the devnet's funded dev accounts).
    uint256 internal constant DEVNET_CHALLENGER_BOND = 0.1 ether;

    /// @notice Devnet clock: 30 seconds per side and game, so a test sees a game end.
    uint64 internal constant DEVNET_MAX_CLOCK_DURATION = 30;

    /// @notice Devnet clock extension: 10 seconds.
    uint64 internal constant DEVNET_CLOCK_EXTENSION = 10;

    /// @notice Devnet proposals are permissionless: any funded account may propose
    ///         (`rollup-node propose`), so a test can make a false proposal and see it challenged.
    bool internal constant DEVNET_PERMISSIONLESS_PROPOSALS = true;

    /// @notice The production preset.
    /// @return The production parameters.
    function production() internal pure returns (Preset memory) {
        return Preset({
            challengePeriod: PRODUCTION_CHALLENGE_PERIOD,
            timelockDelay: PRODUCTION_TIMELOCK_DELAY,
            proposalBond: PRODUCTION_PROPOSAL_BOND,
            sequencingWindow: PRODUCTION_SEQUENCING_WINDOW,
            maxSequencerDrift: PRODUCTION_MAX_SEQUENCER_DRIFT,
            challengerBond: PRODUCTION_CHALLENGER_BOND,
            maxClockDuration: PRODUCTION_MAX_CLOCK_DURATION,
            clockExtension: PRODUCTION_CLOCK_EXTENSION,
            permissionlessProposals: PRODUCTION_PERMISSIONLESS_PROPOSALS
        });
    }

    /// @notice The devnet preset.
    /// @return The devnet parameters.
    function devnet() internal pure returns (Preset memory) {
        return Preset({
            challengePeriod: DEVNET_CHALLENGE_PERIOD,
            timelockDelay: DEVNET_TIMELOCK_DELAY,
            proposalBond: DEVNET_PROPOSAL_BOND,
            sequencingWindow: DEVNET_SEQUENCING_WINDOW,
            maxSequencerDrift: DEVNET_MAX_SEQUENCER_DRIFT,
            challengerBond: DEVNET_CHALLENGER_BOND,
            maxClockDuration: DEVNET_MAX_CLOCK_DURATION,
            clockExtension: DEVNET_CLOCK_EXTENSION,
            permissionlessProposals: DEVNET_PERMISSIONLESS_PROPOSALS
        });
    }
}
