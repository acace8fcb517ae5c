//! Deterministic workloads: keys, setup transactions and the measured transactions, all signed
//! up front for one chain id.

use alloy_consensus::{SignableTransaction, Transaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use alloy_sol_types::{SolCall, sol};
use clap::ValueEnum;

sol! {
    function mint(address to, uint256 amount);
    function transfer(address to, uint256 amount) returns (bool);
    function approve(address spender, uint256 amount) returns (bool);
}

/// anvil's default mnemonic; the devnet funds the same ten accounts on L2.
const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";
/// Funded dev accounts (L2 genesis and anvil).
pub(crate) const DEV_ACCOUNTS: usize = 10;
/// Most transactions a dev account sends in one setup wave (the pool queues at most 64 ahead).
const MAX_PER_WAVE: usize = 60;
/// What each sender gets in setup.
const SENDER_FUNDING_WEI: u128 = 5_000_000_000_000_000_000;
/// Fee cap and tip of every transaction.
const MAX_FEE: u128 = 50_000_000_000;
const TIP: u128 = 1_000_000_000;
/// Iterations of the keccak loop contract in the `mix` workload.
const LOOP_ITERATIONS: u64 = 300;

/// Runtime code of a tiny loop contract: `n = calldataload(0)`; starting from `sload(0)`, hash
/// the accumulator `n` times with keccak256, then `sstore(0, acc)`.
const LOOP_RUNTIME: &str =
    "600035600054 5b 81 15 601d 57 600052 6020 6000 20 90 6001 90 03 90 6006 56 5b 6000 55 00";
/// Creation code: copy the 34-byte runtime that follows and return it.
const LOOP_INIT: &str = "6022 80 600b 6000 39 6000 f3";

/// Which transactions are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// Plain ETH transfers to fresh addresses.
    Eth,
    /// DevToken `transfer`s between funded holders.
    Erc20,
    /// 40% ETH, 30% ERC-20 transfers, 10% mints to fresh addresses, 10% approves, 10% calls of
    /// a keccak loop (300 rounds + one SSTORE).
    Mix,
}

impl Kind {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Eth => "eth",
            Self::Erc20 => "erc20",
            Self::Mix => "mix",
        }
    }
}

/// One signed transaction.
#[derive(Debug, Clone)]
pub(crate) struct SignedTx {
    pub(crate) raw: Bytes,
    pub(crate) hash: B256,
}

/// Everything one run sends, signed for one chain id.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) dev: Vec<Address>,
    /// Setup, in waves: each wave must be included before the next is sent.
    pub(crate) setup: Vec<Vec<SignedTx>>,
    /// The measured transactions, round-robin over the senders.
    pub(crate) workload: Vec<SignedTx>,
}

impl Plan {
    /// The largest gas limit among the measured transactions: a block with less gas left than
    /// this may have turned one of them away.
    pub(crate) fn largest_gas_limit(&self) -> u64 {
        self.workload
            .iter()
            .filter_map(|tx| TxEnvelope::decode_2718(&mut tx.raw.as_ref()).ok())
            .map(|tx| tx.gas_limit())
            .max()
            .unwrap_or(0)
    }
}

pub(crate) fn dev_signers() -> eyre::Result<Vec<PrivateKeySigner>> {
    (0..DEV_ACCOUNTS as u32)
        .map(|i| {
            Ok(MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)?
                .build()?)
        })
        .collect()
}

fn derived_signer(index: usize) -> eyre::Result<PrivateKeySigner> {
    let secret = keccak256(format!("rollup-bench sender {index}"));
    Ok(PrivateKeySigner::from_bytes(&secret)?)
}

fn derived_address(tag: &str, index: usize) -> Address {
    Address::from_word(keccak256(format!("rollup-bench {tag} {index}")))
}

fn hex(text: &str) -> Bytes {
    let clean: String = text.split_whitespace().collect();
    clean.parse().expect("valid hex constant")
}

fn sign(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
) -> eyre::Result<SignedTx> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: TIP,
        to,
        value,
        access_list: Default::default(),
        input,
    };
    let signature = signer.sign_hash_sync(&tx.signature_hash())?;
    let envelope = TxEnvelope::from(tx.into_signed(signature));
    let raw = Bytes::from(envelope.encoded_2718());
    Ok(SignedTx {
        hash: keccak256(&raw),
        raw,
    })
}

/// The keys and contracts every workload uses: the senders the setup funds, and the DevToken and
/// loop contract it deploys (dev account 0's first two creations).
pub(crate) struct Accounts {
    pub(crate) users: Vec<PrivateKeySigner>,
    token: Address,
    looper: Address,
}

impl Accounts {
    pub(crate) fn new(senders: usize) -> eyre::Result<Self> {
        eyre::ensure!(senders >= 2, "--senders must be at least 2");
        eyre::ensure!(
            senders.div_ceil(DEV_ACCOUNTS) + 2 <= MAX_PER_WAVE,
            "--senders must be at most {}",
            (MAX_PER_WAVE - 2) * DEV_ACCOUNTS
        );
        let dev0 = dev_signers()?[0].address();
        Ok(Self {
            users: (0..senders)
                .map(derived_signer)
                .collect::<eyre::Result<_>>()?,
            token: dev0.create(0),
            looper: dev0.create(1),
        })
    }

