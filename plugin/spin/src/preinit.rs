//! Start-up work run once when the component is built, not at every
//! request: tests/build.rs calls `wizer-initialize` under `wasmtime-wizer`
//! and ships the snapshot of memory and globals it leaves, as it does for
//! the plugin (plugin/component/src/preinit.rs).
//!
//! Spin makes a new instance for every request, so whatever an instance
//! builds on its first use, every request pays: the static constructors
//! (`inventory` registrations of Starlark's built-ins) and Starlark's
//! standard globals and method tables, which every request running a
//! mapping script would otherwise build again (`script::prepare`). Nothing
//! here may call an import but the hash seed: the build instantiates the
//! component with every other import trapping (tests/build/preinit.rs).
//!
//! The export comes from spin-sdk's own wit-bindgen (re-exported by it), so
//! this crate adds no dependency; the snapshot keeps the export, a function
//! that then does nothing.

// The generated glue is the only unsafe code, and it is wit-bindgen's.
#[allow(unsafe_code)]
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        inline: "
            package local:spin-preinit;
            world preinit {
                /// Start-up work done once at build time (see `preinit.rs`).
                export wizer-initialize: func();
            }
        ",
        world: "local:spin-preinit/preinit",
        runtime_path: "spin_sdk::wit_bindgen::rt",
    });
}

struct Preinit;

impl bindings::Guest for Preinit {
    fn wizer_initialize() {
        ado_connector_core::mapping::script::prepare();
    }
}

#[allow(unsafe_code)]
mod export {
    use super::{Preinit, bindings};
    bindings::export!(Preinit with_types_in bindings);
}
