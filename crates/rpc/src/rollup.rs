//! The `rollup_*` handlers.

use jsonrpsee::RpcModule;
use rollup_primitives::decode_l1_origin;

use crate::{
    eth::{EthApi, method},
    types::SyncStatus,
};

/// Registers the `rollup_*` methods.
pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    method(module, "rollup_syncStatus", |api, _| {
        let heads = *api.ctx.heads.borrow();
        let reader = api.ctx.store.reader()?;
        let mut failure = None;
        let status = SyncStatus::new(&heads, |number| match reader.header(number) {
            Ok(header) => header.and_then(|header| decode_l1_origin(&header.extra_data).ok()),
            Err(err) => {
                failure = Some(err);
                None
            }
        });
        match failure {
            Some(err) => Err(err.into()),
            None => Ok(status),
        }
    });
}
