//! Live data over real sockets: `eth_subscribe` over WebSocket (a jsonrpsee client) and the
//! filter API over HTTP, fed by blocks appended to real MDBX, a reorg included.

use std::time::Duration;

use jsonrpsee::core::{
    client::{ClientT, Subscription, SubscriptionClientT},
    params::ArrayParams,
};
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};

use super::*;

const WAIT: Duration = Duration::from_secs(20);

fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        params.insert(value).unwrap();
    }
    params
}

/// Parameters sent as given, an object or an array.
struct RawParams(Value);

impl jsonrpsee::core::traits::ToRpcParams for RawParams {
    fn to_rpc_params(self) -> Result<Option<Box<serde_json::value::RawValue>>, serde_json::Error> {
        serde_json::value::to_raw_value(&self.0).map(Some)
    }
}

async fn ws(addr: SocketAddr) -> WsClient {
    WsClientBuilder::default()
        .build(format!("ws://{addr}"))
        .await
        .unwrap()
}

async fn subscribe(client: &WsClient, args: Vec<Value>) -> Subscription<Value> {
    client
        .subscribe("eth_subscribe", params(args), "eth_unsubscribe")
        .await
        .unwrap()
}

/// The next notification, or a panic naming `what` after [`WAIT`].
async fn next(subscription: &mut Subscription<Value>, what: &str) -> Value {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
        .unwrap_or_else(|| panic!("{what}: subscription closed"))
        .unwrap()
}

/// The JSON-RPC error code of a failed call.
fn code(err: &jsonrpsee::core::ClientError) -> i32 {
    match err {
        jsonrpsee::core::ClientError::Call(object) => object.code(),
        other => panic!("not a JSON-RPC error: {other}"),
    }
}

/// Nothing arrives for a while.
async fn quiet(subscription: &mut Subscription<Value>, what: &str) {
    if let Ok(Some(value)) =
        tokio::time::timeout(Duration::from_millis(300), subscription.next()).await
    {
        panic!("unexpected {what}: {value:?}");
    }
}

impl Fixture {
    /// Publishes the stored head as the node does after storing a block.
    fn publish_head(&self) {
        let reader = self.store.reader().unwrap();
        let number = reader.l2_head().unwrap().unwrap();
        let hash = reader.block_hash(number).unwrap().unwrap();
        self._heads
            .send_modify(|heads| heads.unsafe_l2 = BlockNumHash { number, hash });
    }

    /// Removes blocks above `number`, as an L1 reorg or derivation replacing unsafe blocks does.
    fn unwind_to(&self, number: u64) {
        let mut writer = self.store.writer().unwrap();
        writer.unwind_l2_to(number).unwrap();
        writer.commit().unwrap();
    }
}

