//! Spend logs leave the request path through a channel; a background task writes them in
//! batches every `proxy_batch_write_at` seconds, keeps a failed batch and retries it (writes
//! are idempotent on request id), and flushes what is pending on shutdown.

use std::time::Duration;

use llmgate_store::spend::SpendLog;
use llmgate_store::Store;
use tokio::sync::{mpsc, oneshot};

/// LiteLLM's default `proxy_batch_write_at`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

enum Msg {
    Log(Box<SpendLog>),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct SpendWriter {
    tx: mpsc::UnboundedSender<Msg>,
}

impl SpendWriter {
    /// Starts the writer on the current runtime.
    pub fn start(store: Store, interval: Duration) -> SpendWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, interval, rx));
        SpendWriter { tx }
    }

    /// Queues a log; never waits.
    pub fn record(&self, log: SpendLog) {
        let _ = self.tx.send(Msg::Log(Box::new(log)));
    }

    /// Writes everything queued so far (shutdown, tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Store, interval: Duration, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut pending: Vec<SpendLog> = Vec::new();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Log(l)) => pending.push(*l),
                Some(Msg::Flush(done)) => {
                    while let Ok(Msg::Log(l)) = rx.try_recv() {
                        pending.push(*l);
                    }
                    write(&store, &mut pending).await;
                    let _ = done.send(());
                }
                None => {
                    write(&store, &mut pending).await;
                    return;
                }
            },
            _ = tick.tick() => write(&store, &mut pending).await,
        }
    }
}

/// Writes the pending logs; on failure they stay pending for the next tick.
async fn write(store: &Store, pending: &mut Vec<SpendLog>) {
    if pending.is_empty() {
        return;
    }
    match store.write_spend(pending).await {
        Ok(n) => {
            tracing::debug!(logs = pending.len(), new = n, "spend written");
            pending.clear();
        }
        Err(e) => {
            tracing::warn!(error = %e, logs = pending.len(), "could not write spend; will retry")
        }
    }
}
