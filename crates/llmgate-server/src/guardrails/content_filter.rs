//! `litellm_content_filter`: LiteLLM's built-in, offline filter. `patterns` (LiteLLM's
//! prebuilt ones by `pattern_name`, or a `regex`, matched case-insensitively as LiteLLM
//! compiles them) and `blocked_words` (case-insensitive substrings), each with
//! `action: BLOCK | MASK`. A mask is `[<PATTERN_NAME>_REDACTED]` (`pattern_redaction_format`)
//! or `[KEYWORD_REDACTED]` (`keyword_redaction_tag`); a block is LiteLLM's 400 detail.
//!
//! Unlike LiteLLM (which masks the first pattern's first match), every match of every MASK
//! pattern is masked.

use futures::future::BoxFuture;
use regex::{Regex, RegexBuilder};
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Block,
    Mask,
}

struct Pattern {
    re: Regex,
    name: String,
    action: Action,
}

struct Word {
    /// Lower-cased, as LiteLLM compares.
    keyword: String,
    action: Action,
    description: Option<String>,
    re: Regex,
}

pub struct ContentFilter {
    patterns: Vec<Pattern>,
    words: Vec<Word>,
    pattern_format: String,
    keyword_tag: String,
}

/// LiteLLM's prebuilt patterns (names and what they match; those needing look-around,
/// which Rust's regex lacks — `us_ssn_no_dash`, `ipv6` — are refused at start).
const PREBUILT: &[(&str, &str)] = &[
    ("us_ssn", r"\b\d{3}-\d{2}-\d{4}\b"),
    (
        "email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
    ),
    (
        "us_phone",
        r"\b(?:\+?1[\s.-]?)?\(?([0-9]{3})\)?[\s.-]?([0-9]{3})[\s.-]?([0-9]{4})\b",
    ),
    ("visa", r"\b4\d{3}[\s\-]?\d{4}[\s\-]?\d{4}[\s\-]?\d{4}\b"),
    (
        "mastercard",
        r"\b5[1-5]\d{2}[\s\-]?\d{4}[\s\-]?\d{4}[\s\-]?\d{4}\b",
    ),
    ("amex", r"\b3[47]\d{2}[\s\-]?\d{6}[\s\-]?\d{5}\b"),
    (
        "discover",
        r"\b6(?:011|5\d{2})[\s\-]?\d{4}[\s\-]?\d{4}[\s\-]?\d{4}\b",
    ),
    (
        "credit_card",
        r"\b4\d{3}[\s\-]?\d{4}[\s\-]?\d{4}[\s\-]?\d{4}\b|\b5[1-5]\d{2}[\s\-]?\d{4}[\s\-]?\d{4}[\s\-]?\d{4}\b|\b3[47]\d{2}[\s\-]?\d{6}[\s\-]?\d{5}\b|\b6(?:011|5\d{2})[\s\-]?\d{4}[\s\-]?\d{4}[\s\-]?\d{4}\b",
    ),
    ("aws_access_key", r"\b(AKIA[0-9A-Z]{16})\b"),
    ("aws_secret_key", r"\b([A-Za-z0-9/+=]{40})\b"),
    ("github_token", r"\b(gh[ps]_[a-zA-Z0-9]{36})\b"),
    (
        "slack_token",
        r"\b(xox[pboa]-[0-9]{10,13}-[0-9]{10,13}-[a-zA-Z0-9]{24,32})\b",
    ),
    (
        "generic_api_key",
        r#"\b([Aa][Pp][Ii][-_]?[Kk][Ee][Yy][\s:=]+['"]?[A-Za-z0-9_\-]{20,}['"]?)\b"#,
    ),
    (
        "ipv4",
        r"\b(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\b",
    ),
    ("url", r"\b(?:https?://|www\.)[^\s/$.?#].[^\s]*\b"),
    ("passport_us", r"\b([A-Z][0-9]{8}|[0-9]{9})\b"),
    ("passport_uk", r"\b[0-9]{9}\b"),
    ("passport_germany", r"\b[CFGHJKLMNPRTVWXYZ0-9]{9}\b"),
    ("passport_france", r"\b[0-9]{2}[A-Z]{2}[0-9]{5}\b"),
    ("passport_netherlands", r"\b[A-Z]{2}[A-Z0-9]{6}[0-9]\b"),
    (
        "passport_canada",
        r"\b([A-Z]{2}[0-9]{6}|[A-Z][0-9]{6}[A-Z]{2})\b",
    ),
    ("passport_india", r"\b[A-Z][0-9]{7}\b"),
    ("passport_australia", r"\b[A-Z][0-9]{7}\b"),
    ("passport_china", r"\b[EeGg][0-9]{8}\b"),
    ("passport_japan", r"\b[A-Z]{2}[0-9]{7}\b"),
];

