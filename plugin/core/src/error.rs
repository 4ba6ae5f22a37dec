//! The typed error every operation returns: defined once, in
//! `ticketing-model`, for every adapter and host.

pub use ticketing_model::{ConnectorError, Issue, Problem};
