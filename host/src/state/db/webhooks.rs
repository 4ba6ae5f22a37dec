//! Webhook credentials per outegration, and the service hook subscriptions
//! made with them. The deliveries themselves go to the inbox
//! ([`super::inbox`]).

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};

use super::conn::{Db, now};

/// Webhook basic-auth credentials of an outegration.
#[derive(Clone, PartialEq)]
pub struct HookCredentials {
    /// Outegration key (config path).
    pub outegration: String,
    /// Endpoint name: `/hooks/{name}`.
    pub name: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for HookCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookCredentials")
            .field("outegration", &self.outegration)
            .field("name", &self.name)
            .field("username", &self.username)
            .field("password", &"********")
            .finish()
    }
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubscription {
    pub id: String,
    pub outegration: String,
    pub event_type: String,
    pub url: String,
}

fn random_password() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl Db {
    /// The webhook credentials of an outegration, generated (random password)
    /// and stored the first time. `name` is its endpoint name.
    pub fn hook_credentials(
        &self,
        outegration: &str,
        name: &str,
    ) -> anyhow::Result<HookCredentials> {
        let tx = self.tx()?;
        let found: Option<(String, String, String)> = tx
            .prepare_cached(
                "SELECT name, username, password FROM webhook_credentials WHERE outegration = ?1",
            )?
            .query_row([outegration], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let creds = match found {
            Some((name, username, password)) => HookCredentials {
                outegration: outegration.into(),
                name,
                username,
                password,
            },
            None => {
                let creds = HookCredentials {
                    outegration: outegration.into(),
                    name: name.into(),
                    username: "ado-hooks".into(),
                    password: random_password(),
                };
                tx.prepare_cached("INSERT INTO webhook_credentials (outegration, name, username, password, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![creds.outegration, creds.name, creds.username, creds.password, now()],
                )
                .with_context(|| format!("storing the webhook credentials of {outegration} (endpoint name `{name}` taken?)"))?;
                creds
            }
        };
        tx.commit()?;
        Ok(creds)
    }

    /// A new random webhook password (`subscriptions --rotate`), as the
    /// first one is generated; stored only by [`Db::set_hook_password`].
    pub fn new_hook_password() -> String {
        random_password()
    }

    /// Stores a rotated webhook password; `serve` reads it within a second
    /// (its endpoints are read again), and the old one stops working.
    pub fn set_hook_password(&self, outegration: &str, password: &str) -> anyhow::Result<()> {
        let changed = self.conn.prepare_cached("UPDATE webhook_credentials SET password = ?2, created_at = ?3 WHERE outegration = ?1")?.execute(params![outegration, password, now()],
        )?;
        anyhow::ensure!(changed == 1, "no webhook credentials for {outegration}");
        Ok(())
    }

    /// The webhook credentials of every outegration that has some, as
    /// stored (none generated).
    pub fn all_hook_credentials(&self) -> anyhow::Result<Vec<HookCredentials>> {
        let mut stmt = self.conn.prepare(
            "SELECT outegration, name, username, password FROM webhook_credentials ORDER BY outegration",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(HookCredentials {
                    outegration: r.get(0)?,
                    name: r.get(1)?,
                    username: r.get(2)?,
                    password: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every outegration known to the state: with credentials, or with links.
    pub fn outegrations(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT outegration FROM webhook_credentials UNION SELECT outegration FROM links ORDER BY 1")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Stores subscriptions made for an outegration.
    pub fn store_subscriptions(&self, subs: &[StoredSubscription]) -> anyhow::Result<()> {
        let tx = self.tx()?;
        for s in subs {
            tx.prepare_cached("INSERT OR REPLACE INTO subscriptions (id, outegration, event_type, url, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![s.id, s.outegration, s.event_type, s.url, now()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The stored subscriptions (of one outegration, or all).
    pub fn subscriptions(
        &self,
        outegration: Option<&str>,
    ) -> anyhow::Result<Vec<StoredSubscription>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, outegration, event_type, url FROM subscriptions WHERE ?1 IS NULL OR outegration = ?1 ORDER BY outegration, event_type, id",
        )?;
        let rows = stmt
            .query_map([outegration], |r| {
                Ok(StoredSubscription {
                    id: r.get(0)?,
                    outegration: r.get(1)?,
                    event_type: r.get(2)?,
                    url: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Forgets subscriptions.
    pub fn remove_subscriptions(&self, ids: &[String]) -> anyhow::Result<()> {
        let tx = self.tx()?;
        for id in ids {
            tx.prepare_cached("DELETE FROM subscriptions WHERE id = ?1")?
                .execute([id])?;
        }
        tx.commit()?;
        Ok(())
    }
}
