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
    struct Preset {
        uint256 challengePeriod;
        uint256 timelockDelay;
        uint256 proposalBond;
        uint256 sequencingWindow;
        uint256 maxSequencerDrift;
    }

    /// @notice Production challenge period: 7 days, the window a challenger has to dispute.
    uint256 internal constant PRODUCTION_CHALLENGE_PERIOD = 7 days;

    /// @notice Production timelock delay: 10 days, the challenge period plus 3 days to exit.
    uint256 internal constant PRODUCTION_TIMELOCK_DELAY = 10 days;

    /// @notice Production proposal bond: 1 ether. The bond pays the challenger who wins, so it
    ///         must at least refund a full game: about 55 bisection levels (L2 blocks of a week,
    ///         transactions of a block, EVM steps of a transaction), half of them the
    ///         challenger's at 100-150k gas each, plus one step verified on L1 (at most EIP-7825's
    ///         2^24 gas) come to about 20 million gas, 0.6 ether at 30 gwei; 1 ether leaves room
    ///         for a gas spike. The proposer locks one bond per live proposal, so its capital is
    ///         bond x challenge period / proposal interval (168 ether when proposing hourly).
    uint256 internal constant PRODUCTION_PROPOSAL_BOND = 1 ether;

    /// @notice Production sequencing window: 3,600 L1 blocks (12 hours).
    uint256 internal constant PRODUCTION_SEQUENCING_WINDOW = 3_600;

    /// @notice Production maximum sequencer drift: 1,800 seconds (30 minutes).
    uint256 internal constant PRODUCTION_MAX_SEQUENCER_DRIFT = 1_800;

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

    /// @notice The production preset.
    /// @return The production parameters.
    function production() internal pure returns (Preset memory) {
        return Preset({
            challengePeriod: PRODUCTION_CHALLENGE_PERIOD,
            timelockDelay: PRODUCTION_TIMELOCK_DELAY,
            proposalBond: PRODUCTION_PROPOSAL_BOND,
            sequencingWindow: PRODUCTION_SEQUENCING_WINDOW,
            maxSequencerDrift: PRODUCTION_MAX_SEQUENCER_DRIFT
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
            maxSequencerDrift: DEVNET_MAX_SEQUENCER_DRIFT
        });
    }
}
