//! Host-side bindings of the `connector` world, generated from `../wit` only.
//!
//! Imports are not trappable: `http.send` answers every failure with an
//! `http-error`, and `store` cannot fail. `PartialEq` is derived so callers
//! and tests can compare values (no `Eq`: `field-value` holds an `f64`).
//!
//! Beware: the generated `Debug` of `Connection`/`Credentials` prints the
//! secret strings; never `{:?}` a connection.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "connector",
    additional_derives: [PartialEq],
});
