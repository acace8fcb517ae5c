//! Role health: when each role of a process last did its work and last failed, for operators
//! (`rollup_getRoles` and the status page).
//!
//! A role takes a [`RoleHealth`] handle from the process's [`Health`] registry and reports every
//! unit of work it finishes ([`RoleHealth::success`]) and every failure it retries
//! ([`RoleHealth::error`]). Reports are cheap (a short lock, no I/O), so a role reports as often
//! as it works.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// One report: when (milliseconds since the Unix epoch) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthEvent {
    /// Wall-clock time of the report, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened, in words.
    pub message: String,
}

/// What one role reported so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleStatus {
    /// The role's name (`sequencer`, `batcher`, `proposer`, `l1-follower`).
    pub name: String,
    /// The last unit of work it finished.
    pub last_success: Option<HealthEvent>,
    /// The last failure it reported (and retries). Kept after the role works again, as
    /// history: [`Self::failing`] says whether it still stands.
    pub last_error: Option<HealthEvent>,
    /// Whether the role's latest report is a failure: set by each error, cleared by the next
    /// success. Decided by the order of the reports, not their times, so an alarm reported in
    /// the same millisecond as a success still counts.
    pub failing: bool,
    /// Units of work finished since the process started.
    pub successes: u64,
    /// Failures since the process started.
    pub errors: u64,
}

/// The registry of one process's roles: cloned handles share it.
#[derive(Debug, Clone, Default)]
pub struct Health {
    roles: Arc<Mutex<Vec<RoleStatus>>>,
}

impl Health {
    /// Registers `name` (once; later calls return a handle to the same entry) and returns the
    /// handle the role reports through.
    pub fn role(&self, name: &'static str) -> RoleHealth {
        let mut roles = self.lock();
        if !roles.iter().any(|role| role.name == name) {
            roles.push(RoleStatus {
                name: name.to_string(),
                ..Default::default()
            });
        }
        RoleHealth {
            health: self.clone(),
            name,
        }
    }

    /// Every registered role, in registration order.
    pub fn snapshot(&self) -> Vec<RoleStatus> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RoleStatus>> {
        // A report never panics while holding the lock; a poisoned lock still holds valid data.
        self.roles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn report(&self, name: &str, message: String, success: bool) {
        let event = HealthEvent {
            at_ms: now_ms(),
            message,
        };
        let mut roles = self.lock();
        if let Some(role) = roles.iter_mut().find(|role| role.name == name) {
            if success {
                role.successes += 1;
                role.last_success = Some(event);
            } else {
                role.errors += 1;
                role.last_error = Some(event);
            }
            role.failing = !success;
        }
    }
}

/// A role's handle on the [`Health`] registry.
#[derive(Debug, Clone)]
pub struct RoleHealth {
    health: Health,
    name: &'static str,
}

impl RoleHealth {
    /// The role finished a unit of work (built a block, posted a batch, …).
    pub fn success(&self, message: impl Into<String>) {
        self.health.report(self.name, message.into(), true);
    }

    /// The role failed and will retry.
    pub fn error(&self, message: impl Into<String>) {
        self.health.report(self.name, message.into(), false);
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_land_on_their_role_in_registration_order() {
        let health = Health::default();
        let batcher = health.role("batcher");
        let proposer = health.role("proposer");
        batcher.success("posted L2 blocks 1..=3");
        batcher.error("L1 unreachable");
        batcher.success("posted L2 blocks 4..=4");
        let again = health.role("batcher");
        again.error("nonce too low");
        let roles = health.snapshot();
        assert_eq!(
            roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["batcher", "proposer"]
        );
        assert_eq!(roles[0].successes, 2);
        assert_eq!(roles[0].errors, 2);
        assert_eq!(
            roles[0].last_success.as_ref().unwrap().message,
            "posted L2 blocks 4..=4"
        );
        assert_eq!(
            roles[0].last_error.as_ref().unwrap().message,
            "nonce too low"
        );
        assert!(roles[0].last_error.as_ref().unwrap().at_ms > 0);
        assert_eq!(
            roles[1],
            RoleStatus {
                name: "proposer".into(),
                ..Default::default()
            }
        );
        drop(proposer);
    }

    /// An L1 outage that ended: the error stays as history with its time, but the role is
    /// failing only until its next success, even one in the same millisecond.
    #[test]
    fn a_success_ends_a_failure_but_keeps_it_as_history() {
        let health = Health::default();
        let follower = health.role("l1-follower");
        follower.error("L1 poll failed: connection refused");
        assert!(health.snapshot()[0].failing);
        follower.success("followed L1 up to block 12");
        let role = &health.snapshot()[0];
        assert!(!role.failing, "{role:?}");
        assert_eq!(
            role.last_error.as_ref().unwrap().message,
            "L1 poll failed: connection refused"
        );
        // An alarm right after a round's success is the standing state.
        follower.error("the L1 node's head is below L1 block 12");
        assert!(health.snapshot()[0].failing);
    }
}
