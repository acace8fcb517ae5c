//! The node's KZG threads: where blob work (commitments, proofs, cell proofs) runs, below the
//! priority of sequencing, RPC and execution.
//!
//! A blob's commitment takes tens of milliseconds of CPU and its EIP-7594 cell proofs hundreds.
//! A batch's sidecar has slack (the batch has the sequencing window to reach L1), while a
//! transaction waiting for its block does not: on a machine with two cores, the batcher's
//! sidecars were the largest CPU cost of the sequencer under load (`docs/benchmarks.md`,
//! "Where the time goes"). So sidecars run on one dedicated thread, [`KZG_THREAD_NAME`], under
//! Linux's `SCHED_IDLE` policy: it runs in the time no other thread of the machine wants, and
//! gives way at once to one that wakes (at nice 10 it still took a core's timeslice from the
//! RPC workers between their requests). Jobs run one at a time, in the order they were asked for.
//!
//! Derivation's blob checks (a commitment per blob read from the beacon API) have less slack:
//! the safe head waits on them, and a replica serving a heavy RPC load must not stop deriving.
//! They run on [`KZG_CHECK_THREAD_NAME`] at nice 10 ([`kzg_work`]), a tenth of a default
//! thread's weight, so they still progress on a busy machine.
//!
//! Two things do not wait at a low priority. The trusted setup, which every blob job needs,
//! loads at the default priority as the first low-priority thread starts (the sidecar thread,
//! at once, with [`start_kzg_thread`]): 2 to 3 s of CPU once, which at nice 10 on a busy
//! machine took tens of seconds and held up the first blob batch. And blob work whose slack is
//! gone (a sidecar for a batch whose sequencing window is mostly used up) runs on a third thread, [`KZG_URGENT_THREAD_NAME`], at the default
//! priority ([`urgent_kzg_work`]), its jobs one at a time too; a sidecar queued on the sidecar
//! thread moves there if it becomes urgent before that thread starts it
//! ([`kzg_work_unless_urgent`]).

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{OnceLock, mpsc},
};

/// The name of the sidecar thread (`SCHED_IDLE`), as `top -H` and `/proc/<pid>/task/*/comm`
/// show it. The other KZG threads' names start with it, so a match on that prefix counts all.
pub const KZG_THREAD_NAME: &str = "rollup-kzg";

/// The name of the thread for derivation's blob checks (at [`KZG_THREAD_NICE`]).
pub const KZG_CHECK_THREAD_NAME: &str = "rollup-kzg-chk";

/// The name of the thread for blob work without slack (at the default priority).
pub const KZG_URGENT_THREAD_NAME: &str = "rollup-kzg-now";

/// The nice value of the blob-check thread, and of the sidecar thread where the OS refuses it
/// `SCHED_IDLE`: 10 of 19, a tenth of a default thread's weight.
pub const KZG_THREAD_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// Which KZG thread a job runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Sidecars with slack: `SCHED_IDLE`.
    Sidecar,
    /// Derivation's blob checks: nice 10.
    Check,
    /// Work without slack: the default priority.
    Urgent,
}

/// The queue of a KZG thread, started on first use.
fn queue(lane: Lane) -> &'static mpsc::Sender<Job> {
    static SIDECAR: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    static CHECK: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    static URGENT: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let (cell, name) = match lane {
        Lane::Sidecar => (&SIDECAR, KZG_THREAD_NAME),
        Lane::Check => (&CHECK, KZG_CHECK_THREAD_NAME),
        Lane::Urgent => (&URGENT, KZG_URGENT_THREAD_NAME),
    };
    cell.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                if lane != Lane::Urgent {
                    // The setup at the default priority (shared: a second thread waits for the
                    // first's load). A failed load fails each job that needs it, on its own.
                    let _ = catch_unwind(rollup_primitives::kzg_settings);
                    lower_priority(lane == Lane::Sidecar);
                }
                for job in receiver {
                    job();
                }
            })
            .expect("the OS starts the KZG threads");
        sender
    })
}

/// Starts the KZG thread, if it is not running yet, and with it the load of the trusted setup
/// (at the default priority, then the thread lowers its own): for a node that will need blob
/// work, so that neither its first batch nor its first call of the point-evaluation precompile
/// waits for the load. Returns at once.
pub fn start_kzg_thread() {
    queue(Lane::Sidecar);
}

