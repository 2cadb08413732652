//! Mock LLM provider upstreams for tests and benchmarks.
//!
//! [`MockServer`] speaks OpenAI's wire format (JSON, SSE streams, error bodies, Azure's
//! deployment and v1 paths, its Entra ID token endpoint). The requested model name picks a behaviour (see [`Behaviour`]): errors,
//! delays, failures in the middle of a stream. Requests are recorded so tests can check what the
//! gateway sent; the `llmgate-mock` binary can turn recording off for benchmarks. A test can
//! also set a model's behaviour at run time (`POST /_mock/behaviour`, the OpenAI routes): make
//! it fail on demand and recover.

mod a2a;
mod agent;
mod anthropic;
mod azure;
mod bedrock;
mod bedrock_batch;
mod bedrock_edit;
mod bedrock_guardrail;
mod behaviour;
mod cohere;
mod content_safety;
mod dashscope;
mod dashscope_media;
mod files;
mod foundry;
mod gcs;
mod gemini_batch;
mod gemini_live;
mod google;
mod google_media;
mod guardrail;
mod jina;
mod media;
mod mistral_batch;
mod ollama;
mod openai;
mod ranking;
mod realtime;
mod responses;
mod s3;
mod sagemaker;
mod sts;
mod vertex_batch;
mod voyage;
mod watsonx;
mod xai;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;

pub use azure::AZURE_CLIENT_SECRET;
pub use bedrock::{AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, BAD_BEARER};
pub use bedrock_guardrail::BLOCKED_MESSAGE;
pub use behaviour::{Behaviour, Override};
pub use content_safety::CONTENT_SAFETY_KEY;
pub use google::{service_account_json, ACCESS_TOKEN, SERVICE_ACCOUNT_KEY};
pub use guardrail::{APORIA_API_KEY, GUARDRAIL_API_KEY, LAKERA_API_KEY};
pub use sts::{CONTAINER_TOKEN, EXTERNAL_ID, WEB_IDENTITY_TOKEN};
pub use watsonx::{WATSONX_API_KEY, WATSONX_TOKEN};

/// A request as the mock received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    /// `Null` when the body is not JSON.
    pub body: serde_json::Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub(crate) struct Shared {
    record: bool,
    requests: Mutex<Vec<RecordedRequest>>,
    cancelled: AtomicUsize,
    /// Bytes of `/files/big-*` and `/files/endless` bodies handed to the connection.
    served: AtomicUsize,
    /// Behaviours set at run time, by model name.
    pub(crate) overrides: behaviour::Overrides,
    /// Entra ID tokens issued, and token requests per tenant.
    pub(crate) entra: azure::Entra,
    /// Tokens the watsonx IAM mock issued.
    pub(crate) watsonx: watsonx::Tokens,
    /// Temporary AWS credentials the STS mock issued, and its calls.
    pub(crate) sts: sts::Issued,
    /// OpenAI Files and Batches (`files.rs`).
    pub(crate) objects: files::Objects,
    /// Objects PUT to the S3 mock (`s3.rs`).
    pub(crate) s3: s3::Bucket,
    /// Cloud Storage objects (`gcs.rs`).
    pub(crate) gcs: gcs::Store,
    /// Vertex AI batch prediction jobs (`vertex_batch.rs`).
    pub(crate) vertex_jobs: vertex_batch::Jobs,
    /// Bedrock model invocation jobs (`bedrock_batch.rs`).
    pub(crate) bedrock_jobs: bedrock_batch::Jobs,
    /// Google AI Studio's files and batches (`gemini_batch.rs`).
    pub(crate) gemini: gemini_batch::Store,
}

impl Shared {
    pub(crate) fn record(&self, req: impl FnOnce() -> RecordedRequest) {
        if self.record {
            let r = req();
            self.requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(r);
        }
    }

    pub(crate) fn served(&self, n: usize) {
        self.served.fetch_add(n, Ordering::SeqCst);
    }

    pub(crate) fn stream_cancelled(&self) {
        self.cancelled.fetch_add(1, Ordering::SeqCst);
    }
}

/// A mock upstream on a loopback port, served on the current tokio runtime.
#[derive(Clone)]
pub struct MockServer {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
}

