//! The rollup configuration: what every replica of one rollup must agree on.

use std::{collections::BTreeMap, path::Path};

use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_trie::EMPTY_ROOT_HASH;
use serde::{Deserialize, Serialize};

use crate::{PrimitivesError, Result, block::encode_l1_origin};

/// L1 contract addresses of one rollup deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContractAddresses {
    /// `L1Bridge`: deposits (and withdrawals).
    pub l1_bridge: Address,
    /// `BatchInbox`: where the batcher posts L2 transaction batches.
    pub batch_inbox: Address,
    /// `StateManager`: state root proposals and their challenge period.
    pub state_manager: Address,
}

/// One account of the L2 genesis state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisAccount {
    /// Balance in wei.
    #[serde(default)]
    pub balance: U256,
    /// Nonce.
    #[serde(default)]
    pub nonce: u64,
    /// Runtime bytecode, if a contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Bytes>,
    /// Storage slots.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<B256, B256>,
}

/// The L2 genesis block and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct L2Genesis {
    /// The L1 block the rollup starts from: derivation reads L1 blocks after it. Usually the
    /// block that deployed the contracts.
    #[serde(deserialize_with = "strict_num_hash")]
    pub l1_origin: BlockNumHash,
    /// Genesis timestamp (seconds).
    pub timestamp: u64,
    /// Block gas limit of L2 blocks.
    pub gas_limit: u64,
    /// Base fee of the genesis block.
    pub base_fee_per_gas: u64,
    /// Genesis state.
    pub alloc: BTreeMap<Address, GenesisAccount>,
}

/// A [`BlockNumHash`] (`{"number": …, "hash": …}`) that, unlike alloy's own, refuses a field it
/// does not know, as every other part of the config does.
fn strict_num_hash<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<BlockNumHash, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NumHash {
        number: u64,
        hash: B256,
    }
    let NumHash { number, hash } = NumHash::deserialize(deserializer)?;
    Ok(BlockNumHash { number, hash })
}

/// Everything two replicas must share to derive the same L2 chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollupConfig {
    /// Chain id of L1.
    pub l1_chain_id: u64,
    /// Chain id of L2 (the one signed transactions commit to).
    pub l2_chain_id: u64,
    /// L1 contracts.
    pub contracts: ContractAddresses,
    /// L2 genesis.
    pub genesis: L2Genesis,
    /// Sequencing window, in L1 blocks: a batch for an L2 block with L1 origin `E` counts only
    /// if it is included in an L1 block before `E + sequencingWindow`; when the window of the
    /// next epoch closes without one, replicas derive a deposit-only block themselves, so
    /// deposits cannot be censored for longer than this.
    #[serde(default = "default_sequencing_window")]
    pub sequencing_window: u64,
    /// How far (seconds) an L2 block's timestamp may run ahead of its L1 origin's.
    #[serde(default = "default_max_sequencer_drift")]
    pub max_sequencer_drift: u64,
    /// The batcher's L1 account: a node refuses to run the batcher role with a key of another
    /// account. Not a consensus parameter: derivation reads the records `BatchInbox` appended,
    /// and the inbox accepts batches only from the batcher it has now (set through the
    /// timelock). So a batcher replaced on L1 changes this field in the batcher node's config
    /// only, and no datadir is bound to it ([`Self::differences`] leaves it out).
    pub batcher_address: Address,
}

/// The path (`genesis.l1Origin.hash`, `genesis.alloc.0x….balance`) of the innermost field
/// whose value ends at or contains `line`:`column` (1-based, as serde_json reports positions)
/// of the JSON `text`; `None` at the top level. Reads only the text before the position, so it
/// needs no valid JSON after it.
fn json_path_at(text: &str, line: usize, column: usize) -> Option<String> {
    enum Frame {
        Object {
            key: Option<String>,
            expect_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = (line_start + column).min(text.len());
    let prefix = text.get(..end)?;
    let mut frames: Vec<Frame> = Vec::new();
    let mut chars = prefix.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut string = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        // The escaped character as written (enough to name a field).
                        '\\' => string.extend(chars.next()),
                        '"' => break,
                        c => string.push(c),
                    }
                }
                if let Some(Frame::Object { key, expect_key }) = frames.last_mut()
                    && *expect_key
                {
                    *key = Some(string);
                    *expect_key = false;
                }
            }
            '{' => frames.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            '[' => frames.push(Frame::Array { index: 0 }),
            '}' | ']' => {
                frames.pop();
            }
            ',' => match frames.last_mut() {
                Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
    }
    let mut path = String::new();
    for frame in &frames {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    (!path.is_empty()).then_some(path)
}

const fn default_sequencing_window() -> u64 {
    3_600
}

const fn default_max_sequencer_drift() -> u64 {
    600
}

/// Config fields (JSON paths) that derivation does not read, so a datadir is not bound to
/// them: the batcher's address, which only says whose key the batcher role takes.
pub const NOT_CONSENSUS: &[&str] = &["batcherAddress"];

