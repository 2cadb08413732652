//! AWS Bedrock runtime: Converse and ConverseStream. Every request's SigV4 signature is
//! recomputed here, independently of the signer under test, from the known test secret or a
//! temporary key the STS mock issued (403 `InvalidSignatureException` on a mismatch,
//! `ExpiredTokenException` past its expiry, as AWS answers); a Bedrock API key
//! (`Authorization: Bearer`) is accepted unless it is [`BAD_BEARER`]. Streams are real binary
//! event-stream frames with CRCs; `mock-stream-error` ends one with an exception frame.
//! InvokeModel answers embedding models and the image models (Stability SDXL, Stability 3 /
//! Stable Image, Titan Image, Nova Canvas) and the edit models (`bedrock_edit.rs`), each body
//! checked against its model's schema.

use std::sync::Arc;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use ring::{digest, hmac};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::recorded;
use crate::Shared;

/// The access key id tests sign with (any id is accepted; the secret is what is checked).
pub const AWS_ACCESS_KEY_ID: &str = "AKIDLLMGATEMOCK";
/// The secret the mock verifies signatures with.
pub const AWS_SECRET_ACCESS_KEY: &str = "llmgate-mock-bedrock-secret";
/// A Bedrock API key the mock refuses.
pub const BAD_BEARER: &str = "bad-bedrock-key";

