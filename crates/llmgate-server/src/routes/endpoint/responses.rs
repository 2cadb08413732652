//! `/v1/responses` as an [`Endpoint`]: the SDK serves it (natively on OpenAI and Azure, through
//! chat everywhere else); here it gains what needs the gateway — the stored conversation a
//! `previous_response_id` names, and storing the answer (`store`, default true).

use llmgate::{ResponseEvent, ResponseEventStream, ResponseObject, ResponsesRequest};
use serde::Deserialize;

use super::*;
use crate::routes::responses as stored;

/// A Responses request, and what the gateway knows of its conversation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResponsesCall {
    #[serde(flatten)]
    pub req: ResponsesRequest,
    /// How many items at the start of `req.input` came from the stored conversation.
    #[serde(skip)]
    prior: usize,
    /// The `previous_response_id` the client sent (not sent upstream: its items are in the
    /// input), echoed in the answer.
    #[serde(skip)]
    previous: Option<String>,
}

impl ResponsesCall {
    /// What storing the answer needs, taken before the request moves.
    fn record(&self, auth: &AuthContext) -> Option<stored::Record> {
        if !self.req.stores() {
            return None;
        }
        let items = self.req.input_items();
        let prior = self.prior.min(items.len());
        Some(stored::Record {
            owner: stored::owner(auth),
            previous: self.previous.clone(),
            context: items[..prior].to_vec(),
            input: items[prior..].to_vec(),
        })
    }
}

/// The `event:` names of the Responses stream (each event's `type`).
const EVENTS: &[&str] = &[
    "response.created",
    "response.in_progress",
    "response.completed",
    "response.failed",
    "response.incomplete",
    "response.queued",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.output_text.annotation.added",
    "response.refusal.delta",
    "response.refusal.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.custom_tool_call_input.delta",
    "response.custom_tool_call_input.done",
    "error",
];

fn event_name(e: &ResponseEvent) -> Option<&'static str> {
    EVENTS.iter().copied().find(|n| *n == e.kind)
}

/// A mid-stream failure as OpenAI sends it: an `error` event (the bridge has sent
/// `response.failed` before it).
fn error_event(e: &GatewayError) -> (Option<&'static str>, Value) {
    let body = e.body();
    let err = &body["error"];
    (
        Some("error"),
        serde_json::json!({
            "type": "error",
            "code": err.get("code").cloned().unwrap_or(Value::Null),
            "message": err.get("message").cloned().unwrap_or(Value::Null),
            "param": err.get("param").cloned().unwrap_or(Value::Null),
            "sequence_number": 0,
        }),
    )
}

