//! Spend logs leave the request path through a channel; a background task writes them in
//! batches every `proxy_batch_write_at` seconds, keeps a failed batch and retries it (writes
//! are idempotent on request id), and flushes what is pending on shutdown.
//!
//! Nothing is lost on a crash or a database outage: before a log is queued it is appended to
//! an on-disk journal (one JSON line; a `write` to the page cache, which outlives a killed
//! process). At each batch the journal is rotated into a segment that is deleted once the
//! database has the batch; at start, segments left by a previous process are replayed.
//!
//! A log the database refuses (which writing again cannot fix) must not hold back the others:
//! the batch is split until it stands alone ([`Store::write_spend_isolating`]), and it goes to
//! `spend-quarantine.jsonl` in the journal directory with the error, for an operator to look at.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use llmgate_store::spend::{Refused, SpendLog};
use llmgate_store::Store;
use tokio::sync::{mpsc, oneshot};

/// Logs written at once when traffic fills a batch before the interval ends.
const BATCH_SIZE: usize = 1000;

/// Logs held in memory at most. When the writer falls behind (a slow database, or a CPU
/// shared with busier work: it runs at nice 10), later logs are kept in the journal only and
/// read back from it at the next batch, so memory stays bounded (~2 KB a log; with
/// `store_prompts_in_spend_logs` at most ~34 KB more, see `governance::prompts`) while nothing
/// is lost. Without a journal the queue is not bounded: dropping spend is not an option.
const MEMORY_CAP: usize = 10_000;

/// LiteLLM's default `proxy_batch_write_at`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// Logs waiting for the writer. The request path only pushes here (no wake-up of the writer
/// per request, which cost a cross-thread wake and a context switch each); the writer takes
/// the lot at each interval, or when a full batch wakes it.
#[derive(Default)]
struct Queue {
    logs: Mutex<Vec<SpendLog>>,
    /// [`MEMORY_CAP`] (smaller in tests).
    cap: usize,
    full: tokio::sync::Notify,
    /// Logs recorded but not yet in the database (queued or in a failed batch).
    backlog: std::sync::atomic::AtomicUsize,
    /// Logs journaled since the last rotation but not queued (the queue was at its cap).
    overflow: std::sync::atomic::AtomicUsize,
    /// Every log ever left to the journal alone.
    spilled: std::sync::atomic::AtomicUsize,
    /// Batches written, batches that failed, and the last write's time (µs): the database's
    /// round trips as the metrics show them (updated per batch, never per request).
    written: std::sync::atomic::AtomicU64,
    failed: std::sync::atomic::AtomicU64,
    last_write_us: std::sync::atomic::AtomicU64,
    /// The last failed batch's error (database alerts).
    last_error: Mutex<Option<String>>,
}

/// What the spend writer's database round trips look like (`/metrics`).
pub struct WriteStats {
    pub batches: u64,
    pub failures: u64,
    pub last_write: Duration,
}

const CURRENT: &str = "spend-current.jsonl";
/// Refused logs, one JSON line each (`error`, `quarantined_at`, `log`); never replayed.
pub const QUARANTINE: &str = "spend-quarantine.jsonl";

/// The journal's current file; its lock also orders appends against rotation.
struct Journal {
    dir: PathBuf,
    file: File,
    /// Where `file` is: `CURRENT`, or the segment it was renamed to when opening the next
    /// `CURRENT` failed (out of file descriptors, say); appends go on there until a rotation
    /// can open one, which then hands that segment over.
    at: PathBuf,
    seq: u64,
}

impl Journal {
    fn open(dir: &Path) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let at = dir.join(CURRENT);
        let file = OpenOptions::new().create(true).append(true).open(&at)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
            file,
            at,
            seq: 0,
        })
    }

    /// Moves the current file aside as a segment and starts a new one.
    fn rotate(&mut self) -> std::io::Result<Option<PathBuf>> {
        let current = self.dir.join(CURRENT);
        if self.at == current {
            if self.file.metadata()?.len() == 0 {
                return Ok(None);
            }
            self.seq += 1;
            let segment = self.dir.join(format!(
                "spend-{}-{}.jsonl",
                llmgate_store::now_ms(),
                self.seq
            ));
            std::fs::rename(&current, &segment)?;
            self.at = segment;
        }
        // A failure here leaves `file` (at its segment) taking appends: no line is lost, and
        // the segment is handed over by the next rotation that opens `CURRENT`.
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&current)?;
        Ok(Some(std::mem::replace(&mut self.at, current)))
    }
}

