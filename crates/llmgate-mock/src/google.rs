//! Google's Gemini API (AI Studio) and Vertex AI (Gemini, Claude via rawPredict, text
//! embeddings) and the OAuth token endpoint of a service account (Cloud Storage: `gcs.rs`;
//! batch prediction: `vertex_batch.rs`; speech, transcription and edits: `google_media.rs`).
//! Requests are validated as the real APIs do: unknown fields are rejected, schemas may only
//! use the keywords Gemini's `Schema` knows, a function response must answer a call.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{pieces, recorded, sse};
use crate::Shared;

const CONTENT: &str = "Hello from mock";
/// The access token the mock's token endpoint issues and its Vertex routes accept.
pub const ACCESS_TOKEN: &str = "ya29.mock-access-token";
/// The test service account's key (PKCS#8) and its public half (PKCS#1 DER), for signatures.
pub const SERVICE_ACCOUNT_KEY: &str = include_str!("testdata/sa_key.pem");
const SERVICE_ACCOUNT_PUB: &[u8] = include_bytes!("testdata/sa_pub.der");

const TOP_LEVEL: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
    "safetySettings",
    "cachedContent",
    "labels",
];
const GENERATION: &[&str] = &[
    "temperature",
    "topP",
    "topK",
    "candidateCount",
    "maxOutputTokens",
    "stopSequences",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseMimeType",
    "responseSchema",
    "responseLogprobs",
    "logprobs",
    "thinkingConfig",
    "responseModalities",
    "imageConfig",
    "mediaResolution",
    "responseJsonSchema",
    "speechConfig",
    "audioTranscriptionConfig",
];
/// A `Tool`'s kinds (camelCase, after normalisation).
const TOOLS: &[&str] = &[
    "functionDeclarations",
    "googleSearch",
    "googleSearchRetrieval",
    "enterpriseWebSearch",
    "codeExecution",
    "urlContext",
    "googleMaps",
    "computerUse",
    "retrieval",
    "fileSearch",
];
const SCHEMA: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// A service-account JSON whose tokens the mock at `base` issues.
pub fn service_account_json(base: &str) -> String {
    json!({
        "type": "service_account", "project_id": "mock-project", "private_key_id": "mock-key-1",
        "private_key": SERVICE_ACCOUNT_KEY, "client_email": "llmgate-test@mock-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": format!("{base}/token"),
    })
    .to_string()
}

pub(crate) fn error(status: u16, message: &str) -> Response {
    let google_status = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(json!({"error": {"code": status, "message": message, "status": google_status}})),
    )
        .into_response()
}

fn unknown_field(name: &str, at: &str) -> String {
    format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")
}

fn check_schema(s: &Value, at: &str) -> Result<(), String> {
    let Some(o) = s.as_object() else {
        return Ok(());
    };
    for (k, v) in o {
        if !SCHEMA.contains(&k.as_str()) {
            return Err(unknown_field(k, at));
        }
        match k.as_str() {
            "properties" => {
                for (name, p) in v.as_object().into_iter().flatten() {
                    check_schema(p, &format!("{at}.properties[{name}].value"))?;
                }
            }
            "items" => check_schema(v, &format!("{at}.items"))?,
            "anyOf" => {
                for (i, p) in v.as_array().into_iter().flatten().enumerate() {
                    check_schema(p, &format!("{at}.any_of[{i}]"))?;
                }
            }
            "type" if !v.is_string() => {
                return Err(format!(
                    "Invalid value at '{at}.type': a single type name is required"
                ))
            }
            _ => {}
        }
    }
    if o.get("type") == Some(&json!("object"))
        && o.get("properties")
            .is_some_and(|p| p.as_object().is_some_and(|m| m.is_empty()))
    {
        return Err(format!(
            "* GenerateContentRequest.{at}.properties: should be non-empty for OBJECT type"
        ));
    }
    Ok(())
}

