//! `/v1/rerank` (also `/rerank`, `/v2/rerank`): Cohere's rerank shape in front of every
//! provider whose adapter implements `Provider::rerank`, through the one handler (keys,
//! budgets, limits, routing and spend as on chat). Priced per search unit or per token
//! (`RerankResponse::usage`).

use llmgate::{RerankRequest, RerankResponse};

use super::*;

/// A deployment's default params that are rerank's own (chat defaults are not sent).
const PARAMS: &[&str] = &[
    "top_n",
    "return_documents",
    "rank_fields",
    "max_chunks_per_doc",
    "max_tokens_per_doc",
];

impl Endpoint for RerankRequest {
    const ROUTE: &'static str = "/rerank";
    const CALL_TYPE: &'static str = "arerank";
    type Answer = RerankAnswer;
    type Chunk = RerankAnswer;
    type Chunks = futures::stream::Empty<Result<RerankAnswer, LlmError>>;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
    /// LiteLLM's rerank function takes both as required arguments.
    fn missing_field(&self) -> Option<&'static str> {
        if self.query.is_none() {
            return Some("query is a required field");
        }
        self.documents
            .is_none()
            .then_some("documents is a required field")
    }
    fn is_stream(&self) -> bool {
        false
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        let r = client.rerank(self, opts.get()).await?;
        Ok(llmgate::Response {
            body: RerankAnswer::new(r.body),
            headers: r.headers,
            api_base: r.api_base,
        })
    }
    async fn call_stream(self, _: Client, _: Opts) -> SdkResult<Self::Chunks> {
        Err(LlmError::bad_request("rerank cannot be streamed"))
    }
    fn finish<'a>(answer: &'a mut Self::Answer, _group: &str) -> Option<&'a Usage> {
        Some(&answer.usage)
    }
    fn finish_chunk(_: &mut Self::Chunk, _: &str, _: &Deployment) {}
    fn answer_id(a: &Self::Answer) -> Option<&str> {
        Some(&a.body.id)
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        let mut n = self
            .query
            .as_deref()
            .map_or(0, |q| llmgate::tokens::count_text(model, q));
        for d in self.documents() {
            n += llmgate::tokens::count_text(model, &d.text());
        }
        n as u64
    }
    fn end_user(&self) -> Option<String> {
        self.extra
            .get("user")
            .and_then(Value::as_str)
            .map(str::to_string)
    }
    fn tags(&self) -> Vec<String> {
        tags_in(None, &self.extra)
    }
    fn default_param(name: &str) -> Option<&str> {
        PARAMS.contains(&name).then_some(name)
    }
}

/// The answer as the client gets it, with the usage it is priced by (not sent).
pub struct RerankAnswer {
    body: RerankResponse,
    usage: Usage,
}

impl RerankAnswer {
    fn new(body: RerankResponse) -> Self {
        let usage = body.usage();
        RerankAnswer { body, usage }
    }
}

impl Serialize for RerankAnswer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}
