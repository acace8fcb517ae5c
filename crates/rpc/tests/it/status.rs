//! The status page and the `rollup_*` data methods behind it, over the fixture's chain (no L1
//! link: what only L1 knows is reported as unknown, with the reason).

use alloy_eips::BlockNumHash;
use alloy_primitives::{B256, U256};
use rollup_primitives::L2Transaction;
use rollup_storage::{BatchOutcome, BatchRecord, DepositOrigin, L1BlockDerivation, L1BlockRecord};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{
    DEPOSITOR, ETHER, FixtureOptions, RECIPIENT, deposit, error, fixture, fixture_with, result,
};

/// GETs `path`; returns the status, the content type and the body.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_is_served_on_the_rpc_port_beside_json_rpc() {
    let f = fixture().await;
    for path in ["/", "/status"] {
        let (status, content_type, body) = http_get(f.addr, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(body.contains("<h1>Rollup node status</h1>"), "{body}");
    }
    let (status, content_type, body) = http_get(f.addr, "/status.js").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/javascript"));
    assert!(body.contains("rollup_getHeads"));
    let (status, content_type, _) = http_get(f.addr, "/status.css").await;
    assert_eq!((status, content_type.starts_with("text/css")), (200, true));
    let (status, ..) = http_get(f.addr, "/favicon.ico").await;
    assert_ne!(status, 200, "only the page's own paths are served");
    // JSON-RPC on the same port is untouched.
    assert_eq!(result(f.addr, "eth_blockNumber", json!([])).await, "0x2");
}

/// Sends `request` (a whole HTTP/1.1 request) and returns the response's head, lowercased.
async fn http_head(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    response.split_once("\r\n\r\n").unwrap().0.to_lowercase()
}