/// `snake_case` → `lowerCamelCase`: protobuf's JSON mapping accepts both spellings of every
/// field, so the mock normalises before checking (user data such as schema property names,
/// call arguments and labels keeps its keys).
pub(crate) fn camel(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let mut key = String::new();
                    let mut up = false;
                    for c in k.chars() {
                        if c == '_' {
                            up = true;
                        } else if up {
                            key.extend(c.to_uppercase());
                            up = false;
                        } else {
                            key.push(c);
                        }
                    }
                    let user_data = matches!(key.as_str(), "args" | "response" | "labels");
                    let x = if user_data {
                        x.clone()
                    } else if key == "properties" {
                        Value::Object(
                            x.as_object()
                                .map(|p| p.iter().map(|(n, s)| (n.clone(), camel(s))).collect())
                                .unwrap_or_default(),
                        )
                    } else {
                        camel(x)
                    };
                    (key, x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        other => other.clone(),
    }
}

/// Gemini 3 and later (`gemini-3...`): call ids on function parts, signed calls.
fn gemini3(model: &str) -> bool {
    model
        .strip_prefix("gemini-")
        .and_then(|r| r.chars().next())
        .is_some_and(|c| c.is_ascii_digit() && c >= '3')
}

pub(crate) fn validate(model: &str, body: &Value) -> Result<(), String> {
    let body = &camel(body);
    let obj = body.as_object().ok_or("the body must be a JSON object")?;
    if let Some(k) = obj.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(unknown_field(k, ""));
    }
    if let Some(k) = body["generationConfig"]
        .as_object()
        .and_then(|g| g.keys().find(|k| !GENERATION.contains(&k.as_str())))
    {
        return Err(unknown_field(k, "generation_config"));
    }
    let gen = &body["generationConfig"];
    if let Some(s) = gen.get("responseSchema") {
        check_schema(s, "generation_config.response_schema")?;
    }
    // `responseJsonSchema` takes full JSON Schema, alone, for JSON output, from Gemini 2 on.
    if let Some(s) = gen.get("responseJsonSchema") {
        if gen.get("responseSchema").is_some() {
            return Err("* GenerateContentRequest.generation_config: response_schema and response_json_schema cannot both be set".into());
        }
        if !s.is_object() {
            return Err("Invalid value at 'generation_config.response_json_schema': a JSON Schema object is required".into());
        }
        if gen["responseMimeType"] != "application/json" {
            return Err("* GenerateContentRequest.generation_config.response_mime_type: must be application/json when response_json_schema is set".into());
        }
        if model.starts_with("gemini-1") {
            return Err(format!("response_json_schema is not supported by {model}"));
        }
    }
    for (i, t) in body["tools"].as_array().into_iter().flatten().enumerate() {
        if let Some(k) = t
            .as_object()
            .and_then(|o| o.keys().find(|k| !TOOLS.contains(&k.as_str())))
        {
            return Err(unknown_field(k, &format!("tools[{i}]")));
        }
        for (j, d) in t["functionDeclarations"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !d["name"].is_string() {
                return Err(format!("* GenerateContentRequest.tools[{i}].function_declarations[{j}].name: Name is required"));
            }
            if let Some(p) = d.get("parameters") {
                check_schema(
                    p,
                    &format!("tools[{i}].function_declarations[{j}].parameters"),
                )?;
            }
        }
    }
    crate::google_media::check(model, body)?;
    let contents = body["contents"]
        .as_array()
        .filter(|c| !c.is_empty())
        .ok_or("* GenerateContentRequest.contents: contents is not specified")?;
    let mut prev_calls: Vec<String> = vec![];
    for (i, c) in contents.iter().enumerate() {
        let role = c["role"].as_str().unwrap_or("user");
        if !["user", "model", "function"].contains(&role) {
            return Err(format!(
                "Please use a valid role: user, model. (contents[{i}].role)"
            ));
        }
        let parts = c["parts"]
            .as_array()
            .filter(|p| !p.is_empty())
            .ok_or(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            ))?;
        let mut calls = vec![];
        for (j, p) in parts.iter().enumerate() {
            let data: Vec<&str> = [
                "text",
                "inlineData",
                "fileData",
                "functionCall",
                "functionResponse",
            ]
            .into_iter()
            .filter(|k| p.get(*k).is_some())
            .collect();
            if let Some(k) = p.as_object().and_then(|o| {
                o.keys().find(|k| {
                    ![
                        "text",
                        "inlineData",
                        "fileData",
                        "functionCall",
                        "functionResponse",
                        "thought",
                        "thoughtSignature",
                        "videoMetadata",
                    ]
                    .contains(&k.as_str())
                })
            }) {
                return Err(unknown_field(k, &format!("contents[{i}].parts[{j}]")));
            }
            if data.len() != 1 {
                return Err(format!("* GenerateContentRequest.contents[{i}].parts[{j}].data: required oneof field 'data' must have one initialized field"));
            }
            if let Some(d) = p.get("inlineData") {
                if !d["mimeType"].is_string()
                    || !d["data"].is_string()
                    || d["mimeType"].as_str().is_some_and(|m| m.contains(';'))
                {
                    return Err(format!("* contents[{i}].parts[{j}].inline_data: mime_type and data are required; mime_type must be a bare type"));
                }
            }
            if let Some(d) = p.get("fileData") {
                let uri = d["fileUri"].as_str().unwrap_or("");
                if uri.is_empty() || (uri.starts_with("gs://") && !d["mimeType"].is_string()) {
                    return Err(format!(
                        "* contents[{i}].parts[{j}].file_data: file_uri and mime_type are required"
                    ));
                }
            }
            for k in ["functionCall", "functionResponse"] {
                if p[k].get("id").is_some() && !gemini3(model) {
                    return Err(unknown_field(
                        "id",
                        &format!("contents[{i}].parts[{j}].{k}"),
                    ));
                }
            }
            if let Some(f) = p.get("functionCall") {
                // Gemini 3 refuses a turn's first call without its signature.
                if gemini3(model) && calls.is_empty() && !p["thoughtSignature"].is_string() {
                    return Err(format!("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", f["name"].as_str().unwrap_or(""), i + 1));
                }
                calls.push(f["name"].as_str().unwrap_or("").to_string());
            }
            if let Some(f) = p.get("functionResponse") {
                let name = f["name"].as_str().unwrap_or("");
                if !prev_calls.iter().any(|c| c == name) || !f["response"].is_object() {
                    return Err(format!("Please ensure that function response turn comes immediately after a function call turn. (contents[{i}].parts[{j}])"));
                }
            }
        }
        prev_calls = calls;
    }
    Ok(())
}

