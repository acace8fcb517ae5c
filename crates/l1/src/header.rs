//! L1 headers as the `BatchInbox` records them: RLP, checked against the block hash.

use alloy_primitives::{Bytes, keccak256};
use alloy_provider::Provider;

/// The RLP of L1 block `number`'s header, checked to hash to the block's hash; `None` if L1
/// has no such block yet. An error if the call fails or the header does not re-encode to its
/// hash (an L1 client reporting header fields this node does not know).
pub async fn header_rlp(provider: &impl Provider, number: u64) -> Result<Option<Bytes>, String> {
    let Some(block) = provider
        .get_block_by_number(number.into())
        .await
        .map_err(|err| err.to_string())?
    else {
        return Ok(None);
    };
    let rlp = alloy_rlp::encode(&block.header.inner);
    if keccak256(&rlp) != block.header.hash {
        return Err(format!(
            "L1 header {number} does not re-encode to its hash {} (an L1 client with header fields this node does not know?)",
            block.header.hash
        ));
    }
    Ok(Some(rlp.into()))
}