/// Makes this thread (and the database worker threads it starts, which inherit it) yield the
/// CPU to the request path: batches are deferrable work, a request's latency is not.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority has no memory effects; on Linux, PRIO_PROCESS with 0 names the
    // calling thread only.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[derive(Clone)]
pub struct SpendWriter {
    queue: Arc<Queue>,
    /// Flush requests; the writer ends when every sender is gone.
    tx: mpsc::UnboundedSender<oneshot::Sender<()>>,
    journal: Option<Arc<Mutex<Journal>>>,
}

impl SpendWriter {
    /// Starts the writer on the current runtime; with a journal directory, logs are journaled
    /// (call [`replay`] on that directory first).
    pub fn start(store: Store, interval: Duration, journal_dir: Option<&Path>) -> SpendWriter {
        Self::start_capped(store, interval, journal_dir, MEMORY_CAP)
    }

    fn start_capped(
        store: Store,
        interval: Duration,
        journal_dir: Option<&Path>,
        cap: usize,
    ) -> SpendWriter {
        let journal = journal_dir.and_then(|d| match Journal::open(d) {
            Ok(j) => Some(Arc::new(Mutex::new(j))),
            Err(e) => {
                tracing::error!(error = %e, dir = %d.display(), "cannot open the spend journal; spend not yet written is lost on a crash");
                None
            }
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = Arc::new(Queue {
            cap,
            ..Queue::default()
        });
        let q = queue.clone();
        // Batches are CPU work (serialising thousands of rows): on a thread and runtime of
        // their own, the OS scheduler keeps them from stalling the request path's workers.
        let j = journal.clone();
        let quarantine = journal_dir.map(|d| d.join(QUARANTINE));
        let spawned = std::thread::Builder::new().name("llmgate-spend".into()).spawn(move || {
            lower_priority();
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return tracing::error!(error = %e, "cannot start the spend writer"),
            };
            rt.block_on(async move {
                let store = match store.reconnect().await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "the spend writer cannot reach the database; retrying on its pool");
                        store
                    }
                };
                run(store, interval, q, rx, j, quarantine).await
            });
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the spend writer thread");
        }
        SpendWriter { queue, tx, journal }
    }

    /// Journals and queues a log; never waits on the database.
    pub fn record(&self, log: SpendLog) {
        // Queued under the journal's lock: a rotation takes exactly the logs it journaled.
        let mut journaled = false;
        let _journal = self.journal.as_ref().map(|j| {
            let mut j = j.lock().unwrap_or_else(|e| e.into_inner());
            if let Ok(mut line) = serde_json::to_vec(&log) {
                line.push(b'\n');
                match j.file.write_all(&line) {
                    Ok(()) => journaled = true,
                    Err(e) => tracing::error!(error = %e, "cannot append to the spend journal"),
                }
            }
            j
        });
        let mut logs = self.queue.logs.lock().unwrap_or_else(|e| e.into_inner());
        self.queue.backlog.fetch_add(1, Ordering::Relaxed);
        if journaled && logs.len() >= self.queue.cap {
            // In the journal already; the writer reads this segment back from disk, in chunks.
            self.queue.overflow.fetch_add(1, Ordering::Relaxed);
            self.queue.spilled.fetch_add(1, Ordering::Relaxed);
            return;
        }
        logs.push(log);
        if logs.len() == BATCH_SIZE {
            self.queue.full.notify_one();
        }
    }

    /// Logs recorded but not yet written to the database (`/health/readiness`).
    pub fn backlog(&self) -> usize {
        self.queue.backlog.load(Ordering::Relaxed)
    }

    pub fn write_stats(&self) -> WriteStats {
        let q = &self.queue;
        WriteStats {
            batches: q.written.load(Ordering::Relaxed),
            failures: q.failed.load(Ordering::Relaxed),
            last_write: Duration::from_micros(q.last_write_us.load(Ordering::Relaxed)),
        }
    }

    /// A reader of the failed batches so far and the last one's error (database alerts).
    pub fn failure_probe(&self) -> impl Fn() -> (u64, Option<String>) + Send + Sync + 'static {
        let q = self.queue.clone();
        move || {
            let n = q.failed.load(Ordering::Relaxed);
            let e = q
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            (n, e)
        }
    }

    /// Writes everything queued so far (shutdown, tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(done).is_ok() {
            let _ = wait.await;
        }
    }
}