fn usage(model: &str, thinking: bool) -> Value {
    let thoughts = if thinking { 3 } else { 0 };
    let mut u = json!({"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15 + thoughts});
    if thinking {
        u["thoughtsTokenCount"] = json!(thoughts);
    }
    if model.contains("cache") {
        u["cachedContentTokenCount"] = json!(4);
    }
    u
}

/// The answer's parts: a thought when asked, a function call when the model name says so (or
/// calling is forced) and the last turn is not a function response, else text.
fn parts(model: &str, req: &Value) -> (Vec<Value>, &'static str) {
    let mut out = vec![];
    if req["generationConfig"]["thinkingConfig"]["includeThoughts"] == true {
        out.push(json!({"text": "Let me think.", "thought": true}));
    }
    let last_is_response = req["contents"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|c| c["parts"].as_array())
        .is_some_and(|p| p.iter().any(|x| x.get("functionResponse").is_some()));
    let forced = req["toolConfig"]["functionCallingConfig"]["mode"] == "ANY";
    let tool = req["tools"][0]["functionDeclarations"][0]["name"].as_str();
    match tool.filter(|_| (model.contains("tool") || forced) && !last_is_response) {
        Some(name) => {
            out.push(json!({"functionCall": {"name": name, "args": {"location": "Paris"}}, "thoughtSignature": "c2lnLW1vY2s="}));
            if model.contains("parallel") {
                // Gemini signs only the first call of a parallel batch.
                out.push(json!({"functionCall": {"name": name, "args": {"location": "Lyon"}}}));
            }
        }
        None if req["generationConfig"]["responseMimeType"] == "application/json" => {
            out.push(json!({"text": "{\"location\": \"Paris\"}"}))
        }
        None => out.push(json!({"text": CONTENT})),
    }
    (out, "STOP")
}

/// `spec` picks the behaviour (the model name, or the `x-mock-behaviour` header); `model` is
/// the model the answer names.
pub(crate) fn answer(model: &str, spec: &str, req: &Value) -> Value {
    let thinking = req["generationConfig"]["thinkingConfig"]["includeThoughts"] == true;
    if spec.contains("blocked") {
        return json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10}, "modelVersion": model});
    }
    if let Some(a) = crate::google_media::answer(model, req) {
        return a;
    }
    // An image modality asked for: the image inline (and text when TEXT is asked too).
    let modalities = req["generationConfig"]["responseModalities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if modalities.iter().any(|m| m == "IMAGE") {
        let mut parts = vec![];
        if modalities.iter().any(|m| m == "TEXT") {
            parts.push(json!({"text": "Here is your image."}));
        }
        parts.push(
            json!({"inlineData": {"mimeType": "image/png", "data": crate::media::png_b64()}}),
        );
        let n = req["generationConfig"]["candidateCount"]
            .as_u64()
            .unwrap_or(1)
            .clamp(1, 8);
        let candidates: Vec<Value> = (0..n)
            .map(|i| json!({"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": i}))
            .collect();
        let out = 1290 * n;
        return json!({"candidates": candidates, "modelVersion": model,
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": out, "totalTokenCount": 7 + out,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 7}],
                "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": out}]}});
    }
    let candidate = if spec.contains("safety") {
        json!({"finishReason": "SAFETY", "index": 0, "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]})
    } else {
        let (p, finish) = parts(spec, req);
        json!({"content": {"role": "model", "parts": p}, "finishReason": finish, "index": 0})
    };
    // Google Search grounding: the sources, the supported segment and the queries, as
    // Gemini reports them, with the search's tool-use prompt tokens.
    let grounded = req["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t.get("googleSearch").is_some()));
    let mut candidate = candidate;
    let mut usage = usage(spec, thinking);
    if grounded {
        candidate["groundingMetadata"] = json!({
            "webSearchQueries": ["hello mock"],
            "searchEntryPoint": {"renderedContent": "<div>mock</div>"},
            "groundingChunks": [{"web": {"uri": "https://example.com/mock", "title": "example.com"}}],
            // proto3 JSON: a zero `startIndex` is left out.
            "groundingSupports": [{"segment": {"endIndex": 15, "text": CONTENT}, "groundingChunkIndices": [0]}]});
        usage["toolUsePromptTokenCount"] = json!(20);
        usage["totalTokenCount"] = json!(usage["totalTokenCount"].as_u64().unwrap_or(0) + 20);
    }
    // `candidateCount` answers: the same candidate again with its own index.
    let n = req["generationConfig"]["candidateCount"]
        .as_u64()
        .unwrap_or(1)
        .clamp(1, 8);
    let candidates: Vec<Value> = (0..n)
        .map(|i| {
            let mut c = candidate.clone();
            c["index"] = json!(i);
            c
        })
        .collect();
    json!({"candidates": candidates, "usageMetadata": usage, "modelVersion": model, "responseId": "mock-response-1"})
}

fn stream_events(model: &str, spec: &str, req: &Value) -> Vec<String> {
    let thinking = req["generationConfig"]["thinkingConfig"]["includeThoughts"] == true;
    // A blocked prompt or a flagged answer streams as one event, as Gemini sends it.
    if spec.contains("blocked") || spec.contains("safety") {
        return vec![format!("data: {}\r\n\r\n", answer(model, spec, req))];
    }
    let (all, _) = parts(spec, req);
    let mut chunks: Vec<Value> = vec![];
    for p in all {
        match p["text"].as_str() {
            Some(t) if p.get("thought").is_none() => {
                for piece in pieces(t) {
                    chunks.push(json!({"text": piece}));
                }
            }
            _ => chunks.push(p),
        }
    }
    let n = chunks.len();
    let failing = Behaviour::of(spec) == Behaviour::StreamError;
    let mut ev = vec![];
    for (i, part) in chunks.into_iter().enumerate() {
        if failing && i == 2 {
            ev.push(format!("data: {}\r\n\r\n", json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})));
            return ev;
        }
        let mut cand = json!({"content": {"role": "model", "parts": [part]}, "index": 0});
        if i + 1 == n {
            cand["finishReason"] = json!("STOP");
        }
        let v = json!({"candidates": [cand], "usageMetadata": usage(spec, thinking), "modelVersion": model, "responseId": "mock-response-1"});
        ev.push(format!("data: {v}\r\n\r\n"));
    }
    ev
}

