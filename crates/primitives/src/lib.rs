//! Rollup primitives shared by every other crate.
//!
//! - [`RollupConfig`]: the deployment parameters every replica must agree on (chain ids, contract
//!   addresses, L2 genesis). Two nodes with the same config derive the same chain.
//! - [`L1Notification`]: the host seam. It mirrors reth's `ExExNotification`
//!   (`Committed`/`Reorged`/`Reverted` over chains of L1 blocks with receipts), so the core runs
//!   the same inside reth and behind the JSON-RPC follower.
//! - [`TxDeposit`] and [`L2Transaction`]: L2 transactions, including the unsigned deposit type
//!   (`0x7e`) derived from L1 bridge logs.
//! - [`L2Block`] / [`L2Receipt`]: L2 blocks use Ethereum's header layout so standard tools read
//!   them; the L1 origin is bound into the header's `extra_data`.
//!
//! # Invariants
//! - Encodings here are consensus-critical: the same input always encodes to the same bytes, and
//!   decoding never panics on untrusted input.

mod batch;
mod block;
mod config;
mod deposit;
mod error;
mod heads;
mod health;
mod l1;
mod predeploys;
mod proposal;
mod revert;

pub mod artifacts;
pub mod bindings;

/// The header type of L2 blocks ([`L2Block::header`]).
pub use alloy_consensus::Header;
pub use batch::{
    BATCH_VERSION, BLOB_BYTES_PER_FIELD_ELEMENT, BLOB_DATA_SIZE, Batch, BatchBlock, BatchEnvelope,
    BatchError, BatchParent, BlockEntry, DataPath, DecodedBlock, KZG_PRECOMPUTE, MAX_BATCH_SIZE,
    MAX_BLOBS_PER_BATCH, MAX_BLOCKS_PER_BATCH, MAX_HEADERS_PER_BATCH, MAX_SEGMENT_BYTES_PER_BATCH,
    MAX_SEGMENT_PAYLOAD, MAX_SEGMENT_SIZE, MAX_SEGMENTS_PER_BATCH, MAX_SEGMENTS_PER_BLOCK,
    MAX_TRANSACTIONS_PER_SEGMENT, MAX_TX_SIZE, OPEN_FLAG, batch_tx, blob_challenge,
    blob_commitment, blob_count, blob_data, blob_element_point, blob_element_proof,
    blob_elements_covering, decode_segment, encode_segment, flz_compress, flz_decompress,
    kzg_settings, merkle_proof, merkle_root, segment_tx_counts, segment_tx_root, to_blobs, tx_leaf,
    whole_blob_proof,
};
pub use block::{
    L1Origin, L2_BLOCK_EXTRA_DATA_LEN, L2Block, L2Receipt, L2Transaction, decode_l1_origin,
    encode_l1_origin, recover_signers,
};
pub use config::{ContractAddresses, GenesisAccount, L2Genesis, NOT_CONSENSUS, RollupConfig};
pub use deposit::{DEPOSIT_TX_TYPE, TxDeposit, deposit_source_hash};
pub use error::{PrimitivesError, Result};
pub use heads::Heads;
pub use health::{Health, HealthEvent, RoleHealth, RoleStatus};
pub use l1::{L1Block, L1Chain, L1Notification, L1Receipt, L1Transaction};
pub use predeploys::{
    CREATE2_DEPLOYER, CREATE2_DEPLOYER_CODE, DEPOSIT_GAS_PER_L1_BLOCK, DEPOSITOR,
    FORCED_WITHDRAWAL_GAS, L1_TO_L2_ALIAS_OFFSET, L2_BRIDGE, L2_BRIDGE_L1_BRIDGE_SLOT,
    MAX_DEPOSIT_GAS, MAX_TOKEN_METADATA_BYTES, MIN_ERC20_DEPOSIT_GAS, MIN_ETH_DEPOSIT_GAS,
    MULTICALL3, apply_l1_to_l2_alias,
};
pub use proposal::{OUTPUT_ROOT_VERSION, OutputRoot, batch_root};
pub use revert::{decode_returns, describe_revert};

pub use alloy_eips::BlockNumHash;