impl MockServer {
    pub async fn start() -> MockServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            record: true,
            ..Default::default()
        });
        let app = router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT`, without `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
    }

    /// Sets (`Some`) or clears (`None`) the behaviour of requests for `model`, over its
    /// name's own.
    pub fn set_behaviour(&self, model: &str, o: Option<Override>) {
        self.shared.overrides.set(model, o);
    }

    /// Token requests the Entra ID endpoint received for `tenant`.
    pub fn token_requests(&self, tenant: &str) -> usize {
        self.shared.entra.requests(tenant)
    }

    /// The STS calls answered (`action`, `role`, `session`, `external_id`, `policy`,
    /// `duration`), in order.
    pub fn sts_calls(&self) -> Vec<serde_json::Value> {
        self.shared.sts.calls()
    }

    /// Streams whose client went away before the end.
    pub fn cancelled_streams(&self) -> usize {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Bytes of big or endless files sent so far (what a capped reader made the mock send).
    pub fn served_bytes(&self) -> usize {
        self.shared.served.load(Ordering::SeqCst)
    }
}

/// Serves the mock on `listener` until the process ends (the `llmgate-mock` binary).
pub async fn serve(listener: tokio::net::TcpListener, record: bool) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        record,
        ..Default::default()
    });
    axum::serve(listener, router(shared)).await
}

/// What the mock received, for end-to-end tests that run the binary.
/// How many streams were dropped (client gone) before their last event.
async fn cancelled_streams(State(shared): State<Arc<Shared>>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"cancelled": shared.cancelled.load(Ordering::SeqCst)}))
}

async fn served_bytes(State(shared): State<Arc<Shared>>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"served": shared.served.load(Ordering::SeqCst)}))
}

async fn recorded_requests(State(shared): State<Arc<Shared>>) -> axum::Json<serde_json::Value> {
    let all = shared
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let list: Vec<serde_json::Value> = all
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.method, "path": r.path, "query": r.query,
                "headers": r.headers.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                "body": r.body,
            })
        })
        .collect();
    axum::Json(serde_json::Value::Array(list))
}

/// `POST /_mock/behaviour {"model": "cd-a", "behaviour": "mock-error-401", "times": 3,
/// "retry_after": "1"}`: requests for `model` behave as the behaviour name says (any name
/// [`Behaviour::of`] reads; `null` clears), for the next `times` of them (absent: until
/// cleared), with `retry-after: <retry_after>` on error answers.
async fn set_behaviour(
    State(shared): State<Arc<Shared>>,
    axum::Json(b): axum::Json<serde_json::Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let bad = |m: &str| {
        let body = serde_json::json!({"error": {"message": m, "type": "invalid_request_error"}});
        (axum::http::StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    };
    let Some(model) = b["model"].as_str() else {
        return bad("`model` is required");
    };
    let times = match &b["times"] {
        serde_json::Value::Null => None,
        t => match t.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => return bad("`times` must be a whole number"),
        },
    };
    let retry_after = match &b["retry_after"] {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        n @ serde_json::Value::Number(_) => Some(n.to_string()),
        _ => return bad("`retry_after` must be a string or a number"),
    };
    let o = match &b["behaviour"] {
        serde_json::Value::Null => None,
        serde_json::Value::String(name) => Some(Override {
            behaviour: Behaviour::of(name),
            times,
            retry_after,
        }),
        _ => return bad("`behaviour` must be a model name that picks a behaviour, or null"),
    };
    shared.overrides.set(model, o);
    axum::Json(serde_json::json!({"ok": true})).into_response()
}

/// A service-account JSON whose token URI is this mock, for end-to-end tests of Vertex AI.
async fn service_account(headers: axum::http::HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    service_account_json(&format!("http://{host}"))
}