fn authorized(h: &HeaderMap, query: Option<&str>, vertex: bool) -> bool {
    if vertex {
        return h.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {ACCESS_TOKEN}"));
    }
    h.contains_key("x-goog-api-key") || query.is_some_and(|q| q.contains("key="))
}

async fn generate(
    shared: Arc<Shared>,
    model: &str,
    method: &str,
    vertex: bool,
    u: &Uri,
    h: &HeaderMap,
    body: Option<Value>,
) -> Response {
    if !authorized(h, u.query(), vertex) {
        return if vertex {
            error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )
        } else {
            error(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
        };
    }
    // AI Studio answers a wrong key with a 400 whose reason is API_KEY_INVALID.
    if !vertex
        && h.get("x-goog-api-key")
            .is_some_and(|k| k.as_bytes().starts_with(b"bad-"))
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"}}]}})),
        )
            .into_response();
    }
    let Some(body) = body else {
        return error(400, "Invalid JSON payload received.");
    };
    match method {
        "generateContent" | "streamGenerateContent" => {}
        "batchEmbedContents" => {
            let n = body["requests"].as_array().map(Vec::len).unwrap_or(0);
            if n == 0 {
                return error(
                    400,
                    "* BatchEmbedContentsRequest.requests: requests is not specified",
                );
            }
            let embeddings: Vec<Value> = (0..n).map(|i| json!({"values": (0..8).map(|j| 0.1 * (i + 1) as f64 + 0.01 * j as f64).collect::<Vec<_>>()})).collect();
            return axum::Json(json!({"embeddings": embeddings})).into_response();
        }
        "predict" if body["instances"][0].get("referenceImages").is_some() => {
            return match crate::google_media::imagen_edit(&body) {
                Some(Ok(v)) => axum::Json(v).into_response(),
                Some(Err(m)) => error(400, &m),
                None => error(400, "referenceImages is required"),
            };
        }
        // Imagen: a prompt per instance, `sampleCount` images back.
        "predict" if body["instances"][0].get("prompt").is_some() => {
            let n = body["parameters"]["sampleCount"]
                .as_u64()
                .unwrap_or(1)
                .clamp(1, 8);
            if !body["instances"][0]["prompt"].is_string() {
                return error(400, "instances[0].prompt must be a string");
            }
            let preds: Vec<Value> = (0..n)
                .map(|_| json!({"bytesBase64Encoded": crate::media::png_b64(), "mimeType": "image/png"}))
                .collect();
            return axum::Json(json!({"predictions": preds})).into_response();
        }
        "predict" => {
            let inst = body["instances"].as_array().cloned().unwrap_or_default();
            if inst.is_empty() || inst.iter().any(|i| !i["content"].is_string()) {
                return error(400, "instances[].content is required");
            }
            let preds: Vec<Value> = (0..inst.len()).map(|i| json!({"embeddings": {"values": (0..8).map(|j| 0.1 * (i + 1) as f64 + 0.01 * j as f64).collect::<Vec<_>>(), "statistics": {"token_count": 2, "truncated": false}}})).collect();
            return axum::Json(
                json!({"predictions": preds, "metadata": {"billableCharacterCount": 10}}),
            )
            .into_response();
        }
        "countTokens" => {
            return axum::Json(json!({"totalTokens": 7, "totalBillableCharacters": 20}))
                .into_response()
        }
        _ => return error(404, &format!("method {method} not found")),
    }
    if let Err(msg) = validate(model, &body) {
        return error(400, &msg);
    }
    let stream = method == "streamGenerateContent";
    // A behaviour can also be asked for by header, so that a test can use a real model name
    // (whose catalog entry shapes the request) and still get an error or a tool call.
    let spec = h
        .get("x-mock-behaviour")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(model)
        .to_string();
    match Behaviour::of(&spec) {
        Behaviour::Error(code) => return error(code, &format!("mock error {code}")),
        Behaviour::ContextWindow => return error(400, "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576)."),
        Behaviour::EchoKey => {
            let sent = h
                .get("x-goog-api-key")
                .or_else(|| h.get("authorization"))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return error(401, &format!("Invalid credential {sent:?} for this project."));
        }
        Behaviour::Slow(d) => tokio::time::sleep(d).await,
        Behaviour::StreamError if !stream => return error(503, "The model is overloaded. Please try again later."),
        _ => {}
    }
    let body = camel(&body);
    if stream {
        if !u.query().is_some_and(|q| q.contains("alt=sse")) {
            return error(400, "the mock streams only with alt=sse");
        }
        return sse(
            shared,
            Behaviour::of(model),
            stream_events(model, &spec, &body),
        );
    }
    axum::Json(answer(model, &spec, &body)).into_response()
}

