//! `ado-connector-core` holds all the logic of the Azure DevOps ticketing
//! connector: the one ADO REST client, authentication, the connection test,
//! schema reading, the outegration config, the mapping engine, dispatch,
//! ticket → work item sync, finding attachments and the service-hook
//! webhooks (work item → ticket).
//!
//! It must not depend on any binding (no wit-bindgen, no spin-sdk, no wasmtime):
//! the outside world reaches it only through the [`env::Env`] trait, so the
//! same code runs in the plugin component, in Spin and in native unit tests.

pub mod attachments;
pub mod auth;
pub mod client;
pub mod config;
pub mod connection;
pub mod dispatch;
pub mod env;
pub mod error;
mod kv_memo;
pub mod mapping;
pub mod model;
pub mod schema;
pub mod setup;
pub mod sync;
pub mod target;
pub mod webhook;
pub mod workitem;

#[cfg(test)]
mod testing;

pub use env::Env;
pub use error::{ConnectorError, Issue, Problem};