fn action(at: &str, v: Option<&Value>) -> Result<Action, String> {
    match v
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("BLOCK") => Ok(Action::Block),
        Some("MASK") => Ok(Action::Mask),
        other => Err(format!("{at}.action: {other:?} (BLOCK or MASK)")),
    }
}

impl ContentFilter {
    pub fn from_entry(e: &Entry) -> Result<ContentFilter, String> {
        let at = |i: usize, what: &str| format!("guardrail {}: {what}[{i}]", e.name);
        let mut patterns = Vec::new();
        let items = |k: &str| -> Vec<Value> {
            e.params
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for (i, p) in items("patterns").iter().enumerate() {
            let at = at(i, "patterns");
            let action = action(&at, p.get("action"))?;
            let kind = p.get("pattern_type").and_then(Value::as_str);
            let (source, name, icase) = match kind {
                Some("prebuilt") => {
                    let name = p
                        .get("pattern_name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            format!("{at}: pattern_name is required for prebuilt patterns")
                        })?;
                    let (_, re) = PREBUILT
                        .iter()
                        .find(|(n, _)| *n == name)
                        .ok_or_else(|| format!("{at}: unknown prebuilt pattern {name:?}"))?;
                    (re.to_string(), name.to_string(), false)
                }
                Some("regex") => {
                    let re = p
                        .get("pattern")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("{at}: pattern is required for regex patterns"))?;
                    let name = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("custom_regex");
                    (re.to_string(), name.to_string(), true)
                }
                other => return Err(format!("{at}: unknown pattern_type {other:?}")),
            };
            let re = RegexBuilder::new(&source)
                .case_insensitive(icase)
                .build()
                .map_err(|err| format!("{at}: {err}"))?;
            patterns.push(Pattern { re, name, action });
        }
        let mut words = Vec::new();
        for (i, w) in items("blocked_words").iter().enumerate() {
            let at = at(i, "blocked_words");
            let keyword = w
                .get("keyword")
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| format!("{at}: keyword is required"))?
                .to_lowercase();
            let re = RegexBuilder::new(&regex::escape(&keyword))
                .case_insensitive(true)
                .build()
                .map_err(|err| format!("{at}: {err}"))?;
            words.push(Word {
                action: action(&at, w.get("action"))?,
                description: w
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                keyword,
                re,
            });
        }
        if e.params.contains_key("blocked_words_file") {
            return Err(format!(
                "guardrail {}: blocked_words_file is not supported; list blocked_words inline",
                e.name
            ));
        }
        Ok(ContentFilter {
            patterns,
            words,
            pattern_format: e
                .str_param("pattern_redaction_format")
                .unwrap_or("[{pattern_name}_REDACTED]")
                .to_string(),
            keyword_tag: e
                .str_param("keyword_redaction_tag")
                .unwrap_or("[KEYWORD_REDACTED]")
                .to_string(),
        })
    }

    /// One text: blocked (LiteLLM's detail), or masked in place with counts.
    fn check(&self, text: &mut String, counts: &mut Map<String, Value>) -> Result<(), Value> {
        for p in &self.patterns {
            let n = p.re.find_iter(text).count();
            if n == 0 {
                continue;
            }
            let label = p.name.to_uppercase();
            match p.action {
                Action::Block => {
                    let msg = format!("Content blocked: {} pattern detected", p.name);
                    return Err(json!({"error": msg, "pattern": p.name}));
                }
                Action::Mask => {
                    let tag = self.pattern_format.replace("{pattern_name}", &label);
                    *text = p.re.replace_all(text, regex::NoExpand(&tag)).into_owned();
                    bump(counts, &label, n);
                }
            }
        }
        let lower = text.to_lowercase();
        for w in &self.words {
            if !lower.contains(&w.keyword) {
                continue;
            }
            match w.action {
                Action::Block => {
                    let mut msg = format!("Content blocked: keyword '{}' detected", w.keyword);
                    if let Some(d) = &w.description {
                        msg.push_str(&format!(" ({d})"));
                    }
                    return Err(
                        json!({"error": msg, "keyword": w.keyword, "description": w.description}),
                    );
                }
                Action::Mask => {
                    let n = w.re.find_iter(text).count();
                    *text =
                        w.re.replace_all(text, regex::NoExpand(&self.keyword_tag))
                            .into_owned();
                    bump(counts, "KEYWORD", n);
                }
            }
        }
        Ok(())
    }

    /// All texts, synchronously (the filter needs no I/O).
    pub fn verdict(&self, texts: &[String]) -> Verdict {
        let mut counts = Map::new();
        let mut out = texts.to_vec();
        for t in &mut out {
            if let Err(msg) = self.check(t, &mut counts) {
                return Verdict::Block(msg);
            }
        }
        if counts.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Mask { texts: out, counts }
        }
    }
}

