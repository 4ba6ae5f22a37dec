//! Start-up work run once when the component is built, not at every
//! instantiation: tests/build.rs calls `wizer-initialize` under
//! `wasmtime-wizer` and ships the snapshot of memory and globals it leaves.
//!
//! wit-bindgen's export glue runs the static constructors (`inventory`
//! registrations of Starlark's built-ins, ~120 µs of each fresh instance)
//! before any export, once per instance; calling this export runs them, and
//! the snapshot keeps the flag saying they ran. It also builds Starlark's
//! standard globals and method tables (`script::prepare`, ~3.6 ms of every
//! instance's first script otherwise). Nothing here may call an import but
//! the hash seed: the build instantiates the component with every other
//! import trapping (tests/build/preinit.rs).

use crate::Component;

impl crate::bindings::Guest for Component {
    fn wizer_initialize() {
        ado_connector_core::mapping::script::prepare();
    }
}
