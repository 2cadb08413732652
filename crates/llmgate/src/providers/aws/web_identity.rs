//! The OIDC token of `aws_web_identity_token`, read as LiteLLM's `get_secret` reads it:
//! `oidc/file/<path>`, `oidc/env/<VAR>`, `oidc/env_path/<VAR>` (a file named by a variable),
//! `oidc/circleci`, `oidc/circleci_v2`, `oidc/azure/...` (`AZURE_FEDERATED_TOKEN_FILE`), or the
//! name of a variable holding it. Anything else is the token itself: the config already
//! resolved `os.environ/VAR` to the variable's value (LiteLLM would look that value up as a
//! variable name and fail).

use super::env;
use crate::{ErrorKind, LlmError};

fn refused(label: &str, why: impl std::fmt::Display) -> LlmError {
    LlmError::new(
        ErrorKind::Authentication,
        format!("{label} - OIDC token could not be retrieved: {why}"),
    )
}

/// A token file's contents, whitespace around it dropped (a trailing newline is no part of a
/// JWT).
pub async fn read_token_file(path: &str, label: &str) -> Result<String, LlmError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| refused(label, format!("cannot read {path}: {e}")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(refused(label, format!("{path} is empty")));
    }
    Ok(token.to_string())
}

fn var(name: &str, label: &str) -> Result<String, LlmError> {
    env(name).ok_or_else(|| refused(label, format!("Environment variable {name} not found")))
}

/// The token `reference` stands for.
pub async fn token(reference: &str, label: &str) -> Result<String, LlmError> {
    let Some(rest) = reference.strip_prefix("oidc/") else {
        return Ok(env(reference).unwrap_or_else(|| reference.to_string()));
    };
    let (provider, arg) = rest.split_once('/').unwrap_or((rest, ""));
    match provider {
        "file" => read_token_file(arg, label).await,
        "env" => var(arg, label),
        "env_path" => read_token_file(&var(arg, label)?, label).await,
        "circleci" => var("CIRCLE_OIDC_TOKEN", label),
        "circleci_v2" => var("CIRCLE_OIDC_TOKEN_V2", label),
        "azure" => match env("AZURE_FEDERATED_TOKEN_FILE") {
            Some(path) => read_token_file(&path, label).await,
            None => Err(refused(
                label,
                "AZURE_FEDERATED_TOKEN_FILE is not set (an Azure AD token provider is not supported by llmgate)",
            )),
        },
        "google" | "github" => Err(refused(
            label,
            format!("the oidc/{provider} token source is not supported by llmgate"),
        )),
        _ => Err(refused(label, "Unsupported OIDC provider")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn references_resolve_as_litellm_reads_them() {
        // Tests run one per process (nextest), so the environment is this test's own.
        let dir = std::env::temp_dir().join(format!("llmgate-oidc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "jwt-from-file\n").unwrap();
        let path = file.to_str().unwrap();
        std::env::set_var("LLMGATE_TEST_OIDC", "jwt-from-env");
        std::env::set_var("LLMGATE_TEST_OIDC_PATH", path);

        let t = |r: String| async move { token(&r, "BedrockException").await };
        assert_eq!(
            t(format!("oidc/file/{path}")).await.unwrap(),
            "jwt-from-file"
        );
        assert_eq!(
            t("oidc/env/LLMGATE_TEST_OIDC".into()).await.unwrap(),
            "jwt-from-env"
        );
        assert_eq!(
            t("oidc/env_path/LLMGATE_TEST_OIDC_PATH".into())
                .await
                .unwrap(),
            "jwt-from-file"
        );
        assert_eq!(t("LLMGATE_TEST_OIDC".into()).await.unwrap(), "jwt-from-env");
        assert_eq!(
            t("eyJraw.jwt.value".into()).await.unwrap(),
            "eyJraw.jwt.value"
        );
        let e = t("oidc/env/LLMGATE_TEST_OIDC_UNSET".into())
            .await
            .unwrap_err();
        assert_eq!(e.status, 401);
        assert!(
            e.message.contains("LLMGATE_TEST_OIDC_UNSET not found"),
            "{}",
            e.message
        );
        assert!(t("oidc/google/aud".into())
            .await
            .unwrap_err()
            .message
            .contains("not supported"));
        assert!(t("oidc/nope/x".into()).await.is_err());
        assert!(t("oidc/file/does/not/exist".into()).await.is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
