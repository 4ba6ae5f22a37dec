//! `ado-connector-spin` is the Azure DevOps connector as a Spin HTTP
//! component: a standalone connector service with a versioned JSON API
//! (`/v1/...`) for SecOps platforms that cannot embed a component. It keeps
//! its links, the webhook dedupe marks, the change feed and the token cache
//! in Spin key-value storage (claims on atomic increments where simultaneous
//! requests must not both act, see `claims.rs`), and forwards ticket changes coming from ADO
//! service hooks to a configured callback URL.
//!
//! All connector logic is `ado-connector-core`'s. This crate only routes
//! requests, converts JSON to core types and back (`convert.rs`), and keeps
//! state. It must not depend on the host, on wit-bindgen or on wasmtime;
//! spin-sdk is reached only from `spin.rs` and `preinit.rs` (the build-time
//! start-up export, through spin-sdk's re-exported wit-bindgen), compiled
//! for wasm32 alone, so the rest builds and is unit-tested natively against
//! [`platform::Platform`].

pub mod api;
pub mod claims;
pub mod convert;
pub mod error;
pub mod feed;
pub mod handlers;
pub mod links;
pub mod platform;
pub mod routes;
pub mod seq;
pub mod settings;
pub mod subscriptions;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod preinit;
#[cfg(target_arch = "wasm32")]
mod spin;

#[cfg(test)]
mod tests;

pub use platform::{ApiRequest, ApiResponse, Platform};
pub use routes::handle;
