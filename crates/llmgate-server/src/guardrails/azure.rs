//! Azure AI Content Safety, LiteLLM's two guardrails on it (`api_base` — the resource's
//! endpoint —, `api_key` as `Ocp-Apim-Subscription-Key`, `api_version`, 2024-09-01 unless
//! set; both required as LiteLLM requires them):
//!
//! - `azure/text_moderations`: `POST {api_base}/contentsafety/text:analyze` with the text,
//!   `categories` (Hate, Sexual, SelfHarm, Violence unless set), `blocklistNames`,
//!   `haltOnBlocklistHit`, `outputType`; a category whose severity reaches its
//!   `severity_threshold_by_category` entry, or `severity_threshold` (2 when neither is set),
//!   blocks with LiteLLM's `… crossed severity …` detail. `pre_call` and `post_call` only.
//! - `azure/prompt_shield`: `POST {api_base}/contentsafety/text:shieldPrompt` with
//!   `userPrompt`; `userPromptAnalysis.attackDetected` blocks. `pre_call` and `during_call`
//!   only.
//!
//! Texts over Azure's 10 000-character limit are split at word boundaries and each piece is
//! checked, as LiteLLM does. Neither ever masks.

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Mode, Verdict};
use crate::pyfmt::py_repr;

/// Azure Content Safety's limit on one request's text, in characters.
const MAX_TEXT: usize = 10_000;
const DEFAULT_API_VERSION: &str = "2024-09-01";
/// LiteLLM's severity threshold when none is configured.
const DEFAULT_SEVERITY: i64 = 2;

enum Kind {
    TextModeration {
        body: Map<String, Value>,
        severity: Option<i64>,
        by_category: Option<Map<String, Value>>,
    },
    PromptShield,
}

pub struct ContentSafety {
    kind: Kind,
    url: String,
    api_key: String,
}

impl ContentSafety {
    pub fn from_entry(e: &Entry) -> Result<ContentSafety, String> {
        let shield = e.kind == "azure/prompt_shield";
        let allowed: &[Mode] = if shield {
            &[Mode::PreCall, Mode::DuringCall]
        } else {
            &[Mode::PreCall, Mode::PostCall]
        };
        if let Some(m) = e.modes.iter().find(|m| !allowed.contains(m)) {
            let names: Vec<&str> = allowed.iter().map(|m| m.name()).collect();
            return Err(format!(
                "guardrail {}: {} runs in {} only, not {}",
                e.name,
                e.kind,
                names.join(" and "),
                m.name()
            ));
        }
        let need = |k: &str| {
            e.str_param(k).map(str::to_string).ok_or_else(|| {
                format!(
                    "guardrail {}: Azure Content Safety: {k} is required",
                    e.name
                )
            })
        };
        let api_key = need("api_key")?;
        let base = need("api_base")?;
        // LiteLLM sends its own default for an unset version, and for the `v1` its older
        // releases stored.
        let version = match e.str_param("api_version") {
            None | Some("v1") => DEFAULT_API_VERSION,
            Some(v) => v,
        };
        let action = if shield {
            "text:shieldPrompt"
        } else {
            "text:analyze"
        };
        let mut url = reqwest::Url::parse(&format!(
            "{}/contentsafety/{action}",
            base.trim_end_matches('/')
        ))
        .map_err(|err| format!("guardrail {}: api_base: {err}", e.name))?;
        url.query_pairs_mut().append_pair("api-version", version);
        let kind = if shield {
            Kind::PromptShield
        } else {
            text_moderation(e)?
        };
        Ok(ContentSafety {
            kind,
            url: url.to_string(),
            api_key,
        })
    }

    async fn call(&self, texts: &[String], ctx: &Ctx<'_>) -> Result<Verdict, Failure> {
        for text in texts.iter().filter(|t| !t.is_empty()) {
            for piece in split_by_words(text, MAX_TEXT) {
                let body = match &self.kind {
                    Kind::PromptShield => json!({"userPrompt": piece, "documents": []}),
                    Kind::TextModeration { body, .. } => {
                        let mut b = body.clone();
                        b.insert("text".into(), json!(piece));
                        Value::Object(b)
                    }
                };
                let req = ctx
                    .http
                    .post(&self.url)
                    .header("Ocp-Apim-Subscription-Key", &self.api_key)
                    .json(&body);
                let answer: Value = super::send_json(req, "Azure Content Safety request").await?;
                if let Some(msg) = self.blocked(&answer)? {
                    return Ok(Verdict::Block(msg));
                }
            }
        }
        Ok(Verdict::Pass)
    }

