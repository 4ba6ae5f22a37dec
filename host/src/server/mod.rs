//! The host's HTTP side: the service-hook webhook server (`serve`), which
//! acknowledges a delivery once it is in the inbox and applies it on a
//! worker thread; and the web console (`console`).

pub mod console;
mod endpoints;
pub mod inbox_worker;
mod inbox_writer;
pub mod intake;
pub mod saturation;
pub mod serve;
