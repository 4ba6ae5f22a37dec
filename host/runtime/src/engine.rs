//! The component compiled once (by the compilers of `tiers`), and
//! sandboxed stores whose calls each get an epoch deadline, a memory limit
//! and their own egress; a store and its instance serve the next call only
//! after a clean answer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::bindings::Connector;
use crate::bindings::secops::ticketing::types::ConnectorError;
use crate::call_state::CallState;
use crate::egress::Egress;
use crate::kv::Kv;
use crate::limits::Limits;
use crate::pacing::Pacer;
use crate::tiers::{Background, Compiled, Compiler, Tier, Tiers};

/// Why a plugin call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin's typed answer.
    #[error("{}", crate::convert::describe(.0))]
    Connector(ConnectorError),
    /// The call ran past its deadline and was stopped.
    #[error("plugin call exceeded its deadline of {0:?}")]
    Deadline(Duration),
    /// The plugin tried to grow its memory past `Limits::memory_bytes`.
    #[error("plugin exceeded its memory limit")]
    Memory,
    /// Any other trap or instantiation failure.
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The call never started: every instance slot stayed busy until its
    /// deadline, or the queue of waiting calls was full. Nothing was sent;
    /// try again later.
    #[error("the host is busy: {0}")]
    Busy(String),
}

/// How the engine is set up (beyond the per-call [`Limits`]).
#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    /// Where compiled components are kept between runs (see
    /// [`crate::compile_cache`]: keyed by the component's bytes and the
    /// engine's settings, so a changed plugin or host compiles afresh).
    /// `None`: every start compiles.
    pub cache_dir: Option<PathBuf>,
    /// Allocate instances on demand instead of from the pooling allocator.
    pub on_demand: bool,
    /// Send every request at once, ignoring `Retry-After` and a low
    /// `X-RateLimit-Remaining` (see `pacing`); for measurements.
    pub no_pacing: bool,
    /// Instantiate the component afresh for every call instead of reusing
    /// an instance that ended its last call cleanly (see [`Host::call`]).
    pub fresh_instances: bool,
    /// Which compiler makes the plugin's code (see [`Compiler`]): by
    /// default the baseline compiler's at once when the cache lacks the
    /// optimising compiler's, which replaces it as soon as it is compiled.
    pub compiler: Compiler,
}

impl HostOptions {
    /// The cache directory the CLI uses unless told otherwise:
    /// `$XDG_CACHE_HOME/ticketing-host`, else `$HOME/.cache/ticketing-host`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("ticketing-host"))
    }
}

/// Calls that may run at once on one host with the pooling allocator; more
/// wait for a slot in a bounded queue (wasmtime refuses an instance past
/// the pool, so a call must not try before it has a slot).
pub const MAX_CONCURRENT_CALLS: u32 = 64;

/// Calls that may wait for a slot; one more is refused at once as
/// [`CallError::Busy`] rather than piling up without bound.
pub const MAX_QUEUED_CALLS: usize = 1024;

/// The instance slots: a counting semaphore whose waiters give up at their
/// call's deadline.
struct Slots {
    state: Mutex<(u32, usize)>, // (running, waiting)
    freed: std::sync::Condvar,
}

/// A slot held by a running call; released when dropped.
struct Slot<'a>(&'a Slots);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.0 -= 1;
        }
        self.0.freed.notify_one();
    }
}

impl Slots {
    fn new() -> Self {
        Slots {
            state: Mutex::new((0, 0)),
            freed: std::sync::Condvar::new(),
        }
    }

    /// A slot, waiting in the queue until `deadline` at the latest.
    fn acquire(&self, deadline: Instant) -> Result<Slot<'_>, CallError> {
        fn poisoned<T>(_: T) -> CallError {
            CallError::Trap("the slot lock was poisoned".into())
        }
        let mut state = self.state.lock().map_err(poisoned)?;
        if state.0 < MAX_CONCURRENT_CALLS {
            state.0 += 1;
            return Ok(Slot(self));
        }
        if state.1 >= MAX_QUEUED_CALLS {
            return Err(CallError::Busy(format!(
                "{MAX_CONCURRENT_CALLS} calls running and {MAX_QUEUED_CALLS} waiting"
            )));
        }
        state.1 += 1;
        let started = Instant::now();
        loop {
            let now = Instant::now();
            if now >= deadline {
                state.1 -= 1;
                return Err(CallError::Busy(format!(
                    "no instance slot freed within {:?} ({MAX_CONCURRENT_CALLS} calls running)",
                    now - started
                )));
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .map_err(poisoned)?
                .0;
            if state.0 < MAX_CONCURRENT_CALLS {
                state.0 += 1;
                state.1 -= 1;
                return Ok(Slot(self));
            }
        }
    }
}

