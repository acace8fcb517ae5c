//! State overrides of `eth_call`, `eth_estimateGas` and `eth_createAccessList` (their third
//! parameter, geth's `StateOverride`): per account a `balance`, a `nonce`, `code`, and either
//! `state` (the whole storage replaced) or `stateDiff` (the slots named changed), applied to
//! the state the call runs against and to nothing else.

use std::collections::HashMap;

use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::state::{AccountOverride, StateOverride};
use rollup_execution::revm::{DatabaseRef, bytecode::Bytecode, state::AccountInfo};
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

/// The state overrides of one request.
#[derive(Debug, Default)]
pub(crate) struct StateOverrides(HashMap<Address, Account>);

impl StateOverrides {
    /// Checks `overrides` as geth does: `state` and `stateDiff` exclude each other. Moving a
    /// precompile (`movePrecompileToAddress`) is refused: the precompiles of this chain are
    /// fixed.
    pub(crate) fn new(overrides: StateOverride) -> Result<Self> {
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
                    .map(|(slot, value)| {
                        (U256::from_be_bytes(slot.0), U256::from_be_bytes(value.0))
                    })
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
        Ok(Self(out))
    }
}

/// The state a call runs against: a block's state with the request's overrides on top.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallState<'a> {
    pub(crate) state: StateView<'a>,
    pub(crate) overrides: Option<&'a StateOverrides>,
}

impl<'a> CallState<'a> {
    pub(crate) const fn new(state: StateView<'a>, overrides: Option<&'a StateOverrides>) -> Self {
        Self { state, overrides }
    }

    fn account(&self, address: Address) -> Option<&'a Account> {
        self.overrides?.0.get(&address)
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
            .flat_map(|overrides| overrides.0.values())
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

    fn block_hash_ref(&self, number: u64) -> Result<B256, StorageError> {
        self.state.block_hash_ref(number)
    }
}
