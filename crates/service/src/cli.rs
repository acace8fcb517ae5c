//! Command-line behaviour both hosts share: `rollup-node node` names its flags bare
//! (`--block-time`), `reth-rollup node` with a `rollup.` prefix (`--rollup.block-time`).

use std::ffi::OsString;

use clap::{ArgMatches, Command, parser::ValueSource};

/// The role a role-only flag tunes: the flag does nothing unless the node runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleSwitch {
    /// The sequencer (`--sequencer`).
    Sequencer,
    /// The batcher (`--batcher-key`).
    Batcher,
    /// The proposer (`--proposer-key`).
    Proposer,
    /// The dispute agent, run by the proposer or the challenger.
    Dispute,
    /// Any role that sends L1 transactions.
    L1Sender,
}

impl RoleSwitch {
    /// The flags that turn the role on, as a host whose flags carry `prefix` names them.
    pub fn flags(self, prefix: &str) -> String {
        let flag = |name: &str| format!("--{prefix}{name}");
        match self {
            Self::Sequencer => flag("sequencer"),
            Self::Batcher => flag("batcher-key"),
            Self::Proposer => flag("proposer-key"),
            Self::Dispute => format!("{} or {}", flag("proposer-key"), flag("challenger-key")),
            Self::L1Sender => format!(
                "{}, {} or {}",
                flag("batcher-key"),
                flag("proposer-key"),
                flag("challenger-key")
            ),
        }
    }
}

/// Which role each role-only flag tunes, by its long name without the host's prefix (a
/// trailing `.`: every flag of that group, the pool's `txpool.`).
pub const ROLE_FLAGS: &[(&str, RoleSwitch)] = &[
    ("block-time", RoleSwitch::Sequencer),
    ("sequencer-l1-bytes-per-block", RoleSwitch::Sequencer),
    ("txpool.", RoleSwitch::Sequencer),
    ("batcher-interval", RoleSwitch::Batcher),
    ("batcher-max-delay", RoleSwitch::Batcher),
    ("batcher-window-margin", RoleSwitch::Batcher),
    ("batcher-data", RoleSwitch::Batcher),
    ("batcher-max-in-flight", RoleSwitch::Batcher),
    ("proposal-interval", RoleSwitch::Proposer),
    ("proposer-head", RoleSwitch::Proposer),
    ("dispute-interval", RoleSwitch::Dispute),
    ("l1-resubmit-after", RoleSwitch::L1Sender),
];

/// The role-only flags of `command` (a host's `node` subcommand, whose flags carry `prefix`)
/// typed on the command line, as `matches` parsed it, each with the role it tunes. The host
/// warns about those whose role it does not run: a replica ignored them in silence.
pub fn typed_role_flags(
    command: &Command,
    matches: &ArgMatches,
    prefix: &str,
) -> Vec<(String, RoleSwitch)> {
    let mut typed = Vec::new();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let Some(name) = long.strip_prefix(prefix) else {
            continue;
        };
        let Some(&(_, role)) = ROLE_FLAGS
            .iter()
            .find(|(flag, _)| name == *flag || (flag.ends_with('.') && name.starts_with(flag)))
        else {
            continue;
        };
        if matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
            typed.push((format!("--{long}"), role));
        }
    }
    typed
}

/// `err` with a tip naming the environment variable its bad value came from, where the flag
/// it names was not typed on the command line `args` and its variable is set (`is_set`):
/// clap's message names only the flag, and an operator who set `ROLLUP_L1_CONFIRMATIONS=abc`
/// in a unit file looked for `--l1-confirmations` in vain. `root` is the command `args` were
/// parsed with.
pub fn naming_the_environment(
    mut err: clap::Error,
    root: &Command,
    args: &[OsString],
    is_set: impl Fn(&str) -> bool,
) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(invalid)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    // `--l1-confirmations <L1_CONFIRMATIONS>`: the flag's long name.
    let Some(long) = invalid
        .strip_prefix("--")
        .and_then(|rest| rest.split([' ', '=']).next())
        .map(str::to_owned)
    else {
        return err;
    };
    // The subcommands typed (`node`), whose flags come before the root's global ones: two
    // subcommands may give one flag name different variables (`--l1-rpc-url`).
    let mut path = vec![root];
    for typed in args.iter().skip(1).filter_map(|typed| typed.to_str()) {
        let current = *path.last().expect("the root");
        if let Some(sub) = current.find_subcommand(typed) {
            path.push(sub);
        }
    }
    let arg = path.iter().rev().find_map(|command| {
        command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long.as_str()))
    });
    let Some(variable) = arg
        .and_then(|arg| arg.get_env())
        .and_then(|variable| variable.to_str())
    else {
        return err;
    };
    let typed = args.iter().any(|typed| {
        typed.to_str().is_some_and(|typed| {
            typed
                .strip_prefix("--")
                .and_then(|typed| typed.strip_prefix(long.as_str()))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
        })
    });
    if typed || !is_set(variable) {
        return err;
    }
    let tip = format!("the value came from the environment variable {variable}; fix or unset it");
    let mut tips = match err.get(ContextKind::Suggested) {
        Some(ContextValue::StyledStrs(tips)) => tips.clone(),
        _ => Vec::new(),
    };
    tips.push(tip.into());
    err.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_named_by_its_hosts_flags() {
        assert_eq!(RoleSwitch::Sequencer.flags(""), "--sequencer");
        assert_eq!(
            RoleSwitch::Dispute.flags("rollup."),
            "--rollup.proposer-key or --rollup.challenger-key"
        );
    }

    /// Only flags typed on the command line count, with the host's prefix, and a group by its
    /// prefix; a default or an unrelated flag does not.
    #[test]
    fn typed_role_flags_are_those_on_the_command_line() {
        let command = Command::new("node")
            .arg(clap::Arg::new("rollup.block-time").long("rollup.block-time"))
            .arg(clap::Arg::new("rollup.txpool.pricebump").long("rollup.txpool.pricebump"))
            .arg(
                clap::Arg::new("rollup.proposal-interval")
                    .long("rollup.proposal-interval")
                    .default_value("30s"),
            )
            .arg(clap::Arg::new("rollup.rpc-addr").long("rollup.rpc-addr"));
        let matches = command.clone().get_matches_from([
            "node",
            "--rollup.block-time",
            "2s",
            "--rollup.txpool.pricebump",
            "20",
            "--rollup.rpc-addr",
            "x",
        ]);
        assert_eq!(
            typed_role_flags(&command, &matches, "rollup."),
            vec![
                ("--rollup.block-time".into(), RoleSwitch::Sequencer),
                ("--rollup.txpool.pricebump".into(), RoleSwitch::Sequencer),
            ]
        );
    }
}