/// A browser's preflight and its JSON-RPC POST from a page on `origin`.
async fn cors_exchange(addr: std::net::SocketAddr, origin: &str) -> (String, String) {
    let preflight = http_head(
        addr,
        &format!(
            "OPTIONS / HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type,authorization,x-api-key\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let post = http_head(
        addr,
        &format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    (preflight, post)
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_is_off_by_default_and_answers_the_origins_configured() {
    // Off: no CORS headers, so a browser refuses a page from another origin.
    let f = fixture().await;
    let (preflight, post) = cors_exchange(f.addr, "http://localhost:3000").await;
    assert!(
        !preflight.contains("access-control-allow-origin"),
        "{preflight}"
    );
    assert!(post.starts_with("http/1.1 200"), "{post}");
    assert!(!post.contains("access-control-allow-origin"), "{post}");

    // A list: the listed origin is allowed, preflight included; another gets no grant.
    let mut options = FixtureOptions::default();
    options.server.cors_domains = Some("http://localhost:3000, https://app.example".into());
    let f = fixture_with(options).await;
    let (preflight, post) = cors_exchange(f.addr, "https://app.example").await;
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    assert!(
        preflight.contains("access-control-allow-origin: https://app.example"),
        "{preflight}"
    );
    assert!(
        preflight.contains("access-control-allow-methods"),
        "{preflight}"
    );
    // Any request header (an SDK's `Authorization`, a gateway's key), as geth allows: named
    // back, since a `*` never covers `Authorization`.
    assert!(
        preflight.contains("access-control-allow-headers: content-type,authorization,x-api-key"),
        "{preflight}"
    );
    assert!(
        post.contains("access-control-allow-origin: https://app.example"),
        "{post}"
    );
    let (_, post) = cors_exchange(f.addr, "https://evil.example").await;
    assert!(!post.contains("access-control-allow-origin"), "{post}");

    // `*`: any origin.
    let mut options = FixtureOptions::default();
    options.server.cors_domains = Some("*".into());
    let f = fixture_with(options).await;
    let (preflight, post) = cors_exchange(f.addr, "https://anything.example").await;
    assert!(
        preflight.contains("access-control-allow-origin: *"),
        "{preflight}"
    );
    assert!(post.contains("access-control-allow-origin: *"), "{post}");
}

#[test]
fn cors_domains_that_are_not_origins_are_refused_with_the_culprit() {
    assert!(
        rollup_rpc::cors_layer(" , ")
            .unwrap_err()
            .contains("no origin")
    );
    for (bad, message) in [
        (
            "http://ok.example,bad\norigin",
            "`bad\norigin` is not an origin",
        ),
        ("not a url", "`not a url` is not an origin"),
        ("http://a b", "`http://a b` is not an origin"),
        ("://host", "`://host` is not an origin"),
        (
            "http://localhost:3000/",
            "`http://localhost:3000/` is not an origin: an origin is scheme://host[:port], such as http://localhost:3000 (without a path or trailing slash)",
        ),
    ] {
        let err = rollup_rpc::cors_layer(bad).unwrap_err();
        assert!(err.contains(message), "{bad}: {err}");
    }
    for good in [
        "http://localhost:3000",
        "https://app.example, http://[::1]:8080",
        "null",
        "chrome-extension://abcdef",
        "*",
    ] {
        assert!(rollup_rpc::cors_layer(good).is_ok(), "{good}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn data_methods_report_heads_blocks_batches_deposits_and_roles() {
    let f = fixture().await;
    // What derivation records for L1 block 12 (the origin of L2 block 2): its deposit and a
    // batch that carried L2 blocks 1..=2.
    let L2Transaction::Deposit(tx_deposit) = deposit(2, ETHER, RECIPIENT, U256::from(ETHER / 2))
    else {
        unreachable!()
    };
    let mut writer = f.store.writer().unwrap();
    writer
        .record_l1_block(&L1BlockRecord {
            block: BlockNumHash {
                number: 12,
                hash: B256::repeat_byte(12),
            },
            timestamp: 1_024,
            mix_hash: B256::ZERO,
            safe_l2_head: 1,
            deposits: vec![tx_deposit.clone()],
            next_deposit_nonce: Some(8),
            next_inbox_record: 0,
        })
        .unwrap();
    writer
        .record_l1_derivation(
            12,
            &L1BlockDerivation {
                batches: vec![
                    BatchRecord {
                        tx_hash: B256::repeat_byte(0xba),
                        tx_index: 3,
                        bytes: 300,
                        first_l2_block: 1,
                        l2_blocks: 2,
                        transactions: 1,
                        outcome: BatchOutcome::Derived,
                    },
                    BatchRecord {
                        tx_hash: B256::repeat_byte(0xbb),
                        tx_index: 4,
                        bytes: 2,
                        first_l2_block: 3,
                        l2_blocks: 0,
                        transactions: 0,
                        outcome: BatchOutcome::Dropped("not a batch".into()),
                    },
                ],
                deposits: vec![DepositOrigin {
                    nonce: 7,
                    tx_hash: B256::repeat_byte(0xde),
                    log_index: 5,
                }],
            },
        )
        .unwrap();
    writer.commit().unwrap();

    let heads = result(f.addr, "rollup_getHeads", json!([])).await;
    assert_eq!(heads["unsafeL2"]["number"], 2);
    assert_eq!(heads["unsafeL2"]["l1Origin"]["number"], 12);
    assert_eq!(heads["unsafeL2"]["l1Origin"]["timestamp"], 1_024);
    assert_eq!(
        heads["safeL2"]["behind"],
        json!({"blocks": 1, "seconds": 2})
    );
    assert_eq!(heads["finalizedL2"]["behind"]["blocks"], 2);
    assert_eq!(heads["l1Cursor"]["number"], 12);
    assert_eq!(heads["l1Head"], json!(null));
    assert!(
        heads["l1Error"].as_str().unwrap().contains("no L1 link"),
        "{heads}"
    );

    let stats = result(f.addr, "rollup_getBlockStats", json!([2])).await;
    assert_eq!(stats.as_array().unwrap().len(), 2);
    assert_eq!(stats[0]["number"], 1);
    assert_eq!(stats[1]["number"], 2);
    assert_eq!(stats[1]["txCount"], 2);
    assert_eq!(stats[1]["depositCount"], 1);
    assert!(stats[1]["gasUsed"].as_u64().unwrap() >= 21_000);
    assert!(stats[1]["baseFee"].as_u64().is_some());
    let all = result(f.addr, "rollup_getBlockStats", json!([1_000_000])).await;
    assert_eq!(all.as_array().unwrap().len(), 3, "clamped to the chain");

    let batches = result(f.addr, "rollup_getRecentBatches", json!([10])).await;
    assert_eq!(
        batches,
        json!([
            {
                "l1Block": 12, "l1BlockHash": B256::repeat_byte(12), "l1Timestamp": 1_024,
                "l1TxHash": B256::repeat_byte(0xbb), "l1TxIndex": 4, "bytes": 2,
                "status": "dropped", "reason": "not a batch", "firstL2Block": null,
                "lastL2Block": null, "l2Blocks": 0, "txCount": 0, "bytesPerTx": null,
                "l1GasUsed": null
            },
            {
                "l1Block": 12, "l1BlockHash": B256::repeat_byte(12), "l1Timestamp": 1_024,
                "l1TxHash": B256::repeat_byte(0xba), "l1TxIndex": 3, "bytes": 300,
                "status": "derived", "reason": null, "firstL2Block": 1, "lastL2Block": 2,
                "l2Blocks": 2, "txCount": 1, "bytesPerTx": 300, "l1GasUsed": null
            }
        ]),
        "newest first"
    );
    let one = result(f.addr, "rollup_getRecentBatches", json!([1])).await;
    assert_eq!(one.as_array().unwrap().len(), 1);

    let deposits = result(f.addr, "rollup_getDeposits", json!([])).await;
    assert_eq!(
        deposits,
        json!([{
            "nonce": 7, "kind": "eth", "l1Block": 12, "l1Timestamp": 1_024,
            "l1TxHash": B256::repeat_byte(0xde), "logIndex": 5, "l2TxHash": tx_deposit.hash(),
            "from": DEPOSITOR, "to": RECIPIENT,
            "l1Token": alloy_primitives::Address::ZERO, "amount": U256::from(ETHER / 2),
            "status": "unsafe", "l2Block": 2, "success": true
        }])
    );

    let withdrawals = result(f.addr, "rollup_getWithdrawals", json!([5])).await;
    assert_eq!(withdrawals, json!([]));
    let not_one = error(f.addr, "rollup_getWithdrawalStatus", json!([f.signed])).await;
    assert_eq!(not_one["code"], -32602);
    assert!(
        not_one["message"]
            .as_str()
            .unwrap()
            .contains("initiated no withdrawal")
    );

    let proposals = error(f.addr, "rollup_getProposals", json!([null, 5])).await;
    assert_eq!(proposals["code"], -32000);
    assert!(
        proposals["message"]
            .as_str()
            .unwrap()
            .starts_with("this node has no L1 link"),
        "{proposals}"
    );

    let disputes = error(f.addr, "rollup_getDisputes", json!([null, 5])).await;
    assert_eq!(disputes["code"], -32000);
    assert!(
        disputes["message"]
            .as_str()
            .unwrap()
            .starts_with("this node has no L1 link"),
        "{disputes}"
    );
    // Pages above the limit are refused, not clamped, before L1 is asked.
    for method in ["rollup_getProposals", "rollup_getDisputes"] {
        let too_many = error(f.addr, method, json!([0, 101])).await;
        assert_eq!(too_many["code"], -32602, "{method}: {too_many}");
        assert!(
            too_many["message"]
                .as_str()
                .unwrap()
                .contains("limit of 100"),
            "{method}: {too_many}"
        );
        let bad_from = error(f.addr, method, json!(["first", 5])).await;
        assert_eq!(bad_from["code"], -32602, "{method}: {bad_from}");
    }

    let roles = result(f.addr, "rollup_getRoles", json!([])).await;
    assert_eq!(roles["l1Link"], false);
    assert_eq!(roles["sequencer"], true);
    assert_eq!(roles["roles"][0]["name"], "sequencer");
    assert_eq!(roles["roles"][0]["successes"], 1);
    assert_eq!(
        roles["roles"][0]["lastSuccess"]["message"],
        "sealed L2 block 2 with 2 transactions"
    );
    assert_eq!(roles["roles"][0]["lastError"], json!(null));
    assert_eq!(roles["roles"][0]["failing"], false);
    // An outage that ended: the error stays as history, the role is no longer failing.
    assert_eq!(roles["roles"][1]["name"], "l1-follower");
    assert_eq!(roles["roles"][1]["failing"], false, "{roles}");
    assert_eq!(
        roles["roles"][1]["lastError"]["message"],
        "L1 poll failed: connection refused"
    );
    assert_eq!(roles["roles"][2]["name"], "batcher");
    assert_eq!(roles["roles"][2]["failing"], true, "{roles}");

    let bad = error(f.addr, "rollup_getDeposits", json!(["many"])).await;
    assert_eq!(bad["code"], -32602);
}
