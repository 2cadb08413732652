//! Running the selected guardrails of one mode over a set of texts: in config order, each
//! seeing the texts the previous one masked, each bounded by its `timeout`; a failure fails
//! closed or open as its `unreachable_fallback` says. Every run is one entry of LiteLLM's
//! `guardrail_information` (the spend log's metadata).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{Ctx, Guardrails, Input, Mode, OnError, Verdict};

/// What the guardrails of one mode did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The texts as masked (None: unchanged).
    pub texts: Option<Vec<String>>,
    /// The first block's detail (the call is refused with it): a message, or an object with
    /// the guardrail's `guardrail_name` and `guardrail_mode` added, as LiteLLM's proxy adds
    /// them.
    pub blocked: Option<Value>,
    /// A refusal to answer with a 200 reply instead (the text), as a block ends the run.
    pub answered: Option<String>,
    /// One `StandardLoggingGuardrailInformation` per guardrail run.
    pub info: Vec<Value>,
}

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whether any selected guardrail runs in `mode`.
pub fn any(gs: &Guardrails, sel: &[usize], mode: Mode) -> bool {
    sel.iter().any(|&i| gs.list[i].entry.modes.contains(&mode))
}

pub async fn run(
    gs: &Guardrails,
    sel: &[usize],
    mode: Mode,
    input: Input,
    texts: Vec<String>,
    ctx: &Ctx<'_>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut cur = texts;
    for g in sel.iter().map(|&i| &gs.list[i]) {
        if !g.entry.modes.contains(&mode) {
            continue;
        }
        let started = Instant::now();
        let start_time = epoch();
        let res = tokio::time::timeout(g.entry.timeout, g.imp.apply(&cur, input, ctx)).await;
        let res = match res {
            Ok(r) => r,
            Err(_) => Err(super::Failure(format!(
                "guardrail {} timed out after {:?}",
                g.entry.name, g.entry.timeout
            ))),
        };
        let (status, response, counts) = match res {
            Ok(Verdict::Pass) => ("success", Value::Null, Value::Null),
            Ok(Verdict::Mask { texts, counts }) => {
                cur = texts;
                out.texts = Some(cur.clone());
                (
                    "guardrail_intervened",
                    json!("masked"),
                    Value::Object(counts),
                )
            }
            Ok(Verdict::Block(mut detail)) => {
                if let Value::Object(o) = &mut detail {
                    o.entry("guardrail_name")
                        .or_insert_with(|| json!(g.entry.name));
                    // The mode as configured (a list stays a list), as LiteLLM reports it.
                    o.entry("guardrail_mode").or_insert_with(|| {
                        g.entry
                            .params
                            .get("mode")
                            .cloned()
                            .unwrap_or_else(|| g.entry.mode_value())
                    });
                }
                out.blocked = Some(detail.clone());
                ("guardrail_intervened", detail, Value::Null)
            }
            Ok(Verdict::Answer(text)) => {
                out.answered = Some(text.clone());
                ("guardrail_intervened", json!(text), Value::Null)
            }
            Err(f) => {
                tracing::warn!(guardrail = %g.entry.name, error = %f.0, "guardrail failed");
                if g.entry.on_error == OnError::FailClosed {
                    out.blocked = Some(json!(f.0));
                }
                ("guardrail_failed_to_respond", json!(f.0), Value::Null)
            }
        };
        out.info.push(json!({
            "guardrail_name": g.entry.name,
            "guardrail_provider": g.imp.provider(),
            "guardrail_mode": mode.name(),
            "guardrail_response": response,
            "guardrail_status": status,
            "start_time": start_time,
            "end_time": epoch(),
            "duration": started.elapsed().as_secs_f64(),
            "masked_entity_count": counts,
        }));
        if out.blocked.is_some() || out.answered.is_some() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use futures::future::BoxFuture;

    struct Slow;
    impl Guardrail for Slow {
        fn provider(&self) -> &'static str {
            "slow"
        }
        fn apply<'a>(
            &'a self,
            _: &'a [String],
            _: Input,
            _: &'a Ctx<'a>,
        ) -> BoxFuture<'a, Result<Verdict, Failure>> {
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                Ok(Verdict::Pass)
            })
        }
    }

    fn set(entries: Value) -> Guardrails {
        let mut list = Vec::new();
        for (i, e) in entries.as_array().unwrap().iter().enumerate() {
            let entry = Entry::parse(i, e).unwrap();
            let imp: Box<dyn Guardrail> = match entry.kind.as_str() {
                "slow" => Box::new(Slow),
                _ => Box::new(content_filter::ContentFilter::from_entry(&entry).unwrap()),
            };
            list.push(Loaded { entry, imp });
        }
        Guardrails {
            entries: list.iter().map(|l| l.entry.clone()).collect(),
            list,
        }
    }

    async fn go(gs: &Guardrails, mode: Mode, text: &str) -> Outcome {
        let http = reqwest::Client::new();
        let caller = serde_json::Map::new();
        let ctx = Ctx {
            http: &http,
            call_id: "c",
            caller: &caller,
        };
        let sel: Vec<usize> = (0..gs.list.len()).collect();
        run(gs, &sel, mode, Input::Request, vec![text.into()], &ctx).await
    }

    #[tokio::test]
    async fn modes_chain_masks_and_stop_at_a_block() {
        let gs = set(json!([
            {"guardrail_name": "mask", "litellm_params": {"guardrail": "litellm_content_filter", "mode": ["pre_call", "post_call"],
              "patterns": [{"pattern_type": "prebuilt", "pattern_name": "email", "action": "MASK"}]}},
            {"guardrail_name": "block", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "pre_call",
              "blocked_words": [{"keyword": "EMAIL_REDACTED", "action": "BLOCK"}]}},
        ]));
        let o = go(&gs, Mode::PostCall, "x a@b.co").await;
        assert_eq!(o.texts, Some(vec!["x [EMAIL_REDACTED]".into()]));
        assert!(o.blocked.is_none());
        assert_eq!(o.info.len(), 1);
        assert_eq!(o.info[0]["guardrail_status"], "guardrail_intervened");
        assert_eq!(o.info[0]["masked_entity_count"]["EMAIL"], 1);
        // The second sees what the first masked.
        let o = go(&gs, Mode::PreCall, "x a@b.co").await;
        let blocked = o.blocked.unwrap();
        assert!(blocked["error"]
            .as_str()
            .unwrap()
            .contains("email_redacted"));
        assert_eq!(blocked["guardrail_name"], "block");
        assert_eq!(blocked["guardrail_mode"], "pre_call");
        assert_eq!(o.info.len(), 2);
        let o = go(&gs, Mode::DuringCall, "x a@b.co").await;
        assert!(o.info.is_empty() && o.texts.is_none());
    }

    #[tokio::test]
    async fn slow_service_fails_closed_or_open() {
        let gs = set(
            json!([{"guardrail_name": "s", "litellm_params": {"guardrail": "slow", "timeout": 0.2}}]),
        );
        let o = go(&gs, Mode::PreCall, "hi").await;
        assert!(o.blocked.unwrap().as_str().unwrap().contains("timed out"));
        assert_eq!(o.info[0]["guardrail_status"], "guardrail_failed_to_respond");
        let gs = set(
            json!([{"guardrail_name": "s", "litellm_params": {"guardrail": "slow", "timeout": 0.2, "unreachable_fallback": "fail_open"}}]),
        );
        let o = go(&gs, Mode::PreCall, "hi").await;
        assert!(o.blocked.is_none());
        assert_eq!(o.info[0]["guardrail_status"], "guardrail_failed_to_respond");
    }
}
