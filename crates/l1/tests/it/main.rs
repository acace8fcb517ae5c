//! End-to-end tests of the L1 follower against a real anvil.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy_primitives::{Address, B256, U256};
use alloy_provider::{Provider, RootProvider};
use rollup_l1::{L1Error, L1Follower, L1FollowerConfig, L1Rpc, L1Sender, SenderConfig};
use rollup_primitives::{BlockNumHash, L1Block, L1Notification};
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// How long a test waits for one notification before failing.
const WAIT: Duration = Duration::from_secs(10);

/// anvil's second dev account's key (a test key).
const DEV_KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// Finds anvil: `$ANVIL_BIN`, else `<workspace>/node_modules/.bin/anvil`, else `anvil` on `PATH`.
fn anvil_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("ANVIL_BIN") {
        return path.into();
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil");
    if workspace.exists() {
        return workspace;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("anvil"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "anvil not found: set ANVIL_BIN, run `npm install` in the workspace \
                 (node_modules/.bin/anvil), or put foundry's anvil on PATH"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real anvil process, killed on drop.
struct Anvil {
    child: Child,
    url: String,
    provider: RootProvider,
    /// anvil's `--cache-path`: the old states it offloads, removed with the test (anvil leaves
    /// them behind when killed).
    _states: tempfile::TempDir,
}

impl Anvil {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// An anvil started with `extra` flags.
    async fn start_with(extra: &[&str]) -> Self {
        let port = free_port();
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
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn anvil");
        let url = format!("http://127.0.0.1:{port}");
        let provider = RootProvider::connect(&url).await.unwrap();
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
        panic!("anvil did not answer on {} within 10s", anvil.url);
    }

    async fn rpc(&self, method: &'static str, params: Value) -> Value {
        self.provider
            .raw_request(method.into(), params)
            .await
            .unwrap_or_else(|err| panic!("{method} failed: {err}"))
    }

    async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", json!([format!("{blocks:#x}")]))
            .await;
    }

    /// Replaces the newest `depth` blocks with new ones (same height).
    async fn reorg(&self, depth: u64) {
        self.rpc("anvil_reorg", json!([depth, []])).await;
    }

    /// Removes the newest `depth` blocks.
    async fn rollback(&self, depth: u64) {
        self.rpc("anvil_rollback", json!([depth])).await;
    }

    async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }

    async fn canonical(&self, number: u64) -> B256 {
        let rpc = L1Rpc::connect(&self.url).await.unwrap();
        rpc.fetch_header(number)
            .await
            .unwrap()
            .expect("block exists")
            .hash
    }

    fn config(&self) -> L1FollowerConfig {
        config(&self.url)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(url: &str) -> L1FollowerConfig {
    L1FollowerConfig {
        url: url.to_string(),
        poll_interval: Duration::from_millis(50),
        confirmations: 0,
        max_blocks_per_notification: 10,
        blobs: None,
    }
}

/// A running follower and the consumer-side view of the chain it reported.
struct Consumer {
    rx: mpsc::Receiver<L1Notification>,
    cancel: CancellationToken,
    task: JoinHandle<rollup_l1::Result<()>>,
    /// The chain as the consumer sees it: ascending, contiguous.
    chain: Vec<L1Block>,
    max_batch: u64,
}

impl Consumer {
    async fn start(config: L1FollowerConfig, known: Vec<BlockNumHash>) -> Self {
        // The consumer's view starts as the header-only blocks it stored.
        let chain = known
            .iter()
            .rev()
            .map(|block| L1Block {
                number: block.number,
                hash: block.hash,
                parent_hash: B256::ZERO,
                timestamp: 0,
                mix_hash: B256::ZERO,
                base_fee_per_gas: None,
                transactions: vec![],
                receipts: vec![],
            })
            .collect();
        let max_batch = config.max_blocks_per_notification;
        let follower = L1Follower::new(config, known)
            .await
            .expect("follower starts");
        let (tx, rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(follower.run(tx, cancel.clone()));
        Self {
            rx,
            cancel,
            task,
            chain,
            max_batch,
        }
    }

    fn tip(&self) -> &L1Block {
        self.chain.last().unwrap()
    }

    fn known(&self, count: usize) -> Vec<BlockNumHash> {
        self.chain
            .iter()
            .rev()
            .take(count)
            .map(L1Block::num_hash)
            .collect()
    }

    /// Receives one notification, checks it against the consumer's view, and applies it.
    async fn next(&mut self) -> L1Notification {
        let notification = tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out waiting for an L1 notification")
            .expect("follower stopped");
        if let Some(old) = notification.reverted_chain() {
            let fork = old.first().number - 1;
            let ours: Vec<_> = self
                .chain
                .iter()
                .filter(|block| block.number > fork)
                .collect();
            assert_eq!(
                old.len(),
                ours.len(),
                "old chain is exactly our blocks above the fork"
            );
            for (reverted, ours) in old.blocks().iter().zip(ours) {
                assert_eq!(reverted.num_hash(), ours.num_hash());
                if !ours.transactions.is_empty() || ours.timestamp != 0 {
                    assert_eq!(reverted, ours, "reverted block carries what was committed");
                }
            }
            self.chain.retain(|block| block.number <= fork);
        }
        if let Some(new) = notification.committed_chain() {
            let tip = self.tip();
            assert_eq!(
                new.first().number,
                tip.number + 1,
                "new chain starts above our tip"
            );
            assert_eq!(
                new.first().parent_hash,
                tip.hash,
                "new chain extends our tip"
            );
            assert!(
                new.len() as u64 <= self.max_batch,
                "chain of {} exceeds batch",
                new.len()
            );
            for block in new.blocks() {
                assert_eq!(block.transactions.len(), block.receipts.len());
            }
            self.chain.extend(new.blocks().iter().cloned());
        }
        notification
    }

    /// Asserts that no notification comes for `wait`.
    async fn assert_quiet(&mut self, wait: Duration) {
        if let Ok(notification) = tokio::time::timeout(wait, self.rx.recv()).await {
            panic!("expected no notification, got {notification:?}");
        }
    }

    /// Receives notifications until our tip is at `number`; returns them.
    async fn follow_to(&mut self, number: u64) -> Vec<L1Notification> {
        let mut seen = Vec::new();
        while self.tip().number != number {
            seen.push(self.next().await);
        }
        seen
    }

    /// Asserts our view matches anvil's canonical chain from `from` up.
    async fn assert_canonical(&self, anvil: &Anvil, from: u64) {
        assert_eq!(self.tip().number, anvil.head().await);
        for block in self.chain.iter().filter(|block| block.number >= from) {
            assert_eq!(
                block.hash,
                anvil.canonical(block.number).await,
                "block {}",
                block.number
            );
        }
    }

    async fn stop(self) {
        self.cancel.cancel();
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("follower stops on cancel");
        result
            .expect("follower task panicked")
            .expect("follower returns Ok on cancel");
    }
}

async fn genesis(anvil: &Anvil) -> BlockNumHash {
    BlockNumHash {
        number: 0,
        hash: anvil.canonical(0).await,
    }
}

#[tokio::test]
async fn catches_up_in_batches_then_follows_new_blocks() {
    let anvil = Anvil::start().await;
    anvil.mine(30).await;
    let mut consumer = Consumer::start(anvil.config(), vec![genesis(&anvil).await]).await;

    let seen = consumer.follow_to(30).await;
    assert!(seen.len() >= 3, "30 blocks in batches of at most 10");
    assert!(
        seen.iter()
            .all(|n| matches!(n, L1Notification::Committed { .. }))
    );
    consumer.assert_canonical(&anvil, 0).await;

    anvil.mine(5).await;
    consumer.follow_to(35).await;
    consumer.assert_canonical(&anvil, 0).await;
    let tip = consumer.tip();
    assert!(
        tip.timestamp > 0 && tip.base_fee_per_gas.is_some(),
        "header fields are filled"
    );
    consumer.stop().await;
}

#[tokio::test]
async fn carries_transactions_with_senders_and_receipts() {
    let anvil = Anvil::start().await;
    let mut consumer = Consumer::start(anvil.config(), vec![genesis(&anvil).await]).await;

    let accounts: Vec<Address> =
        serde_json::from_value(anvil.rpc("eth_accounts", json!([])).await).unwrap();
    let (from, to) = (accounts[0], Address::repeat_byte(0x42));
    // anvil mines a block per transaction by default.
    let tx_hash: B256 = serde_json::from_value(
        anvil
            .rpc(
                "eth_sendTransaction",
                json!([{ "from": from, "to": to, "value": U256::from(1_000u64), "data": "0xabcdef" }]),
            )
            .await,
    )
    .unwrap();
    // The transaction is mined asynchronously; wait for its receipt to learn the block.
    let mut included = None;
    for _ in 0..100 {
        let receipt = anvil
            .rpc("eth_getTransactionReceipt", json!([tx_hash]))
            .await;
        if let Some(number) = receipt.get("blockNumber").and_then(Value::as_str) {
            included = Some(u64::from_str_radix(number.trim_start_matches("0x"), 16).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let head = included.expect("transaction mined within 2s");
    consumer.follow_to(head).await;

    let block = consumer.tip();
    assert_eq!(block.transactions.len(), 1);
    let tx = &block.transactions[0];
    assert_eq!(tx.hash, tx_hash);
    assert_eq!(tx.from, from);
    assert_eq!(tx.to, Some(to));
    assert_eq!(tx.input.as_ref(), &[0xab, 0xcd, 0xef]);
    assert!(tx.blob_versioned_hashes.is_empty());
    assert!(block.receipts[0].success);
    assert!(block.receipts[0].logs.is_empty());

    // The standalone fetch returns the same block.
    let rpc = L1Rpc::connect(&anvil.url).await.unwrap();
    assert_eq!(rpc.fetch_block(head).await.unwrap().as_ref(), Some(block));
    assert_eq!(rpc.fetch_block(head + 100).await.unwrap(), None);
    consumer.stop().await;
}

#[tokio::test]
async fn reports_reorgs_and_rollbacks() {
    let anvil = Anvil::start().await;
    anvil.mine(10).await;
    let mut consumer = Consumer::start(anvil.config(), vec![genesis(&anvil).await]).await;
    consumer.follow_to(10).await;
    let before: Vec<B256> = consumer.chain.iter().map(|block| block.hash).collect();

    // Same-height reorg: blocks 8..=10 replaced.
    anvil.reorg(3).await;
    let notification = consumer.next().await;
    let L1Notification::Reorged { old, new } = &notification else {
        panic!("expected Reorged, got {notification:?}")
    };
    assert_eq!(old.first().number, 8);
    assert_eq!(old.tip().number, 10);
    let old_hashes: Vec<B256> = old.blocks().iter().map(|block| block.hash).collect();
    assert_eq!(old_hashes, before[8..=10]);
    assert_eq!(new.first().number, 8);
    assert_eq!(new.first().parent_hash, before[7]);
    // anvil mines the replacement blocks one by one: a poll between two of them sees the
    // reorg to a lower tip, and the rest arrives as extensions.
    assert!((8..=10).contains(&new.tip().number), "{}", new.tip().number);
    consumer.follow_to(10).await;
    consumer.assert_canonical(&anvil, 0).await;

    // Rollback with no replacement yet: a node lagging behind looks the same, so following
    // waits; once L1 grows past the followed blocks with others, 9 and 10 are reverted.
    let reorged_tip = consumer.chain.clone();
    anvil.rollback(2).await;
    consumer.assert_quiet(Duration::from_millis(600)).await;
    // Later timestamps: the new blocks 9 and 10 differ from the rolled-back ones.
    anvil.rpc("evm_increaseTime", json!([100])).await;
    anvil.mine(4).await;
    let notification = consumer.next().await;
    let L1Notification::Reorged { old, .. } = &notification else {
        panic!("expected Reorged, got {notification:?}")
    };
    assert_eq!(old.blocks(), &reorged_tip[9..=10]);

    // Following continues on top of the surviving chain.
    consumer.follow_to(12).await;
    consumer.assert_canonical(&anvil, 0).await;
    consumer.stop().await;
}

/// An L1 node whose head is below the followed blocks and agrees with them up to it (syncing, or
/// a load-balanced backend behind the others) is waited for, running or at a restart: taken for
/// a reorg, it unwound finalized L2 blocks whenever such a backend answered (an outsider's
/// finding). A node that has replaced a followed block below its head is a reorg at once.
#[tokio::test]
async fn a_node_behind_the_followed_blocks_is_waited_for_not_taken_for_a_reorg() {
    let anvil = Anvil::start().await;
    anvil.mine(10).await;
    let mut consumer = Consumer::start(anvil.config(), vec![genesis(&anvil).await]).await;
    consumer.follow_to(10).await;
    let followed = consumer.chain.clone();

    // Another node of the same chain that is three blocks behind (a fork of it at block 7
    // that mines nothing): a restart against it waits, and so does one whose stored blocks are
    // all above its head.
    let behind = Anvil::start_with(&[
        "--fork-url",
        &anvil.url,
        "--fork-block-number",
        "7",
        "--no-mining",
    ])
    .await;
    assert_eq!(behind.canonical(7).await, followed[7].hash);
    let known = consumer.known(10);
    consumer.stop().await;
    let mut consumer = Consumer::start(behind.config(), known.clone()).await;
    consumer.assert_quiet(Duration::from_millis(600)).await;
    consumer.stop().await;
    let mut consumer = Consumer::start(behind.config(), consumer_known(&followed, 2)).await;
    consumer.assert_quiet(Duration::from_millis(600)).await;
    consumer.stop().await;

    // Back on a node that is up to date: following resumes with nothing reverted.
    anvil.mine(2).await;
    let mut consumer = Consumer::start(anvil.config(), known).await;
    for notification in consumer.follow_to(12).await {
        assert!(notification.reverted_chain().is_none(), "{notification:?}");
    }
    consumer.assert_canonical(&anvil, 3).await;

    // The running follower waits for the same chain cut short (blocks 10..=12 gone, so the node
    // looks three blocks behind) ...
    anvil.rollback(3).await;
    consumer.assert_quiet(Duration::from_millis(600)).await;

    // ... and takes a replaced block below the head for a reorg at once, while the head is
    // still below the followed tip.
    anvil.rollback(2).await;
    anvil.rpc("evm_increaseTime", json!([100])).await;
    anvil.mine(2).await;
    let notification = consumer.next().await;
    let old = notification
        .reverted_chain()
        .expect("the replaced blocks are reverted");
    assert_eq!(old.first().number, 8);
    assert_eq!(old.tip().number, 12);
    consumer.follow_to(9).await;
    consumer.assert_canonical(&anvil, 3).await;
    consumer.stop().await;
}

/// The newest `count` of `chain`'s blocks, newest first, as a node stores them.
fn consumer_known(chain: &[L1Block], count: usize) -> Vec<BlockNumHash> {
    chain
        .iter()
        .rev()
        .take(count)
        .map(L1Block::num_hash)
        .collect()
}

#[tokio::test]
async fn restart_with_stale_known_reverts_them_first() {
    let anvil = Anvil::start().await;
    anvil.mine(20).await;
    let consumer = {
        let mut consumer = Consumer::start(anvil.config(), vec![genesis(&anvil).await]).await;
        consumer.follow_to(20).await;
        consumer
    };
    let known = consumer.known(10); // blocks 20..=11, newest first
    consumer.stop().await;

    // While the node is down, L1 reorganises 5 deep and grows by 3.
    anvil.reorg(5).await;
    anvil.mine(3).await;
    assert_ne!(
        anvil.canonical(16).await,
        known[4].hash,
        "anvil replaced block 16"
    );

    let mut consumer = Consumer::start(anvil.config(), known.clone()).await;
    let first = consumer.next().await;
    let old = first
        .reverted_chain()
        .expect("stale blocks are reverted first");
    let reverted: Vec<BlockNumHash> = old.blocks().iter().rev().map(L1Block::num_hash).collect();
    assert_eq!(reverted, known[..5], "exactly the stale blocks 20..=16");
    consumer.follow_to(23).await;
    consumer.assert_canonical(&anvil, 11).await;
    consumer.stop().await;
}

#[tokio::test]
async fn refuses_history_that_is_not_on_l1() {
    let anvil = Anvil::start().await;
    anvil.mine(5).await;
    let known = vec![
        BlockNumHash {
            number: 5,
            hash: B256::repeat_byte(1),
        },
        BlockNumHash {
            number: 4,
            hash: B256::repeat_byte(2),
        },
    ];
    let err = L1Follower::new(anvil.config(), known)
        .await
        .expect_err("no known block is canonical");
    assert!(
        matches!(
            err,
            L1Error::ReorgTooDeep {
                count: 2,
                oldest_number: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("deeper than the stored history"));
}

#[tokio::test]
async fn unreachable_l1_is_retried_until_cancelled() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let known = vec![BlockNumHash {
        number: 0,
        hash: B256::repeat_byte(7),
    }];
    let follower = L1Follower::new(config(&url), known)
        .await
        .expect("an unreachable L1 is not fatal");
    let (tx, mut rx) = mpsc::channel(4);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(follower.run(tx, cancel.clone()));

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!task.is_finished(), "the follower keeps retrying");
    assert!(rx.try_recv().is_err(), "nothing is reported");

    cancel.cancel();
    let result = tokio::time::timeout(WAIT, task)
        .await
        .expect("stops on cancel")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
}

/// An HTTP server on a free port that answers request `i` (from 0) with `answer(i)`: a status
/// and a body. Returns its URL.
fn scripted_l1(answer: impl Fn(usize) -> (u16, String) + Send + 'static) -> String {
    scripted_http(move |i, _| answer(i))
}

/// An HTTP server on a free port that answers request `i` (from 0), whose request line is
/// `line` (`GET /path HTTP/1.1`), with `answer(i, line)`: a status and a body. Returns its URL.
fn scripted_http(answer: impl Fn(usize, &str) -> (u16, String) + Send + 'static) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream = stream;
            loop {
                let mut length = 0usize;
                let mut line = String::new();
                let mut request_line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if request_line.is_empty() {
                        request_line = line.trim_end().to_string();
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                }
                if line != "\r\n" {
                    break;
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let (status, answer) = answer(served, &request_line);
                served += 1;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    answer.len()
                );
                if stream.write_all(head.as_bytes()).is_err()
                    || stream.write_all(answer.as_bytes()).is_err()
                {
                    break;
                }
            }
        }
    });
    url
}

/// A provider that rate-limits some calls slows the node down, not stops it: each call is
/// retried. Before, one refused call failed a whole catch-up step of a hundred blocks, and with
/// one call in seven refused the node fell further behind L1 for as long as that lasted.
#[tokio::test]
async fn rate_limited_calls_are_retried() {
    let url = scripted_l1(|i| match i {
        0 => (429, "Too Many Requests".into()),
        1 => (
            200,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"limit exceeded"}}"#.into(),
        ),
        _ => (200, r#"{"jsonrpc":"2.0","id":2,"result":"0x2a"}"#.into()),
    });
    let rpc = L1Rpc::connect(&url).await.unwrap();
    assert_eq!(rpc.head_number().await.unwrap(), 42);
}

/// An answer of tens of megabytes that is not JSON-RPC gets an error of bounded length: every
/// retry logs it, and an outsider's provider answering 400 MB wrote 4 GB of log in a minute.
#[tokio::test]
async fn a_huge_bad_answer_gives_a_short_error() {
    let url = scripted_l1(|_| {
        (
            200,
            format!("{{\"nonsense\":\"{}\"}}", "x".repeat(20 << 20)),
        )
    });
    let rpc = L1Rpc::connect(&url).await.unwrap();
    let err = rpc.head_number().await.unwrap_err().to_string();
    assert!(err.len() < 4_096, "{} bytes", err.len());
    assert!(
        err.contains("not a valid JSON-RPC response"),
        "{}",
        &err[..err.len().min(600)]
    );
}

/// An answer past 128 MiB is not read: an outsider's provider answering 400 MB took a replica
/// to 4.4 GB of memory.
#[tokio::test]
async fn an_answer_past_the_bound_is_not_read() {
    let url = scripted_l1(|_| (200, format!("{{\"result\":\"{}\"}}", "0".repeat(130 << 20))));
    let rpc = L1Rpc::connect(&url).await.unwrap();
    let err = rpc.head_number().await.unwrap_err().to_string();
    assert!(
        err.contains("answered eth_blockNumber with an answer of more than 134217728 bytes"),
        "{err}"
    );
}

/// A beacon URL that answers 404 to everything (no beacon API at all) is not reported as a
/// beacon node that pruned its blobs: the error says to check the URL.
#[tokio::test]
async fn a_beacon_url_that_is_no_beacon_api_is_named() {
    let url = scripted_l1(|_| (404, "not found".into()));
    let err = rollup_l1::BlobSource::new(&url, Address::repeat_byte(0x99))
        .unwrap()
        .fetch(7, B256::repeat_byte(1), 1_000, &[B256::repeat_byte(2)])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("check that --l1-beacon-url is a beacon node's API"),
        "{err}"
    );
}

/// A beacon URL is checked before any blob is needed: one that serves nothing of the kind, or the
/// beacon chain of another L1, is named as such at start instead of at the first blob batch
/// (possibly hours later, as a read that retries for ever).
#[tokio::test]
async fn a_beacon_url_is_checked_against_the_l1() {
    let origin = BlockNumHash::new(7, B256::repeat_byte(1));
    let inbox = Address::repeat_byte(0x99);
    let check = |url: String| async move {
        rollup_l1::BlobSource::new(&url, inbox)
            .unwrap()
            .check(1, origin)
            .await
    };

    let nothing = scripted_l1(|_| (404, "not found".into()));
    let err = check(nothing).await.unwrap_err();
    assert!(matches!(err, L1Error::WrongBeacon { .. }), "{err}");
    assert!(!err.is_temporary());
    assert!(
        err.to_string().contains("it is not a beacon node's API"),
        "{err}"
    );

    let spec = |chain: &'static str| {
        scripted_http(move |_, line| {
            if line.contains("/eth/v1/config/spec") {
                let body = format!(
                    r#"{{"data":{{"SECONDS_PER_SLOT":"12","DEPOSIT_CHAIN_ID":"{chain}"}}}}"#
                );
                (200, body)
            } else if line.contains("/eth/v1/beacon/genesis") {
                (200, r#"{"data":{"genesis_time":"1606824023"}}"#.into())
            } else {
                (404, "not found".into())
            }
        })
    };
    let err = check(spec("11155111")).await.unwrap_err();
    assert!(matches!(err, L1Error::WrongBeacon { .. }), "{err}");
    assert!(
        err.to_string().contains("deposit chain id is 11155111"),
        "{err}"
    );
    check(spec("1")).await.expect("the beacon node of chain 1");
    let numeric = scripted_http(|_, line| {
        if line.contains("/eth/v1/config/spec") {
            (
                200,
                r#"{"data":{"SECONDS_PER_SLOT":"12","DEPOSIT_CHAIN_ID":1}}"#.into(),
            )
        } else {
            (200, r#"{"data":{"genesis_time":"1606824023"}}"#.into())
        }
    });
    check(numeric)
        .await
        .expect("a deposit chain id as a number");
    // No spec, and the blob route answered as no beacon API answers it.
    let no_blobs = scripted_http(|_, line| {
        if line.contains("/eth/v1/config/spec") {
            (404, "not found".into())
        } else {
            (
                405,
                "Used HTTP Method is not allowed. POST is required".into(),
            )
        }
    });
    let err = check(no_blobs).await.unwrap_err();
    assert!(matches!(err, L1Error::WrongBeacon { .. }), "{err}");

    // An execution node's JSON-RPC endpoint answers GET with 405, a web server with a page.
    // The server's body, newline and all, stays on the message's one line.
    for (status, body) in [
        (405, "Used HTTP Method is not allowed. POST is required\n"),
        (200, "<html>hello</html>"),
    ] {
        let err = check(scripted_l1(move |_| (status, body.into())))
            .await
            .unwrap_err();
        assert!(matches!(err, L1Error::WrongBeacon { .. }), "{err}");
        assert!(err.to_string().contains("is no beacon node's API"), "{err}");
        assert!(!err.to_string().contains('\n'), "{err:?}");
    }

    let down = scripted_l1(|_| (503, "starting".into()));
    let err = check(down).await.unwrap_err();
    assert!(err.is_temporary(), "{err}");
}

/// A beacon node that once answers 404 for its chain spec (a proxy in front of it while it
/// restarts) is asked again at the next read, and blocks are then named by slot: the 404 made
/// the source take it for anvil for good, and ask it by execution hash, which a beacon node
/// never answers, until the process restarted.
#[tokio::test]
async fn one_missing_chain_spec_is_not_taken_for_anvil_for_good() {
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = std::sync::Arc::clone(&asked);
    let spec_answers = std::sync::atomic::AtomicUsize::new(0);
    let url = scripted_http(move |_, line| {
        log.lock().unwrap().push(line.to_string());
        if line.contains("/eth/v1/config/spec") {
            if spec_answers.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                (404, "not found".into())
            } else {
                (200, r#"{"data":{"SECONDS_PER_SLOT":"12"}}"#.into())
            }
        } else if line.contains("/eth/v1/beacon/genesis") {
            (200, r#"{"data":{"genesis_time":"1000"}}"#.into())
        } else {
            (200, r#"{"data":[]}"#.into())
        }
    });
    let source = rollup_l1::BlobSource::new(&url, Address::repeat_byte(0x99)).unwrap();
    let wanted = [B256::repeat_byte(2)];
    for _ in 0..3 {
        source
            .fetch(7, B256::repeat_byte(1), 1_120, &wanted)
            .await
            .unwrap_err();
    }
    let blob_reads: Vec<String> = asked
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains("/eth/v1/beacon/blobs/"))
        .cloned()
        .collect();
    assert_eq!(blob_reads.len(), 3, "{blob_reads:?}");
    assert!(
        blob_reads[0].contains(&B256::repeat_byte(1).to_string()),
        "{blob_reads:?}"
    );
    // (1 120 - 1 000) / 12: slot 10, also after the spec is known.
    for later in &blob_reads[1..] {
        assert!(later.contains("/eth/v1/beacon/blobs/10 "), "{blob_reads:?}");
    }
    let specs = asked
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains("/eth/v1/config/spec"))
        .count();
    assert_eq!(
        specs, 2,
        "a beacon node's spec is remembered once it answered"
    );
}

/// anvil serves the blob endpoint itself: it passes the check for its own chain's blocks, and
/// an anvil that is not the rollup's L1 (it does not know the origin block) does not.
#[tokio::test]
async fn anvil_as_its_own_beacon_passes_the_check_for_its_chain_only() {
    let anvil = Anvil::start().await;
    let genesis = anvil
        .rpc("eth_getBlockByNumber", json!(["0x0", false]))
        .await;
    let hash: B256 = serde_json::from_value(genesis["hash"].clone()).unwrap();
    let source = rollup_l1::BlobSource::new(&anvil.url, Address::repeat_byte(0x99)).unwrap();
    source
        .check(31_337, BlockNumHash::new(0, hash))
        .await
        .expect("anvil knows its own genesis");
    let err = source
        .check(31_337, BlockNumHash::new(0, B256::repeat_byte(5)))
        .await
        .unwrap_err();
    assert!(matches!(err, L1Error::WrongBeacon { .. }), "{err}");
}

/// A send from an account without ETH fails naming the account to fund, not with the node's
/// bare "insufficient funds" (an operator could not tell which role's key it was).
#[tokio::test]
async fn a_send_from_an_unfunded_account_names_it() {
    let anvil = Anvil::start().await;
    let signer = alloy_signer_local::PrivateKeySigner::random();
    let account = signer.address();
    let sender = L1Sender::new(&anvil.url, signer, SenderConfig::default()).unwrap();
    let err = sender
        .send_with_value(
            Address::repeat_byte(0x42),
            Default::default(),
            alloy_primitives::U256::from(1u64),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, rollup_l1::L1Error::Unfunded { account: a, .. } if a == account),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("send ETH to {account} on L1")),
        "{err}"
    );
    assert!(
        err.is_temporary(),
        "funding the account later lets it go on"
    );
}

/// The sender waiting on a transaction its L1 will never mine (the L1 died under it) keeps
/// retrying, and stops at once when cancelled: a node shutting down is not held up by L1.
#[tokio::test]
async fn a_send_to_a_dead_l1_stops_when_cancelled() {
    let mut anvil = Anvil::start().await;
    anvil.rpc("evm_setAutomine", json!([false])).await;
    // anvil's dev account 0.
    let signer = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        .parse()
        .unwrap();
    let cancel = CancellationToken::new();
    let sender = L1Sender::new(&anvil.url, signer, SenderConfig::default())
        .unwrap()
        .with_cancel(cancel.clone());
    let send = {
        let sender = sender.clone();
        tokio::spawn(async move {
            sender
                .send(Address::repeat_byte(0x42), Default::default())
                .await
        })
    };
    // The transaction waits in anvil's pool; then the L1 goes away.
    let address = sender.address();
    for _ in 0..200 {
        let pending: Value = anvil
            .rpc("eth_getTransactionCount", json!([address, "pending"]))
            .await;
        if pending != json!("0x0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anvil.child.kill().unwrap();
    anvil.child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !send.is_finished(),
        "the sender keeps waiting for its transaction"
    );

    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(1), send)
        .await
        .expect("the send stops within a second of the cancellation")
        .unwrap();
    assert!(matches!(result, Err(L1Error::Cancelled)), "{result:?}");
    // A cancelled sender starts nothing new.
    let again = sender
        .send(Address::repeat_byte(0x42), Default::default())
        .await;
    assert!(matches!(again, Err(L1Error::Cancelled)), "{again:?}");
    assert!(matches!(sender.head().await, Err(L1Error::Cancelled)));
}

#[tokio::test]
async fn rejects_bad_setup() {
    let err = L1Follower::new(config("ws://127.0.0.1:1"), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, L1Error::InvalidUrl { .. }), "{err}");
    let err = L1Follower::new(config("http://127.0.0.1:1"), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, L1Error::InvalidSetup(_)), "{err}");
}

