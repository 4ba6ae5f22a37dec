//! `ticketing-model` is the one ticket model of the workspace: tickets,
//! fields and findings as plain types, the typed [`ConnectorError`] with its
//! text for people, the ticket JSON format ([`ticket_json`]), and how an
//! update from Azure DevOps is applied to a ticket ([`update`]).
//!
//! The connector's core, the embeddable runtime, the reference host and the
//! Spin service all use it, so a ticket document is accepted or refused
//! identically everywhere. It must stay small and pure: serde, time and
//! thiserror only; no bindings, no I/O, nothing of ours.

mod error;
mod ticket;
pub mod ticket_json;
pub mod update;

pub use error::{ConnectorError, Issue, Problem};
pub use ticket::{Comment, Field, FieldValue, Finding, Ticket};
