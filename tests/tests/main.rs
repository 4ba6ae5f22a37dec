//! The connector's end-to-end suites, one module per behaviour area, in one
//! test binary. Each used to be its own binary, and each linked wasmtime,
//! the host and the emulator again: some 140 MB apiece, 5 GB in all, which
//! filled the CI machine's disk. One binary also compiles the plugin into
//! one shared `Host` once for every suite (`common::host`).
//!
//! Run one suite with a filter on its module: `cargo test --workspace --test
//! integration -- dispatch::`.

mod common;
mod console_support;
mod serve_env;
mod spin_support;

mod attachments;
mod bulk_dispatch;
mod cli_json;
mod cli_lifecycle;
mod commits;
mod conformance_replay;
mod connection;
mod console;
mod console_operations;
mod console_process;
mod defender;
mod dispatch;
mod doc_secrets;
mod egress;
mod embed_example;
mod ingest_limit;
mod mapping;
mod outbox;
mod overload;
mod pacing;
mod rules;
mod sandbox;
mod schema;
mod secrets_at_rest;
mod serve_load;
mod serve_saturation;
mod server_mode;
mod setup_checks;
mod spin;
mod sync;
mod ticket_corpus;
mod ticket_tags;
mod ticket_url_links;
mod tiers;
mod tree_paths_and_tags;
mod uncertain_writes;
mod webhook_intake;
mod webhook_repair;
mod webhook_rotate;
mod webhook_serve;
mod webhook_subscriptions;
