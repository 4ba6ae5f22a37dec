//! The `subscribe`, `subscriptions [--repair | --rotate]` and `unsubscribe` commands:
//! an outegration's ADO service-hook subscriptions, pointing at `serve`'s
//! `/hooks/{name}` with the outegration's generated credentials, stored in
//! the state database so they can be checked, repaired and removed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use crate::state::db::{Db, StoredSubscription};
use crate::{Connection, DeliveryAuth, Host, Subscription};

fn call(e: crate::CallError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The endpoint name of an outegration config (`serve`'s `/hooks/{name}`):
/// its file stem.
pub fn endpoint_name(outegration: &str) -> String {
    Path::new(outegration)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| outegration.to_string())
}

/// The delivery credentials of an outegration (generated the first time).
fn auth_of(db: &Db, key: &str) -> anyhow::Result<(String, DeliveryAuth)> {
    let creds = db.hook_credentials(key, &endpoint_name(key))?;
    Ok((
        creds.name.clone(),
        DeliveryAuth::Basic((creds.username.clone(), creds.password.clone())),
    ))
}

/// Creates the subscriptions of the outegration `key` delivering to `url`,
/// stores them, and only then deletes the ones stored before: subscribing
/// again replaces rather than duplicates, and deliveries never stop in
/// between (an event both sets deliver is a duplicate the inbox drops).
fn replace(
    host: &Host,
    db: &Db,
    conn: &Connection,
    key: &str,
    url: &str,
) -> anyhow::Result<Vec<Subscription>> {
    replace_with(host, db, conn, key, url, None)
}

/// [`replace`], the new subscriptions sending `new_password` (stored once
/// ADO has them) instead of the stored one.
///
/// The order keeps every event delivered: until the new password is
/// stored, the old subscriptions still deliver with the old one, which
/// `serve` accepts; from then on the new ones deliver with the new one.
/// A delivery of a new subscription that reaches `serve` before it has
/// read the new password is refused once and retried by ADO (transient
/// retries, then probation), never lost; its duplicate from an old
/// subscription is dropped by the inbox.
fn replace_with(
    host: &Host,
    db: &Db,
    conn: &Connection,
    key: &str,
    url: &str,
    new_password: Option<&str>,
) -> anyhow::Result<Vec<Subscription>> {
    let config = std::fs::read_to_string(key)
        .with_context(|| format!("reading the outegration config {key}"))?;
    let (_, auth) = auth_of(db, key)?;
    let auth = match (new_password, auth) {
        (Some(password), DeliveryAuth::Basic((user, _))) => {
            DeliveryAuth::Basic((user, password.to_string()))
        }
        (_, auth) => auth,
    };
    let previous: Vec<String> = db
        .subscriptions(Some(key))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let subs = host.subscribe(conn, &config, url, &auth).map_err(call)?;
    if let Some(password) = new_password {
        db.set_hook_password(key, password)?;
    }
    let stored: Vec<_> = subs
        .iter()
        .map(|s| StoredSubscription {
            id: s.id.clone(),
            outegration: key.to_string(),
            event_type: s.event_type.clone(),
            url: url.to_string(),
        })
        .collect();
    db.store_subscriptions(&stored)?;
    if !previous.is_empty() {
        host.unsubscribe(conn, &previous).map_err(call)?;
        db.remove_subscriptions(&previous)?;
    }
    Ok(subs)
}

/// `subscriptions --rotate`: a new random webhook password for each
/// outegration with subscriptions; ADO's subscriptions are replaced by ones
/// sending it (see [`replace_with`]) and the stored credentials changed, so
/// the old password stops working at `serve`. The password is generated,
/// never read from a command line, and never printed.
pub fn rotate(host: &Host, db: &Db, conn: &Connection) -> anyhow::Result<Vec<OutegrationStatus>> {
    let stored = db.subscriptions(None)?;
    let mut urls: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &stored {
        urls.entry(&s.outegration).or_insert(&s.url);
    }
    let mut rotated = Vec::new();
    for (key, url) in urls {
        let password = Db::new_hook_password();
        let subs = replace_with(host, db, conn, key, url, Some(&password))
            .with_context(|| format!("rotating the webhook password of {key}"))?;
        rotated.push(OutegrationStatus {
            outegration: key.to_string(),
            resubscribed: true,
            subscriptions: subs
                .into_iter()
                .map(|s| SubscriptionRow {
                    id: s.id,
                    outegration: key.to_string(),
                    event_type: s.event_type,
                    status: s.status,
                    url: url.to_string(),
                })
                .collect(),
        });
    }
    Ok(rotated)
}

/// A subscription as the commands report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: String,
    /// The outegration's key (its config path).
    pub outegration: String,
    pub event_type: String,
    /// ADO's status (`enabled`, `onProbation`, `disabledBySystem`, ...), or
    /// `missing in ADO`.
    pub status: String,
    pub url: String,
}

impl SubscriptionRow {
    /// Its line in the output of `subscriptions`: id, event type, status, URL.
    pub fn write_line(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} {:<20} {:<16} {}",
            self.id, self.event_type, self.status, self.url
        )
    }

    /// Whether ADO delivers to it.
    pub fn enabled(&self) -> bool {
        self.status.eq_ignore_ascii_case("enabled")
    }
}

/// `subscribe`: the ADO subscriptions of an outegration, with its webhook
/// credentials; run again, it replaces the earlier ones.
pub fn subscribe(
    host: &Host,
    db: &Db,
    conn: &Connection,
    outegration: &Path,
    public_url: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    for s in subscribe_rows(host, db, conn, outegration, public_url)? {
        writeln!(
            out,
            "{} {:<20} {:<10} {}",
            s.id, s.event_type, s.status, s.url
        )?;
    }
    Ok(())
}