pub(crate) fn aws_error(status: u16, kind: &str, message: &str) -> Response {
    let mut r = (
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST),
        axum::Json(json!({"message": message})),
    )
        .into_response();
    if let Ok(v) = kind.parse() {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

/// SigV4's canonical URI: each byte outside the unreserved set encoded again (the path arrives
/// encoded once, so `%3A` becomes `%253A`, as non-S3 services sign).
fn canonical_uri(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Why AWS refuses a request: status, error type, message.
pub(crate) type Denied = (u16, &'static str, String);

/// Checks `Authorization` the way AWS does, for `service` (`bedrock`, `sagemaker`, `sts`):
/// the test secret signs for any key id, an issued temporary key ([`crate::sts`]) for itself
/// with its `x-amz-security-token`.
pub(crate) fn verify(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    h: &HeaderMap,
    body: &[u8],
    service: &str,
) -> Result<(), Denied> {
    let aws_error = |status, kind, message: &str| (status, kind, message.to_string());
    let auth = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            aws_error(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            )
        })?;
    if let Some(token) = auth
        .strip_prefix("Bearer ")
        .filter(|_| service == "bedrock")
    {
        if token.is_empty() || token == BAD_BEARER {
            return Err(aws_error(
                403,
                "UnrecognizedClientException",
                "Invalid API Key format: Must start with pre-defined prefix",
            ));
        }
        return Ok(());
    }
    let bad = |m: &str| aws_error(403, "IncompleteSignatureException", m);
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| bad("Authorization header requires AWS4-HMAC-SHA256"))?;
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name))
            .map(str::to_string)
    };
    let (Some(credential), Some(signed), Some(signature)) = (
        field("Credential="),
        field("SignedHeaders="),
        field("Signature="),
    ) else {
        return Err(bad(
            "Authorization header requires Credential, SignedHeaders and Signature",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[3] != service || scope[4] != "aws4_request" {
        return Err(bad(&format!(
            "Credential should be scoped to a valid region and the {service} service"
        )));
    }
    let amz_date = h
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad("x-amz-date is required"))?;
    let signed_names: Vec<&str> = signed.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !signed_names.contains(&required) {
            return Err(bad(&format!("{required} must be signed")));
        }
    }
    // S3 signs the path as sent (encoded once); every other service encodes it again.
    let path = if service == "s3" {
        uri.path().to_string()
    } else {
        canonical_uri(uri.path())
    };
    let mut canonical = format!("{method}\n{path}\n{}\n", uri.query().unwrap_or(""));
    for name in &signed_names {
        let v = h.get(*name).and_then(|v| v.to_str().ok()).unwrap_or("");
        canonical.push_str(&format!("{name}:{}\n", v.trim()));
    }
    canonical.push_str(&format!(
        "\n{signed}\n{}",
        hex(digest::digest(&digest::SHA256, body).as_ref())
    ));
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        scope[1..].join("/"),
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let token = h.get("x-amz-security-token").and_then(|v| v.to_str().ok());
    let secret = shared.sts.secret(scope[0], token)?;
    let k = hmac256(format!("AWS4{secret}").as_bytes(), scope[1]);
    let k = hmac256(&k, scope[2]);
    let k = hmac256(&k, scope[3]);
    let k = hmac256(&k, "aws4_request");
    if hex(&hmac256(&k, &to_sign)) != signature {
        return Err(aws_error(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."));
    }
    Ok(())
}

fn usage(model: &str) -> Value {
    let (read, write) = if model.contains("cache") {
        (3, 2)
    } else {
        (0, 0)
    };
    json!({"inputTokens": 10, "outputTokens": 6, "totalTokens": 16 + read + write,
        "cacheReadInputTokens": read, "cacheWriteInputTokens": write})
}

/// What the model answers: (thinking, text, tool call (id, name, input)).
fn answer(body: &Value) -> (Option<&'static str>, String, Option<(String, Value)>) {
    let thinking = (body["additionalModelRequestFields"]["thinking"]["type"] == "enabled")
        .then_some("Let me think about this.");
    let last = body["messages"].as_array().and_then(|m| m.last());
    let answered_tool = last.is_some_and(|m| {
        m["content"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|b| b.get("toolResult").is_some())
    });
    let tool = body["toolConfig"]["tools"][0]["toolSpec"]["name"]
        .as_str()
        .filter(|n| *n != "dummy_tool" && !answered_tool)
        .map(|n| (n.to_string(), json!({"city": "Paris"})));
    let text = if tool.is_some() {
        "Let me check.".to_string()
    } else {
        "Hello from the Bedrock mock.".to_string()
    };
    (thinking, text, tool)
}

fn frame(message_type: &str, kind: &str, payload: Value) -> Bytes {
    let type_header = if message_type == "event" {
        ":event-type"
    } else {
        ":exception-type"
    };
    let m = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_string().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(kind.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    // Writing a well-formed message to a Vec does not fail.
    let _ = write_message_to(&m, &mut out);
    Bytes::from(out)
}

fn stream_frames(model: &str, body: &Value, fail: bool) -> Vec<Bytes> {
    let (thinking, text, tool) = answer(body);
    let ev = |k: &str, v: Value| frame("event", k, v);
    let mut out = vec![ev("messageStart", json!({"role": "assistant"}))];
    let mut i = 0;
    if let Some(t) = thinking {
        out.push(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"reasoningContent": {"text": t}}}),
        ));
        out.push(ev("contentBlockDelta", json!({"contentBlockIndex": i, "delta": {"reasoningContent": {"signature": "mock-signature"}}})));
        out.push(ev("contentBlockStop", json!({"contentBlockIndex": i})));
        i += 1;
    }
    for word in text.split_inclusive(' ') {
        out.push(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"text": word}}),
        ));
    }
    out.push(ev("contentBlockStop", json!({"contentBlockIndex": i})));
    if fail {
        out.push(frame(
            "exception",
            "throttlingException",
            json!({"message": "Too many requests, please wait before trying again."}),
        ));
        return out;
    }
    let stop = if let Some((name, input)) = &tool {
        i += 1;
        out.push(ev("contentBlockStart", json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": "tooluse_mock1", "name": name}}})));
        let args = input.to_string();
        let (a, b) = args.split_at(args.len() / 2);
        for part in [a, b] {
            out.push(ev(
                "contentBlockDelta",
                json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": part}}}),
            ));
        }
        out.push(ev("contentBlockStop", json!({"contentBlockIndex": i})));
        "tool_use"
    } else {
        "end_turn"
    };
    out.push(ev("messageStop", json!({"stopReason": stop})));
    out.push(ev(
        "metadata",
        json!({"usage": usage(model), "metrics": {"latencyMs": 42}}),
    ));
    out
}

fn converse_answer(model: &str, body: &Value) -> Value {
    let (thinking, text, tool) = answer(body);
    let mut content = Vec::new();
    if let Some(t) = thinking {
        content.push(json!({"reasoningContent": {"reasoningText": {"text": t, "signature": "mock-signature"}}}));
    }
    content.push(json!({"text": text}));
    let stop = match tool {
        Some((name, input)) => {
            content.push(
                json!({"toolUse": {"toolUseId": "tooluse_mock1", "name": name, "input": input}}),
            );
            "tool_use"
        }
        None => "end_turn",
    };
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": usage(model),
        "metrics": {"latencyMs": 42},
    })
}