#[tokio::test]
async fn confirmations_hold_back_the_newest_blocks() {
    let anvil = Anvil::start().await;
    anvil.mine(10).await;
    let config = L1FollowerConfig {
        confirmations: 3,
        ..anvil.config()
    };
    let mut consumer = Consumer::start(config, vec![genesis(&anvil).await]).await;
    consumer.follow_to(7).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        consumer.rx.try_recv().is_err(),
        "blocks 8..=10 are not confirmed yet"
    );
    anvil.mine(2).await;
    consumer.follow_to(9).await;
    consumer.stop().await;
}

/// A JSON-RPC proxy on a free port in front of `upstream` that answers a request itself when
/// `intercept` gives an answer for it (the request's JSON), and passes it on otherwise. Serves
/// each connection on a thread of its own, so concurrent calls do not wait on each other.
fn proxy_l1(
    upstream: &str,
    intercept: impl Fn(&Value) -> Option<Value> + Send + Sync + 'static,
) -> String {
    use std::{
        io::{BufRead, BufReader, Read, Write},
        net::TcpStream,
        sync::Arc,
    };
    let upstream = upstream
        .strip_prefix("http://")
        .expect("an http upstream")
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let intercept = Arc::new(intercept);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (upstream, intercept) = (upstream.clone(), Arc::clone(&intercept));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(value) =
                            line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    if line != "\r\n" {
                        return;
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let request: Value = serde_json::from_slice(&body).unwrap();
                    let answer = match intercept(&request) {
                        Some(answer) => serde_json::to_vec(&answer).unwrap(),
                        None => {
                            let mut forward = TcpStream::connect(&upstream).unwrap();
                            let head = format!(
                                "POST / HTTP/1.1\r\nhost: {upstream}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                body.len()
                            );
                            forward.write_all(head.as_bytes()).unwrap();
                            forward.write_all(&body).unwrap();
                            let mut response = Vec::new();
                            forward.read_to_end(&mut response).unwrap();
                            let split = response
                                .windows(4)
                                .position(|window| window == b"\r\n\r\n")
                                .expect("an HTTP answer");
                            response[split + 4..].to_vec()
                        }
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    );
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(&answer).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// A load balancer that sends some calls to a backend lagging the others answers `null` for a
/// block at or below the head another backend reported. With three block fetches in ten
/// answered so, following stalled: a range of blocks was fetched all or nothing, and a range
/// of fifty had no chance to come whole. Now a block not served is asked for again and the
/// blocks below it are kept, so following goes on, linked and canonical, and still sees a reorg.
#[tokio::test]
async fn blocks_a_lagging_backend_does_not_serve_slow_following_down_not_stop_it() {
    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    };
    let anvil = Anvil::start().await;
    anvil.mine(150).await;
    let (calls, nulls) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let url = proxy_l1(&anvil.url, {
        let (calls, nulls) = (Arc::clone(&calls), Arc::clone(&nulls));
        move |request| {
            let by_number = request["method"] == "eth_getBlockByNumber"
                && request["params"][0]
                    .as_str()
                    .is_some_and(|block| block.starts_with("0x"));
            if !by_number {
                return None;
            }
            // splitmix64 of the call's index: a fixed pseudo-random three in ten.
            let mut x = calls
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(0x9e37_79b9_7f4a_7c15);
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^= x >> 31;
            (x % 10 < 3).then(|| {
                nulls.fetch_add(1, Ordering::Relaxed);
                json!({"jsonrpc": "2.0", "id": request["id"], "result": null})
            })
        }
    });
    let config = L1FollowerConfig {
        max_blocks_per_notification: 50,
        ..config(&url)
    };
    let mut consumer = Consumer::start(config, vec![genesis(&anvil).await]).await;
    for notification in consumer.follow_to(150).await {
        assert!(notification.reverted_chain().is_none(), "{notification:?}");
    }
    consumer.assert_canonical(&anvil, 0).await;
    let (calls, nulls) = (calls.load(Ordering::Relaxed), nulls.load(Ordering::Relaxed));
    assert!(
        nulls * 5 > calls,
        "the proxy answered {nulls} of {calls} block fetches with null"
    );

    // A reorg behind the same proxy is still one, also a deep one: the search for the fork
    // reads a header per replaced block.
    let replaced = anvil.canonical(131).await;
    anvil.rollback(20).await;
    anvil.rpc("evm_increaseTime", json!([100])).await;
    anvil.mine(25).await;
    assert_ne!(
        anvil.canonical(131).await,
        replaced,
        "anvil replaced block 131"
    );
    let notification = consumer.next().await;
    let old = notification
        .reverted_chain()
        .expect("the replaced blocks are reverted");
    assert_eq!((old.first().number, old.tip().number), (131, 150));
    consumer.follow_to(155).await;
    consumer.assert_canonical(&anvil, 100).await;
    consumer.stop().await;
}

/// Sends `input` to `to` with `sidecar`'s blobs through `sender`, mining anvil's blocks on
/// demand until it lands: its successful receipt.
async fn send_blobs_mined(
    anvil: &Anvil,
    sender: &L1Sender,
    to: Address,
    input: Vec<u8>,
    sidecar: alloy_eips::eip7594::BlobTransactionSidecarVariant,
) -> alloy_rpc_types_eth::TransactionReceipt {
    let sent = tokio::spawn({
        let sender = sender.clone();
        async move { sender.send_blobs(to, input.into(), sidecar).await }
    });
    let receipt = loop {
        anvil.mine(1).await;
        if sent.is_finished() {
            break sent.await.unwrap().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(receipt.status());
    receipt
}

/// A blob transaction lands on anvil through the sender (EIP-7594 sidecar), and the blob source
/// reads its blobs back from anvil's beacon API, each checked against its versioned hash; only
/// the inbox's transactions get blobs attached.
#[tokio::test]
async fn blobs_are_sent_and_read_back_from_the_beacon_api() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let sender = L1Sender::new(
        &anvil.url,
        signer,
        SenderConfig {
            resubmit_after: Duration::from_secs(2),
            ..SenderConfig::default()
        },
    )
    .unwrap();
    let inbox = Address::repeat_byte(0x1b);
    let data: Vec<u8> = (0..rollup_primitives::BLOB_DATA_SIZE + 1000)
        .map(|i| (i * 31 + 7) as u8)
        .collect();
    let blobs = rollup_primitives::to_blobs(&data);
    assert_eq!(blobs.len(), 2);
    let sidecar = rollup_l1::sidecar(blobs.clone(), None).unwrap();
    let receipt = send_blobs_mined(&anvil, &sender, inbox, vec![1, 2, 3], sidecar.into()).await;
    let number = receipt.block_number.unwrap();
    let rpc = L1Rpc::connect(&anvil.url).await.unwrap();
    let mut block = rpc.fetch_block(number).await.unwrap().unwrap();
    let tx = block
        .transactions
        .iter()
        .find(|tx| tx.hash == receipt.transaction_hash)
        .unwrap()
        .clone();
    assert_eq!(tx.blob_versioned_hashes.len(), 2);
    assert!(tx.blobs.is_empty());
    // Only a blob batch's blobs are fetched: a transaction to the inbox with blobs but no
    // `BatchAppended` record of them gets none.
    let index = block
        .transactions
        .iter()
        .position(|tx| tx.hash == receipt.transaction_hash)
        .unwrap();
    let mut not_a_batch = block.clone();
    rollup_l1::BlobSource::new(&anvil.url, inbox)
        .unwrap()
        .attach(&mut not_a_batch)
        .await
        .unwrap();
    assert_eq!(not_a_batch, block);
    // What the inbox would have logged for it (the test's "inbox" is an account).
    let event = rollup_primitives::bindings::IBatchInbox::BatchAppended {
        index: U256::ZERO,
        firstBlock: 1,
        blockCount: 1,
        lastOrigin: 0,
        depositCount: 0,
        forced: false,
        dataHash: B256::ZERO,
        segmentRoot: B256::ZERO,
        blocksHash: B256::ZERO,
        blobCount: 2,
        lastBlockOpen: false,
    };
    block.receipts[index].logs.push(alloy_primitives::Log {
        address: inbox,
        data: alloy_sol_types::SolEvent::encode_log_data(&event),
    });

    // Another address's source attaches nothing.
    let mut untouched = block.clone();
    rollup_l1::BlobSource::new(&anvil.url, Address::repeat_byte(0x99))
        .unwrap()
        .attach(&mut untouched)
        .await
        .unwrap();
    assert_eq!(untouched, block);

    // A beacon API that serves more blobs than any block carries is refused before any
    // commitment is computed (hundreds would hold the KZG thread for a minute per retry).
    let blob = format!("\"0x{}\"", alloy_primitives::hex::encode(blobs[0]));
    let blob_json = vec![blob; rollup_l1::MAX_SERVED_BLOBS + 1];
    let body = format!("{{\"data\":[{}]}}", blob_json.join(","));
    let over_serving = scripted_http(move |_, line| {
        if line.contains("/eth/v1/config/spec") {
            (404, "not found".into())
        } else {
            (200, body.clone())
        }
    });
    let err = rollup_l1::BlobSource::new(&over_serving, inbox)
        .unwrap()
        .attach(&mut block.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("served 129 blobs for block"), "{err}");

    let source = rollup_l1::BlobSource::new(&anvil.url, inbox).unwrap();
    source.attach(&mut block).await.unwrap();
    let tx = block
        .transactions
        .iter()
        .find(|tx| tx.hash == receipt.transaction_hash)
        .unwrap();
    assert_eq!(tx.blobs.len(), 2);
    for (blob, hash) in tx.blobs.iter().zip(&tx.blob_versioned_hashes) {
        assert_eq!(rollup_l1::versioned_hash(blob).unwrap(), *hash);
    }
    let read = rollup_primitives::blob_data(&tx.blobs);
    assert_eq!(&read[..data.len()], &data[..]);

    // The dispute agent's way in: the blobs with given versioned hashes, in that order, from
    // the block that carried them (whether or not it logged a batch).
    let wanted: Vec<B256> = tx.blob_versioned_hashes.iter().rev().copied().collect();
    let fetched = source
        .fetch(number, block.hash, block.timestamp, &wanted)
        .await
        .unwrap();
    assert_eq!(fetched, tx.blobs.iter().rev().cloned().collect::<Vec<_>>());
    // A hash the block did not carry is an error naming it.
    let err = source
        .fetch(number, block.hash, block.timestamp, &[B256::repeat_byte(1)])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&B256::repeat_byte(1).to_string()),
        "{err}"
    );

    // A blob that is not the one committed to hashes differently; a non-blob is refused.
    let mut forged = tx.blobs[0].to_vec();
    forged[100] ^= 1;
    assert_ne!(
        rollup_l1::versioned_hash(&forged).unwrap(),
        tx.blob_versioned_hashes[0]
    );
    assert!(rollup_l1::versioned_hash(&forged[1..]).is_err());

    // Blobs this process built come from its own store: a source whose beacon API is down
    // attaches them all the same, and the same blobs.
    let mut unattached = block.clone();
    unattached.transactions[index].blobs.clear();
    let dead_beacon = "http://127.0.0.1:9";
    let known = rollup_l1::KnownBlobs::default();
    rollup_l1::sidecar(blobs.clone(), Some(&known)).unwrap();
    assert_eq!(known.len(), 2);
    let mut from_known = unattached.clone();
    rollup_l1::BlobSource::new(dead_beacon, inbox)
        .unwrap()
        .with_known(known.clone())
        .attach(&mut from_known)
        .await
        .unwrap();
    assert_eq!(from_known, block);
    let fetched = rollup_l1::BlobSource::new(dead_beacon, inbox)
        .unwrap()
        .with_known(known.clone())
        .fetch(number, block.hash, block.timestamp, &wanted)
        .await
        .unwrap();
    assert_eq!(fetched, tx.blobs.iter().rev().cloned().collect::<Vec<_>>());
    // One blob of the transaction unknown: the beacon API is asked, and here it is down.
    let half = rollup_l1::KnownBlobs::default();
    rollup_l1::sidecar(blobs[..1].to_vec(), Some(&half)).unwrap();
    let mut partly = unattached.clone();
    let err = rollup_l1::BlobSource::new(dead_beacon, inbox)
        .unwrap()
        .with_known(half)
        .attach(&mut partly)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
}

