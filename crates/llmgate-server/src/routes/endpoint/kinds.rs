//! The `Endpoint` impls: chat completions, text completions, embeddings.

use super::*;

impl Endpoint for ChatCompletionRequest {
    const ROUTE: &'static str = "/chat/completions";
    const BATCH_MODELS: bool = true;
    const CALL_TYPE: &'static str = "acompletion";
    type Answer = ChatCompletionResponse;
    type Chunk = ChatCompletionChunk;
    type Chunks = ChunkStream;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.messages
            .is_empty()
            .then_some("messages is a required field and must be a non-empty list")
    }
    fn is_stream(&self) -> bool {
        ChatCompletionRequest::is_stream(self)
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.chat(self, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.chat_stream(self, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.usage.as_ref()
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, dep: &Deployment) {
        group.clone_into(&mut c.model);
        // LiteLLM reports the call's cost in the final usage chunk.
        if let Some(u) = c.usage.as_mut() {
            if let Some(cost) = dep.cost(u) {
                u.extra.insert("cost".into(), cost.into());
            }
        }
    }
    fn ask_usage(&mut self) -> bool {
        if self.include_usage() {
            return true;
        }
        self.stream_options
            .get_or_insert_with(Default::default)
            .include_usage = Some(true);
        false
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        c.usage.as_ref()
    }
    fn answer_id(a: &Self::Answer) -> Option<&str> {
        Some(&a.id)
    }
    fn chunk_id(c: &Self::Chunk) -> Option<&str> {
        Some(&c.id)
    }
    fn chunk_has_choices(c: &Self::Chunk) -> bool {
        !c.choices.is_empty()
    }
    fn strip_usage(c: &mut Self::Chunk) {
        c.usage = None;
    }
    fn chunk_text(c: &Self::Chunk, out: &mut dyn FnMut(&str)) {
        for choice in &c.choices {
            let d = &choice.delta;
            for t in [&d.content, &d.reasoning_content].into_iter().flatten() {
                out(t);
            }
            for call in d.tool_calls.iter().flatten() {
                if let Some(f) = &call.function {
                    for t in [&f.name, &f.arguments].into_iter().flatten() {
                        out(t);
                    }
                }
            }
        }
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        let messages: Vec<Value> = self
            .messages
            .iter()
            .filter_map(|m| serde_json::to_value(m).ok())
            .collect();
        llmgate::tokens::count_messages(model, &messages) as u64
    }
    fn end_user(&self) -> Option<String> {
        self.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(self.metadata.as_ref(), &self.extra)
    }
    fn metadata(&self) -> Option<&Value> {
        self.metadata.as_ref()
    }
    fn max_output(&self) -> Option<u64> {
        self.max_completion_tokens.or(self.max_tokens)
    }
    const CACHEABLE: bool = true;
    const CACHE_STREAM_AS_ANSWER: bool = true;
    fn cached_answer(v: Value) -> Option<Self::Answer> {
        serde_json::from_value(v).ok()
    }
    fn cached_chunk(v: Value) -> Option<Self::Chunk> {
        serde_json::from_value(v).ok()
    }
    fn assemble(chunks: &[Value]) -> Option<Value> {
        super::cache_forms::chat_assemble(chunks)
    }
    fn replay(answer: &Value) -> Option<Vec<Value>> {
        super::cache_forms::chat_replay(answer)
    }
    fn semantic_text(&self) -> Option<String> {
        super::cached::prompt_text(&serde_json::to_value(&self.messages).ok()?)
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        for m in &mut self.messages {
            match &mut m.content {
                Some(llmgate::MessageContent::Text(t)) => f(t),
                Some(llmgate::MessageContent::Parts(parts)) => {
                    for p in parts.iter_mut().filter(|p| p.kind == "text") {
                        if let Some(t) = p.text.as_mut() {
                            f(t);
                        }
                    }
                }
                None => {}
            }
        }
    }
    fn answer_texts(a: &mut Self::Answer, f: &mut dyn FnMut(&mut String)) {
        for c in &mut a.choices {
            if let Some(llmgate::MessageContent::Text(t)) = &mut c.message.content {
                f(t);
            }
        }
    }
    fn chunk_texts(c: &mut Self::Chunk, f: &mut dyn FnMut(&mut String, bool)) {
        for choice in &mut c.choices {
            if let Some(t) = choice.delta.content.as_mut() {
                f(t, false);
            }
        }
    }
    fn guardrail_answer(text: &str, model: &str) -> Option<Value> {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Some(serde_json::json!({
            "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "content_filter",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }))
    }
}

impl Endpoint for CompletionRequest {
    const ROUTE: &'static str = "/completions";
    const CALL_TYPE: &'static str = "atext_completion";
    type Answer = CompletionResponse;
    type Chunk = CompletionResponse;
    type Chunks = CompletionChunkStream;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.prompt
            .is_null()
            .then_some("prompt is a required field")
    }
    fn is_stream(&self) -> bool {
        CompletionRequest::is_stream(self)
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.text_completion(self, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.text_completion_stream(self, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.usage.as_ref()
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, _dep: &Deployment) {
        group.clone_into(&mut c.model);
    }
    fn ask_usage(&mut self) -> bool {
        let asked = self
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
        if !asked {
            self.stream_options
                .get_or_insert_with(Default::default)
                .include_usage = Some(true);
        }
        asked
    }
    fn answer_id(a: &Self::Answer) -> Option<&str> {
        Some(&a.id)
    }
    fn chunk_id(c: &Self::Chunk) -> Option<&str> {
        Some(&c.id)
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        c.usage.as_ref()
    }
    fn chunk_has_choices(c: &Self::Chunk) -> bool {
        !c.choices.is_empty()
    }
    fn strip_usage(c: &mut Self::Chunk) {
        c.usage = None;
    }
    fn chunk_text(c: &Self::Chunk, out: &mut dyn FnMut(&str)) {
        for choice in &c.choices {
            out(&choice.text);
        }
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        text_tokens(model, &self.prompt)
    }
    fn end_user(&self) -> Option<String> {
        self.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(None, &self.extra)
    }
    fn max_output(&self) -> Option<u64> {
        self.max_tokens
    }
    const CACHEABLE: bool = true;
    const CACHE_STREAM_AS_ANSWER: bool = true;
    fn cached_answer(v: Value) -> Option<Self::Answer> {
        serde_json::from_value(v).ok()
    }
    fn cached_chunk(v: Value) -> Option<Self::Chunk> {
        serde_json::from_value(v).ok()
    }
    fn assemble(chunks: &[Value]) -> Option<Value> {
        super::cache_forms::text_assemble(chunks)
    }
    fn replay(answer: &Value) -> Option<Vec<Value>> {
        super::cache_forms::text_replay(answer)
    }
    fn semantic_text(&self) -> Option<String> {
        super::cached::prompt_text(&self.prompt)
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        super::guarded::value_texts(&mut self.prompt, f);
    }
    fn answer_texts(a: &mut Self::Answer, f: &mut dyn FnMut(&mut String)) {
        for c in &mut a.choices {
            f(&mut c.text);
        }
    }
    fn chunk_texts(c: &mut Self::Chunk, f: &mut dyn FnMut(&mut String, bool)) {
        for choice in &mut c.choices {
            f(&mut choice.text, false);
        }
    }
}

/// Tokens of a prompt or input: a string, strings, or token arrays (counted as they are).
fn text_tokens(model: &str, v: &Value) -> u64 {
    match v {
        Value::String(s) => llmgate::tokens::count_text(model, s) as u64,
        Value::Array(items) if items.iter().all(Value::is_number) => items.len() as u64,
        Value::Array(items) => items.iter().map(|i| text_tokens(model, i)).sum(),
        _ => 0,
    }
}

impl Endpoint for EmbeddingRequest {
    const ROUTE: &'static str = "/embeddings";
    const CALL_TYPE: &'static str = "aembedding";
    type Answer = EmbeddingResponse;
    type Chunk = EmbeddingResponse;
    type Chunks = futures::stream::Empty<Result<EmbeddingResponse, LlmError>>;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.input.is_null().then_some("input is a required field")
    }
    fn is_stream(&self) -> bool {
        false
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.embedding(self, opts.get()).await
    }
    async fn call_stream(self, _: Client, _: Opts) -> SdkResult<Self::Chunks> {
        Err(LlmError::bad_request("embeddings cannot be streamed"))
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.usage.as_ref()
    }
    fn finish_chunk(_: &mut Self::Chunk, _: &str, _: &Deployment) {}
    fn prompt_tokens(&self, model: &str) -> u64 {
        text_tokens(model, &self.input)
    }
    fn end_user(&self) -> Option<String> {
        self.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(None, &self.extra)
    }
    const CACHEABLE: bool = true;
    const CACHE_PER_ITEM: bool = true;
    fn cached_answer(v: Value) -> Option<Self::Answer> {
        serde_json::from_value(v).ok()
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        super::guarded::value_texts(&mut self.input, f);
    }
}
