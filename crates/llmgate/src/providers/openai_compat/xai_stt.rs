//! xAI's speech-to-text as LiteLLM's `XAIAudioTranscriptionConfig` calls it: OpenAI's
//! `/audio/transcriptions` form sent to `{base without /v1}/v1/stt` (`model`, `language`, xAI's
//! own fields as given, the file last), the key as a bearer. OpenAI's `prompt`,
//! `response_format`, `temperature` and `timestamp_granularities` have no xAI field: a 400
//! unless `drop_params`. xAI's answer (`text`, `language`, `duration`, `words` of `text` /
//! `start` / `end` / `speaker`) comes back in OpenAI's verbose shape: `task: transcribe`, the
//! words as `word`; its `duration` prices the call.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::media::{Form, Transcript};
use crate::{ErrorKind, LlmError};

pub(super) const NAME: &str = "xai";

/// The STT endpoint under an xAI base (`https://api.x.ai/v1` → `https://api.x.ai/v1/stt`).
pub(super) fn url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    format!("{}/v1/stt", base.strip_suffix("/v1").unwrap_or(base))
}

/// OpenAI's transcription params, and whether xAI takes each.
const OPENAI_PARAMS: &[(&str, bool)] = &[
    ("language", true),
    ("prompt", false),
    ("response_format", false),
    ("temperature", false),
    ("timestamp_granularities", false),
    ("timestamp_granularities[]", false),
];

/// The form xAI gets: OpenAI params it lacks refused (or dropped with `drop_params`), the
/// rest as the client sent them; `model` is set by the sender.
pub(super) fn form(form: &mut Form, model: &str, drop_params: bool) -> Result<(), LlmError> {
    let refused = |k: &str| OPENAI_PARAMS.iter().any(|(p, ok)| *p == k && !ok);
    let mut present: Vec<&'static str> = OPENAI_PARAMS
        .iter()
        .filter(|(p, ok)| !ok && form.field(p).is_some())
        .map(|(p, _)| p.trim_end_matches("[]"))
        .collect();
    present.dedup();
    if !present.is_empty() && !drop_params {
        return Err(LlmError::unsupported_params(NAME, &present, model).with_model(model));
    }
    form.fields.retain(|(k, _)| !refused(k));
    Ok(())
}

/// xAI's answer as OpenAI's transcription JSON.
pub(super) fn answer(body: &[u8]) -> Result<Transcript, LlmError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!("Error parsing xAI response: {e}"),
        )
        .with_provider(NAME)
    })?;
    let mut out = Map::new();
    out.insert("text".into(), json!(v["text"].as_str().unwrap_or("")));
    out.insert("task".into(), json!("transcribe"));
    out.insert(
        "language".into(),
        json!(v["language"].as_str().unwrap_or("unknown")),
    );
    if let Some(d) = v["duration"].as_f64() {
        out.insert("duration".into(), json!(d));
    }
    if let Some(words) = v["words"].as_array() {
        let words: Vec<Value> = words
            .iter()
            .map(|w| {
                let mut o = json!({
                    "word": w["text"].as_str().unwrap_or(""),
                    "start": w["start"].as_f64().unwrap_or(0.0),
                    "end": w["end"].as_f64().unwrap_or(0.0),
                });
                if let Some(s) = w.get("speaker").filter(|s| !s.is_null()) {
                    o["speaker"] = s.clone();
                }
                o
            })
            .collect();
        out.insert("words".into(), Value::Array(words));
    }
    let json = Value::Object(out);
    Ok(Transcript {
        content_type: "application/json".into(),
        body: Bytes::from(serde_json::to_vec(&json).unwrap_or_default()),
        json: Some(json),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stt_url_under_any_base() {
        assert_eq!(url("https://api.x.ai/v1"), "https://api.x.ai/v1/stt");
        assert_eq!(url("https://api.x.ai/v1/"), "https://api.x.ai/v1/stt");
        assert_eq!(url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x/v1/stt");
    }

    #[test]
    fn openai_params_xai_lacks_are_refused_or_dropped() {
        let mut f = Form {
            fields: vec![
                ("language".into(), "en".into()),
                ("response_format".into(), "text".into()),
                ("timestamp_granularities[]".into(), "word".into()),
                ("diarize".into(), "true".into()),
            ],
            files: vec![],
        };
        let e = form(&mut f.clone(), "grok-stt", false).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("response_format"), "{}", e.message);
        form(&mut f, "grok-stt", true).unwrap();
        let kept: Vec<_> = f.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kept, ["language", "diarize"]);
    }

    #[test]
    fn answers_in_openais_shape() {
        let t = answer(br#"{"text":"hi there","language":"en","duration":2.5,
            "words":[{"text":"hi","start":0.0,"end":0.4,"speaker":0},{"text":"there","start":0.5,"end":1.0}]}"#)
        .unwrap();
        assert_eq!(
            t.json.unwrap(),
            json!({"text": "hi there", "task": "transcribe", "language": "en", "duration": 2.5,
                   "words": [{"word": "hi", "start": 0.0, "end": 0.4, "speaker": 0},
                             {"word": "there", "start": 0.5, "end": 1.0}]})
        );
        assert!(answer(b"not json").is_err());
    }
}
