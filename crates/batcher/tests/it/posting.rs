//! When batches go out: at once when full, within the max delay for blocks with transactions,
//! and for an idle chain only before the sequencing window would close; never every L1 block.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy_primitives::{Address, U256, hex};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use rollup_batcher::{
    BatchStart, Batcher, BatcherConfig, DataPath, PendingBatch, PostReason, build_batch,
};
use rollup_l1::{L1Sender, SenderConfig};
use rollup_primitives::{
    BatchEnvelope, BatchParent, BlockEntry, BlockNumHash, Heads, MAX_BATCH_SIZE, RollupConfig,
    bindings::IBatchInbox::{self, postBatchCall},
    decode_l1_origin,
};
use rollup_service::deploy::{DeployPlan, Preset, deploy};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{L2_CHAIN_ID, now_secs, open_node, rollup_config, seal_blocks};

fn config(sequencing_window: u64, window_margin: u64, max_delay: Duration) -> BatcherConfig {
    BatcherConfig {
        max_delay,
        window_margin,
        ..BatcherConfig::new(&rollup_config(0, sequencing_window))
    }
}

/// The batch of `store`'s blocks `from..=to` on top of block `from - 1` (all at the genesis
/// origin, so no L1 headers are needed).
fn build(
    store: &rollup_storage::Store,
    from: u64,
    to: u64,
    max_blocks: usize,
    max_bytes: usize,
) -> Result<Option<PendingBatch>, rollup_batcher::BatcherError> {
    let parent = store.reader().unwrap().header(from - 1).unwrap().unwrap();
    let origin = decode_l1_origin(&parent.extra_data).unwrap().number;
    let start = BatchStart {
        first_block: from,
        parent: BatchParent {
            timestamp: parent.timestamp,
            l1_origin: origin,
        },
        last_recorded_origin: origin,
        posted_txs: None,
    };
    build_batch(
        store,
        &start,
        to,
        max_blocks,
        max_bytes,
        DataPath::Calldata,
        &|_| None,
    )
}

#[test]
fn an_idle_chain_is_posted_only_before_its_window_closes() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = now_secs() - 1_000;
    let mut node = open_node(dir.path(), rollup_config(genesis, 10));
    seal_blocks(&mut node, &mut 0, genesis + 1, &[0, 0, 0, 0, 0]);
    let pending = build(node.store(), 1, 5, 256, MAX_BATCH_SIZE)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            pending.last_block,
            pending.full,
            pending.oldest_with_transactions
        ),
        (5, false, None)
    );
    assert_eq!(pending.first_l1_origin(), 0);
    // Blocks without transactions do not start the delay clock, not even a zero delay, however
    // old they are: they wait while the window of origin 0 (last inclusion in L1 block 9) has
    // more than the margin (3) to spare after the next L1 block.
    let long_after = Duration::from_secs(genesis + 1_000_000);
    let batcher = config(10, 3, Duration::ZERO);
    for l1_head in 0..5 {
        assert_eq!(
            batcher.post_reason(&pending, long_after, l1_head),
            None,
            "{l1_head}"
        );
    }
    for l1_head in 5..=9 {
        assert_eq!(
            batcher.post_reason(&pending, long_after, l1_head),
            Some(PostReason::WindowDeadline)
        );
    }
    // Its blob work yields to sequencing while half the window (10 L1 blocks, the last
    // inclusion in 9) is left, whatever the margin.
    for margin in [0, 3, 1_000] {
        let batcher = config(10, margin, Duration::ZERO);
        assert!(!batcher.short_of_slack(0, 3), "{margin}");
        assert!(batcher.short_of_slack(0, 4), "{margin}");
        assert!(batcher.short_of_slack(0, 20), "{margin}");
        // A throttled sequencer waits on the batcher: no slack then, however much is left.
        assert!(!batcher.blob_work_urgent(0, 0, false), "{margin}");
        assert!(batcher.blob_work_urgent(0, 0, true), "{margin}");
        assert!(batcher.blob_work_urgent(0, 4, false), "{margin}");
    }

    // No margin: the batch goes out in the last L1 block before the one that must include it.
    let no_margin = config(10, 0, Duration::ZERO);
    assert_eq!(no_margin.post_reason(&pending, long_after, 7), None);
    assert_eq!(
        no_margin.post_reason(&pending, long_after, 8),
        Some(PostReason::WindowDeadline)
    );
    // A margin as wide as the window posts every block at once.
    assert_eq!(
        config(10, 10, Duration::from_secs(3_600)).post_reason(&pending, long_after, 0),
        Some(PostReason::WindowDeadline)
    );
}

