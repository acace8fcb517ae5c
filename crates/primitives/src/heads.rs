//! Chain heads, as the node reports them.

use alloy_eips::BlockNumHash;
use serde::{Deserialize, Serialize};

/// The node's view of both chains. L2 heads are `(number, hash)` of L2 blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heads {
    /// Newest L2 block, possibly not yet posted to L1.
    pub unsafe_l2: BlockNumHash,
    /// Newest L2 block derived from L1 data.
    pub safe_l2: BlockNumHash,
    /// Newest L2 block derived from finalized L1 blocks.
    pub finalized_l2: BlockNumHash,
    /// Newest L1 block whose effects are stored (the L1 cursor).
    pub l1_cursor: BlockNumHash,
    /// Newest finalized L1 block the node knows of.
    pub l1_finalized: BlockNumHash,
}
