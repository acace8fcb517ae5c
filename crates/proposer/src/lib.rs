//! The proposer: submits the output root of the safe L2 head to the L1 `StateManager` with a
//! bond, and reclaims bonds once proposals are final.
//!
//! # Invariants
//! - Only blocks derived from L1 data (the safe head) are proposed.
//! - The `StateManager` is the source of truth for what is proposed: a proposal whose L1
//!   inclusion a reorg removed is proposed again on the next round, with a warning naming it
//!   (nothing on L1 marks it: the proposer compares with the newest proposal it last saw).
//! - Each proposal binds its L2 block (number and hash) and a batch root over the
//!   `BatchInbox` commitments its range was derived from ([`rollup_primitives::batch_root`]).
//! - Its root (the seed's `stateRoot` argument) is the block's
//!   [`rollup_primitives::OutputRoot`] hash: state root, block hash and the derivation cursor
//!   storage recorded when the block became safe, so withdrawals prove against the state root
//!   inside it and a dispute can bisect over what each proposal claims.

mod dispute;
mod inputs;
mod proposer;

pub use dispute::{DisputeAgent, DisputeConfig, DisputeError, compute_trace};

pub use proposer::{
    PROPOSAL_L1_DEPTH, PROPOSAL_L1_RECENT, ProposalHead, Proposer, ProposerConfig, ProposerError,
    anchored_proof, forced_block_commitment, proposal_inputs, proposal_l1_block,
};
