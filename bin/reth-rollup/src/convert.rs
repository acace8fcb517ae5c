//! reth's `ExExNotification` → the core's `L1Notification`.
//!
//! Everything derivation reads survives the conversion: per block its number, hash, parent
//! hash, timestamp, mix hash (`prevrandao`) and base fee; per transaction its hash, recovered
//! sender, recipient, calldata and blob versioned hashes; per receipt its status and logs, in
//! order. Nothing is recovered again: the senders come from reth's `RecoveredBlock`.

use std::sync::Arc;

use alloy_consensus::Transaction as _;
use eyre::{WrapErr, ensure};
use reth_ethereum::{
    Block, Receipt, exex::ExExNotification, primitives::RecoveredBlock, provider::Chain,
};
use rollup_primitives::{L1Block, L1Chain, L1Notification, L1Receipt, L1Transaction};

/// Converts a notification, keeping its variant: reverted chain(s) first is the core's job.
pub(crate) fn to_l1_notification(notification: &ExExNotification) -> eyre::Result<L1Notification> {
    Ok(match notification {
        ExExNotification::ChainCommitted { new } => L1Notification::Committed {
            new: Arc::new(to_l1_chain(new)?),
        },
        ExExNotification::ChainReorged { old, new } => L1Notification::Reorged {
            old: Arc::new(to_l1_chain(old)?),
            new: Arc::new(to_l1_chain(new)?),
        },
        ExExNotification::ChainReverted { old } => L1Notification::Reverted {
            old: Arc::new(to_l1_chain(old)?),
        },
    })
}

/// Converts a chain of blocks with their receipts.
///
/// Fails only if reth hands over a chain that breaks its own invariants (empty, not contiguous,
/// or a block whose receipt count differs from its transaction count); the ExEx then stops
/// rather than derive from partial data.
pub(crate) fn to_l1_chain(chain: &Chain) -> eyre::Result<L1Chain> {
    let block_count = chain.blocks().len();
    let receipt_sets = chain.execution_outcome().receipts.len();
    ensure!(
        block_count == receipt_sets,
        "reth chain {:?} carries {block_count} blocks but receipts for {receipt_sets}",
        chain.range()
    );
    let blocks = chain
        .blocks_and_receipts()
        .map(|(block, receipts)| to_l1_block(block, receipts))
        .collect::<eyre::Result<Vec<_>>>()?;
    L1Chain::new(blocks)
        .map_err(|reason| eyre::eyre!(reason))
        .wrap_err_with(|| format!("reth chain {:?} is not a contiguous chain", chain.range()))
}

