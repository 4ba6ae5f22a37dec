//! Committing work item changes, always with the data lock held: the new
//! revision number, `System.Rev`, `System.ChangedBy`, `System.ChangedDate`,
//! the revision history, the discussion comment a `System.History` write
//! adds, and the event for service hooks (published before the lock is
//! released, so events are in commit order).

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::data::Data;
use crate::dates::now;
use crate::events::{EventKind, WorkItemEvent};
use crate::identities::identity_ref;
use crate::model::{Identity, StoredItem};
use crate::site::Site;
use crate::store::{Comment, Revision};
use crate::variants::Variants;

/// Now, as the recycle bin samples write `deletedDate` ("1/31/2017 9:21:14 PM").
pub fn recycle_bin_date() -> String {
    let t = OffsetDateTime::now_utc();
    let (hour, half) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {hour}:{:02}:{:02} {half}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        t.minute(),
        t.second()
    )
}

/// What committing needs of the emulator besides its data (`Emu` is one):
/// the site for identity references and comment URLs, the settings, and
/// where a committed change's event goes.
pub trait Journal {
    fn site(&self) -> &Site;
    fn variants(&self) -> &Variants;
    /// Records a committed change. Called while the data lock is held, so
    /// events are in commit order; it must never take the data lock itself.
    fn publish(&self, event: WorkItemEvent);
}

/// Who, why, and whether hooks should stay quiet.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub kind: EventKind,
    pub actor: &'a Identity,
    /// `suppressNotifications=true` on the request.
    pub suppress: bool,
    /// A comment added through the comments API: its text and format.
    /// Without it a `System.History` write adds an HTML comment.
    pub comment: Option<(String, String)>,
}

fn snapshot(item: &StoredItem, by: Value) -> Revision {
    let date = item
        .fields
        .get("System.ChangedDate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Revision {
        rev: item.rev,
        fields: item.fields.clone(),
        relations: item.relations.clone(),
        by,
        date,
    }
}

/// Adds the discussion comment of this revision, if any, and counts the
/// item's live comments into `System.CommentCount`.
fn record_comment(
    emu: &dyn Journal,
    data: &mut Data,
    item: &mut StoredItem,
    change: &Change,
) -> Option<Comment> {
    let history = item
        .fields
        .get("System.History")
        .and_then(Value::as_str)
        .filter(|h| !h.trim().is_empty())
        .map(str::to_string);
    let (text, format) = change
        .comment
        .clone()
        .or(history.map(|h| (h, "html".to_string())))?;
    let rendered = item
        .fields
        .get("System.History")
        .and_then(Value::as_str)
        .unwrap_or(&text)
        .to_string();
    data.store.next_comment_id += 1;
    let who = identity_ref(emu.site(), change.actor);
    let date = item
        .fields
        .get("System.ChangedDate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let comment = Comment {
        id: data.store.next_comment_id,
        work_item_id: item.id,
        version: 1,
        text,
        format,
        rendered_text: rendered,
        created_by: who.clone(),
        created_date: date.clone(),
        modified_by: who,
        modified_date: date,
        is_deleted: false,
    };
    let list = data.store.comments.entry(item.id).or_default();
    list.push(comment.clone());
    let live = list.iter().filter(|c| !c.is_deleted).count();
    item.fields
        .insert("System.CommentCount".into(), json!(live));
    Some(comment)
}

/// Stores a new work item (id, rev 1) and publishes `Created`.
pub fn create(
    emu: &dyn Journal,
    data: &mut Data,
    mut item: StoredItem,
    change: &Change,
) -> StoredItem {
    data.next_id += 1;
    item.id = data.next_id;
    item.rev = 1;
    item.fields.insert("System.Id".into(), json!(item.id));
    item.fields.insert("System.Rev".into(), json!(1));
    let comment = record_comment(emu, data, &mut item, change);
    let by = identity_ref(emu.site(), change.actor);
    data.store
        .history
        .entry(item.id)
        .or_default()
        .push(snapshot(&item, by));
    data.work_items.insert(item.id, item.clone());
    publish(emu, change, item.clone(), None, comment);
    item
}

/// Stores `after` as the next revision of `before` and publishes the event.
/// Returns the stored item and the comment the revision added.
pub fn update(
    emu: &dyn Journal,
    data: &mut Data,
    before: StoredItem,
    mut after: StoredItem,
    change: &Change,
) -> (StoredItem, Option<Comment>) {
    after.rev = before.rev + 1;
    after.fields.insert("System.Rev".into(), json!(after.rev));
    after
        .fields
        .insert("System.ChangedDate".into(), json!(now()));
    let by = identity_ref(emu.site(), change.actor);
    after.fields.insert("System.ChangedBy".into(), by.clone());
    let comment = record_comment(emu, data, &mut after, change);
    data.store
        .history
        .entry(after.id)
        .or_default()
        .push(snapshot(&after, by));
    data.work_items.insert(after.id, after.clone());
    publish(emu, change, after.clone(), Some(before), comment.clone());
    (after, comment)
}

fn publish(
    emu: &dyn Journal,
    change: &Change,
    item: StoredItem,
    previous: Option<StoredItem>,
    comment: Option<Comment>,
) {
    // Whether a `System.History` write through PATCH is also a
    // `workitem.commented` event is a setting (`variants`); by default only
    // the comments API raises it.
    let kind = match change.kind {
        EventKind::Updated if comment.is_some() && emu.variants().history_commented => {
            EventKind::Commented
        }
        kind => kind,
    };
    let comment = if kind == EventKind::Commented {
        comment.map(|c| crate::views::comment_json(emu.site(), &item.project_id, &c, true))
    } else {
        None
    };
    emu.publish(WorkItemEvent {
        kind,
        item,
        previous,
        comment,
        actor: change.actor.clone(),
        suppress_notifications: change.suppress,
    });
}

/// The revision a delete or restore adds when `delete-revision=yes`
/// (`variants`): no source says whether ADO adds one when an item goes to
/// or leaves the recycle bin, so by default nothing changes.
pub fn bin_revision(emu: &dyn Journal, data: &mut Data, item: &mut StoredItem, actor: &Identity) {
    if !emu.variants().delete_revision {
        return;
    }
    item.rev += 1;
    item.fields.insert("System.Rev".into(), json!(item.rev));
    item.fields
        .insert("System.ChangedDate".into(), json!(now()));
    let by = identity_ref(emu.site(), actor);
    item.fields.insert("System.ChangedBy".into(), by.clone());
    data.store
        .history
        .entry(item.id)
        .or_default()
        .push(snapshot(item, by));
}

/// Publishes a delete or restore (a revision only as `bin_revision` adds it).
pub fn lifecycle(
    emu: &dyn Journal,
    kind: EventKind,
    item: StoredItem,
    actor: &Identity,
    suppress: bool,
) {
    emu.publish(WorkItemEvent {
        kind,
        item: item.clone(),
        previous: Some(item),
        comment: None,
        actor: actor.clone(),
        suppress_notifications: suppress,
    });
}