/// A journal segment whose logs are read back from disk rather than held in memory (its
/// rotation found the queue at its cap, or a failed batch still pending): written a chunk at a
/// time from `offset`, so the writer's own memory stays bounded however far behind it is.
struct Reread {
    path: PathBuf,
    offset: u64,
}

/// Logs read back from a segment per write.
const REREAD_CHUNK: usize = BATCH_SIZE;

async fn run(
    store: Store,
    interval: Duration,
    queue: Arc<Queue>,
    mut rx: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    journal: Option<Arc<Mutex<Journal>>>,
    quarantine: Option<PathBuf>,
) {
    // Logs in memory (at most the queue's cap, plus a failed batch) and the segments that
    // hold them, deleted once they are written.
    let mut pending: Vec<SpendLog> = Vec::new();
    let mut segments: Vec<PathBuf> = Vec::new();
    let mut rereads: std::collections::VecDeque<Reread> = std::collections::VecDeque::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut wrote = true;
    let mut closed = false;
    loop {
        // Behind (segments to read back, an overflow or a full batch waiting) after a good
        // write: go again at once.
        let behind = wrote
            && (!rereads.is_empty()
                || queue.overflow.load(Ordering::Relaxed) > 0
                || queue.logs.lock().unwrap_or_else(|e| e.into_inner()).len() >= BATCH_SIZE);
        if behind || closed {
            loop {
                match rx.try_recv() {
                    Ok(done) => flushes.push(done),
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                }
            }
        } else {
            tokio::select! {
            msg = rx.recv() => match msg {
                Some(done) => flushes.push(done),
                None => closed = true,
            },
            // Under heavy traffic, write as soon as a batch is full: many small batches keep
            // latency even where one big one every interval would stall.
            _ = queue.full.notified() => {},
            _ = tick.tick() => {},
            }
        }
        // Take what is queued together with the journal segment that holds it.
        let (segment, overflowed, mut queued) = {
            let mut j = journal
                .as_ref()
                .map(|j| j.lock().unwrap_or_else(|e| e.into_inner()));
            let mut segment = None;
            if let Some(j) = j.as_mut() {
                match j.rotate() {
                    Ok(seg) => segment = seg,
                    Err(e) => tracing::error!(error = %e, "cannot rotate the spend journal"),
                }
            }
            let overflowed = queue.overflow.swap(0, Ordering::Relaxed) > 0;
            let queued = std::mem::take(&mut *queue.logs.lock().unwrap_or_else(|e| e.into_inner()));
            (segment, overflowed, queued)
        };
        match segment {
            // The segment holds every log the queue does, and those it had no room for; with a
            // failed batch still in memory, new logs wait on disk too (a long outage must not
            // grow the heap).
            Some(path) if overflowed || pending.len() + queued.len() > queue.cap => {
                rereads.push_back(Reread { path, offset: 0 });
                drop(queued);
            }
            Some(path) => {
                segments.push(path);
                pending.append(&mut queued);
            }
            None => pending.append(&mut queued),
        }
        // One write per turn: the logs in memory, else a chunk read back from disk.
        let mut chunk_done = None;
        let t0 = std::time::Instant::now();
        let n;
        if !pending.is_empty() {
            n = pending.len();
            wrote = noted(
                &queue,
                write(&store, &mut pending, quarantine.as_deref()).await,
            );
            if wrote {
                for seg in segments.drain(..) {
                    let _ = std::fs::remove_file(seg);
                }
                // A big batch's slots are not kept for the next small one.
                if pending.capacity() > 2 * BATCH_SIZE {
                    pending = Vec::new();
                }
            }
        } else if let Some(r) = rereads.front_mut() {
            match read_chunk(&r.path, r.offset, REREAD_CHUNK) {
                Ok((mut logs, next, eof)) => {
                    n = logs.len();
                    wrote = noted(
                        &queue,
                        write(&store, &mut logs, quarantine.as_deref()).await,
                    );
                    if wrote {
                        r.offset = next;
                        chunk_done = Some(eof);
                    }
                }
                Err(e) => {
                    // Left on disk: the next start replays it.
                    tracing::error!(error = %e, file = %r.path.display(), "cannot read back the spend journal; it is written at the next start");
                    n = 0;
                    rereads.pop_front();
                }
            }
        } else {
            n = 0;
        }
        if chunk_done == Some(true) {
            if let Some(r) = rereads.pop_front() {
                let _ = std::fs::remove_file(r.path);
            }
        }
        if n > 0 {
            crate::observe::services::record(
                crate::observe::services::Service::Postgres,
                "update_spend",
                t0.elapsed(),
                (!wrote).then_some("DatabaseError"),
            );
            let took = t0.elapsed().as_micros().min(u64::MAX as u128) as u64;
            queue.last_write_us.store(took, Ordering::Relaxed);
            let count = if wrote { &queue.written } else { &queue.failed };
            count.fetch_add(1, Ordering::Relaxed);
            if wrote {
                queue.backlog.fetch_sub(n, Ordering::Relaxed);
            }
        }
        // A flush is answered once what was recorded before it is written, or a write failed
        // (the caller is not kept waiting on an unreachable database).
        let drained =
            pending.is_empty() && rereads.is_empty() && queue.overflow.load(Ordering::Relaxed) == 0;
        if !wrote || drained {
            for done in flushes.drain(..) {
                let _ = done.send(());
            }
            if closed {
                return;
            }
        }
    }
}

