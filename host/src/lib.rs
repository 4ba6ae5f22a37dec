//! `ticketing-host` is the wasmtime reference host of the
//! `secops:ticketing/connector` world: it compiles the connector component
//! once, runs every call in a sandboxed store with that call's deadline,
//! memory limit and egress allow-list (WASI grants nothing; an instance is
//! reused only after a clean answer), implements the `http` and
//! `store` imports, and offers a CLI and the demo.
//!
//! It depends on the WIT contract only: it never links the connector's core,
//! and talks to the plugin solely through the component boundary. (The demo
//! links the ADO emulator, to run without an organization.)

mod bindings;
pub mod bulk_dispatch;
mod calls;
pub mod cli;
pub mod commands;
pub mod compile_cache;
pub mod config;
pub mod db;
pub mod demo;
mod demo_lifecycle;
pub mod display;
mod egress;
mod engine;
pub mod grouping;
mod http_import;
mod inbox_writer;
pub mod ingest;
pub mod jobs;
mod kv;
pub mod lifecycle;
mod limits;
pub mod outbox;
mod pacing;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod serve;
mod state;
pub mod subscriptions;
pub mod ticket_edit;
pub mod ticket_file;
pub mod visibility;

pub use bindings::exports::secops::ticketing::auth::{ConnectionInfo, Deployment, Identity};
pub use bindings::exports::secops::ticketing::dispatch::DispatchPreview;
pub use bindings::exports::secops::ticketing::schema::{
    FieldInfo, InputType, StateCategory, StateInfo, WorkItemType,
};
pub use bindings::exports::secops::ticketing::sync::{
    CloseItem, CloseOutcome, Conflict, PushOutcome, StateChange, Transition,
};
pub use bindings::exports::secops::ticketing::webhook::{
    Delivery, DeliveryAuth, DeliveryRequest, Outcome, Subscription, TicketUpdate,
};
pub use bindings::secops::ticketing::types::{
    ClientCredentials, Comment, Connection, ConnectorError, Credentials, Field, FieldValue,
    Finding, Issue, Link, Problem, RefreshTokenGrant, RemoteError, Ticket,
};
pub use display::describe;
pub use egress::{DEFAULT_AUTHORITY, Egress};
pub use engine::{CallError, Host, HostOptions, MAX_CONCURRENT_CALLS};
pub use limits::Limits;

/// What `Host::preview` returns: the exact request a dispatch would send.
pub type Preview = DispatchPreview;

/// `Host` is shared across threads (e.g. one per process in a `OnceLock`).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Host>();
};
