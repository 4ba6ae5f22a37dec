//! `ado-connector-plugin` is the Azure DevOps connector as a WebAssembly
//! component of the `secops:ticketing/connector` world. It is a thin adapter:
//! it turns WIT values into core types (in `convert.rs`), calls
//! `ado-connector-core`, and hands the host's imports to core as its `Env`.
//!
//! It must hold no connector logic of its own, and depend on nothing but
//! core and wit-bindgen.

// The generated glue is the only unsafe code, and it is wit-bindgen's.
#[allow(unsafe_code)]
mod bindings {
    // The connector world plus `wizer-initialize`, which the build runs once
    // and snapshots (tests/build.rs); the snapshot keeps it as a function
    // that does nothing (tests/build/preinit.rs says why).
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "
            package local:plugin;
            world plugin {
                include secops:ticketing/connector@0.1.0;
                /// Start-up work done once at build time (see `preinit.rs`).
                export wizer-initialize: func();
            }
        ",
        world: "local:plugin/plugin",
        // The connector world's interfaces live in the `path` package.
        generate_all,
    });
}

mod convert;
mod env;
mod exports;
mod preinit;

struct Component;

// Only a wasm build exports the world: natively (`cargo build --workspace`
// links every cdylib) the linker refuses the component model's export
// names, which contain `:` and `/`.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use super::{Component, bindings};
    bindings::export!(Component with_types_in bindings);
}
