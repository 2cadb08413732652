//! `bedrock`: AWS Bedrock Guardrails' ApplyGuardrail API,
//! `POST {runtime}/guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply` with
//! `{source: INPUT|OUTPUT, content: [{text: {text}}]}`, signed for service `bedrock` by the
//! SDK's Bedrock auth (the same region, endpoint and credential chain a Bedrock model's
//! `aws_*` params take; `AWS_BEARER_TOKEN_BEDROCK` when no credential is configured).
//!
//! As LiteLLM 1.110: `action: GUARDRAIL_INTERVENED` with any assessment `BLOCKED` blocks
//! with the `Violated guardrail policy` detail (the outputs' text, the guardrail's id and
//! version, the blocked assessments with their `match`/`regex` redacted); an intervention
//! with only `ANONYMIZED` findings puts the `outputs` texts in place of the texts sent, in
//! order. With `disable_exception_on_block` a block is answered 200 with the outputs' text
//! (the guardrail's blocked message) as the assistant's reply, `finish_reason:
//! content_filter`, on chat completions (elsewhere it stays a 400), as LiteLLM's
//! `ModifyResponseException`.

use futures::future::BoxFuture;
use llmgate::providers::bedrock::auth::{locate, Target};
use llmgate::CallOptions;
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

/// The params the SDK's Bedrock auth reads (region, endpoint, credentials).
const AWS_PARAMS: &[&str] = &[
    "aws_region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_session_name",
    "aws_profile_name",
    "aws_role_name",
    "aws_web_identity_token",
    "aws_sts_endpoint",
    "aws_external_id",
    "aws_bedrock_runtime_endpoint",
];

/// The policies of an assessment and the lists under each whose items carry an `action`.
const POLICIES: &[(&str, &[&str])] = &[
    ("topicPolicy", &["topics"]),
    ("contentPolicy", &["filters"]),
    ("wordPolicy", &["customWords", "managedWordLists"]),
    ("sensitiveInformationPolicy", &["piiEntities", "regexes"]),
    ("contextualGroundingPolicy", &["filters"]),
];

pub struct Bedrock {
    opts: CallOptions,
    url: String,
    identifier: String,
    version: String,
    output_scope: Option<String>,
    /// `disable_exception_on_block`: a block answers 200 with Bedrock's blocked message.
    answer_on_block: bool,
}

