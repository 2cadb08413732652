//! Micro-benchmark of the router's choice of a deployment (issue #12): mean time per
//! `Router::pick`, and per pick + drop of the `Pick` (which ends its in-flight count), for each
//! routing strategy over groups of 1, 10 and 1 000 deployments, printed as a markdown table:
//! `cargo run --release -p llmgate --example router_pick [picks] [picks at 1 000]`
//! (`bench/router.sh`).
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use llmgate::router::{Ask, Params, Registry, Router, Settings, Strategy};

const GROUP: &str = "bench";
const SIZES: [usize; 3] = [1, 10, 1_000];
/// Picks held before they are dropped (outside the clock) in the pick-only measure.
const BATCH: usize = 1_000;
/// Each measure's picks are timed in this many rounds; the median round is reported (the
/// machine is shared: a round disturbed by another process does not move the figure).
const ROUNDS: usize = 5;

struct Case {
    name: &'static str,
    settings: fn() -> Settings,
    /// The deployment's routing parameters, by index in its group.
    params: fn(usize) -> Params,
    /// Stats recorded before measuring (latency samples, tokens).
    prepare: fn(&Router<()>),
    tags: &'static [&'static str],
    input_tokens: Option<u64>,
}

fn base(i: usize) -> Params {
    Params {
        id: format!("dep-{i}"),
        group: GROUP.into(),
        model: format!("openai/model-{i}"),
        ..Params::default()
    }
}

fn weighted(i: usize) -> Params {
    Params {
        weight: Some(1.0 + (i % 10) as f64),
        ..base(i)
    }
}

fn strategy(s: Strategy) -> Settings {
    Settings {
        strategy: s,
        ..Settings::default()
    }
}

fn nothing(_: &Router<()>) {}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "simple-shuffle, weights",
            settings: || strategy(Strategy::SimpleShuffle),
            params: weighted,
            prepare: nothing,
            tags: &[],
            input_tokens: None,
        },
        Case {
            name: "least-busy",
            settings: || strategy(Strategy::LeastBusy),
            params: base,
            prepare: nothing,
            tags: &[],
            input_tokens: None,
        },
        Case {
            // Limits far above what the run sends, tokens used this minute differing.
            name: "usage-based, rpm limits",
            settings: || strategy(Strategy::UsageBased),
            params: |i| Params {
                rpm: Some(1_000_000_000 + i as u64),
                ..base(i)
            },
            prepare: |r| {
                for m in members(r) {
                    let i: u64 = m.params.id[4..].parse().unwrap();
                    r.succeeded(m, None, Some(100 + (i * 7919) % 1_000));
                }
            },
            tags: &[],
            input_tokens: Some(500),
        },
        Case {
            // LiteLLM's default 10 samples per deployment.
            name: "latency-based, 10 samples each",
            settings: || strategy(Strategy::LatencyBased),
            params: base,
            prepare: |r| {
                for m in members(r) {
                    let i: u64 = m.params.id[4..].parse().unwrap();
                    for k in 0..10 {
                        let secs = 0.2 + ((i * 7919 + k * 104_729) % 1_000) as f64 / 1_000.0;
                        r.succeeded(m, Some(secs), None);
                    }
                }
            },
            tags: &[],
            input_tokens: None,
        },
        Case {
            name: "cost-based",
            settings: || strategy(Strategy::CostBased),
            params: |i| Params {
                input_cost: Some(1e-6 * (1 + (i * 7919) % 50) as f64),
                output_cost: Some(4e-6),
                ..base(i)
            },
            prepare: nothing,
            tags: &[],
            input_tokens: None,
        },
        Case {
            // Half the group tagged `paid`, the rest `free` (one in ten also `default`).
            name: "simple-shuffle + tag filtering",
            settings: || Settings {
                tag_filtering: true,
                ..strategy(Strategy::SimpleShuffle)
            },
            params: |i| {
                let mut tags = vec![if i % 2 == 0 { "paid" } else { "free" }.to_string()];
                if i % 10 == 1 {
                    tags.push("default".into());
                }
                Params {
                    tags,
                    ..weighted(i)
                }
            },
            prepare: nothing,
            tags: &["paid"],
            input_tokens: None,
        },
        Case {
            // A quarter of the group has too small a context window for the prompt.
            name: "simple-shuffle + pre_call_checks",
            settings: || Settings {
                pre_call_checks: true,
                ..strategy(Strategy::SimpleShuffle)
            },
            params: |i| Params {
                max_input_tokens: Some(if i % 4 == 3 { 8_192 } else { 128_000 }),
                ..weighted(i)
            },
            prepare: nothing,
            tags: &[],
            input_tokens: Some(10_000),
        },
    ]
}

