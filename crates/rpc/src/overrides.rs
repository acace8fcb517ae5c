//! Overrides of `eth_call`, `eth_estimateGas`, `eth_createAccessList` and `debug_traceCall`:
//! state overrides (geth's `StateOverride`: per account a `balance`, a `nonce`, `code`, and
//! either `state`, the whole storage replaced, or `stateDiff`, the slots named changed) and block
//! overrides (geth's `BlockOverrides`: the number, time, gas limit, fee recipient, prevrandao,
//! base fee and blob base fee of the block the call runs in, and reth's `blockHash` map for
//! `BLOCKHASH`). They apply to the one request and to nothing else.

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::{
    BlockOverrides,
    state::{AccountOverride, StateOverride},
};
use rollup_execution::{
    CallRequest,
    revm::{DatabaseRef, bytecode::Bytecode, state::AccountInfo},
};
use rollup_storage::StorageError;

use crate::{RpcError, eth::StateView};

type Result<T, E = RpcError> = std::result::Result<T, E>;

/// One account's override, checked and ready for revm.
#[derive(Debug)]
struct Account {
    balance: Option<U256>,
    nonce: Option<u64>,
    code: Option<(B256, Bytecode)>,
    /// The slots given, and whether every other slot reads zero (`state`) or its stored value
    /// (`stateDiff`).
    storage: Option<(HashMap<U256, U256>, Replace)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replace {
    Whole,
    Given,
}

/// What block overrides change in the block a call runs in.
#[derive(Debug, Default)]
struct BlockChanges {
    number: Option<u64>,
    time: Option<u64>,
    gas_limit: Option<u64>,
    fee_recipient: Option<Address>,
    prevrandao: Option<B256>,
    base_fee: Option<u64>,
    blob_base_fee: Option<u128>,
    /// What `BLOCKHASH` answers for these numbers.
    hashes: BTreeMap<u64, B256>,
}

/// The state and block overrides of one request.
#[derive(Debug, Default)]
pub(crate) struct CallOverrides {
    accounts: HashMap<Address, Account>,
    block: BlockChanges,
}

impl CallOverrides {
    /// Checks the overrides of a request. State overrides as geth checks them: `state` and
    /// `stateDiff` exclude each other; moving a precompile (`movePrecompileToAddress`) is
    /// refused, the precompiles of this chain are fixed. Block overrides: a value that does not
    /// fit the header's field is refused, and so is `beaconRoot`, as geth refuses it outside
    /// `eth_simulateV1`. `difficulty` is taken and changes nothing, as in geth after the merge:
    /// `DIFFICULTY` reads the prevrandao.
    pub(crate) fn new(state: Option<StateOverride>, block: Option<BlockOverrides>) -> Result<Self> {
        Ok(Self {
            accounts: state.map(accounts).transpose()?.unwrap_or_default(),
            block: block.map(block_changes).transpose()?.unwrap_or_default(),
        })
    }

    /// The header of the block the call runs in: `header` with the block overrides applied.
    fn header(&self, header: &Header) -> Header {
        let block = &self.block;
        let mut header = header.clone();
        header.number = block.number.unwrap_or(header.number);
        header.timestamp = block.time.unwrap_or(header.timestamp);
        header.gas_limit = block.gas_limit.unwrap_or(header.gas_limit);
        header.beneficiary = block.fee_recipient.unwrap_or(header.beneficiary);
        header.mix_hash = block.prevrandao.unwrap_or(header.mix_hash);
        if block.base_fee.is_some() {
            header.base_fee_per_gas = block.base_fee;
        }
        header
    }
}

/// The header, state and call of one request with its overrides applied (none: as stored).
pub(crate) fn apply<'a>(
    overrides: Option<&'a CallOverrides>,
    state: StateView<'a>,
    header: &Header,
    call: &mut CallRequest,
) -> (Header, CallState<'a>) {
    let Some(overrides) = overrides else {
        return (header.clone(), CallState::new(state, header, None));
    };
    if let Some(fee) = overrides.block.blob_base_fee {
        call.blob_base_fee = Some(fee);
    }
    (
        overrides.header(header),
        CallState::new(state, header, Some(overrides)),
    )
}

