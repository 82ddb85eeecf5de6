//! The single writer: one thread owns the write connection, everyone else
//! sends it work over a bounded channel.
//!
//! SQLite allows one writer at a time; funnelling every write through one
//! owner turns lock contention into a queue, lets item writes be batched
//! into one transaction, and keeps the blocking database calls off the async
//! runtime's threads.

use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{ItemRecord, Result, Store, StoreError, Written};

/// How many queued item writes are grouped into one transaction at most.
const MAX_BATCH: usize = 64;

type Job = Box<dyn FnOnce(&mut Store) + Send>;

enum Cmd {
    /// Any closure over the store, run in order.
    Call(Job),
    /// An item write; consecutive ones are batched.
    Write {
        item: Box<ItemRecord>,
        reply: oneshot::Sender<Result<Written>>,
    },
}

/// A cheap, cloneable handle to the writer thread.
#[derive(Clone)]
pub struct StoreHandle {
    tx: mpsc::Sender<Cmd>,
}

/// The writer thread; [`StoreWriter::shutdown`] waits for queued work.
pub struct StoreWriter {
    handle: Option<StoreHandle>,
    thread: Option<JoinHandle<()>>,
}

fn gone() -> StoreError {
    StoreError::Invalid("the database writer has stopped".into())
}

impl StoreWriter {
    /// Starts the writer thread, which takes ownership of `store`.
    pub fn spawn(store: Store, keep_raw_pages: bool, queue: usize) -> StoreWriter {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let thread = std::thread::Builder::new()
            .name("secwire-store".into())
            .spawn(move || run(store, rx, keep_raw_pages))
            .ok();
        StoreWriter {
            handle: Some(StoreHandle { tx }),
            thread,
        }
    }

    /// A handle for sending work.
    pub fn handle(&self) -> StoreHandle {
        self.handle.clone().unwrap_or_else(|| {
            // After shutdown: a handle whose every call fails cleanly.
            let (tx, _rx) = mpsc::channel(1);
            StoreHandle { tx }
        })
    }

    /// Stops accepting work once every handle is dropped, finishes what is
    /// queued, and waits for the thread.
    pub async fn shutdown(mut self) {
        self.handle.take();
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

impl StoreHandle {
    /// Runs `f` on the writer thread and returns its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> Result<R> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(f(store));
        });
        self.tx.send(Cmd::Call(job)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Writes one item (with its labels and raw page) atomically.
    pub async fn write_item(&self, item: ItemRecord) -> Result<Written> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Write {
                item: Box::new(item),
                reply,
            })
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Items waiting in the queue (for metrics).
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

fn run(mut store: Store, mut rx: mpsc::Receiver<Cmd>, keep_raw_pages: bool) {
    let mut pending: Option<Cmd> = None;
    loop {
        let cmd = match pending.take() {
            Some(c) => c,
            None => match rx.blocking_recv() {
                Some(c) => c,
                None => break,
            },
        };
        match cmd {
            Cmd::Call(job) => job(&mut store),
            Cmd::Write { item, reply } => {
                let mut batch = vec![(item, reply)];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Cmd::Write { item, reply }) => batch.push((item, reply)),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                write_batch(&mut store, batch, keep_raw_pages);
            }
        }
    }
}

type Pending = (Box<ItemRecord>, oneshot::Sender<Result<Written>>);

fn write_batch(store: &mut Store, batch: Vec<Pending>, keep_raw_pages: bool) {
    let items: Vec<ItemRecord> = batch.iter().map(|(i, _)| (**i).clone()).collect();
    match store.write_items(&items, keep_raw_pages) {
        Ok(results) => {
            for ((_, reply), r) in batch.into_iter().zip(results) {
                let _ = reply.send(Ok(r));
            }
        }
        Err(_) if batch.len() > 1 => {
            // One bad item must not lose the others: retry one by one so
            // each gets its own result.
            for (item, reply) in batch {
                let r = store
                    .write_items(std::slice::from_ref(&*item), keep_raw_pages)
                    .map(|mut v| v.remove(0));
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            if let Some((_, reply)) = batch.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
    }
}
