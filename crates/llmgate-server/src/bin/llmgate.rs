//! `llmgate --config config.yaml`: the gateway.

use clap::Parser;
use llmgate_server::cli::Cli;
use tracing_subscriber::EnvFilter;

// glibc's malloc serialises on arena locks under many small concurrent allocations (seen as
// futex time in profiles of the request path); mimalloc keeps per-thread heaps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    no_huge_pages();
    return_freed_memory();
    let cli = Cli::parse();
    if let Some(url) = cli.healthcheck_url() {
        std::process::exit(healthcheck(&url));
    }
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(cli.log_filter()));
    // Colours only for a terminal (and not with NO_COLOR): a file or a collector gets plain text.
    use std::io::IsTerminal;
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi);
    if llmgate_server::server::json_logs(&cli) {
        // LiteLLM's `JSON_LOGS=True`: one JSON object per line (timestamp, level, message, fields).
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        logs.init();
    }
    // Before any thread exists: `environment_variables` in the config are set into the env.
    let cfg = match llmgate_server::server::load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("llmgate: {e}");
            std::process::exit(1);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(collect_on_park)
        .build()
        .expect("the tokio runtime starts");
    if let Err(e) = rt.block_on(llmgate_server::server::run(cli, cfg)) {
        eprintln!("llmgate: {e}");
        std::process::exit(1);
    }
}

/// `--healthcheck`: 0 when `url` answers 2xx within 3 s, else 1 (the reason on stderr).
fn healthcheck(url: &str) -> i32 {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let answer = client.and_then(|c| c.get(url).send());
    match answer {
        Ok(r) if r.status().is_success() => 0,
        Ok(r) => {
            eprintln!("llmgate: {url} answered {}", r.status());
            1
        }
        Err(e) => {
            eprintln!("llmgate: {url}: {e}");
            1
        }
    }
}

/// Keeps the heap in 4 KiB pages. Where the kernel's THP mode is `madvise` (Debian's default),
/// mimalloc asks for transparent huge pages for its arenas, and each 2 MiB page is resident as
/// soon as one byte of it is touched: the idle gateway held 25 MB of heap it had freed (8 MB
/// without). A heap this size gains nothing measurable from fewer TLB misses.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag on this process's memory map.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

// Part of mimalloc (linked for the global allocator above); declared here rather than through
// libmimalloc-sys's `extended` feature, which would add a crate for one function.
extern "C" {
    fn mi_collect(force: bool);
}

/// Frees a worker's empty pages when it goes idle, at most every 100 ms. mimalloc v3 collects
/// only the calling thread's heap (`mi_collect`), and a page whose blocks were all freed stays
/// the owner's until the owner collects or allocates from it again: after a burst of 10 000
/// connections the idle workers held 190 MB of such pages (95 MB with this, the rest being
/// the upstream pool's idle connections). Collecting on every park cost 6% more instructions
/// per request at concurrency 1; the 100 ms gate costs nothing measurable, and leaves at most
/// what a worker freed in its last 100 ms before going idle for good.
fn collect_on_park() {
    use std::cell::Cell;
    use std::time::{Duration, Instant};
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    LAST.with(|last| {
        let now = Instant::now();
        if last
            .get()
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(100))
        {
            last.set(Some(now));
            // SAFETY: mi_collect takes no pointers; mimalloc is the process allocator.
            unsafe { mi_collect(false) };
        }
    });
}

/// Gives memory freed after a burst back to the OS. mimalloc returns freed pages only after a
/// delay (1 s) and only when some thread next collects; the workers' last collection (at
/// their park, above) comes before that delay. A thread of our own asks every 2 s: the purge of
/// arena pages past their delay (program wide; `force = false`: nothing else is disturbed, and
/// an idle process pays one wake-up per 2 s).
fn return_freed_memory() {
    let _ = std::thread::Builder::new()
        .name("llmgate-purge".into())
        .spawn(|| {
            for round in 1u64.. {
                std::thread::sleep(std::time::Duration::from_secs(2));
                // SAFETY: mi_collect takes no pointers; mimalloc is the process allocator.
                unsafe { mi_collect(false) };
                // Once start-up is over (a slow database's migrations included).
                if round == 1 || round == 15 {
                    unmap_startup_code();
                }
            }
        });
}

/// Unmaps the binary's read-only pages (code and constants), so that what stays resident is
/// what runs afterwards. Start-up (config, catalog, migrations, the router's build) touches
/// ~20 MB of a 55 MB binary, each fault mapping 64 KiB around it, and that counted as RSS for
/// good although the idle gateway never runs it again. The pages stay in the page cache, and
/// any that runs later is mapped back by a minor fault. Only mappings of the executable that
/// are not writable and hold no private copy (`Anonymous: 0`) are touched: dropping one of
/// those only ever brings back the file's own bytes.
fn unmap_startup_code() {
    #[cfg(target_os = "linux")]
    {
        let (Ok(exe), Ok(smaps)) = (
            std::fs::read_link("/proc/self/exe"),
            std::fs::read_to_string("/proc/self/smaps"),
        ) else {
            return;
        };
        let exe = exe.to_string_lossy();
        let mut candidate: Option<(usize, usize)> = None;
        for line in smaps.lines() {
            let mut f = line.split_whitespace();
            let first = f.next().unwrap_or("");
            if let Some((a, b)) = first.split_once('-') {
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    let perms = f.next().unwrap_or("");
                    let path = f.nth(3).unwrap_or("");
                    candidate = (!perms.contains('w') && path == exe).then_some((a, b));
                    continue;
                }
            }
            if first == "Anonymous:" {
                if let Some((a, b)) = candidate.take() {
                    if f.next() == Some("0") {
                        // SAFETY: [a, b) is a whole read-only, never-copied file mapping of
                        // this executable; MADV_DONTNEED drops its page table entries and the
                        // next access maps the same file bytes again.
                        unsafe {
                            libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_DONTNEED)
                        };
                    }
                }
            }
        }
    }
}