fn to_l1_block(block: &RecoveredBlock<Block>, receipts: &[Receipt]) -> eyre::Result<L1Block> {
    let header = block.header();
    let transactions = block
        .transactions_recovered()
        .map(|tx| L1Transaction {
            hash: *tx.tx_hash(),
            from: tx.signer(),
            to: tx.to(),
            input: tx.input().clone(),
            blob_versioned_hashes: tx
                .blob_versioned_hashes()
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
            blobs: Vec::new(),
        })
        .collect::<Vec<_>>();
    ensure!(
        transactions.len() == receipts.len(),
        "L1 block {} ({}) has {} transactions but {} receipts",
        header.number,
        block.hash(),
        transactions.len(),
        receipts.len()
    );
    Ok(L1Block {
        number: header.number,
        hash: block.hash(),
        parent_hash: header.parent_hash,
        timestamp: header.timestamp,
        mix_hash: header.mix_hash,
        base_fee_per_gas: header.base_fee_per_gas,
        transactions,
        receipts: receipts
            .iter()
            .map(|receipt| L1Receipt {
                success: receipt.success,
                logs: receipt.logs.clone(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use alloy_consensus::{BlockBody, Header, Signed, TxEip1559, TxEip4844, TxType};
    use alloy_primitives::{Address, B256, Bytes, Log, LogData, Signature, TxKind, U256};
    use reth_ethereum::{TransactionSigned, provider::ExecutionOutcome};

    use super::*;

    fn signature() -> Signature {
        Signature::new(U256::from(1), U256::from(2), false)
    }

    fn block(
        number: u64,
        parent_hash: B256,
        txs: Vec<TransactionSigned>,
        senders: Vec<Address>,
    ) -> RecoveredBlock<Block> {
        let header = Header {
            number,
            parent_hash,
            timestamp: 1_700_000_000 + number * 12,
            mix_hash: B256::repeat_byte(number as u8),
            base_fee_per_gas: Some(7 + number),
            ..Default::default()
        };
        RecoveredBlock::new_unhashed(
            Block {
                header,
                body: BlockBody {
                    transactions: txs,
                    ommers: vec![],
                    withdrawals: None,
                },
            },
            senders,
        )
    }

    /// A two-block chain: a failed and a successful call in the first block, a blob transaction
    /// in the second.
    fn chain() -> (Chain, Vec<Address>) {
        let senders = vec![
            Address::repeat_byte(0xa1),
            Address::repeat_byte(0xa2),
            Address::repeat_byte(0xa3),
        ];
        let call = |nonce: u64, input: &'static [u8]| -> TransactionSigned {
            let tx = TxEip1559 {
                chain_id: 1,
                nonce,
                to: TxKind::Call(Address::repeat_byte(0xb0)),
                input: Bytes::from_static(input),
                ..Default::default()
            };
            Signed::new_unhashed(tx, signature()).into()
        };
        let blob = TxEip4844 {
            chain_id: 1,
            to: Address::repeat_byte(0xb1),
            blob_versioned_hashes: vec![B256::repeat_byte(0x01), B256::repeat_byte(0x02)],
            input: Bytes::from_static(b"batch"),
            ..Default::default()
        };
        let blob: TransactionSigned = Signed::new_unhashed(blob, signature()).into();

        let first = block(
            10,
            B256::repeat_byte(0x99),
            vec![call(0, b"fail"), call(1, b"ok")],
            senders[..2].to_vec(),
        );
        let second = block(11, first.hash(), vec![blob], senders[2..].to_vec());
        let log = |topic: u8| Log {
            address: Address::repeat_byte(0xb0),
            data: LogData::new_unchecked(
                vec![B256::repeat_byte(topic)],
                Bytes::from_static(b"data"),
            ),
        };
        let receipt = |success: bool, logs: Vec<Log>| Receipt {
            tx_type: TxType::Eip1559,
            success,
            cumulative_gas_used: 21_000,
            logs,
        };
        let receipts = vec![
            vec![
                receipt(false, vec![log(1)]),
                receipt(true, vec![log(2), log(3)]),
            ],
            vec![receipt(true, vec![])],
        ];
        let outcome = ExecutionOutcome::new(Default::default(), receipts, 10, vec![]);
        (
            Chain::new([first, second], outcome, Default::default()),
            senders,
        )
    }

    #[test]
    fn chain_keeps_every_field_derivation_reads() {
        let (chain, senders) = chain();
        let l1 = to_l1_chain(&chain).unwrap();
        assert_eq!(l1.len(), 2);
        for (converted, original) in l1.blocks().iter().zip(chain.blocks().values()) {
            let header = original.header();
            assert_eq!(converted.number, header.number);
            assert_eq!(converted.hash, original.hash());
            assert_eq!(converted.parent_hash, header.parent_hash);
            assert_eq!(converted.timestamp, header.timestamp);
            assert_eq!(converted.mix_hash, header.mix_hash);
            assert_eq!(converted.base_fee_per_gas, header.base_fee_per_gas);
            for (tx, original) in converted
                .transactions
                .iter()
                .zip(original.transactions_recovered())
            {
                assert_eq!(tx.hash, *original.tx_hash());
                assert_eq!(tx.from, original.signer());
                assert_eq!(tx.to, original.to());
                assert_eq!(&tx.input, original.input());
            }
        }
        let first = &l1.blocks()[0];
        assert_eq!(first.transactions[0].from, senders[0]);
        assert_eq!(first.transactions[1].from, senders[1]);
        assert_eq!(first.transactions[1].input, Bytes::from_static(b"ok"));
        assert!(!first.receipts[0].success);
        assert!(first.receipts[1].success);
        // Log indices count all receipts' logs; only the successful transaction's logs derive.
        let derived: Vec<u64> = first.successful_logs().map(|(index, _)| index).collect();
        assert_eq!(derived, vec![1, 2]);
        let second = &l1.blocks()[1];
        assert_eq!(second.parent_hash, first.hash);
        assert_eq!(second.transactions[0].to, Some(Address::repeat_byte(0xb1)));
        assert_eq!(
            second.transactions[0].blob_versioned_hashes,
            vec![B256::repeat_byte(0x01), B256::repeat_byte(0x02)]
        );
    }

    #[test]
    fn notification_keeps_its_variant() {
        let (chain, _) = chain();
        let chain = Arc::new(chain);
        let expected = Arc::new(to_l1_chain(&chain).unwrap());
        let committed = ExExNotification::ChainCommitted { new: chain.clone() };
        assert_eq!(
            to_l1_notification(&committed).unwrap(),
            L1Notification::Committed {
                new: expected.clone()
            }
        );
        let reverted = ExExNotification::ChainReverted { old: chain.clone() };
        assert_eq!(
            to_l1_notification(&reverted).unwrap(),
            L1Notification::Reverted {
                old: expected.clone()
            }
        );
        let reorged = ExExNotification::ChainReorged {
            old: chain.clone(),
            new: chain,
        };
        assert_eq!(
            to_l1_notification(&reorged).unwrap(),
            L1Notification::Reorged {
                old: expected.clone(),
                new: expected
            }
        );
    }

    #[test]
    fn receipt_count_mismatch_is_an_error() {
        let (chain, _) = chain();
        let (blocks, mut outcome, trie) = chain.into_inner();
        outcome.receipts[0].pop();
        let broken = Chain::new(blocks.into_blocks(), outcome, trie);
        assert!(to_l1_chain(&broken).is_err());
    }
}