    /// The block detail for one answer, if it blocks.
    fn blocked(&self, answer: &Value) -> Result<Option<Value>, Failure> {
        let detail = match &self.kind {
            Kind::PromptShield => {
                let analysis = answer.get("userPromptAnalysis").ok_or_else(|| {
                    Failure("Azure Prompt Shield answered without userPromptAnalysis".into())
                })?;
                if analysis["attackDetected"] != Value::Bool(true) {
                    return Ok(None);
                }
                json!({
                    "error": "Violated Azure Prompt Shield guardrail policy",
                    "detection_message": format!("Attack detected: {}", py_repr(analysis)),
                })
            }
            Kind::TextModeration {
                severity,
                by_category,
                ..
            } => {
                let analysis = answer["categoriesAnalysis"].as_array().ok_or_else(|| {
                    Failure("Azure Text Moderation answered without categoriesAnalysis".into())
                })?;
                let crossed = |limit: &dyn Fn(&str) -> Option<i64>| {
                    analysis.iter().find_map(|c| {
                        let cat = c["category"].as_str()?;
                        let sev = c["severity"].as_i64()?;
                        let lim = limit(cat)?;
                        (sev >= lim).then(|| {
                            format!(
                                "Azure Content Safety Guardrail: {cat} crossed severity {lim}, Got severity: {sev}"
                            )
                        })
                    })
                };
                // LiteLLM's order: per category, then the general threshold, then the
                // default when neither is set.
                let hit = by_category
                    .as_ref()
                    .and_then(|m| crossed(&|c| m.get(c).and_then(Value::as_i64)))
                    .or_else(|| severity.and_then(|s| crossed(&|_| Some(s))))
                    .or_else(|| {
                        (severity.is_none() && by_category.is_none())
                            .then(|| crossed(&|_| Some(DEFAULT_SEVERITY)))
                            .flatten()
                    });
                match hit {
                    Some(msg) => json!({ "error": msg }),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(detail))
    }
}

/// `text:analyze`'s options and the thresholds, as LiteLLM reads them.
fn text_moderation(e: &Entry) -> Result<Kind, String> {
    let bad = |k: &str, v: &Value| format!("guardrail {}: {k}: {v} is not a severity", e.name);
    let int = |k: &str, v: &Value| -> Result<i64, String> {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| bad(k, v))
    };
    // `int(x) if x else None`: 0 means unset.
    let severity = match e.params.get("severity_threshold") {
        None | Some(Value::Null) => None,
        Some(v) => Some(int("severity_threshold", v)?).filter(|s| *s != 0),
    };
    let by_category = match e.params.get("severity_threshold_by_category") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(
                    k.clone(),
                    json!(int(&format!("severity_threshold_by_category.{k}"), v)?),
                );
            }
            Some(out)
        }
        Some(v) => return Err(bad("severity_threshold_by_category", v)),
    };
    let or = |k: &str, default: Value| {
        e.params
            .get(k)
            .filter(|v| !crate::config::support::asks_nothing(v))
            .cloned()
            .unwrap_or(default)
    };
    let mut body = Map::new();
    body.insert(
        "categories".into(),
        or(
            "categories",
            json!(["Hate", "Sexual", "SelfHarm", "Violence"]),
        ),
    );
    body.insert("blocklistNames".into(), or("blocklistNames", Value::Null));
    body.insert(
        "haltOnBlocklistHit".into(),
        or("haltOnBlocklistHit", json!(false)),
    );
    body.insert(
        "outputType".into(),
        or("outputType", json!("FourSeverityLevels")),
    );
    Ok(Kind::TextModeration {
        body,
        severity,
        by_category,
    })
}

