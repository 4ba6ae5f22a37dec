//! The plugin's start-up, run once at build time: `wasmtime-wizer`
//! instantiates the component, calls its `wizer-initialize` export
//! (plugin/component/src/preinit.rs) and writes a component whose memory and
//! globals start where that call left them, so a fresh instance no longer
//! runs the static constructors.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, Waker};

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store};
use wasmtime_wizer::Wizer;

/// Writes `<name>.pre.wasm` beside `raw` and returns its path.
pub fn snapshot(raw: &Path) -> PathBuf {
    let out = raw.with_extension("pre.wasm");
    let wasm = std::fs::read(raw).unwrap_or_else(|e| panic!("reading {}: {e}", raw.display()));
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).expect("a wasmtime engine for the snapshot");
    let mut store = Store::new(&engine, ());
    let mut wizer = Wizer::new();
    // Removing the export leaves the component aliasing the core export it
    // also removed, and the rewritten component fails validation ("core
    // instance 20 has no export named `wizer-initialize`"; wasmtime issue
    // 13168). Kept, it stays a function that does nothing: the constructors
    // it would run are marked as run in the snapshot.
    wizer.keep_init_func(true);
    // The initialiser may call no import but the hash seed: every other
    // one traps if called, so start-up work that needs the host fails the
    // build instead of being frozen into the snapshot.
    let seed = build_hash_seed();
    let run = wizer.run_component(&mut store, &wasm, async |store, component| {
        let mut linker = Linker::new(store.engine());
        // Starlark's built-ins (`script::prepare`) compile regular
        // expressions, whose builders use `std`'s hash maps, which take
        // their keys from WASI's insecure seed once per instance. That
        // interface is for hash-map seeding and may be deterministic (WASI
        // 0.2, `wasi:random/insecure-seed`); answered here, the keys are in
        // the snapshot, one pair per build, drawn from this build's OS
        // randomness, so they are not known from the source.
        linker
            .instance("wasi:random/insecure-seed@0.2.6")?
            .func_wrap("insecure-seed", move |_, ()| Ok((seed,)))?;
        linker.define_unknown_imports_as_traps(component)?;
        linker.instantiate_async(store, component).await
    });
    let (snapshot, _) =
        block_on(run).unwrap_or_else(|e| panic!("pre-initialising {}: {e:?}", raw.display()));
    std::fs::write(&out, snapshot).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    out
}

/// Two words from the build process's own OS-seeded hash keys: `std`
/// draws them from the operating system's random source, and Cargo gives a
/// build script no other without a new dependency.
fn build_hash_seed() -> (u64, u64) {
    use std::hash::{BuildHasher, RandomState};
    let word = |salt: u64| RandomState::new().hash_one(salt);
    (word(0), word(1))
}

/// Runs a future that never waits on I/O (wizer's API is async, the work is
/// not): polled until ready, no executor needed.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
