//! The webhook server's endpoints (`/hooks/{name}`) and the credentials each
//! expects, read from the state database at start and read again while it
//! runs, so that a password rotated by `subscriptions --rotate` takes over
//! without a restart: the old one stops working, the new one works.
//!
//! They are read again when a request comes more than [`REREAD_EVERY`]
//! after the last reading, and at once (at most every [`REREAD_ON_MISMATCH`])
//! when a request's credentials do not match, so the first delivery of a
//! rotated subscription does not wait for the period. One small `SELECT`
//! per reading; a flood of wrong credentials costs at most one every
//! [`REREAD_ON_MISMATCH`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::DeliveryAuth;
use crate::platform::subscriptions::endpoint_name;
use crate::state::db::Db;

/// How old a reading of the credentials may get while requests come.
pub const REREAD_EVERY: Duration = Duration::from_secs(1);

/// How soon after a reading a request whose credentials do not match reads
/// them again.
pub const REREAD_ON_MISMATCH: Duration = Duration::from_millis(100);

/// One outegration's endpoint.
#[derive(Clone)]
pub struct Endpoint {
    /// The outegration's key (its config path).
    pub outegration: String,
    pub auth: DeliveryAuth,
}

type Map = Arc<HashMap<String, Endpoint>>;

/// The endpoints, with the database they are read again from.
pub struct Endpoints {
    map: RwLock<Map>,
    db: Mutex<(Db, Instant)>,
}

impl Endpoints {
    /// The endpoints of the outegrations `keys` (credentials generated for
    /// one that has none yet).
    pub fn load(db: Db, keys: &[String]) -> anyhow::Result<Endpoints> {
        let mut map = HashMap::new();
        for key in keys {
            let creds = db.hook_credentials(key, &endpoint_name(key))?;
            if map.contains_key(&creds.name) {
                anyhow::bail!(
                    "two outegrations would be served at /hooks/{}: rename one config file",
                    creds.name
                );
            }
            map.insert(
                creds.name.clone(),
                Endpoint {
                    outegration: key.clone(),
                    auth: DeliveryAuth::Basic((creds.username, creds.password)),
                },
            );
        }
        Ok(Endpoints {
            map: RwLock::new(Arc::new(map)),
            db: Mutex::new((db, Instant::now())),
        })
    }

    /// The endpoint names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.current().keys().cloned().collect();
        names.sort();
        names
    }

    fn current(&self) -> Map {
        self.map.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The endpoint `name`, with its credentials as last read; `presents`
    /// tells whether a request's credentials match, to read them again at
    /// once when they do not.
    pub fn get(&self, name: &str, presents: impl Fn(&DeliveryAuth) -> bool) -> Option<Endpoint> {
        let found = self.current().get(name).cloned();
        let matches = found.as_ref().is_some_and(|e| presents(&e.auth));
        let due = if matches {
            REREAD_EVERY
        } else {
            REREAD_ON_MISMATCH
        };
        if self.reread_if(due) {
            return self.current().get(name).cloned();
        }
        found
    }

    /// Reads the credentials again if the last reading is older than `due`
    /// (and no other request is reading them); whether it did.
    fn reread_if(&self, due: Duration) -> bool {
        let Ok(mut guard) = self.db.try_lock() else {
            return false;
        };
        let (db, read_at) = &mut *guard;
        if read_at.elapsed() < due {
            return false;
        }
        *read_at = Instant::now();
        let stored = match db.all_hook_credentials() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("reading the webhook credentials again: {e:#}");
                return false;
            }
        };
        let mut map = (*self.current()).clone();
        for creds in stored {
            if let Some(e) = map.get_mut(&creds.name)
                && e.outegration == creds.outegration
            {
                e.auth = DeliveryAuth::Basic((creds.username, creds.password));
            }
        }
        *self.map.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        true
    }
}
