//! The host's state: tickets, the links tying them to work items, and
//! dispatch attempts whose outcome is not known yet, in one SQLite file.
//!
//! [`Db::open`] creates the tables (schema version in `PRAGMA user_version`,
//! WAL journal). Every write runs in a transaction: a link is stored together
//! with its ticket snapshot and the removal of the dispatch attempt, or not
//! at all. Reads that meet a malformed row say which ticket and column.
//!
//! Durability: `synchronous = NORMAL` in WAL mode, so a commit survives the
//! host process dying at any point (the soak test kills it) without an
//! fsync per commit; a commit that must also survive the machine losing
//! power syncs: the dispatch attempt before a create is sent, and every
//! inbox commit before a delivery is acknowledged ([`Db::sync_every_commit`]).

mod attempts;
mod conn;
mod findings;
mod finish;
mod holder;
mod inbox;
mod jobs;
mod leases;
mod links;
pub mod retention;
mod schema;
mod tickets;
mod webhooks;

pub use attempts::{Attempt, DispatchStart};
pub use conn::{Db, now};
pub use findings::{FindingRow, IngestTx, RuleDispatch};
pub use finish::Finish;
pub use holder::{epoch_ms, holder_gone, new_holder};
pub use inbox::{InboxRow, NewDelivery, apply_update};
pub use jobs::{Job, JobClaim, JobState};
pub use leases::{LEASE_TTL, LEASE_WAIT, Lease, LeaseBusy};
pub use links::{StoredLink, link_from_json, link_to_json};
pub use webhooks::{HookCredentials, StoredSubscription};

#[cfg(test)]
mod tests;