fn router(shared: Arc<Shared>) -> Router {
    let mut r = Router::new();
    // `/openai/v1` is Groq's base path (answers in Groq's dialect).
    for prefix in ["", "/v1", "/openai/v1"] {
        r = r
            .route(&format!("{prefix}/chat/completions"), post(openai::chat))
            .route(&format!("{prefix}/completions"), post(openai::completions))
            .route(&format!("{prefix}/embeddings"), post(openai::embeddings))
            .route(&format!("{prefix}/fim/completions"), post(openai::fim))
            .route(&format!("{prefix}/responses"), post(responses::responses))
            .route(
                &format!("{prefix}/images/generations"),
                post(media::generations),
            )
            .route(&format!("{prefix}/images/edits"), post(media::edits))
            .route(
                &format!("{prefix}/images/variations"),
                post(media::variations),
            )
            .route(
                &format!("{prefix}/audio/transcriptions"),
                post(media::transcriptions),
            )
            .route(
                &format!("{prefix}/audio/translations"),
                post(media::translations),
            )
            .route(&format!("{prefix}/audio/speech"), post(media::speech))
            .route(&format!("{prefix}/models"), get(openai::models));
    }
    r = r
        .route("/mai/v1/images/generations", post(foundry::mai))
        .route("/mai/v1/images/edits", post(foundry::mai_edit))
        .route("/v1/stt", post(xai::stt))
        .route(
            "/providers/blackforestlabs/v1/{model}",
            post(foundry::flux2),
        );
    // Azure OpenAI at the root and as a resource under `/azure`, whose v1 API is told apart
    // from Groq's `/openai/v1` by that prefix.
    for prefix in ["", "/azure"] {
        let d = format!("{prefix}/openai/deployments/{{deployment}}");
        r = r
            .route(
                &format!("{d}/chat/completions"),
                post(azure::deployment_chat),
            )
            .route(
                &format!("{d}/completions"),
                post(azure::deployment_completions),
            )
            .route(
                &format!("{d}/embeddings"),
                post(azure::deployment_embeddings),
            )
            .route(
                &format!("{prefix}/openai/responses"),
                post(responses::responses),
            )
            .route(&format!("{d}/{{group}}/{{op}}"), post(media::azure));
    }
    // OpenAI's Files and Batches API, and Azure's (`api-version` required).
    for prefix in ["/v1", "/openai"] {
        r = r
            .route(
                &format!("{prefix}/files"),
                post(files::upload).get(files::list),
            )
            .route(
                &format!("{prefix}/files/{{id}}"),
                get(files::one).delete(files::one),
            )
            .route(
                &format!("{prefix}/files/{{id}}/content"),
                get(files::content),
            )
            .route(
                &format!("{prefix}/batches"),
                post(files::create_batch).get(files::list_batches),
            )
            .route(
                &format!("{prefix}/batches/{{id}}"),
                get(files::retrieve_batch),
            )
            .route(
                &format!("{prefix}/batches/{{id}}/cancel"),
                post(files::cancel_batch),
            );
    }
    r = r
        .route("/azure/openai/v1/chat/completions", post(azure::v1_chat))
        .route("/azure/openai/v1/embeddings", post(azure::v1_embeddings))
        .route("/azure/openai/v1/responses", post(responses::responses));
    // The Realtime API's WebSockets: OpenAI's, Azure's beta and GA paths, and Gemini Live.
    r = r
        .route("/v1/realtime", get(realtime::openai))
        .route("/openai/realtime", get(realtime::azure))
        .route("/openai/v1/realtime", get(realtime::azure))
        .route(gemini_live::PATH, get(gemini_live::live))
        .route(gemini_live::VERTEX_PATH, get(gemini_live::vertex_live));
    r.route("/v1/messages", post(anthropic::messages))
        .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
        .route("/model/{model}/{action}", post(bedrock::converse))
        .route("/v1beta/models/{spec}", post(google::studio))
        .route("/upload/v1beta/files", post(gemini_batch::upload))
        .route(
            "/v1beta/files/{id}",
            get(gemini_batch::file).delete(gemini_batch::file),
        )
        .route("/download/v1beta/files/{spec}", get(gemini_batch::download))
        .route(
            "/v1beta/batches/{spec}",
            get(gemini_batch::batch).post(gemini_batch::batch),
        )
        .route("/v1beta/interactions", post(google_media::interactions))
        .route("/v1/text:synthesize", post(google_media::synthesize))
        .route(
            "/v2/projects/{project}/locations/{location}/recognizers/{spec}",
            post(google_media::recognize),
        )
        .route(
            "/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{spec}",
            post(google::vertex),
        )
        .route("/endpoints/{name}/{action}", post(sagemaker::invoke))
        .route("/identity/token", post(watsonx::iam_token))
        .route("/ml/v1/text/{op}", post(watsonx::text))
        .route("/ml/v1/audio/transcriptions", post(watsonx::transcriptions))
        .route(
            "/ml/v1/deployments/{id}/text/{op}",
            post(watsonx::deployment),
        )
        .route("/v2/chat", post(cohere::chat))
        .route("/v2/embed", post(cohere::embed))
        .route("/v2/rerank", post(cohere::rerank))
        .route("/v1/rerank", post(jina::v1_rerank))
        .route("/jina/v1/embeddings", post(jina::embeddings))
        .route("/voyage/v1/embeddings", post(voyage::embeddings))
        .route("/voyage/v1/rerank", post(voyage::rerank))
        .route("/compatible-api/v1/reranks", post(dashscope::rerank))
        .route(
            "/api/v1/services/aigc/multimodal-generation/generation",
            post(dashscope::multimodal_generation),
        )
        .route("/dashscope-mock-audio/{name}", get(dashscope_media::audio))
        .route("/compatible-mode/v1/embeddings", post(openai::embeddings))
        .route("/rerank", post(bedrock::rerank))
        .route("/a2a-agent", post(a2a::rpc))
        .route("/a2a-agent/.well-known/agent-card.json", get(a2a::card))
        .route("/api/generate", post(ollama::generate))
        .route("/api/chat", post(ollama::chat))
        .route("/api/embed", post(ollama::embed))
        .route("/token", post(google::token))
        .route(
            "/guardrail/beta/litellm_basic_guardrail_api",
            post(guardrail::basic),
        )
        .route(
            "/guardrail/{id}/version/{version}/apply",
            post(bedrock_guardrail::apply),
        )
        .route("/contentsafety/text:analyze", post(content_safety::analyze))
        .route(
            "/contentsafety/text:shieldPrompt",
            post(content_safety::shield_prompt),
        )
        .route("/v1/moderations", post(guardrail::moderations))
        .route("/lakera/v2/guard", post(guardrail::lakera_guard))
        .route("/aporia/validate", post(guardrail::aporia_validate))
        .route(
            "/presidio/analyzer/analyze",
            post(guardrail::presidio_analyze),
        )
        .route(
            "/presidio/anonymizer/anonymize",
            post(guardrail::presidio_anonymize),
        )
        .route(
            "/storage/v1/b/{bucket}/o/{object}",
            get(gcs::object).delete(gcs::object),
        )
        .route("/upload/storage/v1/b/{bucket}/o", post(gcs::upload))
        .route(
            "/v1/projects/{project}/locations/{location}/batchPredictionJobs",
            post(vertex_batch::jobs).get(vertex_batch::jobs),
        )
        .route(
            "/v1/projects/{project}/locations/{location}/batchPredictionJobs/{spec}",
            get(vertex_batch::job).post(vertex_batch::job),
        )
        .route("/files/{name}", get(google::file))
        .route("/models/chat/completions", post(azure::models_chat))
        .route("/models/embeddings", post(azure::models_embeddings))
        .route("/{tenant}/oauth2/v2.0/token", post(azure::token))
        .route("/_mock/entra/{tenant}", get(azure::token_requests))
        .route("/", post(sts::sts))
        .route("/_mock/sts", get(sts::calls))
        .route("/_mock/container-credentials", get(sts::container))
        .route(
            "/s3/{bucket}/{*key}",
            axum::routing::put(s3::put)
                .get(s3::get)
                .head(s3::get)
                .delete(s3::get),
        )
        .route("/mistral/v1/files", post(mistral_batch::upload))
        .route(
            "/mistral/v1/files/{id}",
            get(mistral_batch::file).delete(mistral_batch::file),
        )
        .route(
            "/mistral/v1/files/{id}/content",
            get(mistral_batch::content),
        )
        .route(
            "/mistral/v1/batch/jobs",
            post(mistral_batch::jobs).get(mistral_batch::jobs),
        )
        .route("/mistral/v1/batch/jobs/{id}", get(mistral_batch::job))
        .route(
            "/mistral/v1/batch/jobs/{id}/{action}",
            post(mistral_batch::job),
        )
        .route("/model-invocation-job", post(bedrock_batch::create))
        .route("/model-invocation-job/{ident}", get(bedrock_batch::job))
        .route(
            "/model-invocation-job/{ident}/{action}",
            post(bedrock_batch::job),
        )
        .route("/_mock/s3", get(s3::list))
        .route("/_mock/requests", get(recorded_requests))
        .route("/_mock/behaviour", post(set_behaviour))
        .route("/_mock/service_account", get(service_account))
        .route("/_mock/cancelled", get(cancelled_streams))
        .route("/_mock/served", get(served_bytes))
        .fallback(openai::not_found)
        .with_state(shared)
}
