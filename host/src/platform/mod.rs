//! The reference platform's behaviour on top of the state database and the
//! runtime: the lifecycle of a ticket's work item through the outbox, jobs
//! and retries, finding ingest and grouping, ticketing rules and the
//! button's visibility, service-hook subscriptions, and their reports.

pub mod bulk_dispatch;
pub mod grouping;
pub mod ingest;
pub mod jobs;
pub mod lifecycle;
pub mod outbox;
pub mod report;
pub mod rules;
pub mod subscriptions;
pub mod visibility;