/// Idle instances kept for reuse; more are dropped when their call ends.
const MAX_IDLE: usize = 16;

/// An instance no call holds, with its store and the compiled form it
/// was made from.
struct Warm {
    store: Store<CallState>,
    connector: Connector,
    calls: u32,
    compiled: Arc<Compiled>,
}

/// The connector component, ready to be called.
pub struct Host {
    tiers: Arc<Tiers>,
    /// The optimising compile running in the background, if any.
    upgrade: Mutex<Option<Background>>,
    idle: Mutex<Vec<Warm>>,
    slots: Slots,
    reuse: bool,
    kv: Kv,
    agent: ureq::Agent,
    pacer: Pacer,
    limits: Limits,
}

impl Drop for Host {
    /// A host that started on the baseline code waits here for the
    /// optimising compile when the artifact goes to the cache, so the next
    /// start maps it instead of starting on the baseline code again; with
    /// no cache (or one not used), the compile's result would die with the
    /// host, and the thread is left to end on its own.
    fn drop(&mut self) {
        let upgrade = self.upgrade.get_mut().ok().and_then(Option::take);
        if let Some(Background { thread, stores }) = upgrade
            && stores
        {
            if !thread.is_finished() {
                tracing::info!("storing the optimised plugin code in the cache before exiting");
            }
            let _ = thread.join();
        }
    }
}

impl Host {
    /// Compiles the component file once (pooling allocator, no disk cache).
    pub fn load(component: &Path, limits: Limits) -> anyhow::Result<Host> {
        Host::load_with(component, limits, &HostOptions::default())
    }

    /// Compiles (or takes from the cache) the component file once.
    pub fn load_with(
        component: &Path,
        limits: Limits,
        options: &HostOptions,
    ) -> anyhow::Result<Host> {
        let bytes = std::fs::read(component)
            .with_context(|| format!("reading the plugin component {}", component.display()))?;
        Host::from_bytes_with(&bytes, limits, options)
    }

    /// Compiles a component from its bytes.
    pub fn from_bytes(bytes: &[u8], limits: Limits) -> anyhow::Result<Host> {
        Host::from_bytes_with(bytes, limits, &HostOptions::default())
    }

    /// Compiles a component from its bytes with these engine options.
    pub fn from_bytes_with(
        bytes: &[u8],
        limits: Limits,
        options: &HostOptions,
    ) -> anyhow::Result<Host> {
        let (tiers, upgrade) = crate::tiers::start(bytes, &limits, options)?;
        Ok(Host {
            tiers,
            upgrade: Mutex::new(upgrade),
            idle: Mutex::new(Vec::new()),
            slots: Slots::new(),
            reuse: !options.fresh_instances,
            kv: Kv::default(),
            agent: crate::http_import::agent(),
            pacer: if options.no_pacing {
                Pacer::disabled()
            } else {
                Pacer::default()
            },
            limits,
        })
    }

    /// Which compiler made the code new instances run now.
    pub fn tier(&self) -> Tier {
        self.tiers.current().tier
    }

    /// Waits at most `within` for the optimising compile a host started on
    /// the baseline code runs in the background; the tier new instances
    /// then come from ([`Tier::Optimized`] at once if there was nothing to
    /// wait for, or if the optimising compile failed: [`Tier::Baseline`]).
    pub fn settle(&self, within: Duration) -> Tier {
        self.tiers.settle(within)
    }

    /// Instances kept for the next calls (see [`Host::call`]): those made
    /// from the current compiled form (one of a replaced form is dropped
    /// when next met, never reused).
    pub fn idle_instances(&self) -> usize {
        let current = self.tiers.current();
        self.idle.lock().map_or(0, |idle| {
            idle.iter()
                .filter(|warm| Arc::ptr_eq(&warm.compiled, &current))
                .count()
        })
    }