fn members(r: &Router<()>) -> impl Iterator<Item = &llmgate::router::Member<()>> {
    r.members(GROUP).expect("the group").0.iter().map(|m| &**m)
}

/// Mean time per pick, the picks dropped outside the clock, `BATCH` at a time.
fn time_pick(r: &Router<()>, ask: Ask<'_>, n: usize) -> Duration {
    let mut held = Vec::with_capacity(BATCH);
    let mut total = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let k = left.min(BATCH);
        let t = Instant::now();
        for _ in 0..k {
            held.push(r.pick(black_box(GROUP), black_box(ask)).expect("pick"));
        }
        total += t.elapsed();
        black_box(&held);
        held.clear();
        left -= k;
    }
    total / n as u32
}

/// Mean time per pick with its `Pick` dropped at once (the in-flight count back down).
fn time_pick_drop(r: &Router<()>, ask: Ask<'_>, n: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        drop(black_box(
            r.pick(black_box(GROUP), black_box(ask)).expect("pick"),
        ));
    }
    t.elapsed() / n as u32
}

/// The median of `ROUNDS` rounds' mean time per pick, `n` picks in all.
fn median(n: usize, mut round: impl FnMut(usize) -> Duration) -> Duration {
    let mut t: Vec<Duration> = (0..ROUNDS).map(|_| round(n / ROUNDS)).collect();
    t.sort();
    t[ROUNDS / 2]
}

fn us(d: Duration) -> String {
    let us = d.as_nanos() as f64 / 1_000.0;
    if us < 10.0 {
        format!("{us:.2}")
    } else {
        format!("{us:.1}")
    }
}

/// `1 000`, as the README writes numbers.
fn size(n: usize) -> String {
    if n >= 1_000 {
        format!("{} {:03}", n / 1_000, n % 1_000)
    } else {
        n.to_string()
    }
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let small = args.next().unwrap_or(200_000);
    let large = args.next().unwrap_or(20_000);

    println!(
        "Mean µs per pick (Pick held, dropped outside the clock) and per pick + drop; \
         {small} picks per measure for groups of 1 and 10, {large} for 1 000, after a warm-up \
         of a tenth of that, timed in {ROUNDS} rounds: the median round.\n"
    );
    let head: Vec<String> = SIZES
        .iter()
        .map(|n| format!("pick @ {}", size(*n)))
        .collect();
    let head_drop: Vec<String> = SIZES
        .iter()
        .map(|n| format!("pick+drop @ {}", size(*n)))
        .collect();
    println!(
        "| case | {} | {} |",
        head.join(" | "),
        head_drop.join(" | ")
    );
    println!("|---|{}", "---:|".repeat(2 * SIZES.len()));
    for case in cases() {
        let tags: Vec<String> = case.tags.iter().map(|t| t.to_string()).collect();
        let ask = Ask {
            tags: &tags,
            input_tokens: case.input_tokens,
            ..Ask::default()
        };
        let mut pick = Vec::new();
        let mut pick_drop = Vec::new();
        for size in SIZES {
            let r: Router<()> = Router::new(
                Arc::new((case.settings)()),
                Arc::new(Registry::default()),
                (0..size).map(|i| (Arc::new(()), (case.params)(i))),
            );
            (case.prepare)(&r);
            let n = if size >= 1_000 { large } else { small };
            time_pick_drop(&r, ask, n / 10);
            pick.push(us(median(n, |k| time_pick(&r, ask, k))));
            pick_drop.push(us(median(n, |k| time_pick_drop(&r, ask, k))));
        }
        println!(
            "| {} | {} | {} |",
            case.name,
            pick.join(" | "),
            pick_drop.join(" | ")
        );
    }
}
