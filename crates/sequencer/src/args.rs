//! The pool's limits as command-line flags, shared by `rollup-node` and `reth-rollup`.

/// Declares a clap `Args` struct (named by the caller, who depends on clap with `derive` and
/// `env`) with the pool's limits as flags named as reth names its own
/// (`--txpool.pending-max-count`, …), each after `$prefix`: `""` in `rollup-node`, `"rollup."`
/// inside reth, whose own `--txpool.*` flags size its L1 pool. Both read the same environment
/// variables and default to [`PoolConfig::default`](crate::PoolConfig); `pool_config()` turns
/// the flags into a [`PoolConfig`](crate::PoolConfig).
#[macro_export]
macro_rules! txpool_args {
    ($(#[$meta:meta])* $vis:vis struct $name:ident, prefix = $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, clap::Args)]
        $vis struct $name {
            /// Most transactions ready to execute (consecutive nonces) in the pool.
            #[arg(
                id = concat!($prefix, "txpool.pending-max-count"),
                long = concat!($prefix, "txpool.pending-max-count"),
                value_name = "N",
                env = "ROLLUP_TXPOOL_PENDING_MAX_COUNT",
                value_parser = $crate::parse_at_least_one,
                default_value_t = $crate::PoolConfig::default().max_pending
            )]
            $vis pending_max_count: usize,
            /// Most megabytes of ready transactions in the pool.
            #[arg(
                id = concat!($prefix, "txpool.pending-max-size"),
                long = concat!($prefix, "txpool.pending-max-size"),
                env = "ROLLUP_TXPOOL_PENDING_MAX_SIZE",
                value_parser = $crate::parse_at_least_one,
                value_name = "MB",
                default_value_t = $crate::PoolConfig::default().max_pending_bytes / (1024 * 1024)
            )]
            $vis pending_max_size: usize,
            /// Most transactions waiting behind a nonce gap.
            #[arg(
                id = concat!($prefix, "txpool.queued-max-count"),
                long = concat!($prefix, "txpool.queued-max-count"),
                value_name = "N",
                env = "ROLLUP_TXPOOL_QUEUED_MAX_COUNT",
                default_value_t = $crate::PoolConfig::default().max_queued
            )]
            $vis queued_max_count: usize,
            /// Most megabytes of transactions waiting behind a nonce gap.
            #[arg(
                id = concat!($prefix, "txpool.queued-max-size"),
                long = concat!($prefix, "txpool.queued-max-size"),
                env = "ROLLUP_TXPOOL_QUEUED_MAX_SIZE",
                value_name = "MB",
                default_value_t = $crate::PoolConfig::default().max_queued_bytes / (1024 * 1024)
            )]
            $vis queued_max_size: usize,
            /// Most transactions of one account waiting behind a nonce gap (its ready ones are
            /// bounded only by the pending caps: they are sequenced in nonce order).
            #[arg(
                id = concat!($prefix, "txpool.max-account-slots"),
                long = concat!($prefix, "txpool.max-account-slots"),
                value_name = "N",
                env = "ROLLUP_TXPOOL_MAX_ACCOUNT_SLOTS",
                default_value_t = $crate::PoolConfig::default().max_queued_per_sender
            )]
            $vis max_account_slots: usize,
            /// Percent by which a replacement must raise both fees of the transaction it
            /// replaces.
            #[arg(
                id = concat!($prefix, "txpool.pricebump"),
                long = concat!($prefix, "txpool.pricebump"),
                value_name = "PERCENT",
                env = "ROLLUP_TXPOOL_PRICEBUMP",
                default_value_t = $crate::PoolConfig::default().price_bump_percent
            )]
            $vis pricebump: u128,
            /// Where the pool's transactions are written when the node stops and read back
            /// (then removed) when it starts, so a restart loses none of them [default:
            /// `txpool-transactions-backup.txt` in the datadir]. A kill -9 writes nothing.
            #[arg(
                id = concat!($prefix, "txpool.transactions-backup"),
                long = concat!($prefix, "txpool.transactions-backup"),
                alias = concat!($prefix, "txpool.journal"),
                value_name = "PATH",
                env = "ROLLUP_TXPOOL_TRANSACTIONS_BACKUP"
            )]
            $vis transactions_backup: Option<std::path::PathBuf>,
            /// Keep no backup: the pool's transactions are lost whenever the node stops.
            #[arg(
                id = concat!($prefix, "txpool.disable-transactions-backup"),
                long = concat!($prefix, "txpool.disable-transactions-backup"),
                alias = concat!($prefix, "txpool.disable-journal"),
                env = "ROLLUP_TXPOOL_DISABLE_TRANSACTIONS_BACKUP",
                conflicts_with = concat!($prefix, "txpool.transactions-backup")
            )]
            $vis disable_transactions_backup: bool,
        }

        impl $name {
            /// The pool configuration these flags describe.
            $vis fn pool_config(&self) -> $crate::PoolConfig {
                $crate::PoolConfig {
                    max_pending: self.pending_max_count,
                    max_pending_bytes: self.pending_max_size.saturating_mul(1024 * 1024),
                    max_queued: self.queued_max_count,
                    max_queued_bytes: self.queued_max_size.saturating_mul(1024 * 1024),
                    max_queued_per_sender: self.max_account_slots,
                    price_bump_percent: self.pricebump,
                    ..$crate::PoolConfig::default()
                }
            }

            /// The pool's backup file ([`PoolBackup`](crate::PoolBackup)): the flag's path, or
            /// [`BACKUP_FILE_NAME`](crate::BACKUP_FILE_NAME) in `datadir`; none when disabled.
            $vis fn transactions_backup(&self, datadir: &std::path::Path) -> Option<$crate::PoolBackup> {
                (!self.disable_transactions_backup).then(|| {
                    $crate::PoolBackup::new(
                        self.transactions_backup
                            .clone()
                            .unwrap_or_else(|| datadir.join($crate::BACKUP_FILE_NAME)),
                    )
                })
            }
        }
    };
}