impl RollupConfig {
    /// Reads and validates a JSON config file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            PrimitivesError::Config(format!("cannot read {}: {err}", path.display()))
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses and validates the JSON `text` of a config read from `source` (named in errors).
    fn from_json(text: &str, source: &str) -> Result<Self> {
        let config: Self = serde_json::from_str(text).map_err(|err| {
            // serde names the problem and its line, not the field: say which field it is.
            let field = match err.classify() {
                serde_json::error::Category::Data => json_path_at(text, err.line(), err.column())
                    .map(|path| format!("{path}: "))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            PrimitivesError::Config(format!("{source}: {field}{err}"))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the config for values no rollup can run with.
    pub fn validate(&self) -> Result<()> {
        if self.l2_chain_id == 0 {
            return Err(PrimitivesError::Config("l2ChainId must not be 0".into()));
        }
        if self.l1_chain_id == self.l2_chain_id {
            return Err(PrimitivesError::Config(format!(
                "l1ChainId and l2ChainId are both {}: they must differ so signatures cannot be replayed across layers",
                self.l1_chain_id
            )));
        }
        if self.contracts.l1_bridge.is_zero() {
            return Err(PrimitivesError::Config(
                "contracts.l1Bridge must be set".into(),
            ));
        }
        if self.batcher_address.is_zero() {
            return Err(PrimitivesError::Config(
                "batcherAddress must be set: the BatchInbox accepts batches from that L1 account only"
                    .into(),
            ));
        }
        if self.sequencing_window < 2 {
            return Err(PrimitivesError::Config(format!(
                "sequencingWindow {} is too small (at least 2 L1 blocks)",
                self.sequencing_window
            )));
        }
        if self.genesis.gas_limit < crate::DEPOSIT_GAS_PER_L1_BLOCK {
            return Err(PrimitivesError::Config(format!(
                "genesis.gasLimit {} is too small: the deposits of one L1 block may use up to {}",
                self.genesis.gas_limit,
                crate::DEPOSIT_GAS_PER_L1_BLOCK
            )));
        }
        for (address, account) in &self.genesis.alloc {
            if account.code.is_none() && !account.storage.is_empty() {
                return Err(PrimitivesError::Genesis {
                    address: *address,
                    reason: "storage without code".into(),
                });
            }
        }
        if let Some(bridge) = self.genesis.alloc.get(&crate::L2_BRIDGE) {
            let slot = B256::from(alloy_primitives::U256::from(
                crate::L2_BRIDGE_L1_BRIDGE_SLOT,
            ));
            let recorded = bridge
                .storage
                .get(&slot)
                .map(|word| Address::from_word(*word))
                .unwrap_or_default();
            if recorded != self.contracts.l1_bridge {
                return Err(PrimitivesError::Genesis {
                    address: crate::L2_BRIDGE,
                    reason: format!(
                        "the L2 bridge's storage slot {} holds L1 bridge {recorded}, but contracts.l1Bridge is {}: withdrawals could not be proven on L1",
                        crate::L2_BRIDGE_L1_BRIDGE_SLOT,
                        self.contracts.l1_bridge
                    ),
                });
            }
        }
        Ok(())
    }

    /// Every consensus parameter in which `other` differs from `self`, as
    /// `path: ours → theirs` lines (`genesis.alloc` is compared as a whole). Empty when the two
    /// derive the same chain.
    ///
    /// Every field of the config but [`Self::batcher_address`] is consensus: two replicas that
    /// differ in any of them derive different chains from the same L1, so a datadir is bound to
    /// the config it was created with. The batcher's address only names whose key the batcher
    /// role takes ([`NOT_CONSENSUS`]).
    pub fn differences(&self, other: &Self) -> Vec<String> {
        fn walk(
            path: &str,
            ours: &serde_json::Value,
            theirs: &serde_json::Value,
            out: &mut Vec<String>,
        ) {
            use serde_json::Value;
            match (ours, theirs) {
                (Value::Object(a), Value::Object(b)) if path != "genesis.alloc" => {
                    let keys: std::collections::BTreeSet<&String> =
                        a.keys().chain(b.keys()).collect();
                    for key in keys {
                        let child = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        walk(
                            &child,
                            a.get(key).unwrap_or(&Value::Null),
                            b.get(key).unwrap_or(&Value::Null),
                            out,
                        );
                    }
                }
                _ if ours == theirs || NOT_CONSENSUS.contains(&path) => {}
                _ if path == "genesis.alloc" => {
                    out.push(format!("{path}: the genesis accounts differ"))
                }
                _ => out.push(format!("{path}: {ours} → {theirs}")),
            }
        }
        let mut out = Vec::new();
        // Serialising a config cannot fail: every field is plain data.
        let ours = serde_json::to_value(self).unwrap_or_default();
        let theirs = serde_json::to_value(other).unwrap_or_default();
        walk("", &ours, &theirs, &mut out);
        out
    }

    /// The L2 genesis header. `state_root` is the commitment to the genesis state.
    pub fn genesis_header(&self, state_root: B256) -> Header {
        Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            number: 0,
            gas_limit: self.genesis.gas_limit,
            gas_used: 0,
            timestamp: self.genesis.timestamp,
            extra_data: encode_l1_origin(self.genesis.l1_origin),
            base_fee_per_gas: Some(self.genesis.base_fee_per_gas),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod strictness_tests {
    use super::*;

    /// A valid config to vary.
    fn config() -> RollupConfig {
        RollupConfig {
            l1_chain_id: 1,
            l2_chain_id: 7,
            contracts: ContractAddresses {
                l1_bridge: Address::repeat_byte(1),
                batch_inbox: Address::repeat_byte(2),
                state_manager: Address::repeat_byte(3),
            },
            genesis: L2Genesis {
                l1_origin: BlockNumHash::default(),
                timestamp: 1,
                gas_limit: 30_000_000,
                base_fee_per_gas: 1,
                alloc: BTreeMap::new(),
            },
            sequencing_window: 100,
            max_sequencer_drift: 600,
            batcher_address: Address::repeat_byte(4),
        }
    }

    /// A misspelled field is an error that names it, never a silently applied default.
    #[test]
    fn unknown_fields_are_refused() {
        let config = config();
        let mut json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            serde_json::from_value::<RollupConfig>(json.clone()).unwrap(),
            config
        );
        json["sequencingWindows"] = json["sequencingWindow"].take();
        json.as_object_mut().unwrap().remove("sequencingWindow");
        let err = serde_json::from_value::<RollupConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("sequencingWindows"), "{err}");
        // Inside a genesis account and the L1 origin too.
        let mut json = serde_json::to_value(&config).unwrap();
        json["genesis"]["alloc"]["0x0404040404040404040404040404040404040404"] =
            serde_json::json!({"balance": "0x1", "storag": {}});
        let err = serde_json::from_value::<RollupConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `storag`"), "{err}");
        let mut json = serde_json::to_value(&config).unwrap();
        json["genesis"]["l1Origin"]["numbr"] = 5.into();
        let err = serde_json::from_value::<RollupConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `numbr`"), "{err}");
    }

    /// A datadir is bound to every consensus field, and not to the batcher's address.
    #[test]
    fn differences_name_consensus_fields_only() {
        let config = config();
        let mut rotated = config.clone();
        rotated.batcher_address = Address::repeat_byte(5);
        assert!(config.differences(&rotated).is_empty());
        let mut other = rotated;
        other.sequencing_window = 200;
        other.contracts.batch_inbox = Address::repeat_byte(9);
        let changes = config.differences(&other);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            changes[0].starts_with("contracts.batchInbox: "),
            "{changes:?}"
        );
        assert_eq!(changes[1], "sequencingWindow: 100 → 200");
        // The name the exclusion uses is the field's name in rollup.json.
        let json = serde_json::to_value(&config).unwrap();
        for path in NOT_CONSENSUS {
            assert!(json.get(path).is_some(), "{path} is not a field");
        }
    }

    /// A value of the wrong form is reported with the path of its field, however deep.
    #[test]
    fn bad_values_name_their_field() {
        let text = r#"{
  "l1ChainId": 1,
  "l2ChainId": 7,
  "contracts": {"l1Bridge": "0x0101010101010101010101010101010101010101",
    "batchInbox": "0x0202020202020202020202020202020202020202",
    "stateManager": "0x0303030303030303030303030303030303030303"},
  "genesis": {
    "l1Origin": {"number": 0, "hash": "0x12"},
    "timestamp": 1, "gasLimit": 30000000, "baseFeePerGas": 1,
    "alloc": {"0x0404040404040404040404040404040404040404": {"balance": "lots"}}
  },
  "batcherAddress": "0x0505050505050505050505050505050505050505"
}"#;
        let err = RollupConfig::from_json(text, "rollup.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid rollup config: rollup.json: genesis.l1Origin.hash: "),
            "{err}"
        );
        let fixed = text.replace(r#""0x12""#, &format!("\"0x{}\"", "12".repeat(32)));
        let err = RollupConfig::from_json(&fixed, "rollup.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("genesis.alloc.0x0404040404040404040404040404040404040404.balance: "),
            "{err}"
        );
        // Syntax errors keep serde's line and column alone.
        let err = RollupConfig::from_json("{\"l1ChainId\": ", "c.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid rollup config: c.json: EOF"), "{err}");
        // Positions in arrays, escaped quotes in keys, and the top level.
        assert_eq!(
            json_path_at(r#"{"a": [1, {"b\"c": 2}]}"#, 1, 20).as_deref(),
            Some("a[1].b\"c")
        );
        assert_eq!(json_path_at("[1, 2]", 1, 5).as_deref(), Some("[1]"));
        assert_eq!(json_path_at("7", 1, 1), None);
    }
}