/// Runs `work` on the thread for blob work without slack ([`KZG_URGENT_THREAD_NAME`], at the
/// default priority), not behind the KZG thread's queue: a sidecar for a batch whose window is
/// mostly used up, which the sequencer's throttle would soon refuse transactions for. An error
/// if it panicked.
pub async fn urgent_kzg_work<T, F>(work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    run_on(queue(Lane::Urgent), work).await
}

/// Runs `work` (a blob check derivation waits for) on the blob-check thread and returns its
/// result; an error if it panicked.
pub async fn kzg_work<T, F>(work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    run_on(queue(Lane::Check), work).await
}

/// Runs `work` (a sidecar) on the sidecar thread, or on the thread for blob work without slack
/// if `urgent` completes before the sidecar thread has started it: a sidecar queued behind other blob work
/// while its batch's window runs down is not left waiting at the low priority. Work the KZG
/// thread has started stays there. Returns its result; an error if it panicked.
pub async fn kzg_work_unless_urgent<T, F>(
    work: F,
    urgent: impl std::future::Future<Output = ()>,
) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, mut result) = tokio::sync::oneshot::channel();
    // Whichever thread takes the job first runs it; the other finds the slot empty.
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(job_reporting_to(work, done))));
    let taken = |slot: &std::sync::Mutex<Option<Job>>| {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    let queued = std::sync::Arc::clone(&slot);
    queue(Lane::Sidecar)
        .send(Box::new(move || {
            if let Some(job) = taken(&queued) {
                job();
            }
        }))
        .map_err(|_| "the KZG thread is gone".to_string())?;
    tokio::pin!(urgent);
    let outcome = tokio::select! {
        biased;
        outcome = &mut result => outcome,
        () = &mut urgent => {
            if let Some(job) = taken(&slot) {
                queue(Lane::Urgent)
                    .send(job)
                    .map_err(|_| "the KZG thread is gone".to_string())?;
            }
            result.await
        }
    };
    outcome.map_err(|_| "the KZG thread dropped a job".to_string())?
}

/// `work` as a job that sends its outcome to `done` (an error if it panicked).
fn job_reporting_to<T, F>(work: F, done: tokio::sync::oneshot::Sender<Result<T, String>>) -> Job
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    Box::new(move || {
        let outcome = catch_unwind(AssertUnwindSafe(work))
            .map_err(|_| "blob work panicked on the KZG thread".to_string());
        // The caller may have gone away; its result is then dropped.
        let _ = done.send(outcome);
    })
}

/// Runs `work` on the thread behind `queue` and returns its result; an error if it panicked.
async fn run_on<T, F>(queue: &mpsc::Sender<Job>, work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    queue
        .send(job_reporting_to(work, done))
        .map_err(|_| "the KZG thread is gone".to_string())?;
    result
        .await
        .map_err(|_| "the KZG thread dropped a job".to_string())?
}

