//! `ticketing-runtime` is what a SecOps platform embeds to run the Azure
//! DevOps connector component (`secops:ticketing/connector`): the component
//! compiled once and kept on disk ([`compile_cache`]), served by wasmtime's
//! baseline compiler's code until its optimising compiler's is ready when
//! the disk does not hold it yet ([`Compiler`]), a pool of instances (one is reused only after a clean answer), the `http`
//! import behind a per-call egress allow-list with rate-limit pacing, the
//! `store` import, per-call deadline and memory limit, and a typed method per
//! export on [`Host`].
//!
//! It depends on the WIT contract, wasmtime and what the imports need, plus
//! the small `ticketing-model` (the one ticket JSON format and error text).
//! It must never link the connector's core (it talks to the plugin only
//! through the component boundary), nor a database, a web server or the
//! emulator: platforms bring their own. See `examples/embed.rs`.

#![deny(missing_docs)]

#[allow(missing_docs)]
mod bindings;
mod call_state;
mod calls;
pub mod compile_cache;
pub mod convert;
mod egress;
mod engine;
mod http_import;
mod kv;
mod limits;
pub mod names;
mod outbound;
mod pacing;
mod tiers;

pub use bindings::exports::secops::ticketing::auth::{ConnectionInfo, Deployment, Identity};
pub use bindings::exports::secops::ticketing::dispatch::{AttachmentPreview, DispatchPreview};
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
pub use convert::describe;
pub use egress::{DEFAULT_AUTHORITY, Egress};
pub use engine::{CallError, Host, HostOptions, MAX_CONCURRENT_CALLS};
pub use limits::Limits;
/// The one ticket model: the ticket JSON format and the errors' text for people.
pub use ticketing_model as model;
pub use tiers::{Compiler, Tier};

/// What `Host::preview` returns: the exact request a dispatch would send.
pub type Preview = DispatchPreview;

/// `Host` is shared across threads (e.g. one per process in a `OnceLock`).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Host>();
};
