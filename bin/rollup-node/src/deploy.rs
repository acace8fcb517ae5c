//! Deploys the rollup's L1 contracts from the embedded bytecode.

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, Bytes, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::{BlockNumberOrTag, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use eyre::{OptionExt, WrapErr};
use rollup_primitives::{BlockNumHash, artifacts, bindings::IERC20};
use tracing::info;

/// Where the contracts landed.
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) l1_bridge: Address,
    pub(crate) batch_inbox: Address,
    pub(crate) state_manager: Address,
    pub(crate) dev_token: Address,
    /// The L1 block after every deployment: the rollup's L1 origin.
    pub(crate) origin: BlockNumHash,
    pub(crate) origin_timestamp: u64,
}

/// Parameters of a devnet deployment.
pub(crate) struct DeployParams {
    pub(crate) deployer: PrivateKeySigner,
    pub(crate) batcher: Address,
    pub(crate) proposer: Address,
    pub(crate) challenge_period_secs: u64,
    pub(crate) proposal_bond: U256,
    /// Accounts that get `DevToken`s.
    pub(crate) token_holders: Vec<Address>,
}

pub(crate) async fn deploy(l1_rpc_url: &str, params: DeployParams) -> eyre::Result<Deployment> {
    let url = l1_rpc_url
        .parse()
        .wrap_err_with(|| format!("{l1_rpc_url} is not a URL"))?;
    let owner = params.deployer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(params.deployer))
        .connect_http(url);

    let create = |code: &Bytes, args: Vec<u8>| {
        let mut init = code.to_vec();
        init.extend(args);
        TransactionRequest::default().with_deploy_code(init)
    };
    let batch_inbox = deploy_contract(
        &provider,
        "BatchInbox",
        create(
            &artifacts::BATCH_INBOX.bytecode,
            (owner, params.batcher).abi_encode_params(),
        ),
    )
    .await?;
    let state_manager = deploy_contract(
        &provider,
        "StateManager",
        create(
            &artifacts::STATE_MANAGER.bytecode,
            (
                owner,
                params.proposer,
                U256::from(params.challenge_period_secs),
                params.proposal_bond,
            )
                .abi_encode_params(),
        ),
    )
    .await?;
    // The bridge checks withdrawals against the StateManager's proposals.
    let l1_bridge = deploy_contract(
        &provider,
        "L1Bridge",
        create(
            &artifacts::L1_BRIDGE.bytecode,
            (state_manager,).abi_encode_params(),
        ),
    )
    .await?;
    let dev_token = deploy_contract(
        &provider,
        "DevToken",
        create(&artifacts::DEV_TOKEN.bytecode, vec![]),
    )
    .await?;

    let mut pending = Vec::new();
    for holder in &params.token_holders {
        let mint = IERC20::mintCall {
            to: *holder,
            amount: U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18)),
        };
        let tx = TransactionRequest::default()
            .with_to(dev_token)
            .with_input(mint.abi_encode());
        pending.push(
            provider
                .send_transaction(tx)
                .await
                .wrap_err("minting DevToken")?,
        );
    }
    for tx in pending {
        tx.get_receipt()
            .await
            .wrap_err("waiting for DevToken mint")?;
    }

    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await?
        .ok_or_eyre("L1 has no latest block")?;
    Ok(Deployment {
        l1_bridge,
        batch_inbox,
        state_manager,
        dev_token,
        origin: BlockNumHash {
            number: block.header.number,
            hash: block.header.hash,
        },
        origin_timestamp: block.header.timestamp,
    })
}

async fn deploy_contract(
    provider: &impl Provider,
    name: &str,
    tx: TransactionRequest,
) -> eyre::Result<Address> {
    let receipt = provider
        .send_transaction(tx)
        .await
        .wrap_err_with(|| format!("deploying {name}"))?
        .get_receipt()
        .await
        .wrap_err_with(|| format!("waiting for {name}'s deployment"))?;
    if !receipt.status() {
        eyre::bail!(
            "deployment of {name} reverted (tx {})",
            receipt.transaction_hash
        );
    }
    let address = receipt
        .contract_address
        .ok_or_eyre("deployment receipt without contract address")?;
    info!(target: "rollup::devnet", contract = name, %address, "deployed");
    Ok(address)
}