/// `text` in pieces of at most `max` characters, cut between words (a word longer than
/// `max` is cut inside); whitespace is kept with the piece before the cut.
fn split_by_words(text: &str, max: usize) -> Vec<&str> {
    if text.chars().count() <= max {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut start = 0;
    // Byte offset and character count since `start`; the last cut point between words.
    let (mut count, mut last_space) = (0usize, None);
    for (i, ch) in text.char_indices() {
        if count == max {
            let cut = last_space.filter(|&s| s > start).unwrap_or(i);
            out.push(&text[start..cut]);
            start = cut;
            count = text[start..i].chars().count();
            last_space = None;
        }
        count += 1;
        if ch.is_whitespace() {
            last_space = Some(i + ch.len_utf8());
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

impl Guardrail for ContentSafety {
    fn provider(&self) -> &'static str {
        "azure"
    }
    fn apply<'a>(
        &'a self,
        texts: &'a [String],
        _input: Input,
        ctx: &'a Ctx<'a>,
    ) -> BoxFuture<'a, Result<Verdict, Failure>> {
        Box::pin(self.call(texts, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safety(params: Value) -> Result<ContentSafety, String> {
        let mut p = json!({"api_key": "k", "api_base": "https://cs.example.com/"});
        p.as_object_mut()
            .unwrap()
            .extend(params.as_object().unwrap().clone());
        ContentSafety::from_entry(
            &Entry::parse(0, &json!({"guardrail_name": "a", "litellm_params": p})).unwrap(),
        )
    }

    fn analysis(sev: &[(&str, i64)]) -> Value {
        json!({"blocklistsMatch": [], "categoriesAnalysis": sev.iter().map(|(c, s)| json!({"category": c, "severity": s})).collect::<Vec<_>>()})
    }

    #[test]
    fn thresholds_as_litellm() {
        let t = safety(json!({"guardrail": "azure/text_moderations"})).unwrap();
        assert_eq!(
            t.url,
            "https://cs.example.com/contentsafety/text:analyze?api-version=2024-09-01"
        );
        assert_eq!(
            t.blocked(&analysis(&[("Hate", 0), ("Violence", 1)]))
                .unwrap(),
            None
        );
        assert_eq!(
            t.blocked(&analysis(&[("Hate", 0), ("Violence", 2)]))
                .unwrap()
                .unwrap(),
            json!({"error": "Azure Content Safety Guardrail: Violence crossed severity 2, Got severity: 2"})
        );
        let t = safety(json!({"guardrail": "azure/text_moderations",
            "severity_threshold_by_category": {"Violence": 6}, "api_version": "2023-10-01"}))
        .unwrap();
        assert!(t.url.ends_with("api-version=2023-10-01"));
        // Only the per-category threshold applies (the default does not).
        assert_eq!(
            t.blocked(&analysis(&[("Hate", 4), ("Violence", 4)]))
                .unwrap(),
            None
        );
        assert!(t.blocked(&analysis(&[("Violence", 6)])).unwrap().is_some());
        let t = safety(json!({"guardrail": "azure/text_moderations", "severity_threshold": 4}))
            .unwrap();
        assert_eq!(t.blocked(&analysis(&[("Sexual", 2)])).unwrap(), None);
        assert!(t.blocked(&json!({"error": {}})).is_err());
    }

    #[test]
    fn prompt_shield_blocks_attacks_and_refuses_post_call() {
        let s = safety(json!({"guardrail": "azure/prompt_shield", "mode": "during_call"})).unwrap();
        assert_eq!(
            s.blocked(
                &json!({"userPromptAnalysis": {"attackDetected": true}, "documentsAnalysis": []})
            )
            .unwrap()
            .unwrap(),
            json!({"error": "Violated Azure Prompt Shield guardrail policy", "detection_message": "Attack detected: {'attackDetected': True}"})
        );
        assert_eq!(
            s.blocked(&json!({"userPromptAnalysis": {"attackDetected": false}}))
                .unwrap(),
            None
        );
        assert!(safety(json!({"guardrail": "azure/prompt_shield", "mode": "post_call"})).is_err());
        assert!(
            safety(json!({"guardrail": "azure/text_moderations", "mode": "during_call"})).is_err()
        );
        let no_key = Entry::parse(0, &json!({"guardrail_name": "a", "litellm_params": {"guardrail": "azure/prompt_shield", "api_base": "http://x"}})).unwrap();
        assert!(ContentSafety::from_entry(&no_key)
            .err()
            .unwrap()
            .contains("api_key is required"));
    }

    #[test]
    fn long_texts_split_between_words() {
        assert_eq!(split_by_words("short", 10), ["short"]);
        assert_eq!(split_by_words("aaa bbb ccc", 8), ["aaa bbb ", "ccc"]);
        assert_eq!(split_by_words("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let long = "word ".repeat(5000);
        let parts = split_by_words(&long, MAX_TEXT);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_TEXT));
        assert_eq!(parts.concat(), long);
    }
}