/// [`subscribe`]'s work: the subscriptions created.
pub fn subscribe_rows(
    host: &Host,
    db: &Db,
    conn: &Connection,
    outegration: &Path,
    public_url: &str,
) -> anyhow::Result<Vec<SubscriptionRow>> {
    let key = crate::platform::lifecycle::outegration_key(outegration);
    let (name, _) = auth_of(db, &key)?;
    let url = format!("{}/hooks/{name}", public_url.trim_end_matches('/'));
    Ok(replace(host, db, conn, &key, &url)?
        .into_iter()
        .map(|s| SubscriptionRow {
            id: s.id,
            outegration: key.clone(),
            event_type: s.event_type,
            status: s.status,
            url: url.clone(),
        })
        .collect())
}

/// One outegration's subscriptions after a check (or a repair).
#[derive(Debug, Clone)]
pub struct OutegrationStatus {
    pub outegration: String,
    /// A subscription was missing in ADO, so the repair subscribed again.
    pub resubscribed: bool,
    pub subscriptions: Vec<SubscriptionRow>,
}

/// `subscriptions`: the stored subscriptions and their status in ADO. With
/// `repair`, the ones ADO put on probation or disabled are enabled again
/// (with the outegration's credentials), and an outegration with a
/// subscription ADO no longer has is subscribed again; the statuses printed
/// are the ones after the repair. Fails when one is still unhealthy.
pub fn subscriptions(
    host: &Host,
    db: &Db,
    conn: &Connection,
    repair: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let checked = check(host, db, conn, repair)?;
    if checked.is_empty() {
        writeln!(out, "no subscriptions")?;
        return Ok(());
    }
    for o in &checked {
        if o.resubscribed {
            writeln!(
                out,
                "{}: a subscription was missing in ADO; subscribed again",
                o.outegration
            )?;
        }
        for s in &o.subscriptions {
            s.write_line(out)?;
        }
    }
    not_enabled(&checked, repair)
}

/// Fails when a subscription is not enabled, with what to do about it.
pub fn not_enabled(checked: &[OutegrationStatus], repair: bool) -> anyhow::Result<()> {
    let unhealthy = checked
        .iter()
        .flat_map(|o| &o.subscriptions)
        .filter(|s| !s.enabled())
        .count();
    if unhealthy > 0 {
        let hint = if repair {
            "ADO refused to enable them; check the hook URL is reachable from ADO"
        } else {
            "run `subscriptions --repair`"
        };
        anyhow::bail!("{unhealthy} subscription(s) are not enabled: {hint}");
    }
    Ok(())
}

/// [`subscriptions`]' work: each outegration's subscriptions with their
/// status in ADO (after the repair, with `repair`).
pub fn check(
    host: &Host,
    db: &Db,
    conn: &Connection,
    repair: bool,
) -> anyhow::Result<Vec<OutegrationStatus>> {
    let stored = db.subscriptions(None)?;
    let mut by_outegration: BTreeMap<&str, Vec<&StoredSubscription>> = BTreeMap::new();
    for s in &stored {
        by_outegration.entry(&s.outegration).or_default().push(s);
    }
    let mut checked = Vec::new();
    for (key, subs) in by_outegration {
        let ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
        let mut status = if repair {
            let (_, auth) = auth_of(db, key)?;
            host.repair_subscriptions(conn, &ids, &auth).map_err(call)?
        } else {
            host.subscription_status(conn, &ids).map_err(call)?
        };
        let lost = status.iter().any(|s| s.status == "notFound");
        let mut rows: Vec<(String, String, String)> = subs
            .iter()
            .map(|s| (s.id.clone(), s.event_type.clone(), s.url.clone()))
            .collect();
        let resubscribed = repair && lost;
        if resubscribed {
            let url = subs[0].url.clone();
            status = replace(host, db, conn, key, &url)?;
            rows = status
                .iter()
                .map(|s| (s.id.clone(), s.event_type.clone(), url.clone()))
                .collect();
        }
        let subscriptions = rows
            .into_iter()
            .map(|(id, event_type, url)| SubscriptionRow {
                status: status
                    .iter()
                    .find(|x| x.id == id)
                    .map_or("missing in ADO", |x| x.status.as_str())
                    .to_string(),
                id,
                outegration: key.to_string(),
                event_type,
                url,
            })
            .collect();
        checked.push(OutegrationStatus {
            outegration: key.to_string(),
            resubscribed,
            subscriptions,
        });
    }
    Ok(checked)
}

/// `unsubscribe`: deletes the subscriptions (of one outegration, or all).
pub fn unsubscribe(
    host: &Host,
    db: &Db,
    conn: &Connection,
    outegration: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let ids = unsubscribe_ids(host, db, conn, outegration)?;
    writeln!(out, "{} subscription(s) deleted", ids.len())?;
    Ok(())
}

/// [`unsubscribe`]'s work: the ids of the subscriptions deleted.
pub fn unsubscribe_ids(
    host: &Host,
    db: &Db,
    conn: &Connection,
    outegration: Option<&Path>,
) -> anyhow::Result<Vec<String>> {
    let key = outegration.map(crate::platform::lifecycle::outegration_key);
    let ids: Vec<String> = db
        .subscriptions(key.as_deref())?
        .into_iter()
        .map(|s| s.id)
        .collect();
    host.unsubscribe(conn, &ids).map_err(call)?;
    db.remove_subscriptions(&ids)?;
    Ok(ids)
}