fn split_spec(spec: &str) -> (&str, &str) {
    spec.split_once(':').unwrap_or((spec, ""))
}

/// `POST /v1beta/models/{model}:{method}` (AI Studio).
pub async fn studio(
    State(shared): State<Arc<Shared>>,
    Path(spec): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&b).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    let (model, method) = split_spec(&spec);
    if method == "batchGenerateContent" {
        return crate::gemini_batch::create(&shared, model, &h, body);
    }
    generate(shared.clone(), model, method, false, &u, &h, body).await
}

/// `POST /v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}`.
pub async fn vertex(
    State(shared): State<Arc<Shared>>,
    Path((_project, _location, publisher, spec)): Path<(String, String, String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&b).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    let (model, method) = split_spec(&spec);
    if publisher == "anthropic" {
        if !authorized(&h, None, true) {
            return error(401, "Request had invalid authentication credentials.");
        }
        if model == "count-tokens" {
            let ok = body
                .as_ref()
                .is_some_and(|b| b["model"].is_string() && b["messages"].is_array());
            return if ok {
                axum::Json(json!({"input_tokens": 13})).into_response()
            } else {
                error(400, "model and messages are required")
            };
        }
        return crate::anthropic::vertex_claude(shared.clone(), model, method, body).await;
    }
    generate(shared.clone(), model, method, true, &u, &h, body).await
}