/// The batcher's sidecar follows L1's fork: a Prague L1 (no `P256VERIFY` in its `eth_config`)
/// gets EIP-4844 blob proofs, an Osaka one (anvil's default) cell proofs; the EIP-4844 form
/// lands on the Prague L1 and its blobs read back.
#[tokio::test]
async fn blob_sidecars_follow_the_l1_fork() {
    let key = DEV_KEY_1;
    let sender_of = |url: &str| {
        L1Sender::new(
            url,
            key.parse::<alloy_signer_local::PrivateKeySigner>().unwrap(),
            SenderConfig {
                resubmit_after: Duration::from_secs(2),
                ..SenderConfig::default()
            },
        )
        .unwrap()
    };
    let osaka = Anvil::start().await;
    assert_eq!(
        sender_of(&osaka.url).sidecar_format().await,
        rollup_l1::SidecarFormat::Eip7594
    );
    let prague = Anvil::start_with(&["--hardfork", "prague"]).await;
    let sender = sender_of(&prague.url);
    let format = sender.sidecar_format().await;
    assert_eq!(format, rollup_l1::SidecarFormat::Eip4844);
    let blobs = rollup_primitives::to_blobs(&[1, 2, 3]);
    let sidecar = rollup_l1::sidecar_in(blobs.clone(), None, format).unwrap();
    assert!(matches!(
        sidecar,
        alloy_eips::eip7594::BlobTransactionSidecarVariant::Eip4844(_)
    ));
    let receipt = send_blobs_mined(
        &prague,
        &sender,
        Address::repeat_byte(0x1b),
        vec![1],
        sidecar,
    )
    .await;
    let rpc = L1Rpc::connect(&prague.url).await.unwrap();
    let block = rpc
        .fetch_block(receipt.block_number.unwrap())
        .await
        .unwrap()
        .unwrap();
    let tx = block
        .transactions
        .iter()
        .find(|tx| tx.hash == receipt.transaction_hash)
        .unwrap();
    assert_eq!(
        tx.blob_versioned_hashes,
        [rollup_l1::versioned_hash(blobs[0].as_slice()).unwrap()]
    );
}

