//! Landing transactions on L1: nonces, fee bumps and resubmission.

use std::time::Duration;

use alloy_eips::eip7594::BlobTransactionSidecarVariant;
use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::{TransactionReceipt, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{L1Error, Result};

/// How long one request of a sender to the L1 node may take before it fails (and the role
/// retries): without a bound, a request on a connection the L1 node's host dropped without a
/// word (a crash, a network partition) waited for ever, and the batcher or proposer with it,
/// even once the L1 node was back. (The follower's reads have their own bound.)
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How an [`L1Sender`] retries.
#[derive(Debug, Clone, Copy)]
pub struct SenderConfig {
    /// How long to wait for a receipt before bumping fees and resubmitting.
    pub resubmit_after: Duration,
    /// How many times to (re)submit before giving up.
    pub max_attempts: u32,
    /// Fee increase per resubmission, in percent (nodes require at least 10 to replace).
    pub fee_bump_percent: u128,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            resubmit_after: Duration::from_secs(12),
            max_attempts: 6,
            fee_bump_percent: 15,
        }
    }
}

/// Sends transactions from one L1 account: [`Self::send`] owns one nonce until its transaction
/// is mined, replacing it with higher fees when it is not mined in time; [`Self::send_many`]
/// does the same for several at consecutive nonces; [`Self::prepare`] and [`Self::submit`]
/// leave the nonces to the caller (the batcher).
///
/// With [`Self::with_cancel`], every wait and retry stops as soon as the token fires (the call
/// returns [`L1Error::Cancelled`]), so a role shuts down promptly even when L1 is gone.
#[derive(Debug, Clone)]
pub struct L1Sender {
    provider: DynProvider,
    address: Address,
    config: SenderConfig,
    url: String,
    cancel: CancellationToken,
}

impl L1Sender {
    /// A sender signing with `signer` through the L1 node at `url`.
    pub fn new(url: &str, signer: PrivateKeySigner, config: SenderConfig) -> Result<Self> {
        crate::rpc::check_http_url(url)?;
        let parsed = url.parse().map_err(|err| L1Error::InvalidUrl {
            url: url.to_string(),
            reason: format!("{err}"),
        })?;
        Ok(Self::with_client(
            crate::http_client_with_timeout(parsed, REQUEST_TIMEOUT),
            url,
            signer,
            config,
        ))
    }

    /// A sender signing with `signer` through any JSON-RPC client, e.g. one over an
    /// [`InProcessTransport`](crate::InProcessTransport) inside the L1 node itself; `label` names
    /// the endpoint in errors.
    pub fn with_client(
        client: alloy_rpc_client::RpcClient,
        label: &str,
        signer: PrivateKeySigner,
        config: SenderConfig,
    ) -> Self {
        let address = signer.address();
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_client(client)
            .erased();
        Self {
            provider,
            address,
            config,
            url: label.to_string(),
            cancel: CancellationToken::new(),
        }
    }

    /// Stops every send in progress, and refuses new ones, once `cancel` fires.
    #[must_use]
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// How long a submission waits to be mined before it is resubmitted with higher fees.
    pub const fn resubmit_after(&self) -> Duration {
        self.config.resubmit_after
    }

    /// This sender, resubmitting after `resubmit_after` instead.
    #[must_use]
    pub const fn with_resubmit_after(mut self, resubmit_after: Duration) -> Self {
        self.config.resubmit_after = resubmit_after;
        self
    }

    /// The sending account.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// The provider (for reads).
    pub const fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// `eth_call` of `request` as of L1's latest block. Never `pending` (alloy's default) for a
    /// decision: a transaction still in the mempool can be replaced before it is mined, and a
    /// move that answered it would apply to whatever was mined instead.
    pub async fn call_latest(
        &self,
        request: TransactionRequest,
    ) -> std::result::Result<Bytes, alloy_transport::TransportError> {
        self.call_at(request, alloy_rpc_types_eth::BlockId::latest())
            .await
    }

    /// `eth_call` of `request` as of L1's block `block` (e.g. `finalized`, for what no reorg
    /// can change).
    pub async fn call_at(
        &self,
        request: TransactionRequest,
        block: alloy_rpc_types_eth::BlockId,
    ) -> std::result::Result<Bytes, alloy_transport::TransportError> {
        use alloy_provider::Provider;
        self.provider.call(request).block(block).await
    }

    /// The blob sidecar L1 takes now, from its `eth_config` (EIP-7910): EIP-4844 proofs before
    /// Osaka, cell proofs since. An L1 that does not answer `eth_config` is taken to run
    /// Osaka, as Ethereum has since December 2025.
    pub async fn sidecar_format(&self) -> crate::SidecarFormat {
        match self
            .provider
            .raw_request::<_, serde_json::Value>("eth_config".into(), ())
            .await
        {
            Ok(config) => crate::SidecarFormat::from_eth_config(&config),
            Err(err) => {
                debug!(target: "rollup::l1", %err, "eth_config unanswered: sending EIP-7594 blob sidecars");
                crate::SidecarFormat::Eip7594
            }
        }
    }

