//! What LiteLLM sends a SageMaker endpoint: `sagemaker/` in Hugging Face TGI's shape
//! (`inputs` prompt + `parameters`), `sagemaker_chat/` as an OpenAI chat body (TGI's Messages
//! API), embeddings as `{"inputs": ...}`.

use llmgate_types::{ChatCompletionRequest, EmbeddingRequest};
use serde_json::{json, Map, Value};

use crate::providers::prompts;
use crate::{CallOptions, LlmError};

/// TGI parameters a request or deployment may set besides the OpenAI ones (passed as LiteLLM
/// passes provider-specific kwargs).
const TGI_PARAMS: &[&str] = &[
    "max_new_tokens",
    "top_k",
    "do_sample",
    "repetition_penalty",
    "return_full_text",
    "truncate",
    "typical_p",
    "watermark",
    "details",
    "decoder_input_details",
    "best_of",
];

/// OpenAI params `sagemaker/` does not take (LiteLLM's list: stream, temperature, max_tokens,
/// max_completion_tokens, top_p, stop, n).
fn refused(req: &ChatCompletionRequest) -> Vec<&'static str> {
    let set = [
        ("tools", req.tools.is_some()),
        ("tool_choice", req.tool_choice.is_some()),
        ("response_format", req.response_format.is_some()),
        ("seed", req.seed.is_some()),
        ("presence_penalty", req.presence_penalty.is_some()),
        ("frequency_penalty", req.frequency_penalty.is_some()),
        ("logit_bias", req.logit_bias.is_some()),
        ("logprobs", req.logprobs.is_some()),
        ("top_logprobs", req.top_logprobs.is_some()),
        ("user", req.user.is_some()),
        ("parallel_tool_calls", req.parallel_tool_calls.is_some()),
        ("reasoning_effort", req.reasoning_effort.is_some()),
    ];
    set.into_iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| k)
        .collect()
}

fn setting<'a>(
    req: &'a ChatCompletionRequest,
    opts: &'a CallOptions,
    k: &str,
) -> Option<&'a Value> {
    req.extra.get(k).or_else(|| opts.extra.get(k))
}

/// The prompt as LiteLLM builds it: `hf_model_name` (or the endpoint name) picks the template;
/// Llama 2 chat models get theirs, every other the contents joined by spaces (`default_pt`,
/// what LiteLLM falls back to when no Hugging Face chat template can be fetched).
pub fn prompt(req: &ChatCompletionRequest, opts: &CallOptions) -> String {
    let model = req.model.to_lowercase();
    let hf = match opts.extra.get("hf_model_name").and_then(Value::as_str) {
        Some(h) => h.to_lowercase(),
        None if model.contains("llama-2") && model.contains("chat") => {
            "meta-llama/llama-2-7b-chat-hf".into()
        }
        None if model.contains("llama-2") => "meta-llama/llama-2-7b".into(),
        None => model,
    };
    if hf.contains("meta-llama/llama-2") && hf.contains("chat") {
        prompts::llama2_chat(&req.messages)
    } else {
        prompts::default(&req.messages)
    }
}

/// `{"inputs", "parameters", "stream"?}` for `/invocations[-response-stream]`.
pub fn tgi(
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    stream: bool,
) -> Result<(Value, String), LlmError> {
    let refused = refused(req);
    if !refused.is_empty() && !opts.drop_params {
        return Err(
            LlmError::unsupported_params(super::NAME, &refused, &req.model).with_model(&req.model),
        );
    }
    let mut p = Map::new();
    for k in TGI_PARAMS {
        if let Some(v) = setting(req, opts, k) {
            p.insert(k.to_string(), v.clone());
        }
    }
    if let Some(t) = req.temperature {
        // TGI refuses a zero temperature; LiteLLM sends 0.01 unless told not to.
        let allow_zero = setting(req, opts, "aws_sagemaker_allow_zero_temp")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let t = if t == 0.0 && !allow_zero { 0.01 } else { t };
        p.insert("temperature".into(), json!(t));
    }
    if let Some(v) = req.top_p {
        p.insert("top_p".into(), json!(v));
    }
    if let Some(n) = req.n {
        p.insert("best_of".into(), json!(n));
        p.insert("do_sample".into(), json!(true));
    }
    if let Some(s) = &req.stop {
        p.insert("stop".into(), s.clone());
    }
    if let Some(m) = req.max_tokens {
        // TGI refuses 0 new tokens.
        p.insert("max_new_tokens".into(), json!(m.max(1)));
    }
    if let Some(m) = req.max_completion_tokens {
        p.insert("max_new_tokens".into(), json!(m));
    }
    let prompt = prompt(req, opts);
    let mut body = json!({"parameters": p, "inputs": prompt});
    if stream {
        body["stream"] = json!(true);
    }
    Ok((body, prompt))
}