/// OAuth 2.0 token endpoint for the JWT-bearer grant: checks the assertion's signature with
/// the test service account's public key and its claims.
pub async fn token(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let form = String::from_utf8_lossy(&b).to_string();
    shared.record(|| recorded(&m, &u, &h, json!({"form": form})));
    let field = |name: &str| {
        form.split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    };
    let oauth_error = |msg: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant", "error_description": msg})),
        )
            .into_response()
    };
    if field("grant_type") != "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        && field("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer"
    {
        return oauth_error("unsupported grant_type");
    }
    let jwt = field("assertion");
    let segs: Vec<&str> = jwt.split('.').collect();
    if segs.len() != 3 {
        return oauth_error("malformed assertion");
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (Ok(header), Ok(claims), Ok(sig)) = (
        b64.decode(segs[0]),
        b64.decode(segs[1]),
        b64.decode(segs[2]),
    ) else {
        return oauth_error("assertion is not base64url");
    };
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        SERVICE_ACCOUNT_PUB,
    );
    if key
        .verify(format!("{}.{}", segs[0], segs[1]).as_bytes(), &sig)
        .is_err()
    {
        return oauth_error("Invalid JWT Signature.");
    }
    let header: Value = serde_json::from_slice(&header).unwrap_or(Value::Null);
    let claims: Value = serde_json::from_slice(&claims).unwrap_or(Value::Null);
    let now = crate::openai::now();
    let ok = header["alg"] == "RS256"
        && claims["iss"]
            .as_str()
            .is_some_and(|s| s.ends_with(".iam.gserviceaccount.com"))
        && claims["aud"]
            .as_str()
            .is_some_and(|a| a.ends_with("/token"))
        && claims["scope"]
            .as_str()
            .is_some_and(|s| s.contains("https://www.googleapis.com/auth/cloud-platform"))
        && claims["exp"]
            .as_u64()
            .is_some_and(|e| e > now && e <= now + 3700)
        && claims["iat"].as_u64().is_some_and(|i| i <= now + 60);
    if !ok {
        return oauth_error("Invalid JWT: bad header or claims");
    }
    axum::Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