/// InvokeModel for embedding models: Titan (`inputText`) and Cohere Embed (`texts`).
fn invoke_answer(model: &str, body: &Value) -> Value {
    let dims = body["dimensions"].as_u64().unwrap_or(4) as usize;
    let vector = |i: usize| {
        (0..dims)
            .map(|j| ((i + j) as f64) / 10.0)
            .collect::<Vec<_>>()
    };
    if model.contains("cohere.") {
        let n = body["texts"].as_array().map_or(0, Vec::len);
        return json!({"id": "mock-embed", "embeddings": (0..n).map(vector).collect::<Vec<_>>(),
            "response_type": "embeddings_floats"});
    }
    let words = body["inputText"]
        .as_str()
        .map_or(0, |t| t.split_whitespace().count());
    json!({"embedding": vector(0), "inputTextTokenCount": words})
}

/// Keys of `body` outside `allowed`, as Bedrock's `extraneous key` validation names them.
pub(crate) fn extraneous(body: &Value, allowed: &[&str]) -> Result<(), String> {
    match body
        .as_object()
        .and_then(|o| o.keys().find(|k| !allowed.contains(&k.as_str())))
    {
        Some(k) => Err(format!(
            "Malformed input request: extraneous key [{k}] is not permitted, please reformat your input and try again."
        )),
        None => Ok(()),
    }
}

/// A `ValidationException` message.
pub(crate) fn malformed(what: &str) -> Result<Value, String> {
    Err(bad_config(what))
}

fn bad_config(what: &str) -> String {
    format!("Malformed input request: {what}")
}

/// Titan Image and Nova Canvas: a task, its params with a text, and the generation config.
fn amazon_image(body: &Value) -> Result<Value, String> {
    extraneous(
        body,
        &[
            "taskType",
            "textToImageParams",
            "colorGuidedGenerationParams",
            "inPaintingParams",
            "imageGenerationConfig",
        ],
    )?;
    let task = body["taskType"].as_str().unwrap_or_default();
    let params = match task {
        "TEXT_IMAGE" => &body["textToImageParams"],
        "COLOR_GUIDED_GENERATION" => &body["colorGuidedGenerationParams"],
        "INPAINTING" => &body["inPaintingParams"],
        _ => return malformed(&format!("taskType {task} is not valid")),
    };
    if params["text"].as_str().is_none_or(str::is_empty) {
        return malformed("text is required");
    }
    let n = nova_images(&body["imageGenerationConfig"])?;
    let images: Vec<String> = (0..n).map(|_| crate::media::png_b64()).collect();
    Ok(json!({"images": images, "error": null}))
}

/// Titan's and Nova Canvas's `imageGenerationConfig` checked as Bedrock does; the number of
/// images it asks for (generations and edits alike).
pub(crate) fn nova_images(config: &Value) -> Result<u64, String> {
    extraneous(
        config,
        &[
            "numberOfImages",
            "width",
            "height",
            "quality",
            "cfgScale",
            "seed",
        ],
    )?;
    if config
        .get("quality")
        .is_some_and(|q| q != "standard" && q != "premium")
    {
        return Err(bad_config("quality must be standard or premium"));
    }
    let n = config["numberOfImages"].as_u64().unwrap_or(1);
    if !(1..=5).contains(&n) {
        return Err(bad_config("numberOfImages must be between 1 and 5"));
    }
    Ok(n)
}

