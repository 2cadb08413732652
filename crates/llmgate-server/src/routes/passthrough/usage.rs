//! What a pass-through answer used, read from the bytes on their way to the client (they go on
//! untouched): a JSON answer (kept up to [`MAX_JSON`]), SSE events one by one, or AWS's binary
//! event-stream frames, in the format of the provider that answered — as LiteLLM's
//! pass-through logging handlers read OpenAI, Anthropic, Gemini/Vertex, Bedrock and Cohere
//! answers for their cost.

use llmgate::providers::aws::eventstream::Decoder;
use llmgate::providers::bedrock::response::StreamState;
use llmgate::Usage;
use serde_json::Value;

/// A JSON answer larger than this is relayed but not read for usage (a file's content).
const MAX_JSON: usize = 8 << 20;

/// The answer format usage is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Chat, completions, embeddings, Responses (OpenAI, Azure, Mistral).
    OpenAi,
    Anthropic,
    /// Gemini and Vertex AI's Gemini models (`usageMetadata`).
    Gemini,
    Bedrock,
    Cohere,
    /// A custom pass-through endpoint: no usage read.
    Opaque,
}

enum Body {
    Json(Vec<u8>),
    Sse(llmgate::stream::sse::SseDecoder),
    Frames(Box<Decoder<StreamState>>),
    Skip,
}

/// Reads usage and the model out of an answer as it streams by.
pub struct Meter {
    format: Format,
    body: Body,
    usage: Option<Usage>,
    model: Option<String>,
    /// Anthropic's stream: `message_start`'s usage, updated by each `message_delta`.
    anthropic: Option<serde_json::Map<String, Value>>,
}

impl Meter {
    /// For an answer with `content_type`.
    pub fn new(format: Format, content_type: &str) -> Meter {
        let ct = content_type.to_ascii_lowercase();
        let body = if format == Format::Opaque {
            Body::Skip
        } else if ct.starts_with("text/event-stream") {
            Body::Sse(Default::default())
        } else if ct.starts_with("application/vnd.amazon.eventstream") {
            Body::Frames(Box::new(Decoder::new(
                StreamState::new("", 0, true),
                "bedrock",
            )))
        } else if ct.contains("json") {
            Body::Json(Vec::new())
        } else {
            Body::Skip
        };
        Meter {
            format,
            body,
            usage: None,
            model: None,
            anthropic: None,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        match &mut self.body {
            Body::Json(buf) => {
                if buf.len() + chunk.len() > MAX_JSON {
                    self.body = Body::Skip;
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            Body::Sse(dec) => {
                for ev in dec.feed(chunk) {
                    if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                        self.event(&v);
                    }
                }
            }
            Body::Frames(dec) => {
                dec.feed(chunk);
                while let Some(c) = dec.pending.pop_front() {
                    if let Ok(Some(u)) = c.map(|c| c.usage) {
                        self.usage = Some(u);
                    }
                }
            }
            Body::Skip => {}
        }
    }

    /// The usage and model seen, once the body has ended.
    pub fn finish(&mut self) -> (Option<Usage>, Option<String>) {
        if let Body::Json(buf) = std::mem::replace(&mut self.body, Body::Skip) {
            if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                match v {
                    // Gemini's `streamGenerateContent` without `alt=sse`: a JSON array.
                    Value::Array(items) => items.iter().for_each(|i| self.event(i)),
                    v => self.answer(&v),
                }
            }
        }
        if let Some(u) = self.anthropic.take() {
            self.usage = Some(llmgate::messages::usage::to_openai(&Value::Object(u)));
        }
        (self.usage.take(), self.model.take())
    }

    fn model_from(&mut self, v: Option<&Value>) {
        if let Some(m) = v.and_then(Value::as_str).filter(|m| !m.is_empty()) {
            self.model.get_or_insert_with(|| m.to_string());
        }
    }

    /// A whole JSON answer.
    fn answer(&mut self, v: &Value) {
        match self.format {
            Format::OpenAi => {
                self.model_from(v.get("model"));
                if let Some(u) = openai_usage(&v["usage"]) {
                    self.usage = Some(u);
                }
            }
            Format::Anthropic => {
                self.model_from(v.get("model"));
                if v["usage"].is_object() {
                    self.usage = Some(llmgate::messages::usage::to_openai(&v["usage"]));
                }
            }
            Format::Gemini => self.event(v),
            Format::Bedrock => {
                if v["usage"].is_object() {
                    self.usage = Some(llmgate::providers::bedrock::response::usage(
                        &v["usage"],
                        "",
                    ));
                }
            }
            Format::Cohere => {
                if let Some(u) = cohere_usage(&v["usage"]) {
                    self.usage = Some(u);
                }
            }
            Format::Opaque => {}
        }
    }

    /// One streamed event (or one element of Gemini's array).
    fn event(&mut self, v: &Value) {
        match self.format {
            Format::OpenAi => {
                // Responses API events carry the response; chat chunks their own usage.
                let inner = v.get("response").filter(|r| r.is_object()).unwrap_or(v);
                self.model_from(inner.get("model"));
                if let Some(u) = openai_usage(&inner["usage"]) {
                    self.usage = Some(u);
                }
            }
            Format::Anthropic => match v["type"].as_str() {
                Some("message_start") => {
                    self.model_from(v.pointer("/message/model"));
                    if let Some(u) = v.pointer("/message/usage").and_then(Value::as_object) {
                        self.anthropic = Some(u.clone());
                    }
                }
                Some("message_delta") => {
                    if let Some(u) = v["usage"].as_object() {
                        let acc = self.anthropic.get_or_insert_with(Default::default);
                        for (k, n) in u {
                            if !n.is_null() {
                                acc.insert(k.clone(), n.clone());
                            }
                        }
                    }
                }
                _ => {}
            },
            Format::Gemini => {
                self.model_from(v.get("modelVersion"));
                if v["usageMetadata"].is_object() {
                    self.usage = Some(llmgate::providers::gemini::response::usage(
                        &v["usageMetadata"],
                        &[],
                    ));
                }
            }
            Format::Cohere => {
                if let Some(u) = v
                    .pointer("/delta/usage")
                    .and_then(cohere_usage)
                    .or_else(|| cohere_usage(&v["usage"]))
                {
                    self.usage = Some(u);
                }
            }
            Format::Bedrock | Format::Opaque => {}
        }
    }
}

/// OpenAI's usage: chat/embeddings (`prompt_tokens`) or Responses (`input_tokens`).
fn openai_usage(u: &Value) -> Option<Usage> {
    if !u.is_object() {
        return None;
    }
    if u.get("prompt_tokens").is_some() {
        return serde_json::from_value::<Usage>(u.clone())
            .ok()
            .map(|mut u| {
                if u.total_tokens == 0 {
                    u.total_tokens = u.prompt_tokens + u.completion_tokens;
                }
                u
            });
    }
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64);
    let input = n("/input_tokens")?;
    let mut usage = Usage::new(input, n("/output_tokens").unwrap_or(0));
    if let Some(c) = n("/input_tokens_details/cached_tokens").filter(|c| *c > 0) {
        usage.prompt_tokens_details = Some(llmgate::PromptTokensDetails {
            cached_tokens: Some(c),
            ..Default::default()
        });
    }
    Some(usage)
}