    fn rpc_error(
        &self,
        method: &'static str,
    ) -> impl FnOnce(alloy_transport::TransportError) -> L1Error + '_ {
        move |source| L1Error::Rpc {
            url: self.url.clone(),
            method,
            source,
        }
    }

    /// [`Self::rpc_error`] for a call that sends or prices a transaction of ours: a refusal
    /// for want of funds names the account to fund.
    fn send_error(
        &self,
        method: &'static str,
    ) -> impl FnOnce(alloy_transport::TransportError) -> L1Error + '_ {
        move |source| match source.as_error_resp() {
            Some(payload)
                if [
                    "insufficient funds",
                    "insufficientfunds",
                    "upfront cost exceeds",
                ]
                .iter()
                .any(|words| payload.message.to_lowercase().contains(words)) =>
            {
                L1Error::Unfunded {
                    account: self.address,
                    url: self.url.clone(),
                    method,
                    reason: payload.message.to_string(),
                }
            }
            _ => self.rpc_error(method)(source),
        }
    }

    /// Sends `input` to `to` and waits for the receipt, bumping fees and resubmitting with the
    /// same nonce when it is not mined within `resubmit_after`. Returns the receipt of whichever
    /// submission was mined (it may have reverted: check `status()`).
    pub async fn send(&self, to: Address, input: Bytes) -> Result<TransactionReceipt> {
        self.send_with_value(to, input, U256::ZERO).await
    }

    /// [`Self::send`] with `value` wei attached (e.g. a proposal bond).
    ///
    /// Returns [`L1Error::Cancelled`] as soon as the sender's token fires: a submission already
    /// made may still be mined, and the next send (of this process or the next) replaces or
    /// follows it, since it starts from the mined nonce.
    pub async fn send_with_value(
        &self,
        to: Address,
        input: Bytes,
        value: U256,
    ) -> Result<TransactionReceipt> {
        self.unless_cancelled(self.send_until_mined(to, input, value, None))
            .await
    }

    /// Sends every `(to, input, value)` of `txs` at once, at consecutive nonces from the mined
    /// one, and waits until each is mined, bumping the fees of those that are not and
    /// resubmitting them at their nonces every `resubmit_after`, as [`Self::send`] does for
    /// one. Returns each one's receipt (it may have reverted) or error, in `txs`' order. A
    /// transaction whose preparation fails (its gas estimate reverts), that the balance left
    /// after the ones before it cannot pay for, or that the L1 refuses when first sent takes
    /// no nonce. One refused because a transaction of ours already waits at its nonce (a
    /// leftover of an earlier call, or one whose answer was lost) replaces it, its fees
    /// bumped until the L1 takes it. For callers with many independent transactions that each
    /// have a deadline (the dispute agent, one move per game): one at a time, they would take
    /// an L1 block each.
    pub async fn send_many(
        &self,
        txs: Vec<(Address, Bytes, U256)>,
    ) -> Vec<Result<TransactionReceipt>> {
        let count = txs.len();
        let mut out: Vec<Option<Result<TransactionReceipt>>> = (0..count).map(|_| None).collect();
        let finish = |mut out: Vec<Option<Result<TransactionReceipt>>>,
                      err: &dyn Fn() -> L1Error| {
            out.iter_mut()
                .map(|slot| slot.take().unwrap_or_else(|| Err(err())))
                .collect()
        };
        let mut prepared = Vec::new();
        for (index, (to, input, value)) in txs.into_iter().enumerate() {
            match self
                .unless_cancelled(self.prepare_with_value(to, input, value, None, None))
                .await
            {
                Ok(tx) => prepared.push((index, to, tx)),
                Err(err) => out[index] = Some(Err(err)),
            }
        }
        // What the account can pay for, in order: a pool that parks a transaction its sender
        // cannot pay for (with the ones before it) instead of refusing it would hold every
        // later nonce behind it.
        if let Ok(balance) = self.unless_cancelled(self.balance()).await {
            let mut left = balance;
            prepared.retain(|(index, _, tx)| match left.checked_sub(tx.cost()) {
                Some(rest) => {
                    left = rest;
                    true
                }
                None => {
                    let before = if left == balance {
                        String::new()
                    } else {
                        format!(
                            ", after the {} wei of the transactions sent with it",
                            balance - left
                        )
                    };
                    out[*index] = Some(Err(L1Error::Unfunded {
                        account: self.address,
                        url: self.url.clone(),
                        method: "the balance check before eth_sendRawTransaction",
                        reason: format!(
                            "its balance of {balance} wei does not cover this transaction's value and gas at its fee cap ({} wei){before}; not sent",
                            tx.cost()
                        ),
                    }));
                    false
                }
            });
        }
        if prepared.is_empty() {
            return finish(out, &|| L1Error::Cancelled);
        }
        let first = match self.mined_nonce().await {
            Ok(nonce) => nonce,
            Err(L1Error::Cancelled) => return finish(out, &|| L1Error::Cancelled),
            Err(err) => {
                let reason = format!("not sent: {err}");
                for (index, to, tx) in &prepared {
                    out[*index] = Some(Err(L1Error::NotMined {
                        to: *to,
                        attempts: 0,
                        max_fee: tx.max_fee,
                        tip: tx.tip,
                        reason: reason.clone(),
                    }));
                }
                return finish(out, &|| L1Error::Cancelled);
            }
        };
        let mut sent: Vec<Vec<B256>> = vec![Vec::new(); prepared.len()];
        // Nonces are handed out as the first submissions succeed: one the node refuses at once
        // (its sender cannot pay for it, say) takes none, so it leaves no gap the others would
        // wait behind.
        let mut nonces: Vec<Option<u64>> = vec![None; prepared.len()];
        // Polls in a row that found a transaction's nonce mined but no receipt of ours.
        let mut unseen = vec![0_u32; prepared.len()];
        let mut next = first;
        let mut gap = GapWatch::default();
        for attempt in 1..=self.config.max_attempts {
            for (k, (index, _, tx)) in prepared.iter_mut().enumerate() {
                if out[*index].is_some() {
                    continue;
                }
                let Some(nonce) = nonces[k] else {
                    match self.submit_first(tx, next).await {
                        Ok(hash) => {
                            sent[k].push(hash);
                            nonces[k] = Some(next);
                            next += 1;
                        }
                        Err(L1Error::Cancelled) => return finish(out, &|| L1Error::Cancelled),
                        Err(err) => out[*index] = Some(Err(err)),
                    }
                    continue;
                };
                match self.submit(tx, nonce).await {
                    Ok(hash) => sent[k].push(hash),
                    Err(L1Error::Cancelled) => return finish(out, &|| L1Error::Cancelled),
                    Err(err) => {
                        warn!(target: "rollup::l1", %err, nonce, attempt, "L1 transaction submission failed");
                    }
                }
            }
            let deadline = tokio::time::Instant::now() + self.config.resubmit_after;
            while tokio::time::Instant::now() < deadline {
                // Below the mined nonce, each is mined: ours, or another with our key.
                if let Ok(mined) = self.mined_nonce().await {
                    // One of this call whose receipt was seen and that an L1 reorg took out
                    // again waits once more, resubmitted at its nonce: not an empty one there.
                    for (k, (index, _, _)) in prepared.iter().enumerate() {
                        if nonces[k].is_some_and(|nonce| nonce >= mined)
                            && matches!(out[*index], Some(Ok(_)))
                        {
                            out[*index] = None;
                            unseen[k] = 0;
                        }
                    }
                    // An L1 reorg took mined transactions of this account out below the ones
                    // still waiting here: those wait behind the gap until it is filled.
                    let lowest = prepared
                        .iter()
                        .zip(&nonces)
                        .filter(|((index, _, _), _)| out[*index].is_none())
                        .filter_map(|(_, nonce)| *nonce)
                        .min();
                    if let Some(lowest) = lowest
                        && gap.seen(mined, lowest)
                    {
                        self.fill_gap(mined, lowest).await;
                    }
                    for (k, (index, to, tx)) in prepared.iter().enumerate() {
                        let Some(nonce) = nonces[k] else { continue };
                        if out[*index].is_some() || nonce >= mined {
                            continue;
                        }
                        let mut receipt = None;
                        for hash in &sent[k] {
                            if let Ok(Some(found)) = self.receipt(*hash).await {
                                receipt = Some(found);
                                break;
                            }
                        }
                        // The node may count the nonce before it serves the receipt: only after
                        // the first attempt and several polls (two seconds) without one is the
                        // nonce another transaction's.
                        if receipt.is_none() {
                            unseen[k] += 1;
                            if attempt == 1 || unseen[k] < 8 {
                                continue;
                            }
                        }
                        out[*index] = Some(receipt.ok_or_else(|| L1Error::NotMined {
                            to: *to,
                            attempts: attempt,
                            max_fee: tx.max_fee,
                            tip: tx.tip,
                            reason: format!("nonce {nonce} was used by another transaction"),
                        }));
                    }
                }
                if self.cancel.is_cancelled() {
                    return finish(out, &|| L1Error::Cancelled);
                }
                if prepared.iter().all(|(index, _, _)| out[*index].is_some()) {
                    return finish(out, &|| L1Error::Cancelled);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            metrics::counter!("rollup_l1_tx_resubmissions_total").increment(1);
            gap.next_attempt();
            let fresh = self.fresh_fees().await;
            for (index, _, tx) in &mut prepared {
                if out[*index].is_none() {
                    tx.bump();
                    tx.raise_to(fresh);
                }
            }
        }
        let attempts = self.config.max_attempts;
        let mut unmined = Vec::new();
        for ((index, to, tx), nonce) in prepared.iter().zip(&nonces) {
            if out[*index].is_none() {
                unmined.push((*index, *to, tx.max_fee, tx.tip));
                // Left pending, it could still be mined after the caller decided again and
                // sent fewer transactions than are waiting (a second challenge, a second bond).
                if let Some(nonce) = nonce {
                    self.cancel_at(*nonce, tx).await;
                }
            }
        }
        for (index, to, max_fee, tip) in unmined {
            out[index] = Some(Err(L1Error::NotMined {
                to,
                attempts,
                max_fee,
                tip,
                reason: "timeout".into(),
            }));
        }
        finish(out, &|| L1Error::Cancelled)
    }

    /// [`Self::send`] as an EIP-4844 transaction carrying `sidecar`'s blobs. The blob fee
    /// starts at twice L1's blob base fee, and every fee doubles with each resubmission (L1
    /// pools replace a blob transaction only for 100% more on each).
    pub async fn send_blobs(
        &self,
        to: Address,
        input: Bytes,
        sidecar: BlobTransactionSidecarVariant,
    ) -> Result<TransactionReceipt> {
        self.unless_cancelled(self.send_until_mined(to, input, U256::ZERO, Some(sidecar)))
            .await
    }

    /// Runs `call` unless (or until) the sender's token fires.
    async fn unless_cancelled<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(L1Error::Cancelled),
            result = call => result,
        }
    }

    async fn send_until_mined(
        &self,
        to: Address,
        input: Bytes,
        value: U256,
        sidecar: Option<BlobTransactionSidecarVariant>,
    ) -> Result<TransactionReceipt> {
        // The mined (`latest`) nonce, not `pending`: a caller of `send` has at most one
        // transaction in flight, so anything pending under our key is a leftover (e.g.
        // stranded behind a gap an L1 reorg opened) that this transaction must replace, not
        // queue behind. (The batcher, which keeps several in flight, uses `prepare`/`submit`.)
        let nonce = self.mined_nonce().await?;
        let mut prepared = self
            .prepare_with_value(to, input, value, sidecar, None)
            .await?;
        let mut sent: Vec<B256> = Vec::new();
        let mut last_error = String::from("timeout");
        let mut gap = GapWatch::default();
        for attempt in 1..=self.config.max_attempts {
            // The nonce stays the same across attempts: moving it down to fill a gap an L1
            // reorg opened below it left the first submission pending above, to run a second
            // time once the gap filled (the gap is filled instead, below).
            let submitted = if sent.is_empty() {
                self.submit_first(&mut prepared, nonce).await
            } else {
                self.submit(&prepared, nonce).await
            };
            match submitted {
                Ok(hash) => sent.push(hash),
                // "already known", "replacement underpriced", "nonce too low": an earlier
                // submission may be mined or pending; keep waiting and bump.
                Err(L1Error::Cancelled) => return Err(L1Error::Cancelled),
                // Nothing of ours waits at this nonce, and waiting will not fund the account
                // nor free the nonce: say so now (the caller's next round decides again).
                Err(err @ (L1Error::Unfunded { .. } | L1Error::NonceTaken { .. }))
                    if sent.is_empty() =>
                {
                    return Err(err);
                }
                Err(err) => {
                    last_error = err.to_string();
                    warn!(target: "rollup::l1", %err, nonce, attempt, "L1 transaction submission failed");
                }
            }
            let deadline = tokio::time::Instant::now() + self.config.resubmit_after;
            while tokio::time::Instant::now() < deadline {
                for hash in &sent {
                    if let Ok(Some(receipt)) = self.provider.get_transaction_receipt(*hash).await {
                        if attempt > 1 {
                            info!(target: "rollup::l1", tx = %hash, attempt, "L1 transaction mined after resubmission");
                        }
                        return Ok(receipt);
                    }
                }
                if let Ok(mined) = self.provider.get_transaction_count(self.address).await {
                    // A reorg removed earlier transactions of ours: fill their nonces so this
                    // one can be mined. (Never move it down: a first submission whose answer
                    // was lost may be waiting at this nonce all the same.)
                    if gap.seen(mined, nonce) {
                        self.fill_gap(mined, nonce).await;
                    }
                    // Our nonce was used by a transaction we do not know: another process with
                    // the same key, or a submission of ours whose answer was lost. Nothing of
                    // ours can be mined any more.
                    if mined > nonce && attempt > 1 {
                        for hash in &sent {
                            if let Ok(Some(receipt)) =
                                self.provider.get_transaction_receipt(*hash).await
                            {
                                return Ok(receipt);
                            }
                        }
                        last_error = format!(
                            "nonce {nonce} was used by a transaction this sender did not see mined (another process with this key, or a submission whose answer was lost)"
                        );
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            metrics::counter!("rollup_l1_tx_resubmissions_total").increment(1);
            gap.next_attempt();
            prepared.bump();
            prepared.raise_to(self.fresh_fees().await);
        }
        Err(L1Error::NotMined {
            to,
            attempts: self.config.max_attempts,
            max_fee: prepared.max_fee,
            tip: prepared.tip,
            reason: last_error,
        })
    }

    /// Prepares a transaction of `input` to `to` (with `sidecar`'s blobs, if any) for
    /// [`Self::submit`]: estimates its gas (plus a fifth) and fees now. The caller picks the
    /// nonce, so several can be in flight at consecutive nonces (see the batcher); fees rise
    /// with [`Prepared::bump`] for a resubmission at the same nonce.
    ///
    /// With `gas_limit`, that limit is used as is instead of an estimate: for a transaction
    /// that only succeeds after others still in flight, which an estimate cannot see.
    pub async fn prepare(
        &self,
        to: Address,
        input: Bytes,
        sidecar: Option<BlobTransactionSidecarVariant>,
        gas_limit: Option<u64>,
    ) -> Result<Prepared> {
        self.prepare_with_value(to, input, U256::ZERO, sidecar, gas_limit)
            .await
    }

    async fn prepare_with_value(
        &self,
        to: Address,
        input: Bytes,
        value: U256,
        sidecar: Option<BlobTransactionSidecarVariant>,
        gas_limit: Option<u64>,
    ) -> Result<Prepared> {
        self.unless_cancelled(async {
            let mut request = TransactionRequest::default()
                .with_from(self.address)
                .with_to(to)
                .with_input(input)
                .with_value(value);
            let mut blob_fee = 0;
            if let Some(sidecar) = &sidecar {
                request.blob_versioned_hashes = Some(sidecar.versioned_hashes().collect());
                blob_fee = self
                    .provider
                    .get_blob_base_fee()
                    .await
                    .map_err(self.rpc_error("eth_blobBaseFee"))?
                    .saturating_mul(2)
                    .max(1);
                request.max_fee_per_blob_gas = Some(blob_fee);
            }
            let gas_limit = match gas_limit {
                Some(gas) => gas,
                None => {
                    let estimate = self
                        .provider
                        .estimate_gas(request.clone())
                        .await
                        .map_err(self.send_error("eth_estimateGas"))?;
                    // EIP-7825 caps one transaction at 2^24 gas.
                    (estimate + estimate / 5).min(1 << 24)
                }
            };
            let fees = self
                .provider
                .estimate_eip1559_fees()
                .await
                .map_err(self.rpc_error("eth_feeHistory"))?;
            request.sidecar = sidecar;
            Ok(Prepared {
                request: request.with_gas_limit(gas_limit),
                max_fee: fees.max_fee_per_gas,
                tip: fees.max_priority_fee_per_gas.max(1),
                blob_fee,
                bump_percent: self.config.fee_bump_percent,
            })
        })
        .await
    }

    /// Sends `prepared` at `nonce` with its current fees; returns the transaction hash. An
    /// error may mean an earlier submission at this nonce is still pending ("already known",
    /// "replacement underpriced"): bump and submit again, or wait for it.
    pub async fn submit(&self, prepared: &Prepared, nonce: u64) -> Result<B256> {
        self.unless_cancelled(async {
            let mut tx = prepared
                .request
                .clone()
                .with_nonce(nonce)
                .with_max_fee_per_gas(prepared.max_fee)
                .with_max_priority_fee_per_gas(prepared.tip);
            if tx.sidecar.is_some() {
                tx.max_fee_per_blob_gas = Some(prepared.blob_fee);
            }
            let pending = self
                .provider
                .send_transaction(tx)
                .await
                .map_err(self.send_error("eth_sendRawTransaction"))?;
            debug!(target: "rollup::l1", tx = %pending.tx_hash(), nonce, max_fee = prepared.max_fee, tip = prepared.tip, blob_fee = prepared.blob_fee, "L1 transaction sent");
            Ok(*pending.tx_hash())
        })
        .await
    }

    /// L1's EIP-1559 fees now (`(max fee, tip)`), for a resubmission: a bump of the fees a
    /// transaction was first sent with falls behind a base fee that jumped meanwhile (an
    /// outsider raised it twentyfold and a dispute move bumped 15% every 12 s reached its
    /// block only after the game's clock ran out). `None` if L1 does not answer.
    async fn fresh_fees(&self) -> Option<(u128, u128)> {
        self.provider
            .estimate_eip1559_fees()
            .await
            .ok()
            .map(|fees| (fees.max_fee_per_gas, fees.max_priority_fee_per_gas.max(1)))
    }

    /// The first submission of `prepared`, at `nonce`: a refusal because a transaction of ours
    /// already waits at that nonce (a leftover of an earlier call or process, or one whose
    /// answer was lost) is met by bumping the fees until the L1 takes this one in its place (at
    /// most [`MAX_OUTBIDS`] times). A nonce L1 says is mined already is an error that sends
    /// the caller back to decide again: a leftover of ours was mined after the caller read L1
    /// to decide this one (a challenge left pending by a killed process, mined as the restarted
    /// one decided to challenge again: following it at the next nonce made two games and two
    /// bonds). Any other refusal is returned as it is.
    async fn submit_first(&self, prepared: &mut Prepared, nonce: u64) -> Result<B256> {
        match self.submit_outbidding(prepared, nonce).await {
            Err(err) if nonce_used(&err) => Err(L1Error::NonceTaken {
                account: self.address,
                nonce,
                to: prepared.to(),
            }),
            result => result,
        }
    }

    /// The account's pending nonce: the mined one plus the transactions of ours the L1 node
    /// holds ready in its pool.
    pub async fn pending_nonce(&self) -> Result<u64> {
        self.unless_cancelled(async {
            self.provider
                .get_transaction_count(self.address)
                .pending()
                .await
                .map_err(self.rpc_error("eth_getTransactionCount"))
        })
        .await
    }

    /// Replaces every transaction of ours waiting in the L1 node's pool (from the mined nonce
    /// to the pending one, at most [`MAX_GAP_FILL`]) with an empty one, outbidding it: for a
    /// caller that must not decide while transactions it no longer tracks (a killed process's,
    /// one given up) could still run. Returns the nonces replaced, or `None` when nothing
    /// waits. Best effort: one mined meanwhile is left.
    pub async fn cancel_leftovers(&self) -> Result<Option<std::ops::Range<u64>>> {
        let mined = self.mined_nonce().await?;
        let pending = self.pending_nonce().await?;
        if pending <= mined {
            return Ok(None);
        }
        let to = pending.min(mined + MAX_GAP_FILL);
        warn!(target: "rollup::l1", from = mined, to, "replacing transactions of this account that still wait in the L1 pool with empty ones");
        self.send_empty(mined..to, Waiting::Replace(None)).await?;
        Ok(Some(mined..to))
    }

    /// Submits `prepared` at `nonce`, bumping its fees while L1 refuses it because a
    /// transaction of ours waits there (at most [`MAX_OUTBIDS`] times).
    async fn submit_outbidding(&self, prepared: &mut Prepared, nonce: u64) -> Result<B256> {
        let mut outbids = 0;
        loop {
            match self.submit(prepared, nonce).await {
                Err(err) if outbids < MAX_OUTBIDS && nonce_occupied(&err) => {
                    outbids += 1;
                    prepared.bump();
                    debug!(target: "rollup::l1", nonce, outbids, %err, "a transaction of ours waits at this nonce: replacing it with higher fees");
                }
                result => return result,
            }
        }
    }

    /// Fills nonces `from..to` of this account, which an L1 reorg emptied below a transaction
    /// of ours waiting at `to`: each gets an empty transaction to this account at L1's fees
    /// now. A reorged transaction the node put back in its pool (geth and reth do) refuses
    /// ours as underpriced and is mined itself, unless L1's fees rose by a tenth since it was
    /// priced: then ours replaces it, and its caller, which reads L1 again every round,
    /// decides again. Either way each transaction runs at most once. Without the fill, ours
    /// waits for ever on an L1 that drops reorged transactions (anvil does). At most
    /// [`MAX_GAP_FILL`] nonces, from the top: a wider gap is a node answering from an old
    /// state, not a reorg.
    async fn fill_gap(&self, from: u64, to: u64) {
        let from = from.max(to.saturating_sub(MAX_GAP_FILL));
        warn!(target: "rollup::l1", from, to, "an L1 reorg took transactions of this account out: filling their nonces with empty transactions so the one at {to} can be mined");
        if let Err(err) = self.send_empty(from..to, Waiting::Keep).await {
            warn!(target: "rollup::l1", %err, "could not fill the nonces; trying again");
        }
    }

    /// Replaces the transaction of ours waiting at `nonce` (`prepared`, at its last fees) with
    /// an empty one to this account, so it cannot be mined after its caller gave it up. Best
    /// effort: a refusal means it was mined or replaced meanwhile.
    async fn cancel_at(&self, nonce: u64, prepared: &Prepared) {
        if let Err(err) = self
            .send_empty(nonce..nonce + 1, Waiting::Replace(Some(prepared)))
            .await
        {
            debug!(target: "rollup::l1", nonce, %err, "given-up transaction not replaced");
        }
    }

    /// Sends an empty transaction to this account (21 000 gas, at L1's fees now) at each of
    /// `nonces`: what fills a nonce an L1 reorg emptied ([`Waiting::Keep`]) or replaces a
    /// transaction of ours that must not run ([`Waiting::Replace`]). Best effort per nonce: a
    /// refusal means the nonce is mined or, with `Keep`, taken by a transaction left in place.
    /// An error only if the empty transaction cannot be priced or the sender is cancelled.
    async fn send_empty(&self, nonces: std::ops::Range<u64>, waiting: Waiting<'_>) -> Result<()> {
        let empty = self
            .prepare_with_value(self.address, Bytes::new(), U256::ZERO, None, Some(21_000))
            .await?;
        for nonce in nonces {
            let mut tx = empty.clone();
            let sent = match waiting {
                // Never bumped: an L1 pool's "transaction underpriced" may be its full-pool
                // check, made before the replacement rule (geth, Nethermind), and a bumped
                // filler would then evict a reorged transaction of ours put back there.
                Waiting::Keep => self.submit(&tx, nonce).await,
                Waiting::Replace(known) => {
                    if let Some(known) = known {
                        tx.outbid(known);
                    }
                    self.submit_outbidding(&mut tx, nonce).await
                }
            };
            match sent {
                Ok(hash) => {
                    debug!(target: "rollup::l1", nonce, tx = %hash, "empty transaction sent")
                }
                Err(L1Error::Cancelled) => return Err(L1Error::Cancelled),
                Err(err) if nonce_occupied(&err) || nonce_used(&err) => {
                    debug!(target: "rollup::l1", nonce, %err, "nonce taken already");
                }
                Err(err) => {
                    warn!(target: "rollup::l1", nonce, %err, "could not send an empty transaction at this nonce")
                }
            }
        }
        Ok(())
    }

    /// The receipt of `hash`, if it is mined.
    pub async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>> {
        self.unless_cancelled(async {
            self.provider
                .get_transaction_receipt(hash)
                .await
                .map_err(self.rpc_error("eth_getTransactionReceipt"))
        })
        .await
    }

    /// Whether the L1 node knows `hash`, mined or in its pool: one it dropped (evicted from a
    /// full pool, or taken out by a reorg on a node that does not put such transactions back,
    /// as anvil) it does not.
    pub async fn known(&self, hash: B256) -> Result<bool> {
        self.unless_cancelled(async {
            self.provider
                .get_transaction_by_hash(hash)
                .await
                .map(|tx| tx.is_some())
                .map_err(self.rpc_error("eth_getTransactionByHash"))
        })
        .await
    }

    /// The account's mined nonce (`latest`): the next nonce L1 will take from it.
    pub async fn mined_nonce(&self) -> Result<u64> {
        self.unless_cancelled(async {
            self.provider
                .get_transaction_count(self.address)
                .await
                .map_err(self.rpc_error("eth_getTransactionCount"))
        })
        .await
    }

    /// The L1 head block number.
    pub async fn head(&self) -> Result<u64> {
        self.unless_cancelled(async {
            self.provider
                .get_block_number()
                .await
                .map_err(self.rpc_error("eth_blockNumber"))
        })
        .await
    }

    /// The fee cap (wei per gas) a transaction sent now would offer: L1's current EIP-1559
    /// estimate.
    pub async fn fee_cap(&self) -> Result<u128> {
        self.unless_cancelled(async {
            self.provider
                .estimate_eip1559_fees()
                .await
                .map(|fees| fees.max_fee_per_gas)
                .map_err(self.rpc_error("eth_feeHistory"))
        })
        .await
    }

    /// The account's balance.
    pub async fn balance(&self) -> Result<U256> {
        self.unless_cancelled(async {
            self.provider
                .get_balance(self.address)
                .await
                .map_err(self.rpc_error("eth_getBalance"))
        })
        .await
    }
}

/// How many times a first submission bumps its fees to replace one of ours that waits at its
/// nonce: ten bumps of 15% are four times the fees, above what six resubmissions of an earlier
/// call reach by bumping alone (one priced at a fee spike's L1 fees may stay above: it is then
/// mined, or replaced by a later call's resubmissions, which rise with L1's fees).
const MAX_OUTBIDS: u32 = 10;

/// What [`L1Sender::send_empty`] does about a transaction of ours already waiting at a nonce.
#[derive(Debug, Clone, Copy)]
enum Waiting<'a> {
    /// Leave it: a reorged transaction the node put back in its pool is mined itself.
    Keep,
    /// Outbid it, starting from its last fees when they are known.
    Replace(Option<&'a Prepared>),
}

/// The most nonces [`L1Sender::fill_gap`] fills at once.
const MAX_GAP_FILL: u64 = 64;

/// Whether a nonce gap below a waiting transaction was seen on two polls in a row (one poll
/// may be a load balancer's lagging backend), and whether it was filled this attempt.
#[derive(Debug, Default)]
struct GapWatch {
    polls: u32,
    filled: bool,
}

impl GapWatch {
    /// Records a poll that found the mined nonce `mined` with ours waiting from `lowest`;
    /// true when the gap is to be filled now.
    fn seen(&mut self, mined: u64, lowest: u64) -> bool {
        if mined >= lowest {
            self.polls = 0;
            return false;
        }
        self.polls += 1;
        if self.polls < 2 || self.filled {
            return false;
        }
        self.filled = true;
        true
    }

    /// A new attempt: a gap still open is filled again (a filler may have been refused).
    const fn next_attempt(&mut self) {
        self.filled = false;
    }
}

/// Whether an L1 node refused a transaction because its nonce is mined already.
fn nonce_used(err: &L1Error) -> bool {
    let L1Error::Rpc { source, .. } = err else {
        return false;
    };
    source.as_error_resp().is_some_and(|payload| {
        let message = payload.message.to_lowercase();
        // geth, reth, anvil, Erigon, Besu; Nethermind's `OldNonce`.
        message.contains("nonce too low") || message.contains("oldnonce")
    })
}

/// Whether an L1 node refused a transaction because one of ours already waits at its nonce
/// with fees it does not replace for these (geth, reth and anvil word it so).
fn nonce_occupied(err: &L1Error) -> bool {
    let L1Error::Rpc { source, .. } = err else {
        return false;
    };
    let Some(payload) = source.as_error_resp() else {
        return false;
    };
    let message = payload.message.to_lowercase();
    // geth, reth, anvil; Nethermind's `AlreadyKnown` and `ReplacementNotAllowed`-style
    // codes; Besu's "Known transaction".
    [
        "underpriced",
        "already known",
        "alreadyknown",
        "already imported",
        "known transaction",
        "replacement",
    ]
    .iter()
    .any(|words| message.contains(words))
}

/// A transaction ready to send at a nonce of the caller's choosing ([`L1Sender::prepare`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    request: TransactionRequest,
    max_fee: u128,
    tip: u128,
    blob_fee: u128,
    bump_percent: u128,
}

impl Prepared {
    /// The most it can cost its sender at its current fees: its value and its gas limit at
    /// the fee cap (blobs at the blob fee cap too), as a pool checks it against the balance.
    pub fn cost(&self) -> U256 {
        let gas = U256::from(self.request.gas.unwrap_or_default()) * U256::from(self.max_fee);
        let blob_gas = self
            .request
            .blob_versioned_hashes
            .as_ref()
            .map_or(0, Vec::len) as u64
            * alloy_eips::eip4844::DATA_GAS_PER_BLOB;
        self.request.value.unwrap_or_default()
            + gas
            + U256::from(blob_gas) * U256::from(self.blob_fee)
    }

    /// Raises the fees for a replacement at the same nonce: by the sender's bump percentage
    /// (pools replace an ordinary transaction for 10% more), and every fee twofold for a blob
    /// transaction (geth's and reth's blob pools replace one only for 100% more on the max
    /// fee, the tip and the blob fee).
    pub fn bump(&mut self) {
        let percent = if self.has_blobs() {
            100
        } else {
            self.bump_percent
        };
        self.max_fee = self
            .max_fee
            .saturating_add((self.max_fee.saturating_mul(percent) / 100).max(1));
        self.tip = self
            .tip
            .saturating_add((self.tip.saturating_mul(percent) / 100).max(1));
        self.blob_fee = self.blob_fee.saturating_mul(2);
    }

    /// Raises the fees to at least `fees` (`(max fee, tip)`, L1's now), if known.
    pub fn raise_to(&mut self, fees: Option<(u128, u128)>) {
        if let Some((max_fee, tip)) = fees {
            self.max_fee = self.max_fee.max(max_fee);
            self.tip = self.tip.max(tip).min(self.max_fee);
        }
    }

    /// Raises the fees to at least `other`'s, bumped as `other` would be: to replace a
    /// transaction sent with `other` at the same nonce.
    pub fn outbid(&mut self, other: &Self) {
        let mut floor = other.clone();
        floor.bump();
        self.max_fee = self.max_fee.max(floor.max_fee);
        self.tip = self.tip.max(floor.tip);
        self.blob_fee = self.blob_fee.max(floor.blob_fee);
    }

    /// The per-fee maximum of `self` and `other`.
    #[must_use]
    pub fn max(mut self, other: &Self) -> Self {
        self.max_fee = self.max_fee.max(other.max_fee);
        self.tip = self.tip.max(other.tip);
        self.blob_fee = self.blob_fee.max(other.blob_fee);
        self.request.sidecar = self
            .request
            .sidecar
            .or_else(|| other.request.sidecar.clone());
        self
    }

    /// Its recipient (zero for a contract creation).
    pub fn to(&self) -> Address {
        self.request
            .to
            .and_then(|kind| kind.to().copied())
            .unwrap_or_default()
    }

    /// Its max fee per gas.
    pub const fn max_fee_per_gas(&self) -> u128 {
        self.max_fee
    }

    /// Whether it carries blobs.
    pub const fn has_blobs(&self) -> bool {
        self.request.sidecar.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(message: &str) -> L1Error {
        L1Error::Rpc {
            url: "http://l1".into(),
            method: "eth_sendRawTransaction",
            source: alloy_json_rpc::RpcError::ErrorResp(alloy_json_rpc::ErrorPayload {
                code: -32000,
                message: message.to_owned().into(),
                data: None,
            }),
        }
    }

    /// The refusals that mean a transaction of ours waits at the nonce, or that it is mined.
    #[test]
    fn refusals_are_read_by_their_words() {
        for waiting in [
            "replacement transaction underpriced",
            "already known",
            "Known transaction",
        ] {
            assert!(nonce_occupied(&refused(waiting)), "{waiting}");
            assert!(!nonce_used(&refused(waiting)), "{waiting}");
        }
        assert!(nonce_used(&refused(
            "nonce too low: next nonce 7, tx nonce 5"
        )));
        assert!(!nonce_occupied(&refused(
            "insufficient funds for gas * price + value"
        )));
    }
}