/// Lowers the calling thread's scheduling priority: where `idle`, to Linux's `SCHED_IDLE`
/// policy, or where the OS refuses that, or not `idle`, to [`KZG_THREAD_NICE`]. Best effort:
/// where both are refused, the thread's blob work runs at the default priority.
#[cfg(target_os = "linux")]
fn lower_priority(idle: bool) {
    #[repr(C)]
    struct SchedParam {
        sched_priority: i32,
    }
    unsafe extern "C" {
        fn sched_setscheduler(pid: i32, policy: i32, param: *const SchedParam) -> i32;
        fn setpriority(which: i32, who: u32, prio: i32) -> i32;
    }
    const SCHED_IDLE: i32 = 5;
    let param = SchedParam { sched_priority: 0 };
    // SAFETY: `sched_setscheduler` reads one `sched_param` (a single int, alive for the call);
    // `setpriority` takes plain integers. Given 0 (and `PRIO_PROCESS`, 0), both act on the
    // calling thread: on Linux the policy and the nice value are per thread.
    if idle && unsafe { sched_setscheduler(0, SCHED_IDLE, &param) } == 0 {
        return;
    }
    if unsafe { setpriority(0, 0, KZG_THREAD_NICE) } != 0 {
        tracing::debug!(target: "rollup::l1", error = %std::io::Error::last_os_error(), "cannot lower a KZG thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_idle: bool) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, from `/proc/thread-self/stat` (field 19).
    #[cfg(target_os = "linux")]
    fn nice() -> i32 {
        stat_field(19)
    }

    /// The calling thread's scheduling policy (0 normal, 5 `SCHED_IDLE`), from field 41.
    #[cfg(target_os = "linux")]
    fn policy() -> i32 {
        stat_field(41)
    }

    /// Field `n` (counted from 1) of `/proc/thread-self/stat`, a number.
    #[cfg(target_os = "linux")]
    fn stat_field(n: usize) -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The command name (field 2) may hold spaces: count fields after its closing paren.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split(' ').nth(n - 3).unwrap().parse().unwrap()
    }

    /// Sidecars run under `SCHED_IDLE`, derivation's blob checks at nice 10; the caller keeps
    /// its own priority.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn blob_work_runs_below_the_callers_priority() {
        let (caller, caller_policy) = (nice(), policy());
        assert_eq!(caller_policy, 0);
        let on_check_thread = kzg_work(|| (nice(), policy(), thread_name()))
            .await
            .unwrap();
        assert_eq!(
            on_check_thread,
            (
                KZG_THREAD_NICE.max(caller),
                0,
                Some(KZG_CHECK_THREAD_NAME.to_string())
            )
        );
        let on_sidecar_thread =
            kzg_work_unless_urgent(|| (policy(), thread_name()), std::future::pending())
                .await
                .unwrap();
        assert_eq!(on_sidecar_thread, (5, Some(KZG_THREAD_NAME.to_string())));
        assert_eq!(
            (nice(), policy()),
            (caller, 0),
            "only the KZG threads' priority changed"
        );
    }

    /// Blob work at a window's deadline is not left to the KZG thread's low priority.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn urgent_blob_work_runs_at_the_callers_priority() {
        let caller = nice();
        assert_eq!(urgent_kzg_work(nice).await, Ok(caller));
        assert_eq!(
            urgent_kzg_work(|| std::thread::current().name().map(str::to_owned))
                .await
                .unwrap()
                .as_deref(),
            Some(KZG_URGENT_THREAD_NAME)
        );
        assert!(urgent_kzg_work(|| panic!("bad blob")).await.is_err());
        assert_eq!(urgent_kzg_work(|| 7).await, Ok(7));
    }

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    /// A sidecar queued behind other blob work moves to the urgent thread once its batch runs
    /// short of slack; without that, or once the KZG thread has started it, it stays.
    #[tokio::test]
    async fn queued_blob_work_moves_when_it_becomes_urgent() {
        assert_eq!(
            kzg_work_unless_urgent(thread_name, std::future::pending())
                .await
                .unwrap()
                .as_deref(),
            Some(KZG_THREAD_NAME)
        );

        // Hold the sidecar thread until the queued job has moved and run.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let busy = kzg_work_unless_urgent(
            move || {
                let _ = started.send(());
                let _ = held.recv();
            },
            std::future::pending::<()>(),
        );
        let busy = tokio::spawn(busy);
        running.await.unwrap();
        let (urge, urged) = tokio::sync::oneshot::channel::<()>();
        let moved = tokio::spawn(kzg_work_unless_urgent(thread_name, async {
            let _ = urged.await;
        }));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!moved.is_finished(), "queued behind the busy job");
        urge.send(()).unwrap();
        let moved = tokio::time::timeout(std::time::Duration::from_secs(10), moved)
            .await
            .expect("ran while the KZG thread was still busy");
        assert_eq!(
            moved.unwrap().unwrap().as_deref(),
            Some(KZG_URGENT_THREAD_NAME)
        );
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();

        // Started on the KZG thread before it became urgent: finished there, reported once.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let (urge, urged) = tokio::sync::oneshot::channel::<()>();
        let stays = tokio::spawn(kzg_work_unless_urgent(
            move || {
                let _ = started.send(());
                let _ = held.recv();
                thread_name()
            },
            async {
                let _ = urged.await;
            },
        ));
        running.await.unwrap();
        urge.send(()).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        release.send(()).unwrap();
        assert_eq!(
            stays.await.unwrap().unwrap().as_deref(),
            Some(KZG_THREAD_NAME)
        );
        assert!(
            kzg_work_unless_urgent(|| panic!("bad blob"), std::future::pending::<()>())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_thread_goes_on() {
        let err = kzg_work(|| panic!("bad blob")).await.unwrap_err();
        assert!(err.contains("panicked"), "{err}");
        assert_eq!(kzg_work(|| 7).await, Ok(7));
    }
}
