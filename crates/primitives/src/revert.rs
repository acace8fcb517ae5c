//! Names revert data for logs and messages: the custom errors of the rollup's contracts (listed
//! in `contracts/artifacts/errors.json` by `scripts/gen-artifacts.sh`), `Error(string)` and
//! `Panic(uint256)`, instead of raw bytes or an L1 node's lossy text rendering of them.

use std::{collections::HashMap, fmt::Write, sync::LazyLock};

use alloy_primitives::{Address, I256, U256, hex, keccak256};

/// Most bytes of unrecognised revert data, and characters of a revert string, shown.
const SHOWN: usize = 96;

/// `Error(string)`'s selector.
const ERROR_STRING: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
/// `Panic(uint256)`'s selector.
const PANIC: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];

/// A custom error: its name and its parameters' types and names.
#[derive(Debug)]
struct CustomError {
    name: String,
    params: Vec<(String, String)>,
}

static CUSTOM_ERRORS: LazyLock<HashMap<[u8; 4], CustomError>> = LazyLock::new(|| {
    let signatures: Vec<String> =
        serde_json::from_str(include_str!("../../../contracts/artifacts/errors.json"))
            .expect("embedded errors.json is corrupt (regenerate it)");
    signatures
        .iter()
        .filter_map(|signature| parse_signature(signature))
        .map(|error| {
            let types: Vec<&str> = error.params.iter().map(|(ty, _)| ty.as_str()).collect();
            let selector = keccak256(format!("{}({})", error.name, types.join(",")));
            (selector[..4].try_into().expect("4 bytes"), error)
        })
        .collect()
});

/// `Name(type name,type name)` (as errors.json lists them); `None` for a tuple parameter, whose
/// type has commas of its own (no such error is declared; it would be shown as unknown).
fn parse_signature(signature: &str) -> Option<CustomError> {
    let (name, rest) = signature.split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    if inner.contains('(') {
        return None;
    }
    let params = inner
        .split(',')
        .filter(|param| !param.is_empty())
        .map(|param| match param.split_once(' ') {
            Some((ty, name)) => (ty.to_string(), name.to_string()),
            None => (param.to_string(), String::new()),
        })
        .collect();
    Some(CustomError {
        name: name.to_string(),
        params,
    })
}

/// Decodes `out`, what an `eth_call` of `C` on the contract at `to` returned. Empty output is
/// said as what it nearly always means: no contract answers at `to` on the L1 the node reads
/// (an L1 node that follows another chain, a fresh devnet L1, or a wrong address in the
/// config), where the decoder's own text ("buffer overrun while deserializing") named nothing
/// an operator could act on.
pub fn decode_returns<C: alloy_sol_types::SolCall>(
    to: Address,
    out: &[u8],
) -> Result<C::Return, String> {
    C::abi_decode_returns(out).map_err(|err| {
        if out.is_empty() {
            format!(
                "{} at {to} returned nothing: no contract answers at that address on this L1 \
                 (is the L1 node on the chain the contracts were deployed to, and is the address right?)",
                C::SIGNATURE
            )
        } else {
            format!(
                "{} at {to} returned {} bytes that do not decode ({err}): is that address the contract?",
                C::SIGNATURE,
                out.len()
            )
        }
    })
}

/// A readable rendering of `data`, the revert data of a call: `BatchInbox_BlockHashMismatch
/// (number: 12)`, `Error("…")`, `Panic(0x11)`, or the data in hex if no contract of the rollup
/// declares its selector. Never copies raw bytes into the text.
pub fn describe_revert(data: &[u8]) -> String {
    let Some((selector, args)) = data.split_first_chunk::<4>() else {
        return if data.is_empty() {
            "no revert data".to_string()
        } else {
            format!("revert data 0x{}", hex::encode(data))
        };
    };
    match *selector {
        ERROR_STRING => {
            if let Some(text) = decode_string(args) {
                let shown: String = text.chars().take(SHOWN).collect();
                let more = if shown.len() < text.len() { "…" } else { "" };
                return format!("Error({shown:?}{more})");
            }
        }
        PANIC if args.len() == 32 => {
            return format!("Panic({:#x})", U256::from_be_slice(args));
        }
        _ => {
            if let Some(error) = CUSTOM_ERRORS.get(selector)
                && let Some(described) = describe_custom(error, args)
            {
                return described;
            }
        }
    }
    let shown = &data[..data.len().min(SHOWN)];
    let more = if shown.len() < data.len() { "…" } else { "" };
    format!("unknown error 0x{}{more}", hex::encode(shown))
}