#[test]
fn a_block_with_transactions_waits_at_most_the_max_delay() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = now_secs() - 1_000;
    let mut node = open_node(dir.path(), rollup_config(genesis, 1_000));
    seal_blocks(&mut node, &mut 0, genesis + 1, &[0, 0, 2, 0, 1]);
    let pending = build(node.store(), 1, 5, 256, MAX_BATCH_SIZE)
        .unwrap()
        .unwrap();
    let busy = genesis + 3;
    assert_eq!(
        pending.oldest_with_transactions,
        Some(busy),
        "block 3's timestamp"
    );
    assert!(!pending.full);
    let batcher = config(1_000, 10, Duration::from_secs(60));
    let at = |secs: u64| Duration::from_secs(busy + secs);
    assert_eq!(batcher.post_reason(&pending, at(0), 0), None);
    assert_eq!(batcher.post_reason(&pending, at(59), 0), None);
    assert_eq!(
        batcher.post_reason(&pending, at(60), 0),
        Some(PostReason::MaxDelay)
    );
    // A clock behind the block's timestamp waits (for the window at the latest).
    assert_eq!(
        batcher.post_reason(&pending, Duration::from_secs(busy - 5), 0),
        None
    );
}

#[test]
fn a_full_batch_goes_out_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_secs();
    let mut node = open_node(dir.path(), rollup_config(now - 100, 1_000));
    seal_blocks(&mut node, &mut 0, now - 50, &[5; 12]);
    let batcher = config(1_000, 10, Duration::from_secs(3_600));
    let just_sealed = Duration::from_secs(now);
    // Everything fits one batch: it waits for more.
    let all = build(node.store(), 1, 12, 256, MAX_BATCH_SIZE)
        .unwrap()
        .unwrap();
    assert!(!all.full);
    assert_eq!(batcher.post_reason(&all, just_sealed, 0), None);
    // More is waiting than a batch holds: it goes out now.
    let capped = build(node.store(), 1, 12, 256, all.bytes.len() / 3)
        .unwrap()
        .unwrap();
    assert!(
        capped.full && capped.last_block < 12,
        "{}",
        capped.last_block
    );
    assert_eq!(
        batcher.post_reason(&capped, just_sealed, 0),
        Some(PostReason::Full)
    );
}

/// Finds anvil: `$ANVIL_BIN`, else `<workspace>/node_modules/.bin/anvil`, else `anvil`.
fn anvil_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("ANVIL_BIN") {
        return path.into();
    }
    let pinned = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil");
    if pinned.exists() {
        pinned
    } else {
        "anvil".into()
    }
}

/// A real automining anvil, killed on drop.
struct Anvil {
    child: Child,
    url: String,
    provider: DynProvider,
    /// anvil's `--cache-path`: the old states it offloads, removed with the test (anvil leaves
    /// them behind when killed; a long silence's 8 700 blocks are about 1 GB).
    _states: tempfile::TempDir,
}

