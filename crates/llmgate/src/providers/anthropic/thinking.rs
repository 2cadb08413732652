//! Extended thinking: `reasoning_effort` and `thinking` as each Claude generation takes them.
//! Claude 4.6 and later think adaptively (`thinking.type: adaptive` with `output_config.effort`);
//! earlier models take a token budget (`type: enabled`, `budget_tokens`).

use serde_json::{json, Map, Value};

use super::generation::Generation;
use crate::LlmError;

/// Anthropic's smallest thinking budget.
const MIN_BUDGET: u64 = 1024;
/// The budget LiteLLM gives `thinking: {type: adaptive}` on a model that only takes budgets.
const ADAPTIVE_AS_BUDGET: u64 = 2048;

/// The thinking part of a request: `thinking` and `output_config` as sent upstream, the
/// budget that came from `reasoning_effort` (for the max_tokens rule), and whether the model
/// will think (a forced tool is refused then).
#[derive(Debug, Default)]
pub struct Thinking {
    pub thinking: Option<Value>,
    pub output_config: Option<Value>,
    pub effort_budget: Option<u64>,
    pub will_think: bool,
}

impl Thinking {
    /// A budget to add answer room to when the request sets no max_tokens.
    pub fn budget(&self) -> Option<u64> {
        self.thinking
            .as_ref()
            .filter(|t| t["type"] == "enabled")
            .and_then(|t| t["budget_tokens"].as_u64())
    }
}

/// Budget for `reasoning_effort` on a budget model, as LiteLLM's defaults (`minimal` is raised
/// to Anthropic's minimum); `none` thinks not at all.
fn effort_budget(effort: &str) -> Result<Option<u64>, LlmError> {
    Ok(match effort {
        "none" => None,
        "minimal" | "low" => Some(MIN_BUDGET),
        "medium" => Some(2048),
        "high" => Some(4096),
        "xhigh" => Some(8192),
        "max" => Some(16384),
        other => {
            return Err(super::request::bad(format!(
                "Unmapped reasoning effort: '{other}'. Must be one of: 'minimal', 'low', 'medium', 'high', 'xhigh', 'max', 'none'."
            )))
        }
    })
}

/// A budget as an adaptive model's effort.
fn budget_effort(budget: u64) -> &'static str {
    match budget {
        b if b >= 4096 => "high",
        b if b >= 2048 => "medium",
        _ => "low",
    }
}

/// `reasoning_effort`, `thinking` and `output_config` (as the request gave them) for `model`:
/// what LiteLLM sends for that generation. `max_tokens` is what the request asked for.
pub fn resolve(
    model: &str,
    effort: Option<&str>,
    thinking: Option<&Value>,
    output_config: Option<&Value>,
    max_tokens: Option<u64>,
) -> Result<Thinking, LlmError> {
    let g = Generation::of(model);
    let mut out = Thinking {
        thinking: thinking.filter(|t| !t.is_null()).cloned(),
        output_config: output_config.filter(|c| !c.is_null()).cloned(),
        ..Default::default()
    };
    if let Some(t) = out.thinking.clone() {
        if t["type"] == "adaptive" && !g.adaptive {
            // A model before 4.6 takes budgets: adaptive becomes a medium budget that fits
            // under max_tokens, or nothing when max_tokens cannot hold the minimum.
            out.thinking = match max_tokens {
                Some(m) if m <= MIN_BUDGET => None,
                Some(m) if ADAPTIVE_AS_BUDGET >= m => {
                    Some(json!({"type": "enabled", "budget_tokens": m - 1}))
                }
                _ => Some(json!({"type": "enabled", "budget_tokens": ADAPTIVE_AS_BUDGET})),
            };
        } else if t["type"] == "enabled" && g.adaptive && !g.legacy_budgets {
            // 4.7 and later refuse budgets: the budget becomes an effort.
            let mut a: Map<String, Value> = t
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !matches!(k.as_str(), "type" | "budget_tokens" | "display"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            a.insert("type".into(), json!("adaptive"));
            if matches!(t["display"].as_str(), Some("summarized" | "omitted")) {
                a.insert("display".into(), t["display"].clone());
            }
            out.thinking = Some(Value::Object(a));
            let effort = budget_effort(t["budget_tokens"].as_u64().unwrap_or(0));
            let mut cfg = Map::from_iter([("effort".to_string(), json!(effort))]);
            if let Some(Value::Object(c)) = &out.output_config {
                cfg.extend(c.clone());
            }
            out.output_config = Some(Value::Object(cfg));
        }
    }
    match effort {
        None => {}
        Some("none") => {
            out.thinking =
                (g.thinks_by_default() && !g.always_on).then(|| json!({"type": "disabled"}));
            out.output_config = None;
        }
        Some(e) if g.adaptive => {
            effort_budget(e)?; // the same values are accepted
                               // Without `display`, Anthropic omits adaptive thinking's text.
            out.thinking = Some(json!({"type": "adaptive", "display": "summarized"}));
            let level = if e == "minimal" { "low" } else { e };
            out.output_config = Some(json!({"effort": level}));
        }
        Some(e) => {
            out.effort_budget = effort_budget(e)?;
            out.thinking = out
                .effort_budget
                .map(|b| json!({"type": "enabled", "budget_tokens": b}));
        }
    }
    // Fable and Mythos refuse `disabled`; left out, they think as they always do.
    if g.always_on
        && out
            .thinking
            .as_ref()
            .is_some_and(|t| t["type"] == "disabled")
    {
        out.thinking = None;
    }
    out.will_think = g.always_on
        || match out.thinking.as_ref().map(|t| &t["type"]) {
            Some(t) => t == "enabled" || t == "adaptive",
            None => effort != Some("none") && g.thinks_by_default(),
        };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efforts_per_generation() {
        let t = resolve("claude-opus-4-6", Some("high"), None, None, None).unwrap();
        assert_eq!(
            t.thinking,
            Some(json!({"type": "adaptive", "display": "summarized"}))
        );
        assert_eq!(t.output_config, Some(json!({"effort": "high"})));
        let t = resolve("claude-haiku-4-5", Some("low"), None, None, None).unwrap();
        assert_eq!(
            t.thinking,
            Some(json!({"type": "enabled", "budget_tokens": 1024}))
        );
        let adaptive = json!({"type": "adaptive"});
        let t = resolve("claude-haiku-4-5", None, Some(&adaptive), None, Some(1500)).unwrap();
        assert_eq!(
            t.thinking,
            Some(json!({"type": "enabled", "budget_tokens": 1499}))
        );
        let budget = json!({"type": "enabled", "budget_tokens": 5000});
        let t = resolve("claude-opus-4-7", None, Some(&budget), None, None).unwrap();
        assert_eq!(t.thinking, Some(json!({"type": "adaptive"})));
        assert_eq!(t.output_config, Some(json!({"effort": "high"})));
        let t = resolve("claude-fable-5", Some("none"), None, None, None).unwrap();
        assert!(t.thinking.is_none() && t.will_think);
    }
}