/// `Name(param: value, …)` if every parameter is a static elementary type and `args` holds
/// exactly their words; `None` otherwise.
fn describe_custom(error: &CustomError, args: &[u8]) -> Option<String> {
    if args.len() != error.params.len() * 32 {
        return None;
    }
    let mut out = format!("{}(", error.name);
    for (index, ((ty, name), word)) in error.params.iter().zip(args.chunks_exact(32)).enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        if !name.is_empty() {
            let _ = write!(out, "{name}: ");
        }
        let word: &[u8; 32] = word.try_into().ok()?;
        if ty.starts_with("uint") {
            let _ = write!(out, "{}", U256::from_be_bytes(*word));
        } else if ty.starts_with("int") {
            let _ = write!(out, "{}", I256::from_be_bytes(*word));
        } else if ty == "address" {
            let _ = write!(out, "{}", Address::from_word((*word).into()));
        } else if ty == "bool" {
            let _ = write!(out, "{}", word[31] != 0);
        } else if let Some(size) = ty
            .strip_prefix("bytes")
            .and_then(|n| n.parse::<usize>().ok())
            && (1..=32).contains(&size)
        {
            let _ = write!(out, "0x{}", hex::encode(&word[..size]));
        } else {
            return None;
        }
    }
    out.push(')');
    Some(out)
}

/// The string ABI-encoded in `args` (offset, length, bytes), lossily as UTF-8.
fn decode_string(args: &[u8]) -> Option<String> {
    let offset: usize = U256::from_be_slice(args.get(..32)?).try_into().ok()?;
    let length_word = args.get(offset..offset.checked_add(32)?)?;
    let length: usize = U256::from_be_slice(length_word).try_into().ok()?;
    let start = offset + 32;
    let bytes = args.get(start..start.checked_add(length)?)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use alloy_sol_types::{Revert, SolError, sol};

    use super::*;

    sol! {
        error BatchInbox_BlockHashMismatch(uint256 number);
        error BatchInbox_CallerNotEOA();
        error NotDeclaredAnywhere(uint256 x);
    }

    sol! {
        function latestProposal() external view returns (uint256 index);
    }

    #[test]
    fn an_empty_answer_is_said_to_be_no_contract() {
        let to = Address::repeat_byte(0x11);
        let err = decode_returns::<latestProposalCall>(to, &[]).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "latestProposal() at {to} returned nothing: no contract answers"
            )),
            "{err}"
        );
        let err = decode_returns::<latestProposalCall>(to, &[1, 2, 3]).unwrap_err();
        assert!(err.contains("returned 3 bytes that do not decode"), "{err}");
        let word = U256::from(7).to_be_bytes::<32>();
        assert_eq!(
            decode_returns::<latestProposalCall>(to, &word),
            Ok(U256::from(7))
        );
    }

    #[test]
    fn every_listed_error_is_parsed() {
        let listed: Vec<String> =
            serde_json::from_str(include_str!("../../../contracts/artifacts/errors.json")).unwrap();
        assert!(listed.len() > 100);
        // Distinct selectors: no two errors of the contracts collide.
        assert_eq!(CUSTOM_ERRORS.len(), listed.len());
    }

    #[test]
    fn custom_errors_are_named_with_their_arguments() {
        let data = BatchInbox_BlockHashMismatch {
            number: U256::from(12),
        }
        .abi_encode();
        assert_eq!(
            describe_revert(&data),
            "BatchInbox_BlockHashMismatch(number: 12)"
        );
        assert_eq!(
            describe_revert(&BatchInbox_CallerNotEOA {}.abi_encode()),
            "BatchInbox_CallerNotEOA()"
        );
        // Arguments that do not fit the declaration: shown as unknown, in hex.
        assert_eq!(
            describe_revert(&data[..20]),
            format!("unknown error 0x{}", hex::encode(&data[..20]))
        );
        let unknown = NotDeclaredAnywhere { x: U256::from(1) }.abi_encode();
        assert!(describe_revert(&unknown).starts_with("unknown error 0x"));
        assert!(describe_revert(&[0u8; 200]).ends_with('…'));
    }

    #[test]
    fn strings_and_panics_never_copy_raw_bytes() {
        let data = Revert::from("stop\0\u{7}here").abi_encode();
        assert_eq!(describe_revert(&data), r#"Error("stop\0\u{7}here")"#);
        let long = Revert::from("x".repeat(500)).abi_encode();
        assert_eq!(
            describe_revert(&long),
            format!("Error({:?}…)", "x".repeat(SHOWN))
        );
        let mut panic = PANIC.to_vec();
        panic.extend_from_slice(B256::with_last_byte(0x11).as_slice());
        assert_eq!(describe_revert(&panic), "Panic(0x11)");
        assert_eq!(describe_revert(&[]), "no revert data");
        assert_eq!(describe_revert(&[1, 2]), "revert data 0x0102");
        // A string whose offset points past the data: hex, no panic.
        let mut bad = ERROR_STRING.to_vec();
        bad.extend_from_slice(B256::with_last_byte(0xff).as_slice());
        assert!(describe_revert(&bad).starts_with("unknown error 0x08c379a0"));
    }
}
