//! Google's `:generateContent` and `:streamGenerateContent` for a model group that is not
//! served natively (`routes/passthrough/native.rs` decides): the body goes through the one
//! handler (keys, budgets, limits, guardrails, retries, fallbacks, spend logged as
//! `agenerate_content` / `agenerate_content_stream`, the group from the path) and the SDK
//! translates it through chat, the answer and each chunk back into Google's shape. A stream
//! is always SSE (`data: {...}`), as LiteLLM answers it; errors are in OpenAI's shape, as LiteLLM's
//! `google_endpoints` answer them (its `ProxyException`) and as on the native relay.
//!
//! A deployment's default params (chat names: `temperature`, `max_tokens`, ...) fill the
//! `generationConfig` fields the request does not set, here and on the native relay
//! ([`native_defaults`]), as LiteLLM's adapter passes them under the request's own.

use axum::Json;
use llmgate::generate_content::{
    client::local_count, from_chat, to_chat::to_chat, GenerateContentAnswer, GenerateContentChunk,
    GenerateContentRequest, GenerateContentStream,
};
use serde::Deserialize;
use serde_json::json;

use super::*;

/// The request; `STREAM` is the method the path named (Google's body does not say).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GenerateContent<const STREAM: bool>(pub GenerateContentRequest);

impl<const STREAM: bool> Endpoint for GenerateContent<STREAM> {
    const ROUTE: &'static str = if STREAM {
        "/v1beta/models/{model}:streamGenerateContent"
    } else {
        "/v1beta/models/{model}:generateContent"
    };
    const CALL_TYPE: &'static str = if STREAM {
        "agenerate_content_stream"
    } else {
        "agenerate_content"
    };
    /// Nothing of the client's reaches another provider.
    const FORWARDED_HEADERS: &'static [&'static str] = &[];
    type Answer = GenerateContentAnswer;
    type Chunk = GenerateContentChunk;
    type Chunks = GenerateContentStream;

    fn model_mut(&mut self) -> &mut String {
        &mut self.0.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.0.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.0
            .contents
            .is_empty()
            .then_some("contents: Field required (a non-empty list of turns)")
    }
    fn is_stream(&self) -> bool {
        STREAM
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.generate_content(self.0, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.generate_content_stream(self.0, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        answer.body.model_version = Some(group.to_string());
        Some(&answer.usage)
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, _dep: &Deployment) {
        c.body.model_version = Some(group.to_string());
    }
    fn answer_id(a: &Self::Answer) -> Option<&str> {
        a.body.response_id.as_deref()
    }
    fn chunk_id(c: &Self::Chunk) -> Option<&str> {
        c.body.response_id.as_deref()
    }
    /// The last chunk's `usageMetadata` is Google's; the SDK asks the upstream for usage.
    fn ask_usage(&mut self) -> bool {
        true
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        c.usage.as_ref()
    }
    fn chunk_text(c: &Self::Chunk, out: &mut dyn FnMut(&str)) {
        from_chat::produced(&c.body, out);
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        local_count(&self.0, model)
    }
    fn max_output(&self) -> Option<u64> {
        self.0.generation_config.as_ref()?.max_output_tokens
    }
    fn end_user(&self) -> Option<String> {
        let u = self.0.extra.get("user")?.as_str()?;
        (!u.is_empty()).then(|| u.to_string())
    }
    fn tags(&self) -> Vec<String> {
        tags_in(None, &self.0.extra)
    }
    fn sse_format() -> SseFormat<Self::Chunk> {
        SseFormat {
            event: |_| None,
            done: false,
            error: |e| (None, e.body()),
        }
    }
    fn default_param(name: &str) -> Option<&str> {
        config_field(name)
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let r = &mut self.0;
        for c in r.system_instruction.iter_mut().chain(r.contents.iter_mut()) {
            for t in c.parts.iter_mut().filter_map(|p| p.text.as_mut()) {
                f(t);
            }
        }
    }
    fn answer_texts(a: &mut Self::Answer, f: &mut dyn FnMut(&mut String)) {
        from_chat::texts_mut(&mut a.body, f);
    }
    fn chunk_texts(c: &mut Self::Chunk, f: &mut dyn FnMut(&mut String, bool)) {
        from_chat::texts_mut(&mut c.body, &mut |t: &mut String| f(t, false));
    }
}

/// The `generationConfig` field a deployment's default param (a chat name) sets; the rest
/// (chat-shaped `tools`, `response_format`, a string `stop`) have no Google field of that shape.
fn config_field(name: &str) -> Option<&'static str> {
    Some(match name {
        "temperature" => "generationConfig.temperature",
        "top_p" => "generationConfig.topP",
        "top_k" => "generationConfig.topK",
        "max_tokens" | "max_completion_tokens" => "generationConfig.maxOutputTokens",
        "seed" => "generationConfig.seed",
        "n" => "generationConfig.candidateCount",
        "presence_penalty" => "generationConfig.presencePenalty",
        "frequency_penalty" => "generationConfig.frequencyPenalty",
        _ => return None,
    })
}

