//! Work item → ticket through ADO service hooks: subscriptions pointing at
//! the host, authentication of each delivery, the typed payloads, and their
//! translation into ticket changes free of duplicates, stale revisions and
//! the connector's own echoes.

pub mod auth;
pub mod handle;
pub mod payload;
pub mod subscriptions;

pub use auth::{Delivery, DeliveryAuth, authenticate, inspect};
pub use handle::{Outcome, TicketUpdate, handle, watched_fields};
pub use subscriptions::{Subscription, repair, status, subscribe, unsubscribe};