fn bump(counts: &mut Map<String, Value>, k: &str, n: usize) {
    let prev = counts.get(k).and_then(Value::as_u64).unwrap_or(0);
    counts.insert(k.to_string(), (prev + n as u64).into());
}

impl Guardrail for ContentFilter {
    fn provider(&self) -> &'static str {
        "litellm_content_filter"
    }
    fn apply<'a>(
        &'a self,
        texts: &'a [String],
        _input: Input,
        _ctx: &'a Ctx<'a>,
    ) -> BoxFuture<'a, Result<Verdict, Failure>> {
        Box::pin(async move { Ok(self.verdict(texts)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(params: Value) -> ContentFilter {
        let mut p = json!({"guardrail": "litellm_content_filter"});
        p.as_object_mut()
            .unwrap()
            .extend(params.as_object().unwrap().clone());
        let e = Entry::parse(0, &json!({"guardrail_name": "cf", "litellm_params": p})).unwrap();
        ContentFilter::from_entry(&e).unwrap()
    }

    #[test]
    fn every_prebuilt_compiles() {
        for (name, re) in PREBUILT {
            assert!(Regex::new(re).is_ok(), "{name}");
        }
    }

    #[test]
    fn masks_prebuilt_patterns() {
        let f = filter(json!({"patterns": [
            {"pattern_type": "prebuilt", "pattern_name": "email", "action": "MASK"},
            {"pattern_type": "prebuilt", "pattern_name": "us_ssn", "action": "MASK"},
        ]}));
        let v = f.verdict(&[
            "mail a@b.com or c@d.org, ssn 123-45-6789".into(),
            "clean".into(),
        ]);
        let Verdict::Mask { texts, counts } = v else {
            panic!("{v:?}")
        };
        assert_eq!(
            texts[0],
            "mail [EMAIL_REDACTED] or [EMAIL_REDACTED], ssn [US_SSN_REDACTED]"
        );
        assert_eq!(texts[1], "clean");
        assert_eq!(counts["EMAIL"], json!(2));
        assert_eq!(f.verdict(&["nothing here".into()]), Verdict::Pass);
    }

    #[test]
    fn blocks_with_litellm_detail() {
        let f = filter(json!({
            "patterns": [{"pattern_type": "regex", "pattern": "secret-\\d+", "name": "internal_id", "action": "BLOCK"}],
            "blocked_words": [{"keyword": "Forbidden", "action": "BLOCK", "description": "policy"},
                              {"keyword": "darn", "action": "MASK"}],
        }));
        assert_eq!(
            f.verdict(&["my SECRET-42".into()]),
            Verdict::Block(
                json!({"error": "Content blocked: internal_id pattern detected", "pattern": "internal_id"})
            )
        );
        assert_eq!(
            f.verdict(&["a FORBIDDEN word".into()]),
            Verdict::Block(
                json!({"error": "Content blocked: keyword 'forbidden' detected (policy)", "keyword": "forbidden", "description": "policy"})
            )
        );
        let Verdict::Mask { texts, .. } = f.verdict(&["Darn it".into()]) else {
            panic!()
        };
        assert_eq!(texts[0], "[KEYWORD_REDACTED] it");
    }

    #[test]
    fn bad_config_refused() {
        let e = Entry::parse(0, &json!({"guardrail_name": "cf", "litellm_params": {"guardrail": "litellm_content_filter",
            "patterns": [{"pattern_type": "prebuilt", "pattern_name": "nope", "action": "MASK"}]}})).unwrap();
        assert!(ContentFilter::from_entry(&e).is_err());
    }
}
