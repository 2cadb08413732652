use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;

fn params(id: &str, group: &str) -> Params {
    Params {
        id: id.into(),
        group: group.into(),
        model: format!("openai/{id}"),
        ..Params::default()
    }
}

fn router(settings: Settings, deps: Vec<Params>) -> Router<()> {
    Router::new(
        Arc::new(settings),
        Arc::new(Registry::default()),
        deps.into_iter().map(|p| (Arc::new(()), p)),
    )
}

fn picks(r: &Router<()>, group: &str, n: usize) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    for _ in 0..n {
        let p = r.pick(group, Ask::default()).unwrap();
        *out.entry(p.member.params.id.clone()).or_default() += 1;
    }
    out
}

fn err(kind: ErrorKind) -> LlmError {
    LlmError::new(kind, "boom")
}

#[test]
fn shuffle_follows_weights_then_rpm() {
    let mut a = params("a", "g");
    a.weight = Some(9.0);
    let mut b = params("b", "g");
    b.weight = Some(1.0);
    let r = router(Settings::default(), vec![a, b]);
    let n = picks(&r, "g", 10_000);
    let share = n["a"] as f64 / 10_000.0;
    assert!((0.87..0.93).contains(&share), "weight 9:1 gave {share}");

    let mut a = params("a", "g");
    a.rpm = Some(100);
    let mut b = params("b", "g");
    b.rpm = Some(300);
    let r = router(Settings::default(), vec![a, b]);
    let n = picks(&r, "g", 10_000);
    let share = n["b"] as f64 / 10_000.0;
    assert!((0.72..0.78).contains(&share), "rpm 1:3 gave {share}");
}

#[test]
fn order_prefers_lower_until_it_cools_down() {
    let mut a = params("a", "g");
    a.order = Some(1);
    let mut b = params("b", "g");
    b.order = Some(2);
    let r = router(Settings::default(), vec![a, b]);
    assert_eq!(picks(&r, "g", 50)["a"], 50);
    let (g, _) = r.members("g").unwrap();
    let a = g.iter().find(|m| m.params.id == "a").unwrap().clone();
    assert!(r.failed(&a, &err(ErrorKind::RateLimit)));
    assert_eq!(picks(&r, "g", 20)["b"], 20);
}

#[test]
fn cooldown_rules() {
    let r = router(
        Settings::default(),
        vec![params("a", "g"), params("b", "g")],
    );
    let (g, _) = r.members("g").unwrap();
    let a = g[0].clone();
    let now = stats::now_ms();
    // A bad request is the caller's fault (it still counts as a failure this minute).
    assert!(!r.failed_at(&a, &err(ErrorKind::BadRequest), now));
    // Server errors: once more than half of at least five calls this minute failed.
    let e500 = err(ErrorKind::InternalServer);
    for _ in 0..3 {
        assert!(!r.failed_at(&a, &e500, now));
    }
    assert!(r.failed_at(&a, &e500, now), "the fifth failure of five");
    // Bad credentials: at once.
    let b = g[1].clone();
    assert!(r.failed(&b, &err(ErrorKind::Authentication)));
    let e = r.pick("g", Ask::default()).err().unwrap();
    assert_eq!(e.status, 429);
    assert!(
        e.message
            .contains("All deployments for selected model are in cooldown"),
        "{}",
        e.message
    );
    assert!(e.retry_after.is_some());
}

#[test]
fn explicit_allowed_fails_counts() {
    let s = Settings {
        allowed_fails: Some(1),
        ..Settings::default()
    };
    let r = router(s, vec![params("a", "g"), params("b", "g")]);
    let (g, _) = r.members("g").unwrap();
    let e = err(ErrorKind::InternalServer);
    assert!(!r.failed(&g[0], &e));
    assert!(r.failed(&g[0], &e), "more than one failure");
    // Timeouts count as failures, never at once.
    assert!(!r.failed(&g[1], &err(ErrorKind::Timeout)));
    assert!(r.failed(&g[1], &err(ErrorKind::Timeout)));
    // A connection failure says nothing of the deployment.
    let r = router(
        Settings {
            allowed_fails: Some(0),
            ..Settings::default()
        },
        vec![params("a", "g"), params("b", "g")],
    );
    let (g, _) = r.members("g").unwrap();
    assert!(!r.failed(&g[0], &err(ErrorKind::ApiConnection)));
}

