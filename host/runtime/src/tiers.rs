//! Which compiler makes the plugin's machine code, and the switch from the
//! quick one to the good one.
//!
//! Cranelift, wasmtime's optimising compiler, takes seconds to compile the
//! plugin on a small machine (4.3 s on 2 cores, BENCHMARKS.md), paid at
//! every new plugin version by every host without the artifact. Winch,
//! wasmtime's baseline compiler (a Tier 1 compiler in wasmtime's support
//! tiers, as Cranelift is), compiles it in about a quarter of that, and its
//! code runs about 1.3 to 1.7 times slower. So a host whose compile cache
//! does not hold Cranelift's artifact ([`Compiler::Tiered`], the default)
//! answers its first calls with Winch's code while Cranelift compiles on a
//! background thread; new instances run Cranelift's code once it is ready,
//! and the artifact is stored in the cache, so the next start maps it and
//! never runs Winch's code at all.
//!
//! Each compiled form has its own engine (the compiler is an engine
//! setting) and its own epoch ticker; instances of the replaced form finish
//! their call and are not reused, and the engine goes with the last of them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};

use crate::bindings::{Connector, ConnectorPre};
use crate::call_state::CallState;
use crate::compile_cache::{Lookup, Slot, lookup};
use crate::engine::{HostOptions, MAX_CONCURRENT_CALLS};
use crate::limits::Limits;

/// How the epoch advances; the deadline's resolution.
const TICK: Duration = Duration::from_millis(5);

/// Which compiler a host uses for the plugin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compiler {
    /// Cranelift's code from the compile cache when it holds it; otherwise
    /// Winch's code at once and Cranelift's as soon as it is compiled (see
    /// the module documentation).
    #[default]
    Tiered,
    /// Cranelift only: the first call waits for its compile (or the cache).
    /// For measurements of the steady state, and hosts that prefer a slower
    /// start to a slower first minute.
    Optimizing,
    /// Winch only, never replaced, never cached.
    Baseline,
}

/// Which compiler made the code new instances run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Winch's code.
    Baseline,
    /// Cranelift's code.
    Optimized,
}

/// The component compiled by one engine, linked and ready to instantiate.
pub(crate) struct Compiled {
    pub engine: Engine,
    pub pre: ConnectorPre<CallState>,
    pub tier: Tier,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Compiled {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// What new instances are made from, and the state of the switch.
pub(crate) struct Tiers {
    current: RwLock<Arc<Compiled>>,
    upgrade: Mutex<Upgrade>,
    changed: Condvar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// Nothing to wait for: the code is final.
    None,
    /// Cranelift is compiling on a background thread.
    Pending,
}

impl Tiers {
    /// The compiled component new instances come from.
    pub fn current(&self) -> Arc<Compiled> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Waits at most `within` for a pending switch to Cranelift's code;
    /// the tier new instances then come from.
    pub fn settle(&self, within: Duration) -> Tier {
        let deadline = Instant::now() + within;
        if let Ok(mut upgrade) = self.upgrade.lock() {
            while *upgrade == Upgrade::Pending {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                match self.changed.wait_timeout(upgrade, deadline - now) {
                    Ok((next, _)) => upgrade = next,
                    Err(_) => break,
                }
            }
        }
        self.current().tier
    }

    fn finish(&self, optimized: Option<Compiled>) {
        if let Some(optimized) = optimized {
            let optimized = Arc::new(optimized);
            match self.current.write() {
                Ok(mut current) => *current = optimized,
                Err(poisoned) => *poisoned.into_inner() = optimized,
            }
        }
        if let Ok(mut upgrade) = self.upgrade.lock() {
            *upgrade = Upgrade::None;
        }
        self.changed.notify_all();
    }
}

/// The optimising compile a host started on the baseline code runs.
pub(crate) struct Background {
    pub thread: JoinHandle<()>,
    /// Whether its artifact goes to the cache directory (and so outlives
    /// the host).
    pub stores: bool,
}

/// The compiled component as `options.compiler` says, and the background
/// compile of Cranelift's code when the host starts on Winch's.
pub(crate) fn start(
    bytes: &[u8],
    limits: &Limits,
    options: &HostOptions,
) -> anyhow::Result<(Arc<Tiers>, Option<Background>)> {
    let settled = |compiled: Compiled| {
        let tiers = Tiers {
            current: RwLock::new(Arc::new(compiled)),
            upgrade: Mutex::new(Upgrade::None),
            changed: Condvar::new(),
        };
        Ok((Arc::new(tiers), None))
    };
    if options.compiler == Compiler::Baseline {
        let winch = engine(Tier::Baseline, limits, options)?;
        let component = Component::new(&winch, bytes)
            .map_err(|e| wasm_error("compiling the plugin component", e))?;
        return settled(link(winch, &component, Tier::Baseline)?);
    }
    let optimizing = engine(Tier::Optimized, limits, options)?;
    // The cache is looked at once; on a miss, the background compile
    // stores into the slot it names.
    let slot = match options
        .cache_dir
        .as_deref()
        .map(|dir| lookup(&optimizing, bytes, dir))
    {
        Some(Lookup::Hit(component)) => {
            return settled(link(optimizing, &component, Tier::Optimized)?);
        }
        Some(Lookup::Miss(slot)) => Some(slot),
        Some(Lookup::Off) | None => None,
    };
    if options.compiler == Compiler::Optimizing {
        return settled(optimized(optimizing, bytes, slot.as_ref())?);
    }
    let winch = engine(Tier::Baseline, limits, options)?;
    let baseline = match Component::new(&winch, bytes) {
        Ok(component) => link(winch, &component, Tier::Baseline)?,
        // A plugin Winch cannot compile (a proposal it lacks) still loads,
        // at Cranelift's pace; bytes that are no component fail there too.
        Err(e) => {
            tracing::info!(
                "the baseline compiler refused the plugin ({e}); compiling it optimised"
            );
            return settled(optimized(optimizing, bytes, slot.as_ref())?);
        }
    };
    let tiers = Arc::new(Tiers {
        current: RwLock::new(Arc::new(baseline)),
        upgrade: Mutex::new(Upgrade::Pending),
        changed: Condvar::new(),
    });
    let stores = slot.is_some();
    let bytes = bytes.to_vec();
    let switch = tiers.clone();
    let thread = std::thread::Builder::new()
        .name("plugin-optimizing-compile".into())
        .spawn(move || {
            let started = Instant::now();
            // Dropped however the compile ends, a panic included, so a
            // waiting `settle` or drop never waits for a switch that will
            // not come.
            let mut done = Finish(switch, None);
            done.1 = optimized(optimizing, &bytes, slot.as_ref())
                .inspect(|_| {
                    tracing::info!(
                        seconds = started.elapsed().as_secs_f64(),
                        "the plugin's optimised code now serves new calls"
                    );
                })
                .inspect_err(|e| tracing::warn!("the plugin keeps its baseline code: {e:#}"))
                .ok();
        })?;
    Ok((tiers, Some(Background { thread, stores })))
}

/// Ends a pending switch when dropped: to the optimised code it holds, or
/// none (the baseline code stays).
struct Finish(Arc<Tiers>, Option<Compiled>);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.finish(self.1.take());
    }
}

