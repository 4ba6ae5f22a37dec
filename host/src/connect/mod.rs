//! What becomes the runtime's `Connection`: the host config file
//! (`host.toml`) and the secrets (environment or a secrets file).

pub mod config;
pub mod secrets;
