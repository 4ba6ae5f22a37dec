//! `ticketing-tests` builds the guest components (see `build.rs`) and holds
//! the end-to-end tests and the demo: the real `.wasm`, loaded by the
//! wasmtime host, talking HTTP to the ADO emulator.
//!
//! This crate may depend on every crate of the workspace; nothing depends on it.

use std::path::Path;

pub mod demo;

/// The connector component built by `build.rs`.
pub fn plugin_wasm() -> &'static Path {
    Path::new(env!("ADO_PLUGIN_WASM"))
}

/// The misbehaving fixture component built by `build.rs`.
pub fn misbehaving_wasm() -> &'static Path {
    Path::new(env!("MISBEHAVING_PLUGIN_WASM"))
}

/// The connector as a Spin HTTP component, built by `build.rs`.
pub fn spin_wasm() -> &'static Path {
    Path::new(env!("ADO_SPIN_WASM"))
}

/// The repository root, where `examples/` lives.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// Engine options of the test suites: the host's compile cache
/// (`ticketing_runtime::compile_cache`) under `target/`, so the dozen test
/// binaries compile the plugin once between them instead of once each
/// (keyed by the component's bytes: a rebuilt plugin compiles afresh).
pub fn host_options() -> ticketing_runtime::HostOptions {
    ticketing_runtime::HostOptions {
        cache_dir: Some(workspace_root().join("target").join("wasmtime-cache")),
        ..Default::default()
    }
}

/// [`host_options`] for measurements of the steady state: the optimising
/// compiler's code from the first call (`Compiler::Optimizing`), so that a
/// bench started without the artifact in the cache does not measure the
/// baseline compiler's code for its first seconds.
pub fn steady_host_options() -> ticketing_runtime::HostOptions {
    ticketing_runtime::HostOptions {
        compiler: ticketing_runtime::Compiler::Optimizing,
        ..host_options()
    }
}