/// A pool limit that must be at least 1: a pool that holds no ready transaction (or none of
/// any size) refuses every transaction sent to the node.
pub fn parse_at_least_one(text: &str) -> Result<usize, String> {
    let value: usize = text
        .parse()
        .map_err(|err| format!("{text:?} is not a whole number: {err}"))?;
    if value == 0 {
        return Err("0 would refuse every transaction sent to the node: give at least 1".into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::PoolConfig;

    crate::txpool_args!(struct Plain, prefix = "");
    crate::txpool_args!(struct InReth, prefix = "rollup.");

    #[derive(Debug, Parser)]
    struct Cli<A: clap::Args> {
        #[command(flatten)]
        txpool: A,
        /// A host flag under a field name the pool's flags use too, as reth's own `--txpool.*`.
        #[arg(long = "txpool.pending-max-count-of-the-host", default_value_t = 1)]
        pending_max_count: usize,
        /// reth's own switch of its L1 pool's backup has this field name too.
        #[arg(long = "txpool.disable-transactions-backup-of-the-host")]
        disable_transactions_backup: bool,
    }

    #[test]
    fn the_backup_is_in_the_datadir_unless_named_or_disabled() {
        use std::path::Path;
        let datadir = Path::new("data");
        let backup = |args: &[&str]| {
            Cli::<InReth>::try_parse_from(std::iter::once("reth").chain(args.iter().copied())).map(
                |cli| {
                    cli.txpool
                        .transactions_backup(datadir)
                        .map(|backup| backup.path().to_path_buf())
                },
            )
        };
        assert_eq!(
            backup(&[]).unwrap(),
            Some(datadir.join(crate::BACKUP_FILE_NAME))
        );
        let plain = Cli::<Plain>::try_parse_from(["node"]).unwrap().txpool;
        assert_eq!(
            plain.transactions_backup(datadir).unwrap().path(),
            datadir.join(crate::BACKUP_FILE_NAME)
        );
        for flag in [
            "--rollup.txpool.transactions-backup",
            "--rollup.txpool.journal",
        ] {
            assert_eq!(
                backup(&[flag, "/var/pool.txt"]).unwrap(),
                Some(Path::new("/var/pool.txt").to_path_buf())
            );
        }
        assert_eq!(
            backup(&["--rollup.txpool.disable-transactions-backup"]).unwrap(),
            None
        );
        // The host's switch of the same field name is its own.
        assert!(
            backup(&["--txpool.disable-transactions-backup-of-the-host"])
                .unwrap()
                .is_some()
        );
        let both = backup(&[
            "--rollup.txpool.disable-transactions-backup",
            "--rollup.txpool.transactions-backup",
            "/var/pool.txt",
        ]);
        assert!(
            both.unwrap_err()
                .to_string()
                .contains("cannot be used with")
        );
    }

    #[test]
    fn the_flags_sit_beside_a_hosts_own_fields_of_the_same_names() {
        use clap::CommandFactory;
        Cli::<Plain>::command().debug_assert();
        Cli::<InReth>::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_pools_own() {
        let plain = Cli::<Plain>::try_parse_from(["node"]).unwrap().txpool;
        let config = plain.pool_config();
        let default = PoolConfig::default();
        assert_eq!(
            (
                config.max_pending,
                config.max_pending_bytes,
                config.max_queued,
                config.max_queued_bytes,
                config.max_queued_per_sender,
                config.price_bump_percent,
            ),
            (
                default.max_pending,
                default.max_pending_bytes,
                default.max_queued,
                default.max_queued_bytes,
                default.max_queued_per_sender,
                default.price_bump_percent,
            )
        );
    }

    #[test]
    fn flags_set_the_limits_under_either_prefix() {
        let args = [
            "txpool.pending-max-count=500",
            "txpool.pending-max-size=3",
            "txpool.queued-max-count=70",
            "txpool.queued-max-size=2",
            "txpool.max-account-slots=4",
            "txpool.pricebump=25",
        ];
        let with = |prefix: &str| {
            std::iter::once("node".to_owned())
                .chain(args.iter().map(|arg| format!("--{prefix}{arg}")))
                .collect::<Vec<_>>()
        };
        let plain = Cli::<Plain>::try_parse_from(with(""))
            .unwrap()
            .txpool
            .pool_config();
        let in_reth = Cli::<InReth>::try_parse_from(with("rollup."))
            .unwrap()
            .txpool
            .pool_config();
        for config in [plain, in_reth] {
            assert_eq!(config.max_pending, 500);
            assert_eq!(config.max_pending_bytes, 3 * 1024 * 1024);
            assert_eq!(config.max_queued, 70);
            assert_eq!(config.max_queued_bytes, 2 * 1024 * 1024);
            assert_eq!(config.max_queued_per_sender, 4);
            assert_eq!(config.price_bump_percent, 25);
            assert_eq!(config.max_nonce_gap, PoolConfig::default().max_nonce_gap);
        }
        // Inside reth the unprefixed names are reth's own (its L1 pool), not these.
        assert!(Cli::<InReth>::try_parse_from(with("")).is_err());
    }

    #[test]
    fn a_pool_that_holds_nothing_ready_is_refused() {
        for flag in [
            "--txpool.pending-max-count=0",
            "--txpool.pending-max-size=0",
        ] {
            let err = Cli::<Plain>::try_parse_from(["node", flag])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("0 would refuse every transaction"),
                "{flag}: {err}"
            );
        }
        // Nothing queued behind nonce gaps is a choice, not a broken node.
        let config = Cli::<Plain>::try_parse_from(["node", "--txpool.queued-max-count=0"])
            .unwrap()
            .txpool
            .pool_config();
        assert_eq!(config.max_queued, 0);
    }
}
