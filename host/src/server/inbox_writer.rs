//! Group commit of accepted webhook deliveries.
//!
//! A delivery is acknowledged only once it is committed to the inbox, and a
//! commit waits for the disk. One writer thread takes every delivery that
//! arrived while the previous commit was on its way and commits them in one
//! transaction, then answers each: under load the cost of a commit is shared
//! by the whole batch, and a single delivery is committed as soon as it
//! comes. No delivery is acknowledged before its own commit.

use crate::state::db::NewDelivery;
use std::sync::mpsc;

use crate::state::db::Db;

/// Deliveries committed together at most.
const MAX_BATCH: usize = 512;

type Reply = mpsc::SyncSender<Result<i64, String>>;

/// The handle requests are stored through; the thread ends when every
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct InboxWriter {
    tx: mpsc::Sender<(NewDelivery, Reply)>,
}

impl InboxWriter {
    /// Starts the writer thread over its own connection to the state.
    pub fn spawn(db: Db) -> std::io::Result<InboxWriter> {
        let (tx, rx) = mpsc::channel::<(NewDelivery, Reply)>();
        std::thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let rows: Vec<&NewDelivery> = batch.iter().map(|(d, _)| d).collect();
                    match db.inbox_insert_many(&rows) {
                        Ok(ids) => {
                            for ((_, reply), id) in batch.into_iter().zip(ids) {
                                let _ = reply.send(Ok(id));
                            }
                        }
                        Err(e) => {
                            let message = format!("{e:#}");
                            for (_, reply) in batch {
                                let _ = reply.send(Err(message.clone()));
                            }
                        }
                    }
                }
            })?;
        Ok(InboxWriter { tx })
    }

    /// Stores a delivery; returns its row id once it is committed.
    pub fn store(&self, delivery: NewDelivery) -> anyhow::Result<i64> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx
            .send((delivery, reply))
            .map_err(|_| anyhow::anyhow!("the inbox writer has stopped"))?;
        answer
            .recv()
            .map_err(|_| anyhow::anyhow!("the inbox writer has stopped"))?
            .map_err(anyhow::Error::msg)
    }
}
