//! Deposits: `L1Bridge.DepositInitiated` logs → deposit transactions.

use alloy_primitives::{Address, B256, Log, U256};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_primitives::{
    DEPOSIT_GAS_PER_L1_BLOCK, DEPOSITOR, L1Block, L2_BRIDGE, MAX_DEPOSIT_GAS,
    MIN_ERC20_DEPOSIT_GAS, MIN_ETH_DEPOSIT_GAS, RollupConfig, TxDeposit, artifacts,
    bindings::{IL1Bridge::DepositInitiated, IL2Bridge},
    deposit_source_hash,
};

/// Why a bridge log produced no deposit. Every replica skips the same logs for the same reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositSkipReason {
    /// Wrong number of topics, wrong data length, or an ABI word out of its type's range.
    Malformed(String),
    /// `amount` is zero: there is nothing to move.
    ZeroAmount,
    /// The ETH amount exceeds what can exist (2^128 wei).
    AmountTooLarge,
    /// The `(l1Token, l2Token)` pair is not the bridge's mapping: ETH must use `(0, 0)`, an
    /// ERC-20 must use the L2 token the L2 bridge deploys for it.
    UnknownTokenMapping {
        /// Token on L1.
        l1_token: Address,
        /// Claimed token on L2.
        l2_token: Address,
    },
    /// `gasLimit` is outside the range for its kind of deposit.
    GasLimitOutOfRange {
        /// The requested gas limit.
        gas_limit: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// Including it would push the block's deposit gas over [`DEPOSIT_GAS_PER_L1_BLOCK`].
    BlockDepositGasExhausted,
}

/// A skipped bridge log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedDeposit {
    /// Index of the log in its L1 block.
    pub log_index: u64,
    /// Why.
    pub reason: DepositSkipReason,
}

/// The result of deriving one L1 block's deposits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DerivedDeposits {
    /// Deposits in L1 log order.
    pub deposits: Vec<TxDeposit>,
    /// Bridge logs that broke a rule.
    pub skipped: Vec<SkippedDeposit>,
}

/// Derives the deposits of one L1 block.
///
/// Rules, applied in order to each log of a *successful* transaction:
/// 1. Only logs emitted by `config.contracts.l1_bridge` whose first topic is
///    `DepositInitiated`'s are considered; everything else is not a deposit.
/// 2. The log must have exactly 4 topics and 128 data bytes, with every ABI word in range
///    (addresses and `uint32` zero-padded); otherwise it is skipped as malformed.
/// 3. `amount == 0` is skipped.
/// 4. ETH (`l1Token == 0`) needs `l2Token == 0` and `amount < 2^128`; an ERC-20 needs
///    `l2Token == predictL2Token(l1Token)`.
/// 5. `gasLimit` must be in `[MIN_ETH_DEPOSIT_GAS or MIN_ERC20_DEPOSIT_GAS, MAX_DEPOSIT_GAS]`.
/// 6. A deposit that would push the sum of gas limits in this L1 block over
///    `DEPOSIT_GAS_PER_L1_BLOCK` is skipped; later smaller ones may still fit.
///
/// `L1Bridge` rejects all of these on L1, so a skip means a contract bug or a foreign log; the
/// rule exists so that replicas agree even then.
pub fn derive_deposits(config: &RollupConfig, block: &L1Block) -> DerivedDeposits {
    let mut out = DerivedDeposits::default();
    let mut block_gas = 0u64;
    for (log_index, log) in block.successful_logs() {
        if log.address != config.contracts.l1_bridge
            || log.topics().first() != Some(&DepositInitiated::SIGNATURE_HASH)
        {
            continue;
        }
        let skip = |reason| SkippedDeposit { log_index, reason };
        let event = match decode_deposit_log(log) {
            Ok(event) => event,
            Err(reason) => {
                out.skipped.push(skip(DepositSkipReason::Malformed(reason)));
                continue;
            }
        };
        match build_deposit(&event, block.hash, log_index) {
            Err(reason) => out.skipped.push(skip(reason)),
            Ok(deposit) => {
                let next = block_gas.saturating_add(deposit.gas_limit);
                if next > DEPOSIT_GAS_PER_L1_BLOCK {
                    out.skipped
                        .push(skip(DepositSkipReason::BlockDepositGasExhausted));
                    continue;
                }
                block_gas = next;
                out.deposits.push(deposit);
            }
        }
    }
    out
}

/// The bridge's deposit nonces in one L1 block do not continue the ones before: a deposit is
/// missing from the L1 data this node was given (an L1 node that dropped a log, a receipt that
/// was not delivered). Deriving on would silently lose it, so derivation stops instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "L1 block {block}: bridge deposit nonce {found} at log {log_index}, but {expected} was expected next; deposits are missing from the L1 data (check the L1 node)"
)]
pub struct DepositNonceGap {
    /// The L1 block.
    pub block: u64,
    /// Index of the offending log.
    pub log_index: u64,
    /// The nonce that should have come next.
    pub expected: u64,
    /// The nonce the log carries.
    pub found: U256,
}