impl Anvil {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let states = tempfile::tempdir().expect("anvil's state cache dir");
        let child = Command::new(anvil_bin())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--silent",
            ])
            .arg("--cache-path")
            .arg(states.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn anvil (run scripts/bootstrap.sh or set ANVIL_BIN)");
        let url = format!("http://127.0.0.1:{port}");
        let provider = ProviderBuilder::new()
            .connect_http(url.parse().unwrap())
            .erased();
        let anvil = Self {
            child,
            url,
            provider,
            _states: states,
        };
        for _ in 0..200 {
            if anvil.provider.get_block_number().await.is_ok() {
                return anvil;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("anvil did not answer on {}", anvil.url);
    }

    async fn rpc(&self, method: &'static str, params: Value) -> Value {
        self.provider
            .raw_request(method.into(), params)
            .await
            .unwrap_or_else(|err| panic!("{method} failed: {err}"))
    }

    /// A view of `to` at the head.
    async fn view<C: SolCall>(&self, to: Address, call: C) -> C::Return {
        let out = self
            .provider
            .call(
                alloy_rpc_types_eth::TransactionRequest::default()
                    .to(to)
                    .input(call.abi_encode().into()),
            )
            .await
            .unwrap();
        C::abi_decode_returns(&out).unwrap()
    }

    /// The inbox's next L2 block (`nextBlock()`): one past the last it recorded.
    async fn inbox_next_block(&self, inbox: Address) -> u64 {
        self.view(inbox, IBatchInbox::nextBlockCall {}).await
    }

    /// Every batch posted to `inbox` so far, parsed, in L1 order.
    async fn posted_batches(&self, inbox: Address) -> Vec<BatchEnvelope> {
        let head = self.provider.get_block_number().await.unwrap();
        let mut batches = Vec::new();
        for number in 1..=head {
            let block = self
                .rpc(
                    "eth_getBlockByNumber",
                    json!([format!("{number:#x}"), true]),
                )
                .await;
            for tx in block["transactions"].as_array().unwrap() {
                if tx["to"].as_str().map(str::to_lowercase) != Some(format!("{inbox:#x}")) {
                    continue;
                }
                let input = hex::decode(tx["input"].as_str().unwrap()).unwrap();
                let Ok(call) = postBatchCall::abi_decode(&input) else {
                    continue;
                };
                batches.push(BatchEnvelope::parse(&call.data).unwrap());
            }
        }
        batches
    }
}

/// Deploys the rollup's contracts on `anvil` (deployer: dev key 0; batcher: dev key 1) with a
/// `sequencing_window`-block window; returns the rollup config of the deployment.
async fn deploy_rollup(anvil: &Anvil, sequencing_window: u64) -> RollupConfig {
    let deployer: PrivateKeySigner =
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
            .parse()
            .unwrap();
    let plan = DeployPlan {
        l2_chain_id: L2_CHAIN_ID,
        owner: deployer.address(),
        batcher: batcher_key().address(),
        proposer: Address::repeat_byte(0x22),
        dispute_game: None,
        preset: Preset {
            sequencing_window,
            ..Preset::DEVNET
        },
        l2_gas_limit: 30_000_000,
        l2_base_fee: 1,
        l2_alloc: [(crate::user_key().address(), U256::from(10u128.pow(21)))].into(),
    };
    let client = alloy_rpc_client::RpcClient::new_http(anvil.url.parse().unwrap());
    let deployment = deploy(client, &anvil.url, deployer, &plan, &[])
        .await
        .unwrap();
    deployment.rollup_config(31_337, &plan)
}

fn batcher_key() -> PrivateKeySigner {
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
        .parse()
        .unwrap()
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a batcher (anvil's dev key 1) over `node`'s blocks up to `head`, until cancelled.
async fn spawn_batcher(
    anvil: &Anvil,
    store: rollup_storage::Store,
    head: BlockNumHash,
    config: BatcherConfig,
) -> (CancellationToken, tokio::task::JoinHandle<()>, Address) {
    let sender = L1Sender::new(&anvil.url, batcher_key(), SenderConfig::default()).unwrap();
    let address = sender.address();
    // The heads stay put (a dropped sender leaves the last value readable).
    let (_, heads) = watch::channel(Heads {
        unsafe_l2: head,
        ..Default::default()
    });
    let cancel = CancellationToken::new();
    let batcher = Batcher::new(config, store, heads, sender);
    let token = cancel.clone();
    let task = tokio::spawn(async move { batcher.run(token).await.unwrap() });
    (cancel, task, address)
}

async fn stop(cancel: CancellationToken, task: tokio::task::JoinHandle<()>) {
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("the batcher stops promptly")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_posts_an_idle_chain_once_before_its_window_closes() {
    let anvil = Anvil::start().await;
    let rollup = deploy_rollup(&anvil, 20).await;
    let origin = rollup.genesis.l1_origin.number;
    let genesis = rollup.genesis.timestamp;
    let inbox = rollup.contracts.batch_inbox;
    let dir = tempfile::tempdir().unwrap();
    let mut node = open_node(dir.path(), rollup.clone());
    let head = seal_blocks(&mut node, &mut 0, genesis + 1, &[0, 0, 0]);
    let config = BatcherConfig {
        poll_interval: Duration::from_millis(50),
        max_delay: Duration::ZERO,
        window_margin: 3,
        ..BatcherConfig::new(&rollup)
    };
    let (cancel, task, batcher) = spawn_batcher(&anvil, node.store().clone(), head, config).await;

    // The window of the genesis origin is open until L1 block origin + 19 (the deployment itself takes several L1 blocks after the origin): nothing is sent
    // while more than the margin (3) remains after the next block, not even with a zero max
    // delay (the blocks carry no transactions).
    let l1_head = anvil.provider.get_block_number().await.unwrap();
    assert!(
        l1_head < origin + 15,
        "deployment took {} blocks",
        l1_head - origin
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        anvil.provider.get_transaction_count(batcher).await.unwrap(),
        0
    );

    // L1 reaches origin + 15: three blocks to spare after the next one; the batch goes out.
    anvil
        .rpc(
            "anvil_mine",
            json!([format!("{:#x}", origin + 15 - l1_head)]),
        )
        .await;
    for _ in 0..100 {
        if anvil.provider.get_transaction_count(batcher).await.unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let batches = anvil.posted_batches(inbox).await;
    assert_eq!(batches.len(), 1, "one batch for the whole idle stretch");
    assert_eq!(batches[0].first_block, 1);
    assert_eq!(
        batches[0].blocks,
        vec![
            BlockEntry {
                origin_delta: 0,
                timestamp_delta: 1,
                tx_count: 0
            };
            3
        ]
    );
    // The inbox accepted it: block 4 is next.
    assert_eq!(anvil.inbox_next_block(inbox).await, 4);
    stop(cancel, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_posts_full_batches_at_once_and_holds_the_rest() {
    let anvil = Anvil::start().await;
    let rollup = deploy_rollup(&anvil, 1_000).await;
    let genesis = rollup.genesis.timestamp;
    let inbox = rollup.contracts.batch_inbox;
    let dir = tempfile::tempdir().unwrap();
    let mut node = open_node(dir.path(), rollup.clone());
    let head = seal_blocks(&mut node, &mut 0, genesis + 1, &[5; 8]);
    // A batch limit a third of the whole: two or three full batches, then a remainder.
    let whole = build(node.store(), 1, head.number, 256, MAX_BATCH_SIZE)
        .unwrap()
        .unwrap();
    let max_batch_bytes = whole.bytes.len() / 3;
    let mut full = Vec::new();
    let mut from = 1;
    loop {
        let pending = build(node.store(), from, head.number, 256, max_batch_bytes)
            .unwrap()
            .unwrap();
        if !pending.full {
            break;
        }
        full.push(BatchEnvelope::parse(&pending.bytes).unwrap());
        from = pending.last_block + 1;
    }
    assert!((1..8).contains(&full.len()), "{} full batches", full.len());
    let config = BatcherConfig {
        poll_interval: Duration::from_millis(50),
        max_batch_bytes,
        max_delay: Duration::from_secs(3_600),
        window_margin: 10,
        ..BatcherConfig::new(&rollup)
    };
    let (cancel, task, batcher) = spawn_batcher(&anvil, node.store().clone(), head, config).await;

    // The full batches go out right away, one per round.
    let expected = full.len() as u64;
    for _ in 0..100 {
        if anvil.provider.get_transaction_count(batcher).await.unwrap() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The remainder neither fills a batch nor is an hour old, and the window is far away.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(anvil.posted_batches(inbox).await, full);
    stop(cancel, task).await;
}

/// With mining paused, the batcher sends every full batch at consecutive nonces without
/// waiting for the one before (up to `max_in_flight`), each continuing the last; once L1 mines,
/// they land together in one L1 block, in order, and the inbox takes them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_batches_are_in_flight_at_once_and_land_in_one_l1_block() {
    let anvil = Anvil::start().await;
    let rollup = deploy_rollup(&anvil, 1_000).await;
    let genesis = rollup.genesis.timestamp;
    let inbox = rollup.contracts.batch_inbox;
    let dir = tempfile::tempdir().unwrap();
    let mut node = open_node(dir.path(), rollup.clone());
    let head = seal_blocks(&mut node, &mut 0, genesis + 1, &[5; 8]);
    let whole = build(node.store(), 1, head.number, 256, MAX_BATCH_SIZE)
        .unwrap()
        .unwrap();
    let max_batch_bytes = whole.bytes.len() / 4;
    let config = BatcherConfig {
        poll_interval: Duration::from_millis(50),
        max_batch_bytes,
        max_delay: Duration::ZERO,
        window_margin: 10,
        max_in_flight: 3,
        ..BatcherConfig::new(&rollup)
    };
    anvil.rpc("evm_setAutomine", json!([false])).await;
    let (cancel, task, batcher) = spawn_batcher(&anvil, node.store().clone(), head, config).await;
    let pending_count = || async {
        anvil
            .provider
            .get_transaction_count(batcher)
            .pending()
            .await
            .unwrap()
    };
    for _ in 0..100 {
        if pending_count().await >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Three in flight, none mined, and no fourth while they wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pending_count().await, 3);
    assert_eq!(
        anvil.provider.get_transaction_count(batcher).await.unwrap(),
        0
    );
    anvil.rpc("anvil_mine", json!(["0x1"])).await;
    let mined_in = anvil.provider.get_block_number().await.unwrap();
    let batches = anvil.posted_batches(inbox).await;
    assert_eq!(batches.len(), 3, "all three landed");
    for pair in batches.windows(2) {
        let previous_last = pair[0].first_block + pair[0].blocks.len() as u64 - 1;
        assert_eq!(pair[1].first_block, previous_last + 1);
    }
    let block = anvil
        .rpc(
            "eth_getBlockByNumber",
            json!([format!("{mined_in:#x}"), false]),
        )
        .await;
    assert_eq!(block["transactions"].as_array().unwrap().len(), 3);
    // The rest follows: after more L1 blocks every L2 block is in the inbox (minutes on a
    // machine loaded by a second build, where one minute once fell short; the loop ends as
    // soon as it is).
    for _ in 0..3_000 {
        anvil.rpc("anvil_mine", json!(["0x1"])).await;
        if anvil.inbox_next_block(inbox).await == head.number + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = anvil.posted_batches(inbox).await;
    let last = all.last().unwrap();
    assert_eq!(last.first_block + last.blocks.len() as u64 - 1, head.number);
    stop(cancel, task).await;
}

/// Nobody posted or forced anything for longer than L1 remembers block hashes (EIP-2935: 8 191
/// blocks): the batcher, back, finds its `forceInclude` refused for an unknowable hash, proves
/// the old hashes backwards (`proveOriginHashes`, a chunk a transaction), then forces the
/// closed epochs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_long_silence_the_batcher_proves_old_hashes_then_forces() {
    let anvil = Anvil::start().await;
    let rollup = deploy_rollup(&anvil, 20).await;
    let origin = rollup.genesis.l1_origin.number;
    let inbox = rollup.contracts.batch_inbox;
    let dir = tempfile::tempdir().unwrap();
    let mut node = open_node(dir.path(), rollup.clone());
    let head = seal_blocks(&mut node, &mut 0, rollup.genesis.timestamp + 1, &[0]);
    anvil.rpc("anvil_mine", json!([8_700])).await;

    // Someone (or an earlier round that failed after it) proved the newest chunk already: the
    // batcher goes on below it instead of proving it again.
    let l1_head = anvil.provider.get_block_number().await.unwrap();
    let top = rollup_batcher::origins::proof_anchor(l1_head, true);
    let mut headers = Vec::new();
    for number in top - 149..=top {
        headers.push(
            rollup_l1::header_rlp(&anvil.provider, number)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let proof = IBatchInbox::proveOriginHashesCall { headers }.abi_encode();
    let tx = anvil
        .rpc(
            "eth_sendTransaction",
            json!([{ "from": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "to": inbox, "data": hex::encode_prefixed(proof), "gas": "0xf42400" }]),
        )
        .await;
    let tx = tx.as_str().unwrap().parse().unwrap();
    let mut receipt = None;
    for _ in 0..100 {
        receipt = anvil.provider.get_transaction_receipt(tx).await.unwrap();
        if receipt.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        receipt.is_some_and(|receipt| receipt.status()),
        "the first chunk's proof landed"
    );

    let config = BatcherConfig {
        poll_interval: Duration::from_millis(50),
        window_margin: 3,
        ..BatcherConfig::new(&rollup)
    };
    let (cancel, task, batcher) = spawn_batcher(&anvil, node.store().clone(), head, config).await;
    let mut forced = origin;
    for _ in 0..600 {
        forced = anvil.view(inbox, IBatchInbox::lastOriginCall {}).await;
        if forced > origin {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A call records at most 150 new origins (transaction size), so it forces that many epochs.
    assert_eq!(
        forced,
        origin + 150,
        "one forceInclude of 150 epochs landed; the batcher sent {} transactions",
        anvil.provider.get_transaction_count(batcher).await.unwrap()
    );
    // The batcher proved from where the first proof ended, down to the forced run's newest
    // origin: nothing twice, one transaction per chunk, and one to force.
    let proofs = anvil
        .provider
        .get_logs(
            &alloy_rpc_types_eth::Filter::new()
                .address(inbox)
                .event_signature(IBatchInbox::OriginHashesProven::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let ranges: Vec<(u64, u64)> = proofs
        .iter()
        .map(|log| {
            let event = IBatchInbox::OriginHashesProven::decode_log_data(log.data()).unwrap();
            (event.firstBlock, event.lastBlock)
        })
        .collect();
    let expected = rollup_batcher::origins::origin_proof_chunks(origin + 150, top - 150);
    assert_eq!(ranges[0], (top - 149, top));
    assert_eq!(
        ranges[1..].len(),
        expected.len(),
        "the batcher's proofs: {ranges:?}"
    );
    for (range, chunk) in ranges[1..].iter().zip(&expected) {
        assert_eq!(*range, *chunk, "the batcher's proofs: {ranges:?}");
    }
    stop(cancel, task).await;
}

/// A TCP proxy to `target` that drops every connection while its switch is on.
async fn switchable_proxy(
    target: std::net::SocketAddr,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let switch = down.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if down.load(std::sync::atomic::Ordering::Relaxed) {
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (url, switch)
}

/// A batcher whose L1 endpoint was down reports failing; once it reads L1 again with nothing
/// to post, it reports working, instead of failing until its next batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_l1_outage_ends_in_the_batchers_health_without_a_batch() {
    let anvil = Anvil::start().await;
    let rollup = deploy_rollup(&anvil, 1_000).await;
    let genesis = rollup.genesis.timestamp;
    let dir = tempfile::tempdir().unwrap();
    let mut node = open_node(dir.path(), rollup.clone());
    let head = seal_blocks(&mut node, &mut 0, genesis + 1, &[0, 0]);
    let (url, down) = switchable_proxy(anvil.url["http://".len()..].parse().unwrap()).await;
    let sender = L1Sender::new(&url, batcher_key(), SenderConfig::default()).unwrap();
    let health = rollup_primitives::Health::default();
    let (_, heads) = watch::channel(Heads {
        unsafe_l2: head,
        ..Default::default()
    });
    let config = BatcherConfig {
        poll_interval: Duration::from_millis(50),
        ..BatcherConfig::new(&rollup)
    };
    let batcher = Batcher::new(config, node.store().clone(), heads, sender)
        .with_health(health.role("batcher"));
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let task = tokio::spawn(async move { batcher.run(token).await.unwrap() });
    let batcher_role = || health.snapshot().into_iter().next().unwrap();

    let mut status = batcher_role();
    for _ in 0..100 {
        if status.failing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = batcher_role();
    }
    assert!(status.failing, "the outage is reported: {status:?}");

    down.store(false, std::sync::atomic::Ordering::Relaxed);
    for _ in 0..100 {
        if !status.failing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = batcher_role();
    }
    assert!(
        !status.failing,
        "the end of the outage is reported: {status:?}"
    );
    let message = &status.last_success.as_ref().unwrap().message;
    assert!(
        message.contains("reading L1 works again; nothing to post yet"),
        "{message}"
    );
    // Nothing was posted: the idle chain's window is far from closing.
    assert_eq!(
        anvil.inbox_next_block(rollup.contracts.batch_inbox).await,
        1
    );
    stop(cancel, task).await;
}