    /// The `i`-th measured transaction of `kind`, from sender `s` at `nonce` (`i` picks the
    /// transaction type in `mix` and the fresh recipient).
    pub(crate) fn measured(
        &self,
        kind: Kind,
        chain_id: u64,
        i: usize,
        s: usize,
        nonce: u64,
    ) -> eyre::Result<SignedTx> {
        let senders = self.users.len();
        let user = &self.users[s];
        let neighbour = self.users[(s + 1) % senders].address();
        let one_token = U256::from(10u64).pow(U256::from(18));
        let eth = || {
            sign(
                user,
                chain_id,
                nonce,
                21_000,
                TxKind::Call(derived_address("recipient", i)),
                U256::from(1_000_000_000u64),
                Bytes::new(),
            )
        };
        let erc20 = || {
            let input = transferCall {
                to: neighbour,
                amount: one_token,
            }
            .abi_encode();
            sign(
                user,
                chain_id,
                nonce,
                60_000,
                TxKind::Call(self.token),
                U256::ZERO,
                input.into(),
            )
        };
        match kind {
            Kind::Eth => eth(),
            Kind::Erc20 => erc20(),
            Kind::Mix => match i % 10 {
                0..=3 => eth(),
                4..=6 => erc20(),
                7 => {
                    let input = mintCall {
                        to: derived_address("holder", i),
                        amount: one_token,
                    }
                    .abi_encode();
                    sign(
                        user,
                        chain_id,
                        nonce,
                        80_000,
                        TxKind::Call(self.token),
                        U256::ZERO,
                        input.into(),
                    )
                }
                8 => {
                    let spender = self.users[(s + 7) % senders].address();
                    let input = approveCall {
                        spender,
                        amount: one_token,
                    }
                    .abi_encode();
                    sign(
                        user,
                        chain_id,
                        nonce,
                        60_000,
                        TxKind::Call(self.token),
                        U256::ZERO,
                        input.into(),
                    )
                }
                _ => {
                    let input = U256::from(LOOP_ITERATIONS).to_be_bytes::<32>();
                    sign(
                        user,
                        chain_id,
                        nonce,
                        120_000,
                        TxKind::Call(self.looper),
                        U256::ZERO,
                        Bytes::copy_from_slice(&input),
                    )
                }
            },
        }
    }
}

/// Builds and signs a plan. Dev accounts must be at nonce 0 on the target chain.
pub(crate) fn build(kind: Kind, chain_id: u64, txs: usize, senders: usize) -> eyre::Result<Plan> {
    let accounts = Accounts::new(senders)?;
    let dev = dev_signers()?;
    let users = &accounts.users;
    let mut nonces = [0u64; DEV_ACCOUNTS];

    // Wave 1: deploy the token and the loop contract, fund every sender.
    let mut wave1 = vec![
        sign(
            &dev[0],
            chain_id,
            0,
            3_000_000,
            TxKind::Create,
            U256::ZERO,
            rollup_primitives::artifacts::DEV_TOKEN.bytecode.clone(),
        )?,
        sign(
            &dev[0],
            chain_id,
            1,
            200_000,
            TxKind::Create,
            U256::ZERO,
            hex(&format!("{LOOP_INIT}{LOOP_RUNTIME}")),
        )?,
    ];
    nonces[0] = 2;
    for (i, user) in users.iter().enumerate() {
        let d = i % DEV_ACCOUNTS;
        wave1.push(sign(
            &dev[d],
            chain_id,
            nonces[d],
            21_000,
            TxKind::Call(user.address()),
            U256::from(SENDER_FUNDING_WEI),
            Bytes::new(),
        )?);
        nonces[d] += 1;
    }
    let mut setup = vec![wave1];
    // Wave 2: tokens for every sender.
    if kind != Kind::Eth {
        let mut wave2 = Vec::new();
        for (i, user) in users.iter().enumerate() {
            let d = i % DEV_ACCOUNTS;
            let input = mintCall {
                to: user.address(),
                amount: U256::from(10u64).pow(U256::from(24)),
            }
            .abi_encode();
            wave2.push(sign(
                &dev[d],
                chain_id,
                nonces[d],
                100_000,
                TxKind::Call(accounts.token),
                U256::ZERO,
                input.into(),
            )?);
            nonces[d] += 1;
        }
        setup.push(wave2);
    }

    let workload = (0..txs)
        .map(|i| accounts.measured(kind, chain_id, i, i % senders, (i / senders) as u64))
        .collect::<eyre::Result<_>>()?;
    Ok(Plan {
        dev: dev.iter().map(PrivateKeySigner::address).collect(),
        setup,
        workload,
    })
}
