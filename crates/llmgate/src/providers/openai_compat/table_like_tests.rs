//! Unit tests of the JSON-defined rows, Databricks, Hugging Face and Cloudflare.

use super::super::table::all;
use super::super::OpenAiCompat;
use super::*;
use crate::providers::resolve;
use crate::CallOptions;

#[test]
fn every_row_resolves_to_its_base_and_key() {
    for spec in JSON_LIKE {
        let r = resolve(&format!("{}/some-model", spec.name), None).unwrap();
        assert_eq!(r.provider.name(), spec.name);
        assert_eq!(r.model, "some-model");
        let p = OpenAiCompat::new(spec);
        let opts = CallOptions::default();
        if spec.base_url.is_empty() {
            assert!(
                p.url(&opts, "m", "chat/completions").is_err(),
                "{}",
                spec.name
            );
        } else {
            assert_eq!(
                p.url(&opts, "m", "chat/completions").unwrap(),
                format!("{}/chat/completions", spec.base_url.trim_end_matches('/')),
                "{}",
                spec.name
            );
        }
        // The env names are the row's own: set one, the row reads it.
        let var = spec.key_env[0];
        std::env::set_var(var, format!("key-of-{}", spec.name));
        assert_eq!(
            p.key(&opts).as_deref(),
            Some(&*format!("key-of-{}", spec.name))
        );
        std::env::remove_var(var);
    }
}

#[test]
fn special_handling_applies_to_chat_bodies() {
    let body = |name: &str, v: serde_json::Value| {
        let spec = JSON_LIKE.iter().find(|s| s.name == name).unwrap();
        let req: crate::ChatCompletionRequest = serde_json::from_value(v).unwrap();
        OpenAiCompat::new(spec)
            .chat_body(&req, &CallOptions::default())
            .unwrap()
    };
    let b = body(
        "publicai",
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}),
    );
    assert_eq!(b["messages"][0]["content"], "ab");
    let b = body(
        "scx-ai",
        serde_json::json!({"model": "m", "messages": [], "temperature": 2.0}),
    );
    assert_eq!(b["temperature"], 1.99);
    let b = body(
        "streamlake",
        serde_json::json!({"model": "m", "messages": [], "max_tokens": 5}),
    );
    assert_eq!(b["max_completion_tokens"], 5);
    assert!(b.get("max_tokens").is_none());
}

#[test]
fn tools_follow_the_catalog() {
    let gmi = OpenAiCompat::new(JSON_LIKE.iter().find(|s| s.name == "gmi").unwrap());
    let req = |model: &str| -> crate::ChatCompletionRequest {
        serde_json::from_value(serde_json::json!({"model": model, "messages": [],
            "tool_choice": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]}))
        .unwrap()
    };
    // The catalog marks it as calling functions (not as taking tool_choice): both pass.
    let b = gmi
        .chat_body(&req("anthropic/claude-opus-4"), &CallOptions::default())
        .unwrap();
    assert_eq!(b["tool_choice"], "auto");
    let e = gmi
        .chat_body(&req("unknown/model"), &CallOptions::default())
        .unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::UnsupportedParams);
    assert!(e.message.contains("tools"), "{}", e.message);
}

#[test]
fn cloudflare_bases_follow_litellm() {
    let cf = OpenAiCompat::new(JSON_LIKE.iter().find(|s| s.name == "cloudflare").unwrap());
    let url = |base: Option<&str>| {
        let opts = CallOptions {
            api_base: base.map(str::to_string),
            ..Default::default()
        };
        cf.url(&opts, "@cf/meta/llama-3.1-8b-instruct", "chat/completions")
    };
    assert_eq!(
        url(Some(
            "https://api.cloudflare.com/client/v4/accounts/a1/ai/run/"
        ))
        .unwrap(),
        "https://api.cloudflare.com/client/v4/accounts/a1/ai/v1/chat/completions"
    );
    assert!(url(None)
        .unwrap_err()
        .message
        .contains("CLOUDFLARE_ACCOUNT_ID"));
    std::env::set_var("CLOUDFLARE_ACCOUNT_ID", "acc-9");
    assert_eq!(
        url(None).unwrap(),
        "https://api.cloudflare.com/client/v4/accounts/acc-9/ai/v1/chat/completions"
    );
    std::env::set_var("CLOUDFLARE_ACCOUNT_ID", "../x");
    assert!(url(None).is_err());
    std::env::remove_var("CLOUDFLARE_ACCOUNT_ID");
}

#[test]
fn huggingface_endpoints_get_v1() {
    let hf = OpenAiCompat::new(JSON_LIKE.iter().find(|s| s.name == "huggingface").unwrap());
    for (base, want) in [
        (None, "https://router.huggingface.co/v1/chat/completions"),
        (
            Some("https://x.endpoints.huggingface.cloud/"),
            "https://x.endpoints.huggingface.cloud/v1/chat/completions",
        ),
        (
            Some("http://tgi:8080/v1"),
            "http://tgi:8080/v1/chat/completions",
        ),
        (
            Some("http://tgi:8080/v1/chat/completions"),
            "http://tgi:8080/v1/chat/completions",
        ),
    ] {
        let opts = CallOptions {
            api_base: base.map(str::to_string),
            ..Default::default()
        };
        assert_eq!(hf.url(&opts, "m", "chat/completions").unwrap(), want);
    }
}

#[test]
fn the_catalog_prices_their_models() {
    let catalog = crate::catalog::global();
    let m = catalog
        .get_for("databricks", "databricks-claude-haiku-4-5")
        .unwrap();
    assert_eq!(m.max_input_tokens, Some(200_000));
    assert!(m.prices.input_cost_per_token.is_some_and(|p| p > 0.0));
    assert!(m.supports(crate::catalog::Feature::FunctionCalling));
}

#[test]
fn base_env_overrides_and_names_are_unique() {
    let db = JSON_LIKE.iter().find(|s| s.name == "databricks").unwrap();
    std::env::set_var(
        "DATABRICKS_API_BASE",
        "https://adb-1.azuredatabricks.net/serving-endpoints/",
    );
    assert_eq!(
        OpenAiCompat::new(db)
            .url(&CallOptions::default(), "m", "chat/completions")
            .unwrap(),
        "https://adb-1.azuredatabricks.net/serving-endpoints/chat/completions"
    );
    std::env::remove_var("DATABRICKS_API_BASE");
    let mut names: Vec<_> = all().map(|s| s.name).collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "a provider name appears twice");
}