/// Whether a write went through; a failure's reason is kept for the alerts' probe.
fn noted(queue: &Queue, result: Result<(), String>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => {
            *queue.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
            false
        }
    }
}

/// Up to `max` logs of a journal segment from byte `offset`, the offset after them, and
/// whether the segment ends there (a torn last line, from a process that died mid-write, is
/// skipped).
fn read_chunk(path: &Path, offset: u64, max: usize) -> std::io::Result<(Vec<SpendLog>, u64, bool)> {
    use std::io::{BufRead, Seek, SeekFrom};
    let mut f = std::io::BufReader::new(File::open(path)?);
    f.seek(SeekFrom::Start(offset))?;
    let (mut logs, mut at, mut line) = (Vec::new(), offset, Vec::new());
    while logs.len() < max {
        line.clear();
        let read = f.read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok((logs, at, true));
        }
        at += read as u64;
        if let Ok(log) = serde_json::from_slice::<SpendLog>(&line) {
            logs.push(log);
        }
    }
    let eof = f.fill_buf()?.is_empty();
    Ok((logs, at, eof))
}

/// Writes what earlier processes journaled but did not get into the database, then removes
/// those files (refused logs quarantined, as the writer does). Runs before serving.
pub async fn replay(store: &Store, dir: &Path) -> Result<usize, llmgate_store::StoreError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("spend-") && n.ends_with(".jsonl") && n != QUARANTINE
            })
        })
        .collect();
    files.sort();
    // A chunk at a time: a long outage's journal may be far bigger than memory should hold.
    let mut new = 0;
    for f in &files {
        let mut offset = 0;
        loop {
            let Ok((logs, next, eof)) = read_chunk(f, offset, REREAD_CHUNK) else {
                break;
            };
            if !logs.is_empty() {
                let (n, refused) = store.write_spend_isolating(&logs).await?;
                quarantine(Some(&dir.join(QUARANTINE)), refused);
                new += n;
            }
            if eof {
                break;
            }
            offset = next;
        }
    }
    for f in files {
        let _ = std::fs::remove_file(f);
    }
    if new > 0 {
        tracing::info!(requests = new, "spend recovered from the journal");
    }
    Ok(new)
}

