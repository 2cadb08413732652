//! Azure OpenAI and Azure AI Foundry (`azure_ai`): where a call goes and how it authenticates.
//! The protocol is OpenAI's: both are rows of [`super::openai_compat::table`] (`Style::Azure`,
//! `Style::AzureAi`), whose request builder asks this module for the URL and the auth header.
//!
//! - `auth.rs`: which credential a call carries (token, key, client credentials).
//! - `entra.rs`: the Entra ID client-credentials flow and its token cache.
//! - `ai.rs`: `azure_ai`'s URLs, auth header and message rules.
//! - `ai_images.rs`: `azure_ai`'s image generations (deployment path, MAI).
//! - `ai_edits.rs`: `azure_ai`'s image edits (FLUX on the deployment path, FLUX.2, MAI).

pub mod ai;
pub mod ai_edits;
pub mod ai_images;
pub mod auth;
pub mod entra;

use auth::{Credential, Header};

use super::http::{path_segment, SegmentKind};
use super::Ctx;
use crate::{CallOptions, LlmError};

/// LiteLLM's `AZURE_DEFAULT_API_VERSION` for chat, completions and embeddings.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";
/// The version the Responses API needs at least (it has no GA dated version).
const RESPONSES_API_VERSION: &str = "2025-03-01-preview";

/// `api_version`, else `AZURE_API_VERSION`.
fn api_version(opts: &CallOptions) -> Option<String> {
    opts.api_version
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| auth::env("AZURE_API_VERSION"))
}

/// Whether `api_version` asks for Azure's v1 API (`/openai/v1/...`, no deployment in the path,
/// no dated version): LiteLLM's `_is_azure_v1_api_version` (`preview`, `latest`), and `v1`
/// itself, which Azure's dated deployment paths would refuse.
pub fn is_v1(api_version: Option<&str>) -> bool {
    matches!(api_version, Some("preview" | "latest" | "v1"))
}

/// The resource root of a v1 base, so that `…/openai/v1` given as the base is not doubled.
fn resource_root(base: &str) -> &str {
    let b = base.trim_end_matches('/');
    b.strip_suffix("/openai/v1")
        .or_else(|| b.strip_suffix("/openai"))
        .unwrap_or(b)
}

/// The URL of `path` (`chat/completions`, `completions`, `embeddings`, `responses`) for
/// `model` (the deployment name): `{base}/openai/deployments/{model}/{path}?api-version=`, the
/// v1 form `{base}/openai/v1/{path}`, or a base that already names its deployment
/// (`…/openai/deployments/x`, which LiteLLM hands the SDK as its `base_url`).
pub fn url(base: &str, opts: &CallOptions, model: &str, path: &str) -> Result<String, LlmError> {
    let version = api_version(opts);
    if path == "responses" {
        // Not deployment-scoped: the deployment is the body's `model`.
        let version = version.unwrap_or_else(|| RESPONSES_API_VERSION.to_string());
        let root = resource_root(base);
        return Ok(match version.as_str() {
            "v1" => format!("{root}/openai/v1/responses"),
            v if is_v1(Some(v)) => format!("{root}/openai/v1/responses?api-version={v}"),
            v => format!("{root}/openai/responses?api-version={v}"),
        });
    }
    if is_v1(version.as_deref()) {
        return Ok(format!("{}/openai/v1/{path}", resource_root(base)));
    }
    let version = version.unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    if base.contains("/openai/deployments/") {
        return Ok(format!("{base}/{path}?api-version={version}"));
    }
    let model = path_segment(model, SegmentKind::Segment).map_err(|e| e.with_provider("azure"))?;
    Ok(format!(
        "{base}/openai/deployments/{model}/{path}?api-version={version}"
    ))
}

/// The auth header of an Azure OpenAI call to `path`.
pub async fn header(cx: &Ctx<'_>, path: &str) -> Result<Header, LlmError> {
    let credential = Credential::resolve(cx.opts)?;
    // LiteLLM calls the v1 chat/embeddings routes with the plain OpenAI client (a key as a
    // bearer); its Responses calls keep `api-key`.
    let v1_client = path != "responses" && is_v1(api_version(cx.opts).as_deref());
    credential.header(cx, v1_client).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(version: Option<&str>) -> CallOptions {
        CallOptions {
            api_version: version.map(str::to_string),
            ..Default::default()
        }
    }

    const BASE: &str = "https://x.openai.azure.com";

    #[test]
    fn deployment_paths_carry_the_deployment_and_version() {
        assert_eq!(
            url(BASE, &opts(Some("2024-06-01")), "gpt4", "chat/completions").unwrap(),
            "https://x.openai.azure.com/openai/deployments/gpt4/chat/completions?api-version=2024-06-01"
        );
        assert_eq!(
            url(BASE, &opts(None), "emb", "embeddings").unwrap(),
            "https://x.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21"
        );
        assert!(url(BASE, &opts(None), "../admin", "chat/completions").is_err());
        assert!(url(BASE, &opts(None), "a/b", "chat/completions").is_err());
        let named = "https://x.openai.azure.com/openai/deployments/mine";
        assert_eq!(
            url(named, &opts(None), "ignored", "chat/completions").unwrap(),
            "https://x.openai.azure.com/openai/deployments/mine/chat/completions?api-version=2024-10-21"
        );
    }

    #[test]
    fn v1_versions_take_the_v1_path_without_the_deployment() {
        for v in ["preview", "latest", "v1"] {
            assert_eq!(
                url(BASE, &opts(Some(v)), "my-deploy", "chat/completions").unwrap(),
                "https://x.openai.azure.com/openai/v1/chat/completions"
            );
        }
        // A base given with its `/openai/v1` is not doubled; no model check (it is in the body).
        assert_eq!(
            url(
                "https://x.openai.azure.com/openai/v1/",
                &opts(Some("latest")),
                "a/b",
                "embeddings"
            )
            .unwrap(),
            "https://x.openai.azure.com/openai/v1/embeddings"
        );
        assert!(!is_v1(Some("2025-04-01-preview")));
        assert!(!is_v1(None));
    }

    #[test]
    fn responses_are_not_deployment_scoped() {
        assert_eq!(
            url(BASE, &opts(None), "d", "responses").unwrap(),
            "https://x.openai.azure.com/openai/responses?api-version=2025-03-01-preview"
        );
        assert_eq!(
            url(BASE, &opts(Some("preview")), "d", "responses").unwrap(),
            "https://x.openai.azure.com/openai/v1/responses?api-version=preview"
        );
    }
}