/// Cranelift's code, compiled (and stored in `slot`, when the cache has one).
fn optimized(engine: Engine, bytes: &[u8], slot: Option<&Slot>) -> anyhow::Result<Compiled> {
    let component = match slot {
        Some(slot) => slot.compile(&engine, bytes),
        None => Component::new(&engine, bytes),
    }
    .map_err(|e| wasm_error("compiling the plugin component", e))?;
    link(engine, &component, Tier::Optimized)
}

/// The component linked to WASI and the host's imports, with its ticker.
fn link(engine: Engine, component: &Component, tier: Tier) -> anyhow::Result<Compiled> {
    let mut linker: Linker<CallState> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| wasm_error("linking WASI", e))?;
    Connector::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| wasm_error("linking the imports", e))?;
    let pre = linker
        .instantiate_pre(component)
        .and_then(ConnectorPre::new)
        .map_err(|e| wasm_error("the component does not fit the connector world", e))?;
    let ticker_stop = Arc::new(AtomicBool::new(false));
    spawn_ticker(engine.clone(), ticker_stop.clone());
    Ok(Compiled {
        engine,
        pre,
        tier,
        ticker_stop,
    })
}

/// An engine for `tier`: epoch interruption for deadlines, the pooling
/// allocator (instances reuse pre-reserved slots instead of mapping memory
/// on every call).
fn engine(tier: Tier, limits: &Limits, options: &HostOptions) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true).epoch_interruption(true);
    config.strategy(match tier {
        Tier::Baseline => Strategy::Winch,
        Tier::Optimized => Strategy::Cranelift,
    });
    if !options.on_demand {
        let mut pool = PoolingAllocationConfig::new();
        // A slot may grow one page past the limit, so that the limiter (which
        // records why) refuses the growth rather than the pool.
        let page = 64 << 10;
        pool.total_component_instances(MAX_CONCURRENT_CALLS)
            .total_core_instances(MAX_CONCURRENT_CALLS * 8)
            .total_memories(MAX_CONCURRENT_CALLS * 2)
            .total_tables(MAX_CONCURRENT_CALLS * 8)
            .total_stacks(MAX_CONCURRENT_CALLS)
            .max_memory_size(limits.memory_bytes.div_ceil(page) * page + page)
            .table_elements(100_000)
            // A fresh instance's first touch of each page of its memory image
            // was a page fault, and the slot's reset an madvise (together
            // about a quarter of a fresh call, BENCHMARKS.md). With
            // PAGEMAP_SCAN (Linux 6.7+) the reset copies back from the image
            // only the pages the last call dirtied, up to these sizes, and
            // keeps them mapped; older kernels fall back to madvise.
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .table_keep_resident(KEEP_RESIDENT_TABLE)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    // `perf record` can name the plugin's functions only from a perf map.
    if std::env::var_os("TICKETING_HOST_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config).map_err(|e| wasm_error("configuring the engine", e))
}

/// Bytes of a slot's linear memory kept mapped between instances (reset
/// from the image, page by page, where PAGEMAP_SCAN says they were written).
const KEEP_RESIDENT_MEMORY: usize = 8 << 20;

/// Bytes of a slot's tables kept mapped between instances: all of them
/// (`table_elements` pointers).
const KEEP_RESIDENT_TABLE: usize = 1 << 20;

pub(crate) fn wasm_error(what: &str, e: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{what}: {e:?}")
}

fn spawn_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch ticker");
}
