//! A finding as the state database stores it, whatever scanner format it
//! came from, and its severity scale: the `ticketing-findings` crate's,
//! where the parsers that produce it live.

pub use ticketing_findings::{ScanFinding, Severity};