/// Several transactions go out at once, at consecutive nonces, and land in the same L1 block
/// (one at a time they took a block each: the dispute agent fell behind a flood of games); one
/// the balance cannot pay for after the ones before it takes no nonce and leaves no gap the
/// others would wait behind (a pool may park it instead of refusing it).
#[tokio::test]
async fn many_transactions_are_sent_at_once() {
    let anvil = Anvil::start_with(&["--block-time", "2"]).await;
    // anvil's first dev account.
    let signer: alloy_signer_local::PrivateKeySigner =
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
            .parse()
            .unwrap();
    let balance = anvil.provider.get_balance(signer.address()).await.unwrap();
    let sender = L1Sender::new(&anvil.url, signer, SenderConfig::default()).unwrap();
    let one = alloy_primitives::U256::from(1u64);
    let mut txs: Vec<_> = (1..=5u8)
        .map(|i| (Address::repeat_byte(i), alloy_primitives::Bytes::new(), one))
        .collect();
    // Payable alone (its estimate passes), not after the two before it.
    txs.insert(
        2,
        (
            Address::repeat_byte(9),
            Default::default(),
            balance - U256::from(1_000_000_000_000_u64),
        ),
    );
    let results = sender.send_many(txs).await;
    assert_eq!(results.len(), 6);
    assert!(
        matches!(results[2], Err(L1Error::Unfunded { .. })),
        "{:?}",
        results[2]
    );
    let mut blocks = std::collections::BTreeSet::new();
    let mut nonces = Vec::new();
    for (i, result) in results.iter().enumerate() {
        if i == 2 {
            continue;
        }
        let receipt = result
            .as_ref()
            .unwrap_or_else(|err| panic!("tx {i}: {err}"));
        assert!(receipt.status(), "tx {i} reverted");
        blocks.insert(receipt.block_number.unwrap());
        nonces.push(nonce_of(&anvil.provider, receipt.transaction_hash).await);
    }
    assert_eq!(
        nonces,
        vec![0, 1, 2, 3, 4],
        "consecutive, the failed one took none"
    );
    assert!(
        blocks.len() <= 2,
        "landed in {blocks:?}: not one block each"
    );
}