fn block_changes(block: BlockOverrides) -> Result<BlockChanges> {
    let BlockOverrides {
        number,
        difficulty: _,
        time,
        gas_limit,
        coinbase,
        random,
        base_fee,
        blob_base_fee,
        beacon_root,
        block_hash,
    } = block;
    if beacon_root.is_some() {
        return Err(RpcError::InvalidParams(
            "block override 'beaconRoot' is not supported for this RPC method".into(),
        ));
    }
    let fits = |name: &str, value: U256, bits: u32| {
        if value.bit_len() > bits as usize {
            Err(RpcError::InvalidParams(format!(
                "block override '{name}' {value} does not fit in {bits} bits"
            )))
        } else {
            Ok(value)
        }
    };
    Ok(BlockChanges {
        number: number
            .map(|n| fits("number", n, 64).map(|n| n.to::<u64>()))
            .transpose()?,
        time,
        gas_limit,
        fee_recipient: coinbase,
        prevrandao: random,
        base_fee: base_fee
            .map(|fee| fits("baseFeePerGas", fee, 64).map(|fee| fee.to::<u64>()))
            .transpose()?,
        blob_base_fee: blob_base_fee
            .map(|fee| fits("blobBaseFee", fee, 128).map(|fee| fee.to::<u128>()))
            .transpose()?,
        hashes: block_hash.unwrap_or_default(),
    })
}

fn accounts(overrides: StateOverride) -> Result<HashMap<Address, Account>> {
    let mut out = HashMap::with_capacity(overrides.len());
    for (address, account) in overrides {
        let AccountOverride {
            balance,
            nonce,
            code,
            state,
            state_diff,
            move_precompile_to,
        } = account;
        if move_precompile_to.is_some() {
            return Err(RpcError::InvalidParams(format!(
                "account {address}: movePrecompileToAddress is not supported"
            )));
        }
        // As geth: code is taken as given; bytes that look like an EIP-7702 delegation but
        // are not one run as ordinary code (and halt on their first byte).
        let code = code.map(|code| {
            let code = Bytecode::new_raw_checked(code.clone())
                .unwrap_or_else(|_| Bytecode::new_legacy(code));
            (code.hash_slow(), code)
        });
        let slots = |slots: alloy_primitives::map::B256HashMap<B256>| {
            slots
                .into_iter()
                .map(|(slot, value)| (U256::from_be_bytes(slot.0), U256::from_be_bytes(value.0)))
                .collect()
        };
        let storage = match (state, state_diff) {
            (Some(_), Some(_)) => {
                return Err(RpcError::InvalidParams(format!(
                    "account {address} has both 'state' and 'stateDiff'"
                )));
            }
            (Some(state), None) => Some((slots(state), Replace::Whole)),
            (None, Some(diff)) => Some((slots(diff), Replace::Given)),
            (None, None) => None,
        };
        out.insert(
            address,
            Account {
                balance,
                nonce,
                code,
                storage,
            },
        );
    }
    Ok(out)
}

/// The state a call runs against: a block's state with the request's overrides on top.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallState<'a> {
    pub(crate) state: StateView<'a>,
    /// The number of the stored block the call runs on (before any number override).
    number: u64,
    overrides: Option<&'a CallOverrides>,
}

impl<'a> CallState<'a> {
    pub(crate) const fn new(
        state: StateView<'a>,
        header: &Header,
        overrides: Option<&'a CallOverrides>,
    ) -> Self {
        Self {
            state,
            number: header.number,
            overrides,
        }
    }

    fn account(&self, address: Address) -> Option<&'a Account> {
        self.overrides?.accounts.get(&address)
    }
}

impl DatabaseRef for CallState<'_> {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StorageError> {
        let stored = self.state.basic_ref(address)?;
        let Some(account) = self.account(address) else {
            return Ok(stored);
        };
        // An override creates the account if it does not exist.
        let mut info = stored.unwrap_or_default();
        if let Some(balance) = account.balance {
            info.balance = balance;
        }
        if let Some(nonce) = account.nonce {
            info.nonce = nonce;
        }
        if let Some((hash, code)) = &account.code {
            info.code_hash = *hash;
            info.code = Some(code.clone());
        }
        Ok(Some(info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StorageError> {
        let overridden = self
            .overrides
            .into_iter()
            .flat_map(|overrides| overrides.accounts.values())
            .filter_map(|account| account.code.as_ref())
            .find(|(hash, _)| *hash == code_hash);
        match overridden {
            Some((_, code)) => Ok(code.clone()),
            None => self.state.code_by_hash_ref(code_hash),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StorageError> {
        match self
            .account(address)
            .and_then(|account| account.storage.as_ref())
        {
            Some((slots, replace)) => match slots.get(&index) {
                Some(value) => Ok(*value),
                None if *replace == Replace::Whole => Ok(U256::ZERO),
                None => self.state.storage_ref(address, index),
            },
            None => self.state.storage_ref(address, index),
        }
    }

    /// A hash the request gives; else, as geth, zero for the stored block and any after it
    /// (reachable only with a number override), and the stored hash below it.
    fn block_hash_ref(&self, number: u64) -> Result<B256, StorageError> {
        if let Some(hash) = self
            .overrides
            .and_then(|overrides| overrides.block.hashes.get(&number))
        {
            return Ok(*hash);
        }
        if number >= self.number {
            return Ok(B256::ZERO);
        }
        self.state.block_hash_ref(number)
    }
}
