//! `ticketing-host` is the reference SecOps platform built on the embeddable
//! `ticketing-runtime`: it keeps tickets, findings, links and jobs in one
//! SQLite state database, sends every operation through a durable outbox,
//! ingests scanner output and applies ticketing rules, serves ADO's service
//! hooks (and the web console), and offers a CLI over all of it.
//!
//! Its layers, each using only those below it:
//! - [`cli`]: the command line, one module per command group;
//! - [`server`]: the webhook server (and the console);
//! - [`platform`]: lifecycle and outbox, jobs, ingest, grouping, rules,
//!   visibility, subscriptions: the platform's behaviour;
//! - [`state`]: the state database and the ticket file format;
//! - [`connect`]: the host config and secrets that become the runtime's
//!   `Connection`.
//!
//! It talks to the connector only through `ticketing-runtime` (never the
//! connector's core) and must not depend on the ADO emulator: the demo and
//! the tests live in `ticketing-tests`.

pub mod cli;
pub mod connect;
pub mod platform;
pub mod server;
pub mod state;

/// The runtime's types, named as the host's modules use them.
pub(crate) use ticketing_runtime::{
    CallError, ClientCredentials, CloseItem, CloseOutcome, Comment, Connection, ConnectorError,
    Credentials, DeliveryAuth, DeliveryRequest, Field, FieldValue, Finding, Host, HostOptions,
    Limits, Link, MAX_CONCURRENT_CALLS, Outcome, PushOutcome, RefreshTokenGrant, StateChange,
    Subscription, Ticket, TicketUpdate, Transition, describe,
};