#[test]
fn single_deployment_groups_never_cool_down_without_a_policy() {
    let r = router(Settings::default(), vec![params("a", "g")]);
    let (g, _) = r.members("g").unwrap();
    assert!(!r.failed(&g[0], &err(ErrorKind::RateLimit)));
    assert!(!r.failed(&g[0], &err(ErrorKind::Authentication)));
    assert!(r.pick("g", Ask::default()).is_ok());
    let s = Settings::from_map(
        json!({"allowed_fails_policy": {"AuthenticationErrorAllowedFails": 0}})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let r = router(s, vec![params("a", "g")]);
    let (g, _) = r.members("g").unwrap();
    assert!(
        r.failed(&g[0], &err(ErrorKind::Authentication)),
        "a policy names it"
    );
}

#[test]
fn cooldown_expires() {
    let r = router(
        Settings {
            cooldown_time: Duration::from_secs(1),
            ..Settings::default()
        },
        vec![params("a", "g"), params("b", "g")],
    );
    let (g, _) = r.members("g").unwrap();
    let now = stats::now_ms();
    assert!(r.failed_at(&g[0], &err(ErrorKind::RateLimit), now));
    assert!(g[0].stats.is_cooling(now + 500));
    assert!(!g[0].stats.is_cooling(now + 1_001));
}

#[test]
fn blocked_is_503() {
    let mut a = params("a", "g");
    a.blocked = true;
    let r = router(Settings::default(), vec![a]);
    let e = r.pick("g", Ask::default()).err().unwrap();
    assert_eq!(e.status, 503);
}

#[test]
fn tags_and_default() {
    let mut a = params("a", "g");
    a.tags = vec!["teamA".into()];
    let mut b = params("b", "g");
    b.tags = vec!["default".into()];
    let r = router(
        Settings {
            tag_filtering: true,
            ..Settings::default()
        },
        vec![a, b],
    );
    let tags = ["teamA".to_string()];
    let ask = Ask {
        tags: &tags,
        ..Ask::default()
    };
    for _ in 0..20 {
        assert_eq!(r.pick("g", ask).unwrap().member.params.id, "a");
    }
    let other = ["teamB".to_string()];
    let ask = Ask {
        tags: &other,
        ..Ask::default()
    };
    assert_eq!(r.pick("g", ask).unwrap().member.params.id, "b");
}

#[test]
fn least_busy_counts_in_flight() {
    let r = router(
        Settings {
            strategy: Strategy::LeastBusy,
            ..Settings::default()
        },
        vec![params("a", "g"), params("b", "g"), params("c", "g")],
    );
    let held: Vec<_> = (0..3)
        .map(|_| r.pick("g", Ask::default()).unwrap())
        .collect();
    let mut ids: Vec<_> = held.iter().map(|p| p.member.params.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["a", "b", "c"], "each takes one before any takes two");
    let mut held = held;
    let first = held.remove(0);
    let freed = first.member.params.id.clone();
    drop(first);
    assert_eq!(r.pick("g", Ask::default()).unwrap().member.params.id, freed);
}

#[test]
fn usage_based_respects_rpm() {
    let mut a = params("a", "g");
    a.rpm = Some(2);
    let mut b = params("b", "g");
    b.rpm = Some(1);
    let r = router(
        Settings {
            strategy: Strategy::UsageBased,
            ..Settings::default()
        },
        vec![a, b],
    );
    let n = picks(&r, "g", 3);
    assert_eq!((n["a"], n["b"]), (2, 1));
    let e = r.pick("g", Ask::default()).err().unwrap();
    assert_eq!(e.status, 429);
    assert!(e.message.contains("'rpm_limit': 1"), "{}", e.message);
}

#[test]
fn latency_prefers_fastest_within_buffer() {
    let r = router(
        Settings {
            strategy: Strategy::LatencyBased,
            ..Settings::default()
        },
        vec![params("a", "g"), params("b", "g"), params("c", "g")],
    );
    let (g, _) = r.members("g").unwrap();
    for (m, l) in g.iter().zip([0.5, 0.1, 0.11]) {
        r.succeeded(m, Some(l), None);
    }
    assert_eq!(picks(&r, "g", 30)["b"], 30);
    let mut s = Settings {
        strategy: Strategy::LatencyBased,
        ..Settings::default()
    };
    s.latency.buffer = 0.5;
    let r2 = Router::new(
        Arc::new(s),
        r.registry().clone(),
        g.iter().map(|m| (Arc::new(()), m.params.clone())),
    );
    let n = picks(&r2, "g", 400);
    assert!(!n.contains_key("a"), "0.5 is outside 0.1 * 1.5");
    assert!(n["b"] > 100 && n["c"] > 100, "{n:?}");
}

#[test]
fn cost_picks_cheapest() {
    let mut a = params("a", "g");
    a.input_cost = Some(2e-6);
    a.output_cost = Some(4e-6);
    let mut b = params("b", "g");
    b.input_cost = Some(1e-6);
    b.output_cost = Some(1e-6);
    let r = router(
        Settings {
            strategy: Strategy::CostBased,
            ..Settings::default()
        },
        vec![a, b, params("c", "g")],
    );
    assert_eq!(picks(&r, "g", 20)["b"], 20);
}

#[test]
fn pre_call_checks_skip_small_windows() {
    let mut a = params("a", "g");
    a.max_input_tokens = Some(100);
    let mut b = params("b", "g");
    b.max_input_tokens = Some(10_000);
    let r = router(
        Settings {
            pre_call_checks: true,
            ..Settings::default()
        },
        vec![a, b],
    );
    let ask = Ask {
        input_tokens: Some(500),
        ..Ask::default()
    };
    for _ in 0..20 {
        assert_eq!(r.pick("g", ask).unwrap().member.params.id, "b");
    }
    let ask = Ask {
        input_tokens: Some(50_000),
        ..Ask::default()
    };
    assert_eq!(r.pick("g", ask).err().unwrap().status, 400);
}

#[test]
fn aliases_and_wildcards() {
    let mut s = Settings::default();
    s.aliases.insert("gpt-4".into(), ("g".into(), false));
    let mut w = params("w", "openai/*");
    w.model = "openai/*".into();
    let r = router(s, vec![params("a", "g"), w]);
    assert_eq!(
        r.pick("gpt-4", Ask::default()).unwrap().member.params.id,
        "a"
    );
    let p = r.pick("openai/gpt-4o-mini", Ask::default()).unwrap();
    assert_eq!(p.model, "openai/gpt-4o-mini");
}

#[test]
fn attempts_retry_then_fall_back() {
    let s = Settings::from_map(
        json!({"num_retries": 1, "fallbacks": [{"g": ["h", "i"]}], "cooldown_time": 0})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let r = router(
        s,
        vec![params("a", "g"), params("b", "g"), params("h1", "h")],
    );
    let mut at = r.attempts("g");
    let p = r.pick(at.group(), Ask::default()).unwrap();
    at.attempted(&p.member.params.id);
    let e = err(ErrorKind::InternalServer);
    assert_eq!(
        at.after(&r, Some(&p.member), &e, &|_| true),
        Next::Retry {
            delay: Duration::ZERO
        }
    );
    let p2 = r
        .pick(
            at.group(),
            Ask {
                exclude: at.tried(),
                ..Ask::default()
            },
        )
        .unwrap();
    assert_ne!(
        p.member.params.id, p2.member.params.id,
        "the retry goes elsewhere"
    );
    at.attempted(&p2.member.params.id);
    assert_eq!(
        at.after(&r, Some(&p2.member), &e, &|_| true),
        Next::Fallback { group: "h".into() }
    );
    // Retries count in the serving group; the fallback depth is 1.
    assert_eq!((at.retries, at.fallbacks), (0, 1));
    // A bad request is not retried, but falls back.
    let mut at = r.attempts("g");
    assert_eq!(
        at.after(&r, Some(&p.member), &err(ErrorKind::BadRequest), &|_| true),
        Next::Fallback { group: "h".into() }
    );
}

#[test]
fn context_window_fallbacks_take_over() {
    let s = Settings::from_map(
        json!({
            "fallbacks": [{"g": ["h"]}],
            "context_window_fallbacks": [{"g": ["big"]}]
        })
        .as_object()
        .unwrap(),
    )
    .unwrap();
    let r = router(s, vec![params("a", "g"), params("b", "g")]);
    let (g, _) = r.members("g").unwrap();
    let mut at = r.attempts("g");
    assert_eq!(
        at.after(
            &r,
            Some(&g[0]),
            &err(ErrorKind::ContextWindowExceeded),
            &|_| true
        ),
        Next::Fallback {
            group: "big".into()
        }
    );
}

#[test]
fn settings_reject_bad_values() {
    let bad = |v: serde_json::Value| Settings::from_map(v.as_object().unwrap()).is_err();
    assert!(bad(json!({"routing_strategy": "fastest"})));
    assert!(bad(json!({"num_retries": -1})));
    assert!(bad(json!({"retry_policy": {"NopeErrorRetries": 1}})));
    assert!(bad(json!({"fallbacks": "g"})));
    let s = Settings::from_map(
        json!({"retry_policy": {"RateLimitErrorRetries": 5}, "routing_strategy": "usage-based-routing-v2"})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(s.retries_for("g", ErrorKind::RateLimit, None), 5);
    assert_eq!(s.retries_for("g", ErrorKind::Timeout, None), 2);
    assert_eq!(s.strategy, Strategy::UsageBased);
}