/// The OpenAI chat body for TGI's Messages API: the request as LiteLLM's OpenAI config sends
/// it, without `stream` (the streaming route says it) and `stream_options`.
pub fn messages_api(req: &ChatCompletionRequest) -> Value {
    let mut r = req.clone();
    r.stream = None;
    r.stream_options = None;
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["messages"] = crate::providers::chat_body::messages(&req.messages);
    v
}

/// `{"inputs": <input>}`: strings only.
pub fn embedding(req: &EmbeddingRequest) -> Result<Value, LlmError> {
    let ok = match &req.input {
        Value::String(_) => true,
        Value::Array(a) => !a.is_empty() && a.iter().all(Value::is_string),
        _ => false,
    };
    if !ok {
        return Err(LlmError::bad_request(
            "input must be a string or a non-empty list of strings for SageMaker embeddings",
        )
        .with_provider(super::NAME));
    }
    Ok(json!({"inputs": req.input}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmgate_types::ChatMessage;

    fn req(model: &str) -> ChatCompletionRequest {
        ChatCompletionRequest {
            model: model.into(),
            messages: vec![
                ChatMessage::text("system", "Be brief."),
                ChatMessage::text("user", "Hi"),
            ],
            temperature: Some(0.0),
            max_tokens: Some(0),
            n: Some(2),
            stop: Some(json!(["\n"])),
            ..Default::default()
        }
    }

    #[test]
    fn tgi_body_as_litellm_sends_it() {
        let mut r = req("my-endpoint");
        r.extra.insert("top_k".into(), json!(5));
        let (body, prompt) = tgi(&r, &CallOptions::default(), true).unwrap();
        assert_eq!(prompt, "Be brief. Hi");
        assert_eq!(
            body,
            json!({"inputs": "Be brief. Hi", "stream": true, "parameters": {
                "temperature": 0.01, "max_new_tokens": 1, "best_of": 2, "do_sample": true,
                "stop": ["\n"], "top_k": 5}})
        );
        let opts = CallOptions {
            extra: serde_json::from_value(json!({"aws_sagemaker_allow_zero_temp": true})).unwrap(),
            ..Default::default()
        };
        let (body, _) = tgi(&r, &opts, false).unwrap();
        assert_eq!(body["parameters"]["temperature"], json!(0.0));
        assert!(body.get("stream").is_none());
    }

    #[test]
    fn llama2_chat_endpoints_get_their_template() {
        let (_, p) = tgi(
            &req("jumpstart-dft-meta-textgeneration-llama-2-7b-chat"),
            &CallOptions::default(),
            false,
        )
        .unwrap();
        assert!(p.starts_with("<s>[INST] <<SYS>>\nBe brief."), "{p}");
    }

    #[test]
    fn tools_are_refused_unless_dropped() {
        let mut r = req("e");
        r.tools = Some(vec![]);
        let e = tgi(&r, &CallOptions::default(), false).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("'tools'"), "{}", e.message);
        let drop = CallOptions {
            drop_params: true,
            ..Default::default()
        };
        assert!(tgi(&r, &drop, false).is_ok());
    }
}