/// Writes the pending logs; on failure they stay pending for the next tick. Logs the database
/// refuses are quarantined and count as written.
async fn write(
    store: &Store,
    pending: &mut Vec<SpendLog>,
    quarantined: Option<&Path>,
) -> Result<(), String> {
    if pending.is_empty() {
        return Ok(());
    }
    match store.write_spend_isolating(pending).await {
        Ok((n, refused)) => {
            tracing::debug!(logs = pending.len(), new = n, "spend written");
            quarantine(quarantined, refused);
            pending.clear();
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, logs = pending.len(), "could not write spend; will retry");
            Err(e.to_string())
        }
    }
}

/// Appends refused logs to the quarantine file (or, without a journal, to the log only).
fn quarantine(path: Option<&Path>, refused: Vec<Refused>) {
    if refused.is_empty() {
        return;
    }
    let mut lines = Vec::new();
    for r in &refused {
        tracing::error!(request_id = %r.log.request_id, error = %r.error, file = ?path, "the database refused a spend log; quarantined");
        let entry = serde_json::json!({
            "error": r.error.to_string(),
            "quarantined_at": llmgate_store::now_ms(),
            "log": r.log,
        });
        if let Ok(mut line) = serde_json::to_vec(&entry) {
            line.push(b'\n');
            lines.extend(line);
        }
    }
    let Some(path) = path else { return };
    let appended = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(&lines));
    if let Err(e) = appended {
        tracing::error!(error = %e, file = %path.display(), "cannot write the spend quarantine");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backlog_past_the_cap_stays_in_the_journal_and_is_all_written() {
        let dir = std::env::temp_dir().join(format!("llmgate-spend-cap-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("db.sqlite").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        // An interval that never ends within the test and a cap below a full batch: nothing
        // is written before the flush, and the queue holds at most 100 of the 2500 logs (read back
        // from the journal in chunks).
        let w = SpendWriter::start_capped(
            store.clone(),
            Duration::from_secs(3600),
            Some(&dir.join("j")),
            100,
        );
        let n = 2500;
        for i in 0..n {
            w.record(SpendLog {
                request_id: format!("req-{i}"),
                call_type: "acompletion".into(),
                spend: 0.001,
                model: "m".into(),
                ..SpendLog::default()
            });
        }
        assert!(w.queue.logs.lock().unwrap().len() <= 100);
        // The writer catches up meanwhile (a batch, then at once the next while behind), so
        // how many went to the journal alone varies; some did.
        assert!(w.queue.spilled.load(Ordering::Relaxed) > 0);
        w.flush().await;
        assert_eq!(w.backlog(), 0);
        let total = store.total_spend().await.unwrap();
        assert!((total - n as f64 * 0.001).abs() < 1e-6, "{total}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Out of file descriptors at a rotation (seen under a burst of 10 000 connections): the
    /// rename had happened and the new file could not be opened, and every later rotation
    /// failed on the missing `CURRENT` while appends went to a file nobody would hand over.
    /// (nextest runs each test in its own process, so the lowered limit touches no other test.)
    #[test]
    fn a_rotation_that_cannot_open_the_next_file_hands_its_segment_over_later() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("llmgate-journal-{}", uuid::Uuid::new_v4()));
        let mut j = Journal::open(&dir).unwrap();
        j.file.write_all(b"one\n").unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
        let saved = lim;
        lim.rlim_cur = 0; // no new descriptor at all; the open ones stay usable
                          // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        let failed = j.rotate();
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &saved) };
        assert!(failed.is_err());
        // Appends meanwhile land in the renamed file, which the next rotation hands over.
        j.file.write_all(b"two\n").unwrap();
        let seg = j.rotate().unwrap().expect("the segment");
        assert_eq!(std::fs::read_to_string(&seg).unwrap(), "one\ntwo\n");
        j.file.write_all(b"three\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join(CURRENT)).unwrap(),
            "three\n"
        );
        let next = j.rotate().unwrap().expect("another segment");
        assert_ne!(next, seg);
        assert_eq!(j.rotate().unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