/// Cohere's v2 `usage.billed_units` (v1's `meta.billed_units` is not read).
fn cohere_usage(u: &Value) -> Option<Usage> {
    let b = u.get("billed_units").or_else(|| u.get("tokens"))?;
    let n = |k: &str| b[k].as_f64().unwrap_or(0.0) as u64;
    Some(Usage::new(n("input_tokens"), n("output_tokens")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(format: Format, ct: &str, parts: &[&str]) -> (Option<Usage>, Option<String>) {
        let mut m = Meter::new(format, ct);
        for p in parts {
            m.feed(p.as_bytes());
        }
        m.finish()
    }

    #[test]
    fn anthropic_stream_usage_is_start_plus_delta() {
        let (u, m) = read(
            Format::Anthropic,
            "text/event-stream",
            &[
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tok",
                "ens\":7}}\n\n",
            ],
        );
        let u = u.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (12, 7));
        assert_eq!(m.as_deref(), Some("claude-x"));
    }

    #[test]
    fn openai_json_and_responses_events() {
        let (u, m) = read(
            Format::OpenAi,
            "application/json",
            &[
                r#"{"model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#,
            ],
        );
        assert_eq!(u.unwrap().total_tokens, 7);
        assert_eq!(m.as_deref(), Some("gpt-4o"));
        let (u, _) = read(
            Format::OpenAi,
            "text/event-stream",
            &["data: {\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}}\n\n"],
        );
        let u = u.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (5, 2));
    }

    #[test]
    fn gemini_array_and_sse() {
        let body = r#"[{"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1}},{"modelVersion":"gemini-2.0-flash","usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":5}}]"#;
        let (u, m) = read(Format::Gemini, "application/json", &[body]);
        let u = u.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (2, 5));
        assert_eq!(m.as_deref(), Some("gemini-2.0-flash"));
    }

    #[test]
    fn nothing_read_from_other_bodies() {
        assert_eq!(read(Format::OpenAi, "audio/mpeg", &["xx"]).0, None);
        assert_eq!(
            read(Format::Opaque, "application/json", &["{\"usage\":{}}"]).0,
            None
        );
    }
}
