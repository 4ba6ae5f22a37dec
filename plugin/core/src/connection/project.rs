//! The project a connection points at, as the connector keeps it (in the
//! store's cache and in the schema): a leaf, so the setup checks can name a
//! project without depending on how the connection test finds it.

use serde::{Deserialize, Serialize};

/// A project as the connector keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub process_template: Option<String>,
}