impl Bedrock {
    pub fn from_entry(e: &Entry) -> Result<Bedrock, String> {
        let need = |k: &str| {
            e.params
                .get(k)
                .and_then(|v| match v {
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .ok_or_else(|| format!("guardrail {}: Bedrock Guardrails need {k}", e.name))
        };
        let identifier = need("guardrailIdentifier")?;
        let version = need("guardrailVersion")?;
        let mut opts = CallOptions::default();
        for k in AWS_PARAMS {
            if let Some(v) = e.params.get(*k) {
                opts.extra.insert(k.to_string(), v.clone());
            }
        }
        let (_, endpoint) = locate(&opts).map_err(|err| format!("guardrail {}: {err}", e.name))?;
        // The id may be an ARN (`arn:aws:bedrock:…:guardrail/abc`): each is one encoded
        // path segment, never a path of its own.
        let mut url = reqwest::Url::parse(&endpoint)
            .map_err(|err| format!("guardrail {}: {endpoint}: {err}", e.name))?;
        url.path_segments_mut()
            .map_err(|_| format!("guardrail {}: {endpoint} cannot be a base", e.name))?
            .pop_if_empty()
            .extend(["guardrail", &identifier, "version", &version, "apply"]);
        let output_scope = match e.str_param("outputScope") {
            None => None,
            Some(s @ ("INTERVENTIONS" | "FULL")) => Some(s.to_string()),
            Some(o) => {
                return Err(format!(
                    "guardrail {}: outputScope: {o} (INTERVENTIONS or FULL)",
                    e.name
                ))
            }
        };
        Ok(Bedrock {
            opts,
            url: url.to_string(),
            identifier,
            version,
            output_scope,
            answer_on_block: e.params.get("disable_exception_on_block") == Some(&Value::Bool(true)),
        })
    }

    async fn call(
        &self,
        texts: &[String],
        input: Input,
        ctx: &Ctx<'_>,
    ) -> Result<Verdict, Failure> {
        // ApplyGuardrail refuses an empty content list; empty texts are not sent.
        let sent: Vec<usize> = (0..texts.len()).filter(|&i| !texts[i].is_empty()).collect();
        if sent.is_empty() {
            return Ok(Verdict::Pass);
        }
        let mut body = json!({
            "source": match input { Input::Request => "INPUT", Input::Response => "OUTPUT" },
            "content": sent.iter().map(|&i| json!({"text": {"text": texts[i]}})).collect::<Vec<_>>(),
        });
        if let Some(s) = &self.output_scope {
            body["outputScope"] = json!(s);
        }
        let fail = |e: String| Failure(format!("Bedrock guardrail request failed: {e}"));
        let target = Target::from_options(ctx.http, &self.opts)
            .await
            .map_err(|e| fail(e.message.clone()))?;
        let bytes = serde_json::to_vec(&body).map_err(|e| fail(e.to_string()))?;
        let req = target
            .post(ctx.http, &self.opts, &self.url, bytes)
            .map_err(|e| fail(e.message.clone()))?;
        let answer: Value = super::send_json(req, "Bedrock guardrail request").await?;
        Ok(self.verdict(texts, &sent, &answer))
    }

    fn verdict(&self, texts: &[String], sent: &[usize], answer: &Value) -> Verdict {
        if answer["action"] != "GUARDRAIL_INTERVENED" {
            return Verdict::Pass;
        }
        let outputs: Vec<&str> = answer["outputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["text"].as_str())
            .collect();
        let blocked = blocked_assessments(answer);
        if !blocked.is_empty() && self.answer_on_block {
            return Verdict::Answer(outputs.concat());
        }
        if !blocked.is_empty() {
            let mut detail = Map::new();
            detail.insert("error".into(), json!("Violated guardrail policy"));
            detail.insert("bedrock_guardrail_response".into(), json!(outputs.concat()));
            detail.insert("guardrailIdentifier".into(), json!(self.identifier));
            detail.insert("guardrailVersion".into(), json!(self.version));
            detail.insert("assessments".into(), Value::Array(blocked));
            return Verdict::Block(Value::Object(detail));
        }
        if outputs.is_empty() {
            return Verdict::Pass;
        }
        // Positionally, as LiteLLM writes them back: output i replaces the i-th text sent.
        let mut out = texts.to_vec();
        for (&i, o) in sent.iter().zip(&outputs) {
            out[i] = o.to_string();
        }
        if out == texts {
            return Verdict::Pass;
        }
        Verdict::Mask {
            texts: out,
            counts: anonymized_counts(answer),
        }
    }
}

/// LiteLLM's `{policy, matches}` summary of every `BLOCKED` finding, `match` and `regex`
/// values redacted (the client is not shown what matched).
fn blocked_assessments(answer: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for a in answer["assessments"].as_array().into_iter().flatten() {
        for (policy, lists) in POLICIES {
            let Some(p) = a.get(*policy).filter(|p| p.is_object()) else {
                continue;
            };
            let mut matches = Vec::new();
            for list in *lists {
                for item in p[*list].as_array().into_iter().flatten() {
                    if item["action"] == "BLOCKED" {
                        matches.push(summary(policy, list, item));
                    }
                }
            }
            if !matches.is_empty() {
                out.push(json!({"policy": policy, "matches": matches}));
            }
        }
    }
    out
}

/// One blocked finding, with the fields LiteLLM keeps for its policy.
fn summary(policy: &str, list: &str, item: &Value) -> Value {
    let keys: &[&str] = match (policy, list) {
        ("topicPolicy", _) => &["name", "type", "action"],
        ("contentPolicy", _) => &["type", "confidence", "filterStrength", "action"],
        ("wordPolicy", "customWords") => &["match", "action"],
        ("wordPolicy", _) => &["type", "match", "action"],
        ("sensitiveInformationPolicy", "piiEntities") => &["type", "match", "action"],
        ("sensitiveInformationPolicy", _) => &["name", "regex", "match", "action"],
        _ => &["type", "threshold", "score", "action"],
    };
    let mut m = Map::new();
    m.insert("category".into(), json!(list));
    for k in keys {
        let v = if matches!(*k, "match" | "regex") {
            json!("[REDACTED]")
        } else {
            item.get(*k).cloned().unwrap_or(Value::Null)
        };
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// `ANONYMIZED` PII entities and regexes by type: the log's `masked_entity_count`.
fn anonymized_counts(answer: &Value) -> Map<String, Value> {
    let mut counts = Map::new();
    for a in answer["assessments"].as_array().into_iter().flatten() {
        let p = &a["sensitiveInformationPolicy"];
        for (list, key) in [("piiEntities", "type"), ("regexes", "name")] {
            for item in p[list].as_array().into_iter().flatten() {
                if item["action"] == "ANONYMIZED" {
                    let k = item[key].as_str().unwrap_or("PII").to_string();
                    let n = counts.get(&k).and_then(Value::as_u64).unwrap_or(0);
                    counts.insert(k, (n + 1).into());
                }
            }
        }
    }
    counts
}

impl Guardrail for Bedrock {
    fn provider(&self) -> &'static str {
        "bedrock"
    }
    fn apply<'a>(
        &'a self,
        texts: &'a [String],
        input: Input,
        ctx: &'a Ctx<'a>,
    ) -> BoxFuture<'a, Result<Verdict, Failure>> {
        Box::pin(self.call(texts, input, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bedrock() -> Bedrock {
        let e = Entry::parse(0, &json!({"guardrail_name": "b", "litellm_params": {
            "guardrail": "bedrock", "guardrailIdentifier": "arn:aws:bedrock:us-east-1:1:guardrail/g1",
            "guardrailVersion": "DRAFT", "aws_region_name": "us-east-1"}}))
        .unwrap();
        Bedrock::from_entry(&e).unwrap()
    }

    #[test]
    fn url_keeps_the_arn_in_one_segment() {
        assert_eq!(
            bedrock().url,
            "https://bedrock-runtime.us-east-1.amazonaws.com/guardrail/arn:aws:bedrock:us-east-1:1:guardrail%2Fg1/version/DRAFT/apply"
        );
        let e = Entry::parse(
            0,
            &json!({"guardrail_name": "b", "litellm_params": {"guardrail": "bedrock", "guardrailVersion": "1"}}),
        )
        .unwrap();
        assert!(Bedrock::from_entry(&e)
            .err()
            .unwrap()
            .contains("guardrailIdentifier"));
    }

    #[test]
    fn blocked_findings_block_anonymized_ones_mask() {
        let b = bedrock();
        let blocked = json!({"action": "GUARDRAIL_INTERVENED",
            "outputs": [{"text": "Sorry, the model cannot answer this question."}],
            "assessments": [{"wordPolicy": {"customWords": [{"match": "bomb", "action": "BLOCKED"}]},
                             "contentPolicy": {"filters": [{"type": "VIOLENCE", "confidence": "HIGH", "filterStrength": "HIGH", "action": "NONE"}]}}]});
        assert_eq!(
            b.verdict(&["a bomb".into()], &[0], &blocked),
            Verdict::Block(json!({"error": "Violated guardrail policy",
                "bedrock_guardrail_response": "Sorry, the model cannot answer this question.",
                "guardrailIdentifier": "arn:aws:bedrock:us-east-1:1:guardrail/g1", "guardrailVersion": "DRAFT",
                "assessments": [{"policy": "wordPolicy", "matches": [{"category": "customWords", "match": "[REDACTED]", "action": "BLOCKED"}]}]}))
        );
        let masked = json!({"action": "GUARDRAIL_INTERVENED",
            "outputs": [{"text": "mail {EMAIL}"}],
            "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "match": "a@b.co", "action": "ANONYMIZED"}]}}]});
        let Verdict::Mask { texts, counts } =
            b.verdict(&["".into(), "mail a@b.co".into()], &[1], &masked)
        else {
            panic!()
        };
        assert_eq!(texts, ["", "mail {EMAIL}"]);
        assert_eq!(counts["EMAIL"], 1);
        assert_eq!(
            b.verdict(
                &["x".into()],
                &[0],
                &json!({"action": "NONE", "outputs": []})
            ),
            Verdict::Pass
        );
    }
}
