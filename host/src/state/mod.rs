//! The host's state: the SQLite state database (tickets, findings, links,
//! jobs, the webhook inbox) and the ticket file format it stores tickets in.

pub mod db;
pub mod finding;
pub mod ticket_edit;
pub mod ticket_file;
