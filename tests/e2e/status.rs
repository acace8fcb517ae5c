//! End-to-end: the status page against a running devnet. A deposit, an L2 transfer and two
//! withdrawals (one proven, later finalized) go through; the `rollup_*` data methods report each
//! where it stands (batches with their L1 gas, proposals matching this node's output roots, the
//! roles' health); then a real headless Chromium drives the page (`tests/status/page.mjs`):
//! it shows them, the heads advance, no console error is logged, and it takes the screenshots.
//!
//! The browser part needs Debian's `chromium` (installed by `scripts/bootstrap.sh` when run as
//! root) and `playwright-core` from npm; without them it is skipped with a message, unless
//! `STATUS_PAGE_REQUIRE_BROWSER=1`. Screenshots go to a temporary directory, or to
//! `STATUS_PAGE_SCREENSHOTS` (relative to the repository root), e.g.
//! `STATUS_PAGE_SCREENSHOTS=docs cargo test -p rollup-node --test e2e status_page`.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, utils::parse_ether};
use alloy_provider::Provider;
use rollup_primitives::bindings::IStateManager;
use serde_json::{Value, json};

use super::send;
use crate::{
    support::{self, Anvil, Devnet},
    withdrawals::{cli, l1_rpc, l2_wallet, view},
};

/// Bound for any single wait; a healthy run needs a fraction of it.
const WAIT: Duration = Duration::from_secs(60);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// Polls `method` until `accept` finds what it waits for in the result; returns that result.
async fn poll(
    devnet: &Devnet,
    method: &str,
    params: Value,
    what: &str,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let value = devnet.l2(method, params.clone()).await;
        if accept(&value) {
            return value;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for {what}; {method} says {value:#}\nnode log tail:\n{}",
            tail(&devnet.log())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The entry of a list whose `key` is `value`.
fn find<'a>(list: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|item| {
        item[key]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    })
}

