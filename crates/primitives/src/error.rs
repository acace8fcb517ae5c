use alloy_primitives::Address;

/// Errors from decoding or validating primitive types.
#[derive(Debug, thiserror::Error)]
pub enum PrimitivesError {
    /// RLP or EIP-2718 bytes did not decode.
    #[error("malformed {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The rollup config file is invalid.
    #[error("invalid rollup config: {0}")]
    Config(String),
    /// A genesis account is malformed.
    #[error("genesis account {address} is invalid: {reason}")]
    Genesis {
        /// The account.
        address: Address,
        /// Why.
        reason: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = PrimitivesError> = core::result::Result<T, E>;

impl From<alloy_rlp::Error> for PrimitivesError {
    fn from(err: alloy_rlp::Error) -> Self {
        Self::Decode {
            what: "rlp",
            reason: err.to_string(),
        }
    }
}