/// `GET /files/{name}`: files for URL-fetch tests (recorded, so a test can see that no fetch
/// happened). `big-{n}`: `n` bytes streamed without a declared length; `endless`: bytes until
/// the client leaves (both count what they sent, `GET /_mock/served`); `trickle`: a byte every
/// 50 ms, forever (a fetch must be bounded in total time); `redirect?to=URL`: a 302;
/// `*.png`: a tiny PNG; anything else a page whose content type carries a parameter.
pub async fn file(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.record(|| recorded(&method, &uri, &headers, Value::Null));
    if name == "redirect" {
        let to = uri
            .query()
            .and_then(|q| q.strip_prefix("to="))
            .map(percent_decode)
            .unwrap_or_default();
        let mut res = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(&to) {
            res.headers_mut().insert("location", v);
        }
        return res;
    }
    if name == "trickle" {
        let body = futures::stream::unfold((), |()| async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), ()))
        });
        return Response::new(axum::body::Body::from_stream(body));
    }
    let size = match name.strip_prefix("big-").map(str::parse::<u64>) {
        Some(Ok(n)) => Some(n),
        _ if name == "endless" => Some(u64::MAX),
        _ => None,
    };
    if let Some(size) = size {
        const CHUNK: usize = 64 * 1024;
        let body = futures::stream::unfold(0u64, move |sent| {
            let shared = shared.clone();
            async move {
                if sent >= size {
                    return None;
                }
                let n = (size - sent).min(CHUNK as u64) as usize;
                shared.served(n);
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(vec![0u8; n])),
                    sent + n as u64,
                ))
            }
        });
        let mut res = Response::new(axum::body::Body::from_stream(body));
        res.headers_mut()
            .insert("content-type", HeaderValue::from_static("image/png"));
        return res;
    }
    let (ct, body): (&str, &[u8]) = if name.ends_with(".png") {
        ("image/png", b"\x89PNG\r\n\x1a\nmock")
    } else {
        ("text/html; charset=utf-8", b"<p>hi</p>")
    };
    let mut res = Response::new(axum::body::Body::from(body.to_vec()));
    res.headers_mut()
        .insert("content-type", HeaderValue::from_static(ct));
    res
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
