//! Image URLs Bedrock cannot fetch itself: downloaded before translation under
//! [`fetch`](crate::providers::fetch)'s SSRF rules and inlined as data URLs, as LiteLLM's
//! `BedrockImageProcessor` does. The type comes from the response's `Content-Type` (else the
//! extension); `application/*` and `text/*` become document blocks in `request.rs`.

use base64::Engine;
use llmgate_types::{ChatCompletionRequest, ImageUrl, MessageContent};

use crate::providers::fetch::{self, bare, mime_from_extension};
use crate::{CallOptions, LlmError};

fn is_remote(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Replaces every http(s) `image_url` in `req` by a `data:` URL of what it points at.
pub async fn inline_remote_images(
    req: &mut ChatCompletionRequest,
    opts: &CallOptions,
) -> Result<(), LlmError> {
    let remote = req.messages.iter().any(|m| match &m.content {
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .any(|p| p.image_url.as_ref().is_some_and(|u| is_remote(u.url()))),
        _ => false,
    });
    if !remote {
        return Ok(());
    }
    let allow = fetch::Allowlist::from_opts(opts);
    let limit = opts
        .timeout
        .map_or(fetch::TIMEOUT, |t| t.min(fetch::TIMEOUT));
    for m in &mut req.messages {
        let Some(MessageContent::Parts(parts)) = &mut m.content else {
            continue;
        };
        for p in parts {
            let Some(image) = p.image_url.as_mut() else {
                continue;
            };
            let url = image.url();
            if !is_remote(url) {
                continue;
            }
            let got = fetch::fetch(url, &allow, limit)
                .await
                .map_err(|e| e.into_llm().with_provider(super::NAME))?;
            let mime = got
                .content_type
                .as_deref()
                .map(bare)
                .filter(|t| !t.is_empty() && t != "application/octet-stream")
                .or_else(|| mime_from_extension(url).map(str::to_string))
                .ok_or_else(|| {
                    LlmError::bad_request("the image URL's response has no content type")
                        .with_provider(super::NAME)
                })?;
            let data = base64::engine::general_purpose::STANDARD.encode(&got.bytes);
            let inlined = format!("data:{mime};base64,{data}");
            match image {
                ImageUrl::Object { url, .. } => *url = inlined,
                ImageUrl::Url(url) => *url = inlined,
            }
        }
    }
    Ok(())
}