/// Checks that the `DepositInitiated` logs of the bridge in `block` carry consecutive nonces,
/// continuing from `expected` (the nonce due next, or `None` if no deposit was seen since the
/// rollup's L1 origin: the first one then sets the base). Returns the nonce due after `block`.
///
/// Every bridge log whose nonce topic is present counts, including logs the deposit rules skip:
/// the bridge assigned them a nonce on L1.
pub fn check_deposit_nonces(
    config: &RollupConfig,
    block: &L1Block,
    mut expected: Option<u64>,
) -> Result<Option<u64>, DepositNonceGap> {
    for (log_index, log) in block.successful_logs() {
        if log.address != config.contracts.l1_bridge
            || log.topics().first() != Some(&DepositInitiated::SIGNATURE_HASH)
        {
            continue;
        }
        let Some(nonce) = log
            .topics()
            .get(1)
            .map(|topic| U256::from_be_bytes(topic.0))
        else {
            continue;
        };
        let gap = |expected| DepositNonceGap {
            block: block.number,
            log_index,
            expected,
            found: nonce,
        };
        let found = u64::try_from(nonce).map_err(|_| gap(expected.unwrap_or_default()))?;
        if let Some(expected) = expected
            && found != expected
        {
            return Err(gap(expected));
        }
        expected = Some(found.checked_add(1).ok_or_else(|| gap(found))?);
    }
    Ok(expected)
}

/// Strict decoding: exact topic count and data length, and dirty high bits in address/uint32
/// words are rejected rather than silently masked.
fn decode_deposit_log(log: &Log) -> Result<DepositInitiated, String> {
    if log.topics().len() != 4 {
        return Err(format!("expected 4 topics, got {}", log.topics().len()));
    }
    if log.data.data.len() != 128 {
        return Err(format!(
            "expected 128 data bytes, got {}",
            log.data.data.len()
        ));
    }
    // Addresses are 20 bytes and gasLimit 4 bytes in 32-byte words: the padding must be zero.
    let data = &log.data.data;
    let dirty = |word: &[u8], used: usize| word[..32 - used].iter().any(|b| *b != 0);
    for (name, topic) in [("from", &log.topics()[2]), ("to", &log.topics()[3])] {
        if dirty(topic.as_slice(), 20) {
            return Err(format!("topic `{name}` is not a zero-padded address"));
        }
    }
    for (name, index, used) in [("l1Token", 0, 20), ("l2Token", 1, 20), ("gasLimit", 3, 4)] {
        if dirty(&data[index * 32..(index + 1) * 32], used) {
            return Err(format!("word `{name}` has non-zero padding"));
        }
    }
    DepositInitiated::decode_log_data(&log.data).map_err(|err| err.to_string())
}

fn build_deposit(
    event: &DepositInitiated,
    l1_block_hash: B256,
    log_index: u64,
) -> Result<TxDeposit, DepositSkipReason> {
    if event.amount.is_zero() {
        return Err(DepositSkipReason::ZeroAmount);
    }
    let gas_limit = u64::from(event.gasLimit);
    let source_hash = deposit_source_hash(l1_block_hash, log_index);
    let is_eth = event.l1Token.is_zero();
    let min_gas = if is_eth {
        MIN_ETH_DEPOSIT_GAS
    } else {
        MIN_ERC20_DEPOSIT_GAS
    };
    if is_eth {
        if !event.l2Token.is_zero() {
            return Err(DepositSkipReason::UnknownTokenMapping {
                l1_token: event.l1Token,
                l2_token: event.l2Token,
            });
        }
        if event.amount > U256::from(u128::MAX) {
            return Err(DepositSkipReason::AmountTooLarge);
        }
    } else if event.l2Token != artifacts::predict_l2_token(event.l1Token) {
        return Err(DepositSkipReason::UnknownTokenMapping {
            l1_token: event.l1Token,
            l2_token: event.l2Token,
        });
    }
    if !(min_gas..=MAX_DEPOSIT_GAS).contains(&gas_limit) {
        return Err(DepositSkipReason::GasLimitOutOfRange {
            gas_limit,
            min: min_gas,
            max: MAX_DEPOSIT_GAS,
        });
    }
    Ok(if is_eth {
        // OP Stack semantics: mint to the sender, then send the value to the recipient. If the
        // call fails the minted ETH stays with the sender on L2, never lost.
        TxDeposit {
            source_hash,
            from: event.from,
            to: event.to,
            mint: event.amount.to::<u128>(),
            value: event.amount,
            gas_limit,
            input: Default::default(),
        }
    } else {
        TxDeposit {
            source_hash,
            from: DEPOSITOR,
            to: L2_BRIDGE,
            mint: 0,
            value: U256::ZERO,
            gas_limit,
            input: IL2Bridge::finalizeDepositCall {
                l1Token: event.l1Token,
                l2Token: event.l2Token,
                from: event.from,
                to: event.to,
                amount: event.amount,
            }
            .abi_encode()
            .into(),
        }
    })
}