/// A deployment's default params in a native `:generateContent` body (a JSON object), for the
/// `generationConfig` fields it does not set; whether any was set.
/// Google's JSON takes each field in snake case too: the client's own are renamed to camel case
/// first, so a default never doubles a field the client set (`max_output_tokens`).
pub fn native_defaults(body: &mut Map<String, Value>, defaults: &Map<String, Value>) -> bool {
    if let Some(c) = body.shift_remove("generation_config") {
        body.entry("generationConfig").or_insert(c);
    }
    if let Some(Value::Object(c)) = body.get_mut("generationConfig") {
        let snake: Vec<String> = c.keys().filter(|k| k.contains('_')).cloned().collect();
        for k in snake {
            if let Some(v) = c.shift_remove(&k) {
                c.entry(camel(&k)).or_insert(v);
            }
        }
    }
    super::parse::fill_defaults(body, defaults, config_field)
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for ch in snake.chars() {
        match ch {
            '_' => up = true,
            c if up => {
                out.extend(c.to_uppercase());
                up = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// `generateContent` (or its stream) for `model`, a group the native relay does not serve.
pub async fn serve(
    state: AppState,
    auth: AuthContext,
    headers: &HeaderMap,
    model: String,
    stream: bool,
    body: Bytes,
) -> Response {
    let cache_control = cache_control(&state, headers);
    let trace = state.gov.observe.as_ref().and_then(|o| o.trace(headers));
    let model = Some(model);
    if stream {
        Box::pin(handle::<GenerateContent<true>>(
            state,
            auth,
            model,
            Vec::new(),
            cache_control,
            body,
            trace,
        ))
        .await
    } else {
        Box::pin(handle::<GenerateContent<false>>(
            state,
            auth,
            model,
            Vec::new(),
            cache_control,
            body,
            trace,
        ))
        .await
    }
}

/// `:countTokens` without Google's counter: `{"totalTokens": n}`, counted locally for
/// `model` (the deployment's, which picks the tokenizer). The caller has checked the key.
pub fn count_tokens(body: &Bytes, model: &str) -> Result<Response, GatewayError> {
    let req: GenerateContentRequest = proxy::parse_body(body)?;
    if req.contents.is_empty() {
        return Err(GatewayError::BadRequest(
            "contents: Field required (a non-empty list of turns)".into(),
        ));
    }
    // What a call would refuse, the count refuses too.
    to_chat(&req)?;
    Ok(Json(json!({"totalTokens": local_count(&req, model)})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_generation_config_under_the_clients_own() {
        let defaults = json!({"temperature": 0.3, "max_tokens": 77, "top_p": 0.5, "tools": []});
        let defaults = defaults.as_object().unwrap();
        let mut body = json!({"contents": [], "generation_config": {"max_output_tokens": 5}});
        let body = body.as_object_mut().unwrap();
        assert!(native_defaults(body, defaults));
        assert_eq!(
            Value::Object(body.clone()),
            json!({"contents": [], "generationConfig":
                {"maxOutputTokens": 5, "temperature": 0.3, "topP": 0.5}})
        );
        // Nothing to fill: unchanged; a `generationConfig` of null is filled as absent.
        assert!(!native_defaults(body, defaults));
        let mut bare = json!({"generationConfig": null});
        let bare = bare.as_object_mut().unwrap();
        assert!(native_defaults(
            bare,
            &json!({"seed": 7}).as_object().unwrap().clone()
        ));
        assert_eq!(bare["generationConfig"], json!({"seed": 7}));
    }
}