    /// The limits every call of this host runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Runs one export call with this call's egress, deadline and memory
    /// limit.
    ///
    /// The instance is one whose previous call ended cleanly (its answer
    /// returned, typed errors included), else a new one. An instance that
    /// trapped, ran out of time or memory, or grew past [`REUSE_MEMORY`] is
    /// dropped, never reused: whatever state it was left in goes with it.
    /// Reuse keeps what the plugin's dependencies initialise once (allocator
    /// arenas, interned strings) and skips instantiation; the plugin itself
    /// keeps only what cannot go stale between calls (Starlark's frozen
    /// built-ins, and values parsed from the `store` import, used only while
    /// the store returns the same text), and the `store` import is its only
    /// cache.
    pub(crate) fn call<R>(
        &self,
        egress: Egress,
        f: impl FnOnce(&Connector, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        // The slot is released (by drop) only after the instance is idle or
        // dropped, so the pool never holds more instances than slots.
        let _slot = self
            .slots
            .acquire(Instant::now() + self.limits.queue_wait)?;
        let mut warm = match self.take_idle() {
            Some(warm) => warm,
            None => self.instantiate()?,
        };
        warm.store
            .data_mut()
            .begin(egress, self.limits.call_deadline);
        // Counted from now: the epoch callback compares the wall clock with
        // the call's deadline.
        warm.store.set_epoch_deadline(1);
        let result = f(&warm.connector, &mut warm.store);
        match result {
            Ok(r) => {
                warm.calls += 1;
                self.put_idle(warm);
                Ok(r)
            }
            Err(e) => Err(self.call_error(&warm.store, e)),
        }
    }

    /// An idle instance of the current compiled form; those of a replaced
    /// form are dropped on the way.
    fn take_idle(&self) -> Option<Warm> {
        if !self.reuse {
            return None;
        }
        let current = self.tiers.current();
        let mut idle = self.idle.lock().ok()?;
        while let Some(warm) = idle.pop() {
            if Arc::ptr_eq(&warm.compiled, &current) {
                return Some(warm);
            }
        }
        None
    }

    fn put_idle(&self, warm: Warm) {
        let state = warm.store.data();
        if !self.reuse
            || state.limiter.grown_to > REUSE_MEMORY
            || warm.calls >= REUSE_CALLS
            || !Arc::ptr_eq(&warm.compiled, &self.tiers.current())
        {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(warm);
        }
    }

    /// A new instance in a new sandboxed store.
    fn instantiate(&self) -> Result<Warm, CallError> {
        let state = CallState::new(
            Egress::none(),
            self.kv.clone(),
            self.agent.clone(),
            self.pacer.clone(),
            self.limits.call_deadline,
            self.limits.memory_bytes,
            self.limits.max_response_bytes,
        );
        let compiled = self.tiers.current();
        let mut store = Store::new(&compiled.engine, state);
        store.limiter(|s| &mut s.limiter);
        // The guest checks the epoch at every tick; the callback compares the
        // wall clock with the call's deadline (host calls included) and traps
        // with `Trap::Interrupt` once it has passed, so the deadline holds to
        // within one tick whatever the ticker thread's drift.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            Ok(if Instant::now() >= ctx.data().deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(1)
            })
        });
        match compiled.pre.instantiate(&mut store) {
            Ok(connector) => Ok(Warm {
                store,
                connector,
                calls: 0,
                compiled,
            }),
            Err(e) => Err(self.call_error(&store, e)),
        }
    }

    fn call_error(&self, store: &Store<CallState>, e: wasmtime::Error) -> CallError {
        if store.data().limiter.hit {
            CallError::Memory
        } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            CallError::Deadline(self.limits.call_deadline)
        } else {
            CallError::Trap(format!("{e:#}"))
        }
    }
}

/// An instance whose memory grew past this is not reused, so that one large
/// call (an attachment of many findings) does not keep its memory.
const REUSE_MEMORY: usize = 64 << 20;

/// Calls an instance serves before it is replaced, bounding what a slow
/// leak in a dependency could accumulate.
const REUSE_CALLS: u32 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_a_component_are_refused() {
        let err = Host::from_bytes(b"not wasm", Limits::default())
            .err()
            .expect("refused");
        assert!(
            format!("{err:#}").contains("compiling the plugin component"),
            "{err:#}"
        );
    }

    #[test]
    fn a_component_without_the_connector_exports_is_refused() {
        // A valid, empty component (WAT text): it compiles and links, but
        // exports nothing of the world.
        let err = Host::from_bytes(b"(component)", Limits::default())
            .err()
            .expect("refused");
        assert!(
            format!("{err:#}").contains("does not fit the connector world"),
            "{err:#}"
        );
    }

    #[test]
    fn call_errors_read_well() {
        assert_eq!(
            CallError::Deadline(Duration::from_secs(2)).to_string(),
            "plugin call exceeded its deadline of 2s"
        );
        assert_eq!(
            CallError::Memory.to_string(),
            "plugin exceeded its memory limit"
        );
    }
}