/// A transaction of ours left waiting at the mined nonce (an earlier call's, at fees the L1
/// has not mined yet) does not block the next call: its first transaction takes the nonce over
/// with higher fees, and the rest follow at the next nonces (without this, every one was
/// refused as underpriced, every round, and the dispute agent could not move).
#[tokio::test]
async fn a_transaction_left_at_the_nonce_is_replaced() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let sender = L1Sender::new(&anvil.url, signer, SenderConfig::default()).unwrap();
    let rpc = |method: &'static str, params: Value| {
        let provider = anvil.provider.clone();
        async move {
            provider
                .raw_request::<_, Value>(method.into(), params)
                .await
                .unwrap()
        }
    };
    rpc("evm_setAutomine", json!([false])).await;
    let mut leftover = sender
        .prepare(Address::repeat_byte(7), Default::default(), None, None)
        .await
        .unwrap();
    for _ in 0..3 {
        leftover.bump();
    }
    let left = sender.submit(&leftover, 0).await.unwrap();
    // Mine from here on, once the call below has sent.
    let provider = anvil.provider.clone();
    let miner = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let _ = provider
                .raw_request::<_, Value>("evm_mine".into(), json!([]))
                .await;
        }
    });
    let one = U256::from(1u64);
    let results = sender
        .send_many(vec![
            (Address::repeat_byte(1), Default::default(), one),
            (Address::repeat_byte(2), Default::default(), one),
        ])
        .await;
    miner.abort();
    let mut nonces = Vec::new();
    for (i, result) in results.iter().enumerate() {
        let receipt = result
            .as_ref()
            .unwrap_or_else(|err| panic!("tx {i}: {err}"));
        assert!(receipt.status());
        nonces.push(nonce_of(&anvil.provider, receipt.transaction_hash).await);
    }
    assert_eq!(nonces, vec![0, 1]);
    assert!(
        anvil
            .provider
            .get_transaction_receipt(left)
            .await
            .unwrap()
            .is_none(),
        "the leftover was replaced"
    );
}