impl Endpoint for ResponsesCall {
    const ROUTE: &'static str = "/responses";
    /// LiteLLM's proxy logs `/v1/responses` under its route type.
    const CALL_TYPE: &'static str = "aresponses";
    type Answer = ResponseObject;
    type Chunk = ResponseEvent;
    type Chunks = ResponseEventStream;

    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        if let Some(i) = self.req.instructions.as_mut() {
            super::guarded::value_texts(i, f);
        }
        super::guarded::value_texts(&mut self.req.input, f);
    }
    fn answer_texts(a: &mut Self::Answer, f: &mut dyn FnMut(&mut String)) {
        for item in &mut a.output {
            if item.get("type").and_then(Value::as_str) == Some("message") {
                super::guarded::value_texts(item, f);
            }
        }
    }
    fn chunk_texts(c: &mut Self::Chunk, f: &mut dyn FnMut(&mut String, bool)) {
        match c.kind.as_str() {
            "response.output_text.delta" => {
                if let Some(Value::String(t)) = c.extra.get_mut("delta") {
                    f(t, false);
                }
            }
            "response.output_text.done" => {
                if let Some(Value::String(t)) = c.extra.get_mut("text") {
                    f(t, true);
                }
            }
            "response.content_part.done" | "response.output_item.done" => {
                for k in ["part", "item"] {
                    if let Some(v) = c.extra.get_mut(k) {
                        super::guarded::value_texts(v, &mut |t| f(t, true));
                    }
                }
            }
            _ => {
                if let Some(r) = c.response.as_mut() {
                    Self::answer_texts(r, &mut |t| f(t, true));
                }
            }
        }
    }

    fn model_mut(&mut self) -> &mut String {
        &mut self.req.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.req.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.req.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.req
            .input
            .is_null()
            .then_some("input is a required field")
    }
    fn is_stream(&self) -> bool {
        self.req.is_stream()
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.responses(self.req, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.responses_stream(self.req, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.chat_usage.as_ref()
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, _dep: &Deployment) {
        if let Some(r) = c.response.as_mut() {
            group.clone_into(&mut r.model);
            if r.chat_usage.is_none() {
                r.price_usage();
            }
        }
    }
    fn answer_id(a: &Self::Answer) -> Option<&str> {
        Some(&a.id)
    }
    fn chunk_id(c: &Self::Chunk) -> Option<&str> {
        c.response.as_ref().map(|r| r.id.as_str())
    }
    fn ask_usage(&mut self) -> bool {
        // Every Responses stream ends with its usage (the bridge asks the chat upstream).
        true
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        if !c.is_terminal() {
            return None;
        }
        c.response.as_ref()?.chat_usage.as_ref()
    }
    fn chunk_has_choices(_c: &Self::Chunk) -> bool {
        // Only a terminal event carries usage, and it closes the stream.
        false
    }
    fn chunk_text(c: &Self::Chunk, out: &mut dyn FnMut(&str)) {
        if c.kind.ends_with(".delta") {
            if let Some(d) = c.extra.get("delta").and_then(Value::as_str) {
                out(d);
            }
        }
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        let Ok(chat) = llmgate::responses::request::to_chat(&self.req) else {
            return 0;
        };
        chat.prompt_tokens(model)
    }
    fn max_output(&self) -> Option<u64> {
        self.req.max_output_tokens
    }
    fn metadata(&self) -> Option<&Value> {
        self.req.metadata.as_ref()
    }
    fn end_user(&self) -> Option<String> {
        self.req.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(self.req.metadata.as_ref(), &self.req.extra)
    }
    fn sse_format() -> SseFormat<Self::Chunk> {
        SseFormat {
            event: event_name,
            // OpenAI ends a Responses stream with its terminal event, not `[DONE]`.
            done: false,
            error: error_event,
        }
    }

    fn default_param(name: &str) -> Option<&str> {
        match name {
            "max_tokens" | "max_completion_tokens" => Some("max_output_tokens"),
            "temperature" | "top_p" | "user" | "parallel_tool_calls" => Some(name),
            // Chat-shaped (tools, response_format) or without a Responses field (stop, seed).
            _ => None,
        }
    }

    async fn prepare(&mut self, state: &AppState, auth: &AuthContext) -> Result<(), GatewayError> {
        let Some(prev) = self.req.previous_response_id.take() else {
            // MCP items (`mcp_call`, approvals) are the model's function calls and outputs.
            let items = self.req.input_items();
            if items
                .iter()
                .any(|i| i["type"].as_str().is_some_and(|t| t.starts_with("mcp_")))
            {
                self.req.input = Value::Array(crate::mcp::chat::model_items(&[], items));
            }
            return Ok(());
        };
        let found = stored::load(state, &prev)
            .await?
            .filter(|s| stored::may_read(auth, s));
        let Some(s) = found else {
            return Err(GatewayError::NotFound(format!(
                "Previous response with id '{prev}' not found."
            )));
        };
        let conversation = s.conversation();
        let mut items = crate::mcp::chat::model_items(&[], conversation.clone());
        self.prior = items.len();
        items.extend(crate::mcp::chat::model_items(
            &conversation,
            self.req.input_items(),
        ));
        self.req.input = Value::Array(items);
        self.previous = Some(prev);
        Ok(())
    }

    fn answered(&self, state: &AppState, auth: &AuthContext, answer: &mut Self::Answer) {
        answer.extra.insert(
            "previous_response_id".into(),
            serde_json::json!(self.previous),
        );
        if let Some(rec) = self.record(auth) {
            stored::save(state, rec, answer);
        }
    }

    fn chunk_observer(&self, state: &AppState, auth: &AuthContext) -> Option<Observer<Self>> {
        let previous = self.previous.clone();
        let mut record = self.record(auth);
        let state = state.clone();
        Some(Box::new(move |ev: &mut ResponseEvent| {
            let terminal = ev.is_terminal();
            let Some(r) = ev.response.as_mut() else {
                return;
            };
            r.extra
                .insert("previous_response_id".into(), serde_json::json!(previous));
            // A failed response is not kept (a follow-up cannot continue it).
            if terminal && ev.kind != "response.failed" {
                if let Some(rec) = record.take() {
                    stored::save(&state, rec, r);
                }
            }
        }))
    }
    const CACHEABLE: bool = true;
    fn cached_answer(v: Value) -> Option<Self::Answer> {
        let mut r: ResponseObject = serde_json::from_value(v).ok()?;
        r.price_usage();
        Some(r)
    }
    fn cached_chunk(v: Value) -> Option<Self::Chunk> {
        serde_json::from_value(v).ok()
    }
    fn semantic_text(&self) -> Option<String> {
        super::cached::prompt_text(&self.req.input)
    }
}