/// Stability 3 and Stable Image: a prompt and an allowed aspect ratio. A prompt containing
/// `mock-filtered` is refused by the content filter (`finish_reasons`), as Bedrock answers it.
fn stability3_image(body: &Value) -> Result<Value, String> {
    extraneous(
        body,
        &[
            "prompt",
            "aspect_ratio",
            "mode",
            "seed",
            "negative_prompt",
            "output_format",
            "image",
            "strength",
        ],
    )?;
    let Some(prompt) = body["prompt"].as_str().filter(|p| !p.is_empty()) else {
        return malformed("prompt is required");
    };
    const RATIOS: [&str; 9] = [
        "16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21",
    ];
    if body
        .get("aspect_ratio")
        .is_some_and(|r| !RATIOS.iter().any(|x| r == x))
    {
        return malformed("aspect_ratio is not one of the allowed values");
    }
    if prompt.contains("mock-filtered") {
        return Ok(
            json!({"seeds": [7], "finish_reasons": ["Filter reason: prompt"], "images": []}),
        );
    }
    Ok(json!({"seeds": [7], "finish_reasons": [null], "images": [crate::media::png_b64()]}))
}

/// Stability's SDXL: weighted `text_prompts` and its generation params.
fn stability_xl_image(body: &Value) -> Result<Value, String> {
    extraneous(
        body,
        &[
            "text_prompts",
            "height",
            "width",
            "cfg_scale",
            "clip_guidance_preset",
            "sampler",
            "samples",
            "seed",
            "steps",
            "style_preset",
            "extras",
        ],
    )?;
    let ok = body["text_prompts"].as_array().is_some_and(|p| {
        !p.is_empty()
            && p.iter()
                .all(|t| t["text"].as_str().is_some_and(|s| !s.is_empty()))
    });
    if !ok {
        return malformed("text_prompts must hold at least one text");
    }
    let seed = body["seed"].as_u64().unwrap_or(7);
    Ok(json!({"result": "success", "artifacts": [
        {"seed": seed, "base64": crate::media::png_b64(), "finishReason": "SUCCESS"}]}))
}

/// InvokeModel on an image model (None: not one): the answer its family sends, or the
/// `ValidationException` message of the check its request schema fails.
fn image_answer(model: &str, body: &Value) -> Option<Result<Value, String>> {
    if crate::bedrock_edit::is_stability_edit(model) {
        Some(crate::bedrock_edit::stability(model, body))
    } else if model.contains("amazon.nova-canvas") && crate::bedrock_edit::is_nova_edit(body) {
        Some(crate::bedrock_edit::nova(body))
    } else if model.contains("amazon.titan-image") || model.contains("amazon.nova-canvas") {
        Some(amazon_image(body))
    } else if model.contains("sd3") || model.contains("stable-image") {
        Some(stability3_image(body))
    } else if model.contains("stability.") {
        Some(stability_xl_image(body))
    } else {
        None
    }
}