/// The nonce of L1 transaction `hash`.
async fn nonce_of(provider: &RootProvider, hash: B256) -> u64 {
    let tx = provider
        .get_transaction_by_hash(hash)
        .await
        .unwrap()
        .unwrap();
    alloy_consensus::Transaction::nonce(&tx)
}

/// A resubmission prices itself at L1's fees then, not only 15% above its last price: after
/// the base fee jumped twentyfold, six bumps never reached it (a dispute move missed its
/// clock that way).
#[tokio::test]
async fn a_resubmission_meets_a_base_fee_that_jumped() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let config = SenderConfig {
        resubmit_after: Duration::from_millis(800),
        ..SenderConfig::default()
    };
    let sender = L1Sender::new(&anvil.url, signer, config).unwrap();
    anvil
        .provider
        .raw_request::<_, Value>("evm_setAutomine".into(), json!([false]))
        .await
        .unwrap();
    let base_fee = anvil
        .provider
        .get_block_by_number(alloy_eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .base_fee_per_gas
        .unwrap();
    // Blocks every 300 ms at twenty times the base fee the transaction is first priced at.
    let provider = anvil.provider.clone();
    let miner = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = provider
                .raw_request::<_, Value>(
                    "anvil_setNextBlockBaseFeePerGas".into(),
                    json!([format!("{:#x}", base_fee * 20)]),
                )
                .await;
            let _ = provider
                .raw_request::<_, Value>("evm_mine".into(), json!([]))
                .await;
        }
    });
    let results = sender
        .send_many(vec![(
            Address::repeat_byte(1),
            Default::default(),
            U256::from(1u64),
        )])
        .await;
    miner.abort();
    let receipt = results[0]
        .as_ref()
        .unwrap_or_else(|err| panic!("not mined: {err}"));
    assert!(receipt.status());
}

