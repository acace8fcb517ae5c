//! Bridge messages: `L1Bridge.DepositInitiated` and `ForcedWithdrawalInitiated` logs → deposit
//! transactions.

use alloy_primitives::{Address, B256, Log, U256, keccak256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use rollup_primitives::{
    DEPOSIT_GAS_PER_L1_BLOCK, DEPOSITOR, FORCED_WITHDRAWAL_GAS, L1Block, L2_BRIDGE,
    MAX_DEPOSIT_GAS, MAX_TOKEN_METADATA_BYTES, MIN_ERC20_DEPOSIT_GAS, MIN_ETH_DEPOSIT_GAS,
    RollupConfig, TxDeposit, artifacts,
    bindings::{
        IL1Bridge::{DepositInitiated, ForcedWithdrawalInitiated},
        IL2Bridge,
        IOneStepVerifier::ChainMessage,
    },
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
    /// An ETH deposit carries token metadata, or an ERC-20 deposit's metadata is larger than
    /// [`MAX_TOKEN_METADATA_BYTES`].
    BadTokenMetadata,
    /// A recipient is the zero address.
    ZeroRecipient,
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

/// Derives the deposit transactions of one L1 block: deposits and forced withdrawals, in L1
/// log order (one queue, one nonce sequence).
///
/// Rules, applied in order to each log of a *successful* transaction:
/// 1. Only logs emitted by `config.contracts.l1_bridge` whose first topic is
///    `DepositInitiated`'s or `ForcedWithdrawalInitiated`'s are considered; everything else is
///    not a bridge message.
/// 2. The log must have exactly 4 topics and canonical ABI data (the data re-encodes to the same
///    bytes: every word in its type's range, offsets and lengths exact); otherwise it is skipped
///    as malformed. Its nonce must fit in 64 bits.
/// 3. `amount == 0` is skipped; so is a zero recipient.
/// 4. ETH (`l1Token == 0`) needs `l2Token == 0` and `amount < 2^128`; an ERC-20 needs
///    `l2Token == predictL2Token(l1Token)`.
/// 5. A deposit's `gasLimit` must be in `[MIN_ETH_DEPOSIT_GAS or MIN_ERC20_DEPOSIT_GAS,
///    MAX_DEPOSIT_GAS]`; a forced withdrawal's must be `FORCED_WITHDRAWAL_GAS`.
/// 6. An ETH deposit carries no token metadata; an ERC-20 deposit's is at most
///    `MAX_TOKEN_METADATA_BYTES`.
/// 7. A message that would push the sum of gas limits in this L1 block over
///    `DEPOSIT_GAS_PER_L1_BLOCK` is skipped; later smaller ones may still fit.
///
/// `L1Bridge` rejects all of these on L1, so a skip means a contract bug or a foreign log; the
/// rule exists so that replicas agree even then.
pub fn derive_deposits(config: &RollupConfig, block: &L1Block) -> DerivedDeposits {
    let mut out = DerivedDeposits::default();
    let mut block_gas = 0u64;
    for (log_index, log) in block.successful_logs() {
        let Some(built) = bridge_message_transaction(config.contracts.l1_bridge, log) else {
            continue;
        };
        let skip = |reason| SkippedDeposit { log_index, reason };
        match built {
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

/// The L2 deposit transaction one L1 log becomes, by rules 1 to 6 of [`derive_deposits`]
/// (everything but the per-block gas budget): `None` if the log is not a bridge message,
/// the skip reason if it breaks a rule. Tools use it to name the L2 transaction of an L1
/// deposit or forced withdrawal before the L2 node has derived it.
pub fn bridge_message_transaction(
    l1_bridge: Address,
    log: &Log,
) -> Option<Result<TxDeposit, DepositSkipReason>> {
    Some(match bridge_message_kind(l1_bridge, log)? {
        MessageKind::Deposit => decode_strict::<DepositInitiated>(log)
            .map_err(DepositSkipReason::Malformed)
            .and_then(|event| build_deposit(&event)),
        MessageKind::ForcedWithdrawal => decode_strict::<ForcedWithdrawalInitiated>(log)
            .map_err(DepositSkipReason::Malformed)
            .and_then(|event| build_forced_withdrawal(&event)),
    })
}

/// The message `L1Bridge` folds into its deposit chain for the bridge message `log`
/// (`L1Bridge.ChainMessage`, see `docs/derivation.md`): the event's fields, with `refundTo`
/// zero and the metadata of `""` for a forced withdrawal. `None` if the log is not a
/// well-formed bridge message.
pub fn bridge_message(l1_bridge: Address, log: &Log) -> Option<ChainMessage> {
    Some(match bridge_message_kind(l1_bridge, log)? {
        MessageKind::Deposit => {
            let e = decode_strict::<DepositInitiated>(log).ok()?;
            ChainMessage {
                kind: 0,
                nonce: e.nonce,
                from: e.from,
                to: e.to,
                l1Token: e.l1Token,
                l2Token: e.l2Token,
                amount: e.amount,
                gasLimit: e.gasLimit,
                refundTo: e.refundTo,
                metadataHash: keccak256(&e.tokenMetadata),
            }
        }
        MessageKind::ForcedWithdrawal => {
            let e = decode_strict::<ForcedWithdrawalInitiated>(log).ok()?;
            ChainMessage {
                kind: 1,
                nonce: e.nonce,
                from: e.from,
                to: e.to,
                l1Token: e.l1Token,
                l2Token: e.l2Token,
                amount: e.amount,
                gasLimit: e.gasLimit,
                refundTo: Address::ZERO,
                metadataHash: keccak256([]),
            }
        }
    })
}

/// The hash `L1Bridge` folds into its message chain for the bridge message `log`:
/// `keccak256(abi.encode(bridge_message(log)))`; `None` if the log is not a well-formed bridge
/// message.
pub fn bridge_message_hash(l1_bridge: Address, log: &Log) -> Option<B256> {
    bridge_message(l1_bridge, log).map(|message| keccak256(message.abi_encode()))
}

/// The bridge's message chain after `message_hash`: `keccak256(abi.encode(chain, message_hash))`.
pub fn extend_message_chain(chain: B256, message_hash: B256) -> B256 {
    keccak256([chain.as_slice(), message_hash.as_slice()].concat())
}

/// The two bridge messages that become L2 deposit transactions.
#[derive(Debug, Clone, Copy)]
enum MessageKind {
    Deposit,
    ForcedWithdrawal,
}

/// Which bridge message `log` is, if any (by emitter and first topic only).
fn bridge_message_kind(l1_bridge: Address, log: &Log) -> Option<MessageKind> {
    if log.address != l1_bridge {
        return None;
    }
    match log.topics().first()? {
        topic if *topic == DepositInitiated::SIGNATURE_HASH => Some(MessageKind::Deposit),
        topic if *topic == ForcedWithdrawalInitiated::SIGNATURE_HASH => {
            Some(MessageKind::ForcedWithdrawal)
        }
        _ => None,
    }
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
/// Every bridge message (deposit or forced withdrawal) whose nonce topic is present counts,
/// including logs the deposit rules skip: the bridge assigned them a nonce on L1.
pub fn check_deposit_nonces(
    config: &RollupConfig,
    block: &L1Block,
    mut expected: Option<u64>,
) -> Result<Option<u64>, DepositNonceGap> {
    for (log_index, log) in block.successful_logs() {
        if bridge_message_kind(config.contracts.l1_bridge, log).is_none() {
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

/// Strict decoding: exactly 4 topics whose address topics are zero-padded, and data that is the
/// canonical ABI encoding of the event's fields (it re-encodes to the same bytes), so dirty
/// padding, stray offsets or trailing bytes are rejected rather than silently normalised.
fn decode_strict<E: SolEvent>(log: &Log) -> Result<E, String> {
    if log.topics().len() != 4 {
        return Err(format!("expected 4 topics, got {}", log.topics().len()));
    }
    for (name, topic) in [("from", &log.topics()[2]), ("to", &log.topics()[3])] {
        if topic[..12].iter().any(|b| *b != 0) {
            return Err(format!("topic `{name}` is not a zero-padded address"));
        }
    }
    let event = E::decode_log_data(&log.data).map_err(|err| err.to_string())?;
    if event.encode_data() != log.data.data.as_ref() {
        return Err("data is not the canonical ABI encoding of the event".into());
    }
    Ok(event)
}

/// The deposit nonce of a decoded message, which fixes its source hash.
fn nonce_of(nonce: U256) -> Result<u64, DepositSkipReason> {
    u64::try_from(nonce).map_err(|_| DepositSkipReason::Malformed("nonce above 2^64".into()))
}

/// Rule 4: the token pair is ETH's `(0, 0)` (with an amount that can exist) or an ERC-20 and
/// the L2 token the L2 bridge deploys for it.
fn check_token_pair(
    l1_token: Address,
    l2_token: Address,
    amount: U256,
) -> Result<(), DepositSkipReason> {
    if amount.is_zero() {
        return Err(DepositSkipReason::ZeroAmount);
    }
    let known = if l1_token.is_zero() {
        l2_token.is_zero()
    } else {
        l2_token == artifacts::predict_l2_token(l1_token)
    };
    if !known {
        return Err(DepositSkipReason::UnknownTokenMapping { l1_token, l2_token });
    }
    if l1_token.is_zero() && amount > U256::from(u128::MAX) {
        return Err(DepositSkipReason::AmountTooLarge);
    }
    Ok(())
}

fn build_deposit(event: &DepositInitiated) -> Result<TxDeposit, DepositSkipReason> {
    let source_hash = deposit_source_hash(nonce_of(event.nonce)?);
    check_token_pair(event.l1Token, event.l2Token, event.amount)?;
    if event.to.is_zero() {
        return Err(DepositSkipReason::ZeroRecipient);
    }
    let is_eth = event.l1Token.is_zero();
    let gas_limit = u64::from(event.gasLimit);
    let min_gas = if is_eth {
        MIN_ETH_DEPOSIT_GAS
    } else {
        MIN_ERC20_DEPOSIT_GAS
    };
    if !(min_gas..=MAX_DEPOSIT_GAS).contains(&gas_limit) {
        return Err(DepositSkipReason::GasLimitOutOfRange {
            gas_limit,
            min: min_gas,
            max: MAX_DEPOSIT_GAS,
        });
    }
    let metadata_ok = if is_eth {
        event.tokenMetadata.is_empty()
    } else {
        event.tokenMetadata.len() <= MAX_TOKEN_METADATA_BYTES
    };
    if !metadata_ok {
        return Err(DepositSkipReason::BadTokenMetadata);
    }
    Ok(if is_eth {
        // OP Stack semantics: mint to the sender, then send the value to the recipient. If the
        // call fails the minted ETH stays with the sender on L2 (the depositor's L2 identity,
        // aliased for contracts, which can exit it with a forced withdrawal), never lost.
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
        // The L2 bridge mints, or records a refund withdrawal to `refundTo` if minting fails.
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
                refundTo: event.refundTo,
                tokenMetadata: event.tokenMetadata.clone(),
            }
            .abi_encode()
            .into(),
        }
    })
}

/// A forced withdrawal runs `L2Bridge.withdrawTo(l1Token, l2Token, amount, to)` as the L2
/// account `from`, with the ETH `value` taken from that account's L2 balance: it fails on L2,
/// like any withdrawal, if the account does not hold the amount.
fn build_forced_withdrawal(
    event: &ForcedWithdrawalInitiated,
) -> Result<TxDeposit, DepositSkipReason> {
    let source_hash = deposit_source_hash(nonce_of(event.nonce)?);
    check_token_pair(event.l1Token, event.l2Token, event.amount)?;
    if event.to.is_zero() {
        return Err(DepositSkipReason::ZeroRecipient);
    }
    let gas_limit = u64::from(event.gasLimit);
    if gas_limit != FORCED_WITHDRAWAL_GAS {
        return Err(DepositSkipReason::GasLimitOutOfRange {
            gas_limit,
            min: FORCED_WITHDRAWAL_GAS,
            max: FORCED_WITHDRAWAL_GAS,
        });
    }
    let value = if event.l1Token.is_zero() {
        event.amount
    } else {
        U256::ZERO
    };
    Ok(TxDeposit {
        source_hash,
        from: event.from,
        to: L2_BRIDGE,
        mint: 0,
        value,
        gas_limit,
        input: IL2Bridge::withdrawToCall {
            l1Token: event.l1Token,
            l2Token: event.l2Token,
            amount: event.amount,
            to: event.to,
        }
        .abi_encode()
        .into(),
    })
}
