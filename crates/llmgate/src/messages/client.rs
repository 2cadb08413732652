//! `Client::messages*`: Anthropic-family models natively, every other one through chat.

use std::borrow::Cow;

use serde_json::Value;

use super::names::ToolNames;
use super::{
    from_chat, native_count, stream, to_chat, EventStream, MessagesAnswer, MessagesRequest,
};
use crate::catalog::Feature;
use crate::providers::Ctx;
use crate::{CallOptions, Client, LlmError, Response};
use llmgate_types::ChatCompletionRequest;

/// Options without the client's `anthropic-*` headers, which mean nothing to another
/// provider (Claude Code sends `anthropic-beta` with every request).
fn for_chat(opts: &CallOptions) -> Cow<'_, CallOptions> {
    let anthropic = |k: &str| k.to_ascii_lowercase().starts_with("anthropic-");
    if !opts.extra_headers.iter().any(|(k, _)| anthropic(k)) {
        return Cow::Borrowed(opts);
    }
    let mut o = opts.clone();
    o.extra_headers.retain(|(k, _)| !anthropic(k));
    Cow::Owned(o)
}

/// `thinking` asks for reasoning, which a model the catalog knows not to reason cannot give:
/// its `reasoning_effort` is left out rather than refused (Claude Code asks for thinking on
/// every turn; the answer simply has none).
pub(crate) fn effort_only_where_reasoned(
    chat: &mut ChatCompletionRequest,
    provider: &str,
    model: &str,
) {
    let reasons = || {
        crate::catalog::global()
            .get_for(provider, model)
            .is_none_or(|m| m.supports(Feature::Reasoning))
    };
    if chat.reasoning_effort.is_some() && !reasons() {
        chat.reasoning_effort = None;
    }
}

impl Client {
    /// A Messages request: passed natively to a provider that speaks the protocol (Anthropic,
    /// Claude on Vertex AI), else translated to chat and the answer back.
    pub async fn messages(
        &self,
        req: MessagesRequest,
        opts: &CallOptions,
    ) -> Result<Response<MessagesAnswer>, LlmError> {
        let mut target = None;
        if opts.mock_response.is_none() {
            let r = self.route(&req.model, opts)?;
            if r.provider.speaks_messages(&r.model) {
                let mut body = req.native_body(&r.model);
                if let Some(o) = body.as_object_mut() {
                    o.remove("stream");
                }
                let cx = Ctx {
                    http: self.http(),
                    opts,
                };
                return r.provider.messages(&cx, body).await;
            }
            target = Some((r.provider.name(), r.model));
        }
        let mut chat = to_chat::to_chat(&req)?;
        chat.stream = None;
        if let Some((provider, model)) = &target {
            effort_only_where_reasoned(&mut chat, provider, model);
        }
        let res = self.chat(chat, &for_chat(opts)).await?;
        Ok(Response {
            body: from_chat::from_chat(res.body, &ToolNames::of(&req)),
            headers: res.headers,
            api_base: res.api_base,
        })
    }

    /// A streamed Messages request: native events relayed, or chat chunks translated as
    /// they arrive.
    pub async fn messages_stream(
        &self,
        req: MessagesRequest,
        opts: &CallOptions,
    ) -> Result<Response<EventStream>, LlmError> {
        let mut takes_usage = true;
        let mut target = None;
        if opts.mock_response.is_none() {
            let r = self.route(&req.model, opts)?;
            if r.provider.speaks_messages(&r.model) {
                let mut body = req.native_body(&r.model);
                body["stream"] = Value::Bool(true);
                let cx = Ctx {
                    http: self.http(),
                    opts,
                };
                return r.provider.messages_stream(&cx, body).await;
            }
            takes_usage = r.provider.takes_stream_options();
            target = Some((r.provider.name(), r.model));
        }
        let mut chat = to_chat::to_chat(&req)?;
        chat.stream = Some(true);
        if let Some((provider, model)) = &target {
            effort_only_where_reasoned(&mut chat, provider, model);
        }
        // The closing `message_delta` reports usage: asked of the upstream where it takes it.
        if takes_usage {
            chat.stream_options
                .get_or_insert_with(Default::default)
                .include_usage = Some(true);
        }
        let res = self.chat_stream(chat, &for_chat(opts)).await?;
        Ok(Response {
            body: stream::events(res.body, ToolNames::of(&req)),
            headers: res.headers,
            api_base: res.api_base,
        })
    }

    /// A Messages request's input tokens: the provider's own count where it has one, else
    /// counted locally (tiktoken).
    pub async fn messages_count_tokens(
        &self,
        req: MessagesRequest,
        opts: &CallOptions,
    ) -> Result<u64, LlmError> {
        let r = self.route(&req.model, opts)?;
        let cx = Ctx {
            http: self.http(),
            opts,
        };
        if r.provider.speaks_messages(&r.model) {
            if let Some(n) = r
                .provider
                .messages_count_tokens(&cx, native_count::body(&req, &r.model))
                .await?
            {
                return Ok(n);
            }
        }
        if r.provider.counts_tokens() {
            let mut chat = to_chat::to_chat(&req)?;
            chat.model = r.model.clone();
            let opts = for_chat(opts);
            let cx = Ctx {
                http: self.http(),
                opts: &opts,
            };
            return r.provider.count_tokens(&cx, chat).await;
        }
        Ok(local_count(&req, &r.model))
    }
}

/// Input tokens counted with tiktoken (the messages, system and tool definitions).
pub fn local_count(req: &MessagesRequest, model: &str) -> u64 {
    crate::tokens::count_messages(model, &to_chat::prompt_messages(req)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_reaches_only_models_that_may_reason() {
        let effort = |provider: &str, model: &str| {
            let mut chat = ChatCompletionRequest {
                reasoning_effort: Some("high".into()),
                ..Default::default()
            };
            effort_only_where_reasoned(&mut chat, provider, model);
            chat.reasoning_effort
        };
        assert_eq!(effort("openai", "gpt-4o"), None);
        assert_eq!(effort("openai", "o3-mini").as_deref(), Some("high"));
        assert_eq!(effort("openai", "my-own-model").as_deref(), Some("high"));
    }
}