/// Every transaction mined on `anvil` from `from` to `to`, by scanning its blocks.
async fn mined_to(anvil: &Anvil, from: Address, to: Address) -> Vec<B256> {
    let mut found = Vec::new();
    for number in 0..=anvil.head().await {
        let block = anvil
            .provider
            .get_block_by_number(number.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.txns() {
            if tx.inner.signer() == from && alloy_consensus::Transaction::to(tx) == Some(to) {
                found.push(*tx.inner.tx_hash());
            }
        }
    }
    found
}

/// Mines a block every 300 ms until aborted.
fn keep_mining(anvil: &Anvil) -> JoinHandle<()> {
    let provider = anvil.provider.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = provider
                .raw_request::<_, Value>("evm_mine".into(), json!([]))
                .await;
        }
    })
}

/// Sends one transaction with `sender` and mines it; then stops automatic mining, so that the
/// next transactions wait in the pool.
async fn one_mined_then_hold(anvil: &Anvil, sender: &L1Sender) {
    let receipt = sender
        .send(Address::repeat_byte(0xaa), Default::default())
        .await
        .unwrap();
    assert_eq!(nonce_of(&anvil.provider, receipt.transaction_hash).await, 0);
    anvil.rpc("evm_setAutomine", json!([false])).await;
}