/// Polls `eth_getFilterChanges` until it returns `count` items (they may come in several polls).
async fn filter_changes(addr: SocketAddr, id: &Value, count: usize) -> Vec<Value> {
    let start = std::time::Instant::now();
    let mut seen = Vec::new();
    while seen.len() < count {
        let changes = result(addr, "eth_getFilterChanges", json!([id])).await;
        seen.extend(changes.as_array().unwrap().iter().cloned());
        assert!(
            start.elapsed() < WAIT,
            "filter {id} returned {seen:?}, expected {count} changes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.len(), count, "{seen:?}");
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_and_filters_follow_new_blocks_and_report_reorged_logs_removed() {
    let f = fixture().await;
    let config = config();
    let client = ws(f.addr).await;
    let mut heads = subscribe(&client, vec![json!("newHeads")]).await;
    let mut logs = subscribe(&client, vec![json!("logs"), json!({"address": EMITS_LOG})]).await;
    // Ids as geth makes them: hex quantities.
    match heads.kind() {
        jsonrpsee::core::client::SubscriptionKind::Subscription(
            jsonrpsee::types::SubscriptionId::Str(id),
        ) => assert!(
            id.starts_with("0x") && u128::from_str_radix(&id[2..], 16).is_ok(),
            "{id}"
        ),
        other => panic!("subscription id {other:?}"),
    }
    let mut other_logs = subscribe(
        &client,
        vec![json!("logs"), json!({"topics": [B256::ZERO]})],
    )
    .await;
    let block_filter = result(f.addr, "eth_newBlockFilter", json!([])).await;
    let log_filter = result(
        f.addr,
        "eth_newFilter",
        json!([{"address": EMITS_LOG, "topics": [TOPIC]}]),
    )
    .await;
    assert!(
        block_filter.as_str().unwrap().starts_with("0x"),
        "{block_filter}"
    );
    assert_ne!(block_filter, log_filter);
    assert_eq!(
        result(f.addr, "eth_getFilterChanges", json!([block_filter])).await,
        json!([]),
        "nothing new yet"
    );

    // Block 3 calls the logging contract.
    let deposit3 = deposit(3, ETHER, EMITS_LOG, U256::ZERO);
    let hash3 = append(&f.store, &config, 13, vec![deposit3.clone()]);
    f.publish_head();
    let head = next(&mut heads, "head of block 3").await;
    assert_eq!(head["number"], json!("0x3"));
    assert_eq!(head["hash"], json!(hash3));
    assert_eq!(head["parentHash"], json!(f.hashes[2]));
    assert_eq!(head["l1Origin"]["number"], json!("0xd"), "{head}");
    assert!(head.get("transactions").is_none(), "a header, not a block");
    let block = result(f.addr, "eth_getBlockByNumber", json!(["0x3", false])).await;
    for field in [
        "hash",
        "parentHash",
        "stateRoot",
        "receiptsRoot",
        "logsBloom",
        "gasUsed",
        "timestamp",
        "baseFeePerGas",
        "extraData",
    ] {
        assert_eq!(head[field], block[field], "{field} differs from the block");
    }
    let log = next(&mut logs, "log of block 3").await;
    assert_eq!(log["address"], json!(EMITS_LOG));
    assert_eq!(log["topics"], json!([TOPIC]));
    assert_eq!(log["blockHash"], json!(hash3));
    assert_eq!(log["blockNumber"], json!("0x3"));
    assert_eq!(log["transactionHash"], json!(deposit3.hash()));
    assert_eq!(log["logIndex"], json!("0x0"));
    assert_eq!(log["removed"], json!(false));
    assert_eq!(
        filter_changes(f.addr, &block_filter, 1).await,
        vec![json!(hash3)]
    );
    let filtered = filter_changes(f.addr, &log_filter, 1).await;
    assert_eq!(filtered[0], log, "filters report what subscriptions do");

    // A reorg replaces block 3 with 3' (no log) and adds 4' (a log).
    f.unwind_to(2);
    let hash3b = append(
        &f.store,
        &config,
        14,
        vec![deposit(4, ETHER, RECIPIENT, U256::ZERO)],
    );
    let deposit4 = deposit(5, ETHER, EMITS_LOG, U256::ZERO);
    let hash4b = append(&f.store, &config, 14, vec![deposit4.clone()]);
    f.publish_head();
    let head = next(&mut heads, "head of block 3'").await;
    assert_eq!(
        (head["number"].clone(), head["hash"].clone()),
        (json!("0x3"), json!(hash3b))
    );
    let head = next(&mut heads, "head of block 4'").await;
    assert_eq!(
        (head["number"].clone(), head["hash"].clone()),
        (json!("0x4"), json!(hash4b))
    );
    let removed = next(&mut logs, "removed log of block 3").await;
    let mut expected_removed = log.clone();
    expected_removed["removed"] = json!(true);
    assert_eq!(removed, expected_removed, "the same log, marked removed");
    let added = next(&mut logs, "log of block 4'").await;
    assert_eq!(added["blockHash"], json!(hash4b));
    assert_eq!(added["transactionHash"], json!(deposit4.hash()));
    assert_eq!(added["removed"], json!(false));
    assert_eq!(
        filter_changes(f.addr, &block_filter, 2).await,
        vec![json!(hash3b), json!(hash4b)]
    );
    assert_eq!(
        filter_changes(f.addr, &log_filter, 2).await,
        vec![expected_removed, added]
    );
    quiet(&mut other_logs, "log for a topic nobody emitted").await;

    // eth_getFilterLogs runs the filter's criteria like eth_getLogs, with its range limit.
    let all_logs = result(f.addr, "eth_getFilterLogs", json!([log_filter])).await;
    assert_eq!(
        all_logs.as_array().unwrap().len(),
        1,
        "blocks 3' and 4' (the range ends at latest): {all_logs}"
    );
    let wide = result(
        f.addr,
        "eth_newFilter",
        json!([{"fromBlock": "0x0", "address": EMITS_LOG}]),
    )
    .await;
    let too_wide = error(f.addr, "eth_getFilterLogs", json!([wide])).await;
    assert_eq!(too_wide["code"], json!(-32005), "{too_wide}");
    let not_logs = error(f.addr, "eth_getFilterLogs", json!([block_filter])).await;
    assert_eq!(not_logs["code"], json!(-32000));
    assert_eq!(not_logs["message"], json!("filter not found"));

    // Unsubscribing ends the feed; uninstalling ends the filter, as geth answers.
    heads.unsubscribe().await.unwrap();
    let unknown: bool = client
        .request("eth_unsubscribe", params(vec![json!("0x1234")]))
        .await
        .unwrap();
    assert!(!unknown, "an id this connection does not hold");
    // Anything but one subscription id is refused as geth refuses it, without the server
    // library's WARN line that carried the whole parameters into the log.
    for bad in [
        json!([]),
        json!([5]),
        json!(["0x1234", "0x5678"]),
        json!({"a": "x".repeat(100_000)}),
        json!(["0x".to_string() + &"ab".repeat(1_000)]),
    ] {
        let err = client
            .request::<bool, _>("eth_unsubscribe", RawParams(bad.clone()))
            .await
            .unwrap_err();
        assert_eq!(code(&err), -32602, "{bad}: {err}");
    }
    assert_eq!(
        result(f.addr, "eth_uninstallFilter", json!([block_filter])).await,
        json!(true)
    );
    assert_eq!(
        result(f.addr, "eth_uninstallFilter", json!([block_filter])).await,
        json!(false)
    );
    let gone = error(f.addr, "eth_getFilterChanges", json!([block_filter])).await;
    assert_eq!(
        (gone["code"].clone(), gone["message"].clone()),
        (json!(-32000), json!("filter not found"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_transactions_reach_subscribers_and_filters() {
    let f = fixture().await;
    let client = ws(f.addr).await;
    let mut hashes = subscribe(&client, vec![json!("newPendingTransactions")]).await;
    let mut full = subscribe(&client, vec![json!("newPendingTransactions"), json!(true)]).await;
    let filter = result(f.addr, "eth_newPendingTransactionFilter", json!([])).await;

    let raw = signed_raw(CHAIN_ID, 1, 100_000_000_000, 21_000, vec![]);
    let sent = result(f.addr, "eth_sendRawTransaction", json!([raw])).await;
    assert_eq!(next(&mut hashes, "pending hash").await, sent);
    let tx = next(&mut full, "pending transaction").await;
    assert_eq!(tx["hash"], sent);
    assert_eq!(tx["from"], json!(signer().address()));
    assert_eq!(tx["nonce"], json!("0x1"));
    assert_eq!(tx["blockHash"], Value::Null);
    assert_eq!(filter_changes(f.addr, &filter, 1).await, vec![sent.clone()]);
    // Looked up by hash while pooled (behind a nonce gap here): the same transaction, no
    // block fields, as geth answers, so a wallet can follow and replace what it sent.
    let by_hash = result(f.addr, "eth_getTransactionByHash", json!([sent])).await;
    assert_eq!(by_hash, tx);
    // Its bytes, as sent (`cast tx --raw`).
    assert_eq!(
        result(f.addr, "eth_getRawTransactionByHash", json!([sent])).await,
        json!(raw)
    );
    assert_eq!(
        (
            by_hash["blockNumber"].clone(),
            by_hash["transactionIndex"].clone()
        ),
        (Value::Null, Value::Null)
    );

    // A refused transaction is not announced.
    error(f.addr, "eth_sendRawTransaction", json!([raw])).await;
    quiet(&mut hashes, "announcement of a refused transaction").await;
    assert_eq!(
        result(f.addr, "eth_getFilterChanges", json!([filter])).await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn subscription_and_filter_limits_and_errors() {
    let f = fixture_with(FixtureOptions {
        server: RpcServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_block_range: MAX_BLOCK_RANGE,
            max_connections: 16,
            max_subscriptions_per_connection: 2,
            max_filters: 2,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;

    // Per WebSocket connection: the third subscription is refused; another connection has its
    // own allowance.
    let client = ws(f.addr).await;
    let _first = subscribe(&client, vec![json!("newHeads")]).await;
    let _second = subscribe(&client, vec![json!("logs")]).await;
    let refused = client
        .subscribe::<Value, _>(
            "eth_subscribe",
            params(vec![json!("newHeads")]),
            "eth_unsubscribe",
        )
        .await
        .unwrap_err();
    assert_eq!(code(&refused), -32006, "{refused}");
    let other = ws(f.addr).await;
    let _third = subscribe(&other, vec![json!("newHeads")]).await;

    // Bad kinds and parameters are refused before anything is sent (on a connection with room:
    // a refused subscription frees its place only just after its answer).
    let fresh = ws(f.addr).await;
    for bad in [
        vec![json!("syncing")],
        vec![json!("nonsense")],
        vec![json!("logs"), json!({"address": "0x12"})],
        // A range that ends before it starts never matches (geth refuses it too).
        vec![json!("logs"), json!({"fromBlock": "0x2", "toBlock": "0x1"})],
        vec![json!("newPendingTransactions"), json!("yes")],
    ] {
        let err = fresh
            .subscribe::<Value, _>("eth_subscribe", params(bad.clone()), "eth_unsubscribe")
            .await
            .unwrap_err();
        assert_eq!(code(&err), -32602, "{bad:?}: {err}");
    }
    // Over HTTP there is no connection to notify: geth's answer, alone or in a batch, where the
    // other calls still get theirs.
    for (method, params) in [
        ("eth_subscribe", json!(["newHeads"])),
        ("eth_unsubscribe", json!(["0x1234"])),
    ] {
        let refused = error(f.addr, method, params).await;
        assert_eq!(refused["code"], json!(-32601), "{method}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .starts_with("notifications not supported"),
            "{refused}"
        );
    }
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_chainId", "params": []},
    ]);
    let (_, body) = http_post(f.addr, &batch.to_string()).await;
    let answers: Vec<Value> = serde_json::from_str(&body).unwrap();
    let by_id = |id: u64| answers.iter().find(|a| a["id"] == json!(id)).unwrap();
    assert_eq!(by_id(1)["error"]["code"], json!(-32601), "{body}");
    assert!(by_id(2)["result"].is_string(), "{body}");

    // Filters: a global cap, then room again once one is uninstalled.
    let a = result(f.addr, "eth_newBlockFilter", json!([])).await;
    let _b = result(f.addr, "eth_newPendingTransactionFilter", json!([])).await;
    let full = error(f.addr, "eth_newFilter", json!([{}])).await;
    assert_eq!(full["code"], json!(-32005), "{full}");
    assert!(
        full["message"]
            .as_str()
            .unwrap()
            .contains("too many installed filters (at most 2)"),
        "{full}"
    );
    assert_eq!(
        result(f.addr, "eth_uninstallFilter", json!([a])).await,
        json!(true)
    );
    result(f.addr, "eth_newFilter", json!([{"address": EMITS_LOG}])).await;

    let unknown = error(f.addr, "eth_getFilterChanges", json!(["0x1234"])).await;
    assert_eq!(
        (unknown["code"].clone(), unknown["message"].clone()),
        (json!(-32000), json!("filter not found"))
    );
    let malformed = error(f.addr, "eth_getFilterChanges", json!(["not a filter"])).await;
    assert_eq!(malformed["code"], json!(-32602));
    let reversed = error(
        f.addr,
        "eth_newFilter",
        json!([{"fromBlock": "0x2", "toBlock": "0x1"}]),
    )
    .await;
    assert_eq!(reversed["code"], json!(-32602));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_polled_too_rarely_is_dropped_with_an_error() {
    let f = fixture().await;
    let config = config();
    let filter = result(f.addr, "eth_newBlockFilter", json!([])).await;
    let client = ws(f.addr).await;
    let mut heads = subscribe(&client, vec![json!("newHeads")]).await;
    // One more block than the live feeds buffer, published one by one as the node does.
    let blocks = rollup_rpc::CHAIN_EVENT_BUFFER + 1;
    let mut last = B256::ZERO;
    for _ in 0..blocks {
        last = append(&f.store, &config, 12, Vec::new());
        f.publish_head();
    }
    // A subscriber that keeps reading keeps up.
    let mut seen = 0;
    while seen < blocks {
        let head = next(&mut heads, "head").await;
        seen += 1;
        if seen == blocks {
            assert_eq!(head["hash"], json!(last));
        }
    }
    let lagged = error(f.addr, "eth_getFilterChanges", json!([filter])).await;
    assert_eq!(lagged["code"], json!(-32000), "{lagged}");
    assert!(
        lagged["message"]
            .as_str()
            .unwrap()
            .starts_with("filter fell behind"),
        "{lagged}"
    );
    let gone = error(f.addr, "eth_getFilterChanges", json!([filter])).await;
    assert_eq!(gone["message"], json!("filter not found"));
}

/// A reorg deeper than the window of blocks kept whole (an expired sequencing window can
/// replace hundreds of unsafe blocks): every block of the new chain after the fork is reported,
/// from the fork on, even while the new chain is still shorter than the old one. Before, the
/// feeds stalled until the new chain passed the window's old bottom and skipped the blocks
/// below it.
#[tokio::test]
async fn a_reorg_deeper_than_the_window_reports_the_new_chain_from_its_fork() {
    let f = fixture().await;
    let config = config();
    let client = ws(f.addr).await;
    let mut heads = subscribe(&client, vec![json!("newHeads")]).await;
    let old = rollup_rpc::REORG_WINDOW as u64 + 20;
    for _ in 0..old {
        append(&f.store, &config, 13, Vec::new());
    }
    f.publish_head();
    for number in 3..3 + old {
        let head = next(&mut heads, "a head of the old chain").await;
        assert_eq!(head["number"], json!(format!("{number:#x}")));
    }
    // Every block above 2 is replaced by a shorter chain of five.
    f.unwind_to(2);
    let mut replaced = Vec::new();
    for _ in 0..5 {
        replaced.push(append(
            &f.store,
            &config,
            14,
            vec![deposit(3, ETHER, RECIPIENT, U256::ZERO)],
        ));
    }
    f.publish_head();
    for (number, hash) in (3u64..).zip(&replaced) {
        let head = next(&mut heads, "a head of the new chain").await;
        assert_eq!(
            (head["number"].clone(), head["hash"].clone()),
            (json!(format!("{number:#x}")), json!(hash)),
            "the new chain in order, from the block after the fork"
        );
    }
    quiet(&mut heads, "a head past the new chain").await;
}

/// The fixture, with a live feed that holds at most `logs` logs.
async fn fixture_holding_logs(logs: usize) -> Fixture {
    fixture_with(FixtureOptions {
        server: RpcServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_block_range: MAX_BLOCK_RANGE,
            max_connections: 16,
            live_feed_logs: logs,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_block_with_more_logs_than_the_feed_holds_drops_only_the_feeds_it_could_feed() {
    // A budget of 0: every block with logs is sent without them.
    let f = fixture_holding_logs(0).await;
    let client = ws(f.addr).await;
    let mut heads = subscribe(&client, vec![json!("newHeads")]).await;
    let mut logs = subscribe(&client, vec![json!("logs"), json!({"address": EMITS_LOG})]).await;
    let mut unrelated =
        subscribe(&client, vec![json!("logs"), json!({"address": RETURNS_42})]).await;
    let log_filter = result(f.addr, "eth_newFilter", json!([{"address": EMITS_LOG}])).await;
    let unrelated_filter = result(f.addr, "eth_newFilter", json!([{"address": RETURNS_42}])).await;

    let hash3 = append_logging_block(&f.store, 3);
    f.publish_head();
    let head = next(&mut heads, "head of block 3").await;
    assert_eq!(head["hash"], json!(hash3), "new heads go on");
    // The subscription that could match is closed (with the error the filter shows below;
    // the client library ends the stream on it); the one the bloom rules out stays.
    let closed = tokio::time::timeout(WAIT, logs.next())
        .await
        .expect("the log subscription ends");
    assert!(closed.is_none(), "{closed:?}");
    quiet(&mut unrelated, "log of another contract").await;
    // The same for filters: the one that could match is removed with the error.
    let removed = error(f.addr, "eth_getFilterChanges", json!([log_filter])).await;
    assert_eq!(removed["code"], -32000);
    assert!(
        removed["message"]
            .as_str()
            .unwrap()
            .starts_with("filter removed: L2 block 3"),
        "{removed}"
    );
    let gone = error(f.addr, "eth_getFilterChanges", json!([log_filter])).await;
    assert_eq!(gone["message"], "filter not found");
    assert_eq!(
        result(f.addr, "eth_getFilterChanges", json!([unrelated_filter])).await,
        json!([])
    );
    // eth_getLogs still reads the block's logs from the database.
    let stored = result(f.addr, "eth_getLogs", json!([{"blockHash": hash3}])).await;
    assert_eq!(stored.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_feed_counts_the_logs_of_every_block_event_still_alive() {
    // A budget of one log: block 3's log is sent, and while its event is still buffered,
    // block 4's is not.
    let f = fixture_holding_logs(1).await;
    let client = ws(f.addr).await;
    let mut logs = subscribe(&client, vec![json!("logs"), json!({"address": EMITS_LOG})]).await;
    let log_filter = result(f.addr, "eth_newFilter", json!([{"address": EMITS_LOG}])).await;
    let hash3 = append_logging_block(&f.store, 3);
    f.publish_head();
    let log = next(&mut logs, "log of block 3").await;
    assert_eq!(log["blockHash"], json!(hash3));
    append_logging_block(&f.store, 4);
    f.publish_head();
    let closed = tokio::time::timeout(WAIT, logs.next())
        .await
        .expect("the log subscription ends at block 4");
    assert!(closed.is_none(), "{closed:?}");
    // The filter gets block 3's log first; the failure comes with the next poll.
    let start = std::time::Instant::now();
    let first = loop {
        let changes = result(f.addr, "eth_getFilterChanges", json!([log_filter])).await;
        if !changes.as_array().unwrap().is_empty() {
            break changes;
        }
        assert!(start.elapsed() < WAIT, "no changes for the filter");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(first, json!([log]));
    let removed = error(f.addr, "eth_getFilterChanges", json!([log_filter])).await;
    assert!(
        removed["message"]
            .as_str()
            .unwrap()
            .starts_with("filter removed: L2 block 4"),
        "{removed}"
    );
}

/// A steady stream of log-heavy blocks to a subscriber that reads promptly: the live feed lets
/// go of the oldest blocks it keeps for reorg reports to hold the new blocks' logs. Before, the
/// kept blocks alone filled the budget and the subscriber was dropped.
#[tokio::test(flavor = "multi_thread")]
async fn old_reorg_reports_give_way_to_new_logs() {
    // Room for 17 logs: 16 kept blocks of one log each, and the next block's.
    let f = fixture_holding_logs(17).await;
    let client = ws(f.addr).await;
    let mut logs = subscribe(&client, vec![json!("logs"), json!({"address": EMITS_LOG})]).await;
    for seed in 3..40u8 {
        let hash = append_logging_block(&f.store, seed);
        f.publish_head();
        let log = next(&mut logs, "the new block's log").await;
        assert_eq!(log["blockHash"], json!(hash), "block of seed {seed}");
    }
}

/// What installed filters and log subscriptions name is bounded over all clients together
/// (`MAX_LIVE_CRITERIA`): a filter past it is refused with `-32005`, and one uninstalled, or a
/// subscription that ends, gives its share back. Before, 3 072 subscriptions of 5 000 criteria
/// each took a node from 1 to 2.7 GB.
#[tokio::test(flavor = "multi_thread")]
async fn filter_criteria_are_bounded_over_all_clients() {
    let f = fixture().await;
    let addresses: Vec<Value> = (0..1_000u32)
        .map(|i| json!(format!("0x{i:040x}")))
        .collect();
    let wide = json!([{"address": addresses}]);
    let per_filter = 1_000;
    let mut ids = Vec::new();
    for _ in 0..rollup_rpc::MAX_LIVE_CRITERIA / per_filter {
        ids.push(result(f.addr, "eth_newFilter", wide.clone()).await);
    }
    let refused = error(f.addr, "eth_newFilter", wide.clone()).await;
    assert_eq!(refused["code"], json!(-32005), "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("too many filter criteria"),
        "{refused}"
    );
    // A log subscription is counted too.
    let client = ws(f.addr).await;
    let err = client
        .subscribe::<Value, _>(
            "eth_subscribe",
            params(vec![json!("logs"), json!({"address": addresses[0]})]),
            "eth_unsubscribe",
        )
        .await
        .unwrap_err();
    assert_eq!(code(&err), -32005, "{err}");
    // Filters without criteria are not.
    result(f.addr, "eth_newBlockFilter", json!([])).await;

    assert_eq!(
        result(f.addr, "eth_uninstallFilter", json!([ids[0]])).await,
        json!(true)
    );
    let subscription = subscribe(
        &client,
        vec![json!("logs"), json!({"address": addresses[0]})],
    )
    .await;
    // 999 left: a whole filter's worth does not fit until the subscription ends.
    let refused = error(f.addr, "eth_newFilter", wide.clone()).await;
    assert_eq!(refused["code"], json!(-32005), "{refused}");
    subscription.unsubscribe().await.unwrap();
    let start = std::time::Instant::now();
    loop {
        let answer = http_post(
            f.addr,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "eth_newFilter", "params": wide})
                .to_string(),
        )
        .await
        .1;
        if answer.contains("\"result\"") {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "the subscription's share never came back: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
