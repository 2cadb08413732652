//! `Client::generate_content*`: a `generateContent` request through chat, on any provider.

use llmgate_types::ChatCompletionRequest;

use super::{
    from_chat, stream, to_chat, GenerateContentAnswer, GenerateContentRequest,
    GenerateContentStream,
};
use crate::messages::client::effort_only_where_reasoned;
use crate::{CallOptions, Client, LlmError, Response};

impl Client {
    /// The chat request for `req`, and whether its provider takes `stream_options` (None for
    /// a mock answer, which has no provider).
    fn generate_content_chat(
        &self,
        req: &GenerateContentRequest,
        opts: &CallOptions,
    ) -> Result<(ChatCompletionRequest, bool), LlmError> {
        let mut chat = to_chat::to_chat(req)?;
        if opts.mock_response.is_some() {
            return Ok((chat, true));
        }
        let r = self.route(&req.model, opts)?;
        effort_only_where_reasoned(&mut chat, r.provider.name(), &r.model);
        Ok((chat, r.provider.takes_stream_options()))
    }

    /// A `generateContent` request translated to chat, and the answer back.
    pub async fn generate_content(
        &self,
        req: GenerateContentRequest,
        opts: &CallOptions,
    ) -> Result<Response<GenerateContentAnswer>, LlmError> {
        let (mut chat, _) = self.generate_content_chat(&req, opts)?;
        chat.stream = None;
        let res = self.chat(chat, opts).await?;
        Ok(Response {
            body: from_chat::from_chat(res.body),
            headers: res.headers,
            api_base: res.api_base,
        })
    }

    /// `streamGenerateContent` through a chat stream, each chunk translated as it arrives.
    pub async fn generate_content_stream(
        &self,
        req: GenerateContentRequest,
        opts: &CallOptions,
    ) -> Result<Response<GenerateContentStream>, LlmError> {
        let (mut chat, takes_usage) = self.generate_content_chat(&req, opts)?;
        chat.stream = Some(true);
        // The last chunk's `usageMetadata`: asked of the upstream where it takes it.
        if takes_usage {
            chat.stream_options
                .get_or_insert_with(Default::default)
                .include_usage = Some(true);
        }
        let res = self.chat_stream(chat, opts).await?;
        Ok(Response {
            body: stream::chunks(res.body),
            headers: res.headers,
            api_base: res.api_base,
        })
    }
}

/// The request's input tokens counted locally (the contents, system instruction and function
/// declarations), as `countTokens` answers for a provider without Google's counter.
pub fn local_count(req: &GenerateContentRequest, model: &str) -> u64 {
    crate::tokens::count_messages(model, &to_chat::prompt_messages(req)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use serde_json::json;

    fn req(model: &str) -> GenerateContentRequest {
        serde_json::from_value(json!({
            "model": model,
            "contents": [{"role": "user", "parts": [{"text": "Hi there"}]}],
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_mock_answer_and_stream_through_chat() {
        let opts = CallOptions {
            mock_response: Some(json!("Hello back")),
            ..Default::default()
        };
        let client = Client::new();
        let a = client
            .generate_content(req("openai/gpt-4o"), &opts)
            .await
            .unwrap();
        assert_eq!(
            a.body.body.candidates[0].content.parts[0].text.as_deref(),
            Some("Hello back")
        );
        assert_eq!(
            a.body.body.candidates[0].finish_reason.as_deref(),
            Some("STOP")
        );
        let s = client
            .generate_content_stream(req("openai/gpt-4o"), &opts)
            .await
            .unwrap();
        let chunks: Vec<_> = s.body.collect().await;
        let text: String = chunks
            .iter()
            .flat_map(|c| &c.as_ref().unwrap().body.candidates)
            .flat_map(|c| &c.content.parts)
            .filter_map(|p| p.text.as_deref())
            .collect();
        assert_eq!(text, "Hello back");
        let last = chunks.last().unwrap().as_ref().unwrap();
        assert!(last.body.usage_metadata.is_some());
    }

    #[test]
    fn local_count_counts_the_prompt() {
        let short = local_count(&req("gpt-4o"), "gpt-4o");
        let mut long = req("gpt-4o");
        long.contents[0].parts[0].text = Some("Hi there, ".repeat(50));
        assert!(short > 0 && local_count(&long, "gpt-4o") > short + 40);
    }
}
