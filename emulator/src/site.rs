//! Where the emulator is and what it serves: the organization, its URL and
//! its projects. Work item views, identity references and service hook
//! payloads are built from this alone.

use std::sync::Mutex;

use crate::model::Project;

/// The organization an emulator serves.
#[derive(Debug)]
pub struct Site {
    pub organization: String,
    pub instance_id: String,
    pub projects: Vec<Project>,
    /// Set once the listener is bound: `http://127.0.0.1:PORT`.
    pub base_url: Mutex<String>,
}

impl Site {
    pub fn project(&self, id_or_name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| {
            p.id.eq_ignore_ascii_case(id_or_name) || p.name.eq_ignore_ascii_case(id_or_name)
        })
    }

    pub fn base_url(&self) -> String {
        self.base_url
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `{base_url}/{organization}`.
    pub fn org_url(&self) -> String {
        format!("{}/{}", self.base_url(), self.organization)
    }
}