fn stage_of(withdrawals: &Value, tx: &str) -> String {
    find(withdrawals, "l2TxHash", tx)
        .and_then(|w| w["stage"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// What the browser part needs, or why it cannot run here.
fn browser() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM_BIN")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.exists() {
        return Err(format!(
            "no Chromium at {} (scripts/bootstrap.sh installs Debian's chromium when run as root; or set CHROMIUM_BIN)",
            chromium.display()
        ));
    }
    if !workspace_root()
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return Err("playwright-core is not installed: run scripts/bootstrap.sh".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is not on PATH".into());
    }
    Ok(chromium)
}

/// Runs `tests/status/page.mjs` against the devnet; panics with its report if a check fails.
async fn page_in_a_browser(devnet: &Devnet, expect: &[(&str, String)]) {
    let chromium = match browser() {
        Ok(chromium) => chromium,
        Err(reason) if std::env::var_os("STATUS_PAGE_REQUIRE_BROWSER").is_some() => {
            panic!("the status page browser test cannot run: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPING the status page browser test: {reason}");
            return;
        }
    };
    let temporary = tempfile::tempdir().unwrap();
    let screenshots = std::env::var_os("STATUS_PAGE_SCREENSHOTS").map_or_else(
        || temporary.path().to_path_buf(),
        |dir| workspace_root().join(dir),
    );
    std::fs::create_dir_all(&screenshots).unwrap();
    let mut command = Command::new("node");
    command
        .arg(workspace_root().join("tests/status/page.mjs"))
        .current_dir(workspace_root())
        .env("STATUS_URL", format!("{}/", devnet.info.l2_rpc_url))
        .env("CHROMIUM_BIN", chromium)
        .env("SCREENSHOT_DIR", &screenshots);
    for (name, value) in expect {
        command.env(name, value);
    }
    let out = tokio::task::spawn_blocking(move || command.output().expect("run node"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the status page failed in the browser:\n{stdout}\n{stderr}\nnode log tail:\n{}",
        tail(&devnet.log())
    );
    eprintln!("status page in Chromium: {stdout}");
    for name in ["status-desktop.png", "status-phone.png"] {
        let size = std::fs::metadata(screenshots.join(name)).map_or(0, |m| m.len());
        assert!(size > 10_000, "{name} was not written ({size} bytes)");
    }
}

#[test]
fn status_page_shows_a_deposit_a_transfer_and_withdrawals() {
    support::run(status_page_shows_a_deposit_a_transfer_and_withdrawals_body());
}

async fn status_page_shows_a_deposit_a_transfer_and_withdrawals_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    let file = dir.path().join("devnet.json");
    let accounts: Vec<Address> = devnet.info.accounts.iter().map(|a| a.address).collect();
    let (user, friend, relayer) = (accounts[3], accounts[6], "7");

    // Screenshots for the docs: a minute of steady traffic first, so the charts have a shape.
    if std::env::var_os("STATUS_PAGE_SCREENSHOTS").is_some() {
        let wallet = l2_wallet(&devnet, 5);
        let until = Instant::now() + Duration::from_secs(60);
        let mut round = 0u64;
        while Instant::now() < until {
            round += 1;
            let value = parse_ether("0.001").unwrap() * alloy_primitives::U256::from(round % 7 + 1);
            send(&wallet, friend, vec![], value).await;
            tokio::time::sleep(Duration::from_millis(200 + 150 * (round % 5))).await;
        }
    }

    // A deposit, a transfer on L2 and two withdrawals.
    let run = cli(&file, &["deposit", "--amount", "2", "--account", "3"]).await;
    assert!(run.ok, "deposit failed");
    let deposit_l1 = run.field("L1 tx:");
    let deposit_l2 = run.field("L2 tx:");
    let transfer = send(
        &l2_wallet(&devnet, 3),
        friend,
        vec![],
        parse_ether("0.25").unwrap(),
    )
    .await;
    let transfer_tx = transfer.transaction_hash.to_string();
    let transfer_block = transfer.block_number.unwrap();
    let run = cli(&file, &["withdraw", "--amount", "0.5", "--account", "3"]).await;
    assert!(run.ok, "withdraw failed");
    let proven_tx = run.field("L2 tx:");
    let proven_hash = run.field("withdrawal hash:");
    let run = cli(&file, &["withdraw", "--amount", "0.125", "--account", "3"]).await;
    assert!(run.ok, "withdraw failed");
    let waiting_tx = run.field("L2 tx:");

    // Deposits: from the L1 log to the L2 transaction, and where that stands.
    let deposits = poll(
        &devnet,
        "rollup_getDeposits",
        json!([10]),
        "the deposit to be safe",
        |list| {
            find(list, "l2TxHash", &deposit_l2)
                .is_some_and(|d| d["status"] == "safe" || d["status"] == "finalized")
        },
    )
    .await;
    let deposit = find(&deposits, "l2TxHash", &deposit_l2).unwrap();
    assert!(
        deposit["l1TxHash"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&deposit_l1),
        "{deposit}"
    );
    assert_eq!(deposit["kind"], "eth");
    assert_eq!(deposit["to"], json!(user));
    assert_eq!(deposit["amount"], json!(parse_ether("2").unwrap()));
    assert_eq!(deposit["success"], true);
    assert!(deposit["nonce"].is_u64() && deposit["logIndex"].is_u64());

    // Batches: the transfer's block came in a derived batch, with the L1 gas its posting used.
    let covers_transfer = |batch: &Value| {
        batch["status"] == "derived"
            && batch["firstL2Block"]
                .as_u64()
                .is_some_and(|first| first <= transfer_block)
            && batch["lastL2Block"]
                .as_u64()
                .is_some_and(|last| last >= transfer_block)
    };
    let batches = poll(
        &devnet,
        "rollup_getRecentBatches",
        json!([100]),
        "the transfer's batch",
        |list| list.as_array().unwrap().iter().any(covers_transfer),
    )
    .await;
    let batch = batches
        .as_array()
        .unwrap()
        .iter()
        .find(|batch| covers_transfer(batch))
        .unwrap();
    assert!(batch["txCount"].as_u64().unwrap() >= 1, "{batch}");
    assert!(batch["bytesPerTx"].as_u64().unwrap() > 0, "{batch}");
    let l1_receipt = devnet
        .l1(0)
        .get_transaction_receipt(batch["l1TxHash"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
        .expect("the batch's L1 transaction");
    assert_eq!(batch["l1GasUsed"], json!(l1_receipt.gas_used));
    assert_eq!(batch["l1Block"], json!(l1_receipt.block_number.unwrap()));

    // Block statistics include the transfer.
    let stats = devnet.l2("rollup_getBlockStats", json!([1024])).await;
    let stat = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|stat| stat["number"] == json!(transfer_block))
        .expect("the transfer's block in the statistics");
    assert!(stat["txCount"].as_u64().unwrap() >= 1);
    assert!(stat["gasUsed"].as_u64().unwrap() >= 21_000);

    // Withdrawals: covered by a proposal, then proven by a relayer.
    poll(
        &devnet,
        "rollup_getWithdrawals",
        json!([10]),
        "a proposal covering the first withdrawal",
        |list| stage_of(list, &proven_tx) == "proposed",
    )
    .await;
    let run = cli(&file, &["prove", &proven_tx, "--account", relayer]).await;
    assert!(run.ok, "prove failed");
    let withdrawals = poll(
        &devnet,
        "rollup_getWithdrawals",
        json!([10]),
        "the first withdrawal to be proven",
        |list| stage_of(list, &proven_tx) == "proven",
    )
    .await;
    let proven = find(&withdrawals, "l2TxHash", &proven_tx).unwrap();
    assert_eq!(proven["provers"], json!([accounts[7]]));
    assert_eq!(proven["withdrawalHash"], json!(proven_hash));
    assert_eq!(proven["amount"], json!(parse_ether("0.5").unwrap()));
    assert_eq!(proven["to"], json!(user));
    assert!(proven["finalAt"].as_u64().is_some() && proven["proposalIndex"].is_u64());
    assert_eq!(proven["l1Error"], json!(null));
    let waiting = stage_of(&withdrawals, &waiting_tx);
    assert!(
        waiting == "initiated" || waiting == "proposed",
        "{withdrawals:#}"
    );

    let status = devnet
        .l2("rollup_getWithdrawalStatus", json!([proven_tx]))
        .await;
    let done: Vec<Value> = status["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["done"].clone())
        .collect();
    assert_eq!(
        done,
        [true, true, true, true, false, false].map(Value::from),
        "{status:#}"
    );

    // Proposals: read from L1 and checked against this node's blocks.
    let l1 = devnet.l1(0);
    let l1_time = async || {
        l1.get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp
    };
    let before = l1_time().await;
    let proposals = devnet.l2("rollup_getProposals", json!([null, 5])).await;
    let after = l1_time().await;
    let period = view(
        &l1,
        devnet.info.contracts.state_manager,
        IStateManager::challengePeriodCall {},
    )
    .await;
    assert_eq!(proposals["challengePeriod"], json!(period.to::<u64>()));
    let listed = proposals["proposals"].as_array().unwrap();
    assert!(!listed.is_empty(), "{proposals:#}");
    for proposal in listed {
        assert_eq!(proposal["matchesLocal"], true, "{proposal}");
        assert_eq!(
            proposal["finalAt"],
            json!(proposal["timestamp"].as_u64().unwrap() + period.to::<u64>())
        );
        // Pending until its 60 s pass, final after: a slow machine can reach this line after
        // the first proposal's period (before, the test expected every proposal pending).
        let final_at = proposal["finalAt"].as_u64().unwrap();
        if final_at > after {
            assert_eq!(proposal["status"], "pending", "{proposal}");
        } else if final_at <= before {
            assert_eq!(proposal["status"], "final", "{proposal}");
        }
    }
    let first = devnet.l2("rollup_getProposals", json!([0, 1])).await;
    assert_eq!(first["proposals"][0]["index"], 0);

    // Heads with their lag, and the L1 head through the node's L1 link.
    let heads = devnet.l2("rollup_getHeads", json!([])).await;
    let number = |path: &[&str]| {
        path.iter()
            .fold(&heads, |value, key| &value[*key])
            .as_u64()
            .unwrap()
    };
    assert!(number(&["l1Head", "number"]) >= number(&["l1Cursor", "number"]));
    assert_eq!(
        number(&["safeL2", "behind", "blocks"]),
        number(&["unsafeL2", "number"]) - number(&["safeL2", "number"])
    );

    // Every role of the devnet reports work done.
    let roles = poll(
        &devnet,
        "rollup_getRoles",
        json!([]),
        "every role to have worked",
        |roles| {
            roles["roles"]
                .as_array()
                .unwrap()
                .iter()
                .all(|role| role["successes"].as_u64() > Some(0))
        },
    )
    .await;
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|role| role["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "derivation",
            "l1-follower",
            "sequencer",
            "batcher",
            "defender",
            "proposer",
            "challenger"
        ]
    );
    assert_eq!(
        (&roles["l1Link"], &roles["sequencer"]),
        (&json!(true), &json!(true))
    );

    // The page itself, in a real browser.
    page_in_a_browser(
        &devnet,
        &[
            ("DEPOSIT_L1_TX", deposit_l1.clone()),
            ("DEPOSIT_L2_TX", deposit_l2.clone()),
            ("TRANSFER_TX", transfer_tx),
            ("WITHDRAWAL_TX", proven_tx.clone()),
        ],
    )
    .await;

    // After the challenge period (L1 time jumps), the relayer finalizes: paid out on L1.
    l1_rpc(&l1, "evm_increaseTime", json!([period.to::<u64>() + 1])).await;
    l1_rpc(&l1, "evm_mine", json!([])).await;
    let run = cli(&file, &["finalize", &proven_tx, "--account", relayer]).await;
    assert!(run.ok, "finalize failed");
    poll(
        &devnet,
        "rollup_getWithdrawals",
        json!([10]),
        "the first withdrawal to be finalized",
        |list| stage_of(list, &proven_tx) == "finalized",
    )
    .await;
    let status = devnet
        .l2("rollup_getWithdrawalStatus", json!([proven_tx]))
        .await;
    assert!(
        status["path"]
            .as_array()
            .unwrap()
            .iter()
            .all(|step| step["done"] == true),
        "{status:#}"
    );
}