/// Waits until `account`'s pending nonce reaches `nonce` (its transactions are in the pool).
async fn pooled_until(anvil: &Anvil, account: Address, nonce: u64) {
    for _ in 0..100 {
        if anvil
            .provider
            .get_transaction_count(account)
            .pending()
            .await
            .unwrap()
            >= nonce
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{account}'s transactions did not reach the pool");
}

/// An L1 reorg that takes out an earlier transaction of ours leaves the one `send` waits on
/// behind a nonce gap: the gap is filled and ours is mined once, at its own nonce. (It was
/// re-signed at the lower nonce instead, and its first copy, left pending above, ran a second
/// time once that was mined: a bond deposited twice.)
#[tokio::test]
async fn a_send_behind_a_gap_a_reorg_opened_is_mined_once() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let account = signer.address();
    let config = SenderConfig {
        resubmit_after: Duration::from_millis(1500),
        ..SenderConfig::default()
    };
    let sender = L1Sender::new(&anvil.url, signer, config).unwrap();
    one_mined_then_hold(&anvil, &sender).await;
    let target = Address::repeat_byte(0xbb);
    let waiting = {
        let sender = sender.clone();
        tokio::spawn(async move { sender.send(target, Default::default()).await })
    };
    pooled_until(&anvil, account, 2).await;
    // The block with the transaction at nonce 0 is replaced by an empty one.
    anvil.reorg(1).await;
    assert_eq!(
        anvil.provider.get_transaction_count(account).await.unwrap(),
        0
    );
    // Long enough for resubmissions, which used to move the transaction down.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let miner = keep_mining(&anvil);
    let receipt = waiting.await.unwrap().unwrap();
    assert_eq!(nonce_of(&anvil.provider, receipt.transaction_hash).await, 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    miner.abort();
    assert_eq!(
        mined_to(&anvil, account, target).await,
        vec![receipt.transaction_hash],
        "mined once"
    );
    // Nonce 0 holds the empty transaction to ourselves that filled the gap.
    assert_eq!(mined_to(&anvil, account, account).await.len(), 1);
}

/// The same gap below a group of `send_many`: filled, and each of the group is mined once at
/// its nonce (the group used to be given up at once, its transactions left pending, and the
/// caller's next round sent them again at the lower nonces).
#[tokio::test]
async fn a_group_behind_a_gap_a_reorg_opened_is_mined_once() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let account = signer.address();
    let sender = L1Sender::new(&anvil.url, signer, SenderConfig::default()).unwrap();
    one_mined_then_hold(&anvil, &sender).await;
    let targets = [Address::repeat_byte(0xb1), Address::repeat_byte(0xb2)];
    let waiting = {
        let sender = sender.clone();
        tokio::spawn(async move {
            sender
                .send_many(
                    targets
                        .iter()
                        .map(|to| (*to, Default::default(), U256::from(1u64)))
                        .collect(),
                )
                .await
        })
    };
    pooled_until(&anvil, account, 3).await;
    anvil.reorg(1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let miner = keep_mining(&anvil);
    let results = waiting.await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    miner.abort();
    for (i, (result, target)) in results.iter().zip(targets).enumerate() {
        let receipt = result
            .as_ref()
            .unwrap_or_else(|err| panic!("tx {i}: {err}"));
        assert_eq!(
            nonce_of(&anvil.provider, receipt.transaction_hash).await,
            i as u64 + 1
        );
        assert_eq!(
            mined_to(&anvil, account, target).await,
            vec![receipt.transaction_hash]
        );
    }
}

/// A group `send_many` gives up on (not mined in its attempts) is replaced by empty
/// transactions, so none of it is mined after the caller decided again (a second challenge
/// and its bond, when the next round sent fewer than were left).
#[tokio::test]
async fn a_group_given_up_is_not_mined_later() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let account = signer.address();
    let config = SenderConfig {
        resubmit_after: Duration::from_millis(500),
        max_attempts: 2,
        ..SenderConfig::default()
    };
    let sender = L1Sender::new(&anvil.url, signer, config).unwrap();
    anvil.rpc("evm_setAutomine", json!([false])).await;
    let targets = [Address::repeat_byte(0xc1), Address::repeat_byte(0xc2)];
    let results = sender
        .send_many(
            targets
                .iter()
                .map(|to| (*to, Default::default(), U256::from(1u64)))
                .collect(),
        )
        .await;
    for result in &results {
        assert!(
            matches!(result, Err(L1Error::NotMined { .. })),
            "{result:?}"
        );
    }
    anvil.mine(3).await;
    assert_eq!(
        anvil.provider.get_transaction_count(account).await.unwrap(),
        2
    );
    for target in targets {
        assert!(mined_to(&anvil, account, target).await.is_empty());
    }
    assert_eq!(mined_to(&anvil, account, account).await.len(), 2);
}

/// Transactions of ours left waiting in the pool (a killed process's, one given up) are
/// replaced by empty ones on request, so none of them runs after the caller decided again: a
/// challenge left so, mined while the dispute agent decided to challenge again, made a second
/// game and bond.
#[tokio::test]
async fn leftovers_in_the_pool_are_replaced_by_empty_transactions() {
    let anvil = Anvil::start().await;
    let signer: alloy_signer_local::PrivateKeySigner = DEV_KEY_1.parse().unwrap();
    let account = signer.address();
    let sender = L1Sender::new(&anvil.url, signer, SenderConfig::default()).unwrap();
    anvil.rpc("evm_setAutomine", json!([false])).await;
    assert_eq!(sender.cancel_leftovers().await.unwrap(), None);
    let stale = [0xd0, 0xd1, 0xd2].map(Address::repeat_byte);
    for (nonce, to) in stale.iter().enumerate() {
        let leftover = sender
            .prepare(*to, Default::default(), None, None)
            .await
            .unwrap();
        sender.submit(&leftover, nonce as u64).await.unwrap();
    }
    assert_eq!(sender.pending_nonce().await.unwrap(), 3);
    assert_eq!(sender.cancel_leftovers().await.unwrap(), Some(0..3));
    anvil.mine(2).await;
    assert_eq!(
        anvil.provider.get_transaction_count(account).await.unwrap(),
        3
    );
    for to in stale {
        assert!(mined_to(&anvil, account, to).await.is_empty(), "{to} ran");
    }
    assert_eq!(mined_to(&anvil, account, account).await.len(), 3);
    assert_eq!(sender.cancel_leftovers().await.unwrap(), None);
}