/// `POST /model/{modelId}/{converse|converse-stream|invoke}`.
pub async fn converse(
    State(shared): State<Arc<Shared>>,
    Path((model, action)): Path<(String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    if let Err((status, kind, message)) = verify(&shared, &m, &u, &h, &bytes, "bedrock") {
        return aws_error(status, kind, &message);
    }
    let Some(body) = body else {
        return aws_error(
            400,
            "SerializationException",
            "Unable to parse the request body",
        );
    };
    if action != "invoke" && body["messages"].as_array().is_none_or(|m| m.is_empty()) {
        return aws_error(
            400,
            "ValidationException",
            "The messages field is required.",
        );
    }
    let name = h
        .get("x-mock-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| model.clone());
    let behaviour = shared.overrides.behaviour(&name);
    if let Behaviour::Error(code) = behaviour {
        let kind = match code {
            429 => "ThrottlingException",
            400 => "ValidationException",
            403 => "AccessDeniedException",
            404 => "ResourceNotFoundException",
            503 => "ServiceUnavailableException",
            _ => "InternalServerException",
        };
        return aws_error(code, kind, &format!("mock error {code}"));
    }
    match action.as_str() {
        "converse" => axum::Json(converse_answer(&model, &body)).into_response(),
        "converse-stream" => {
            let frames = stream_frames(&model, &body, behaviour == Behaviour::StreamError);
            let stream = futures::stream::iter(frames.into_iter().map(Ok::<_, std::io::Error>));
            Response::builder()
                .header("content-type", "application/vnd.amazon.eventstream")
                .body(Body::from_stream(stream))
                .unwrap_or_default()
        }
        "invoke" => match image_answer(&model, &body) {
            Some(Ok(v)) => axum::Json(v).into_response(),
            Some(Err(message)) => aws_error(400, "ValidationException", &message),
            None => axum::Json(invoke_answer(&model, &body)).into_response(),
        },
        _ => aws_error(404, "UnknownOperationException", "Unknown operation"),
    }
}

/// The Agent Runtime's `POST /rerank`: SigV4 for `bedrock` checked, the body as the Rerank API
/// defines it (a text query, inline sources, a foundation-model ARN), scored by word overlap.
pub async fn rerank(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    if let Err((status, kind, message)) = verify(&shared, &m, &u, &h, &bytes, "bedrock") {
        return aws_error(status, kind, &message);
    }
    let invalid = |m: &str| aws_error(400, "ValidationException", m);
    let Some(body) = body else {
        return aws_error(
            400,
            "SerializationException",
            "Unable to parse the request body",
        );
    };
    let config = &body["rerankingConfiguration"];
    let arn = config["bedrockRerankingConfiguration"]["modelConfiguration"]["modelArn"]
        .as_str()
        .unwrap_or_default();
    let Some(model) = arn
        .strip_prefix("arn:aws:bedrock:")
        .and_then(|r| r.split_once(":foundation-model/"))
        .map(|(_, id)| id)
    else {
        return invalid("1 validation error detected: Value at 'rerankingConfiguration.bedrockRerankingConfiguration.modelConfiguration.modelArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws:bedrock:.*");
    };
    if config["type"] != "BEDROCK_RERANKING_MODEL" {
        return invalid("rerankingConfiguration.type must be BEDROCK_RERANKING_MODEL");
    }
    let query = body["queries"]
        .as_array()
        .filter(|q| q.len() == 1 && q[0]["type"] == "TEXT")
        .and_then(|q| q[0]["textQuery"]["text"].as_str());
    let Some(query) = query else {
        return invalid("queries must hold exactly one TEXT query");
    };
    let docs: Option<Vec<String>> = body["sources"].as_array().and_then(|s| {
        s.iter()
            .map(|src| {
                let inline = &src["inlineDocumentSource"];
                (src["type"] == "INLINE").then_some(())?;
                match inline["type"].as_str()? {
                    "TEXT" => inline["textDocument"]["text"].as_str().map(str::to_string),
                    "JSON" => inline["jsonDocument"]
                        .is_object()
                        .then(|| inline["jsonDocument"].to_string()),
                    _ => None,
                }
            })
            .collect()
    });
    let Some(docs) = docs.filter(|d| !d.is_empty()) else {
        return invalid("sources must be a non-empty list of INLINE TEXT or JSON documents");
    };
    let n = config["bedrockRerankingConfiguration"]["numberOfResults"].as_u64();
    if n.is_none_or(|n| n == 0 || n as usize > docs.len()) {
        return invalid("numberOfResults must be between 1 and the number of sources");
    }
    if let Behaviour::Error(code) = shared.overrides.behaviour(model) {
        return aws_error(code, "ThrottlingException", &format!("mock error {code}"));
    }
    let results: Vec<Value> = crate::ranking::rank(query, &docs, n)
        .into_iter()
        .map(|(i, s)| json!({"index": i, "relevanceScore": s}))
        .collect();
    axum::Json(json!({"results": results})).into_response()
}
