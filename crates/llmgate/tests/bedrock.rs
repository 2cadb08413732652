//! The Bedrock adapter against the Bedrock mock, which verifies each SigV4 signature with the
//! test's known secret and streams real binary event-stream frames.

use futures::StreamExt;
use llmgate::{CallOptions, ChatCompletionRequest, Client, ErrorKind};
use llmgate_mock::{MockServer, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, BAD_BEARER};
use serde_json::{json, Value};

const CLAUDE: &str = "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0";

fn sigv4(mock: &MockServer, secret: &str) -> CallOptions {
    CallOptions {
        extra: serde_json::from_value(json!({
            "aws_access_key_id": AWS_ACCESS_KEY_ID,
            "aws_secret_access_key": secret,
            "aws_session_token": "session-token",
            "aws_region_name": "us-east-1",
            "aws_bedrock_runtime_endpoint": mock.base_url(),
        }))
        .unwrap(),
        ..Default::default()
    }
}

fn req(v: Value) -> ChatCompletionRequest {
    serde_json::from_value(v).unwrap()
}

fn hello(model: &str) -> ChatCompletionRequest {
    req(json!({"model": model, "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"}], "max_tokens": 50}))
}

#[tokio::test]
async fn signed_converse_call() {
    let mock = MockServer::start().await;
    let r = Client::shared()
        .chat(hello(CLAUDE), &sigv4(&mock, AWS_SECRET_ACCESS_KEY))
        .await
        .unwrap();
    let c = &r.body.choices[0];
    assert_eq!(
        c.message.content.as_ref().unwrap().text(),
        "Hello from the Bedrock mock."
    );
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    let u = r.body.usage.unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (10, 6));
    assert_eq!(r.api_base, mock.base_url());

    let sent = mock.last_request().unwrap();
    assert_eq!(
        sent.path,
        "/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    let auth = sent.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDLLMGATEMOCK/"),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
    assert_eq!(sent.header("x-amz-security-token"), Some("session-token"));
    assert_eq!(sent.body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(sent.body["inferenceConfig"]["maxTokens"], 50);
}

#[tokio::test]
async fn converse_route_prefix_and_cache_usage() {
    let mock = MockServer::start().await;
    let r = Client::shared()
        .chat(
            hello("bedrock/converse/anthropic.claude-cache-test-v1:0"),
            &sigv4(&mock, AWS_SECRET_ACCESS_KEY),
        )
        .await
        .unwrap();
    let u = r.body.usage.unwrap();
    assert_eq!(u.prompt_tokens, 15);
    assert_eq!(u.cached_tokens(), 3);
    assert_eq!(u.extra["cache_creation_input_tokens"], 2);
    assert_eq!(
        mock.last_request().unwrap().path,
        "/model/anthropic.claude-cache-test-v1%3A0/converse"
    );
}

#[tokio::test]
async fn bad_signature_is_a_403() {
    let mock = MockServer::start().await;
    let e = Client::shared()
        .chat(hello(CLAUDE), &sigv4(&mock, "wrong-secret"))
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::PermissionDenied, "{e:?}");
    assert!(e.message.contains("signature"), "{}", e.message);
    assert!(!e.message.contains("wrong-secret"));
}

#[tokio::test]
async fn bearer_api_keys_skip_sigv4() {
    let mock = MockServer::start().await;
    let mut opts = CallOptions {
        api_key: Some("bedrock-api-key-test".into()),
        api_base: Some(mock.base_url()),
        ..Default::default()
    };
    Client::shared().chat(hello(CLAUDE), &opts).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer bedrock-api-key-test")
    );
    assert_eq!(sent.header("x-amz-date"), None);
    opts.api_key = Some(BAD_BEARER.into());
    let e = Client::shared()
        .chat(hello(CLAUDE), &opts)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn streamed_text_and_usage() {
    let mock = MockServer::start().await;
    let mut r = hello(CLAUDE);
    r.stream = Some(true);
    r.stream_options = Some(serde_json::from_value(json!({"include_usage": true})).unwrap());
    let s = Client::shared()
        .chat_stream(r, &sigv4(&mock, AWS_SECRET_ACCESS_KEY))
        .await
        .unwrap();
    let chunks: Vec<_> = s.body.collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(text, "Hello from the Bedrock mock.");
    assert!(chunks.len() > 4, "text arrives in several chunks");
    assert!(chunks
        .iter()
        .any(|c| c.choices.first().and_then(|c| c.finish_reason.as_deref()) == Some("stop")));
    let u = chunks.last().unwrap().usage.as_ref().unwrap();
    assert_eq!(u.total_tokens, 16);
    assert!(mock
        .last_request()
        .unwrap()
        .path
        .ends_with("/converse-stream"));
}

#[tokio::test]
async fn tools_plain_and_streamed() {
    let mock = MockServer::start().await;
    let body = json!({"model": CLAUDE, "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": "required"});
    let opts = sigv4(&mock, AWS_SECRET_ACCESS_KEY);
    let r = Client::shared()
        .chat(req(body.clone()), &opts)
        .await
        .unwrap();
    let c = &r.body.choices[0];
    assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
    let call = &c.message.tool_calls.as_ref().unwrap()[0];
    assert_eq!(call.id.as_deref(), Some("tooluse_mock1"));
    assert_eq!(call.function.name, "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(&call.function.arguments).unwrap(),
        json!({"city": "Paris"})
    );
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.body["toolConfig"]["toolChoice"], json!({"any": {}}));

    let s = Client::shared()
        .chat_stream(req(body), &opts)
        .await
        .unwrap();
    let chunks: Vec<_> = s.body.map(Result::unwrap).collect().await;
    let mut args = String::new();
    let mut name = None;
    for c in &chunks {
        for tc in c
            .choices
            .iter()
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
        {
            assert_eq!(tc.index, 0);
            if let Some(f) = &tc.function {
                name = name.or(f.name.clone());
                args.push_str(f.arguments.as_deref().unwrap_or(""));
            }
        }
    }
    assert_eq!(name.as_deref(), Some("get_weather"));
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris"})
    );
    assert!(chunks
        .iter()
        .any(|c| c.choices.first().and_then(|c| c.finish_reason.as_deref()) == Some("tool_calls")));
}

#[tokio::test]
async fn thinking_through_additional_fields() {
    let mock = MockServer::start().await;
    let opts = sigv4(&mock, AWS_SECRET_ACCESS_KEY);
    let mut r = hello("bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0");
    r.reasoning_effort = Some("low".into());
    let a = Client::shared().chat(r.clone(), &opts).await.unwrap();
    assert_eq!(
        a.body.choices[0].message.reasoning_content.as_deref(),
        Some("Let me think about this.")
    );
    let sent = mock.last_request().unwrap();
    assert_eq!(
        sent.body["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    let s = Client::shared().chat_stream(r, &opts).await.unwrap();
    let chunks: Vec<_> = s.body.map(Result::unwrap).collect().await;
    let thought: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.reasoning_content.clone())
        .collect();
    assert_eq!(thought, "Let me think about this.");
}

#[tokio::test]
async fn errors_before_and_inside_the_stream() {
    let mock = MockServer::start().await;
    let opts = sigv4(&mock, AWS_SECRET_ACCESS_KEY);
    let e = Client::shared()
        .chat(hello("bedrock/mock-error-429"), &opts)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::RateLimit);

    let s = Client::shared()
        .chat_stream(hello("bedrock/mock-stream-error"), &opts)
        .await
        .unwrap();
    let items: Vec<_> = s.body.collect().await;
    let last = items.last().unwrap().as_ref().err().unwrap();
    assert_eq!(last.kind, ErrorKind::RateLimit);
    assert!(
        last.message.contains("Too many requests"),
        "{}",
        last.message
    );
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
}

#[tokio::test]
async fn missing_credentials_are_an_authentication_error() {
    let opts = CallOptions {
        api_base: Some("http://127.0.0.1:9".into()),
        extra: serde_json::from_value(json!({"aws_region_name": "us-east-1"})).unwrap(),
        ..Default::default()
    };
    // The test process may carry AWS variables; only assert when it carries none.
    if ["AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK"]
        .iter()
        .all(|k| std::env::var(k).is_err())
    {
        let e = Client::shared()
            .chat(hello(CLAUDE), &opts)
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Authentication);
    }
}

#[tokio::test]
async fn titan_and_cohere_embeddings_through_invoke_model() {
    let mock = MockServer::start().await;
    let opts = sigv4(&mock, AWS_SECRET_ACCESS_KEY);
    let r = Client::shared()
        .embedding(
            serde_json::from_value(json!({"model": "bedrock/amazon.titan-embed-text-v2:0",
                "input": ["hello world", "one two three"], "dimensions": 3}))
            .unwrap(),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(r.body.data.len(), 2);
    assert_eq!(r.body.usage.as_ref().unwrap().prompt_tokens, 5);
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    assert_eq!(
        sent.body,
        json!({"inputText": "one two three", "dimensions": 3})
    );

    let r = Client::shared()
        .embedding(
            serde_json::from_value(json!({"model": "bedrock/cohere.embed-english-v3",
                "input": ["a", "b"], "input_type": "search_query"}))
            .unwrap(),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(r.body.data.len(), 2);
    assert_eq!(
        mock.last_request().unwrap().body,
        json!({"texts": ["a", "b"], "input_type": "search_query"})
    );
}

#[tokio::test]
async fn tool_names_bedrock_refuses_are_renamed_and_restored() {
    let mock = MockServer::start().await;
    let body = json!({"model": CLAUDE, "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [{"type": "function", "function": {"name": "weather.get", "parameters": {"type": "object"}}}]});
    let opts = sigv4(&mock, AWS_SECRET_ACCESS_KEY);
    let r = Client::shared()
        .chat(req(body.clone()), &opts)
        .await
        .unwrap();
    let call = &r.body.choices[0].message.tool_calls.as_ref().unwrap()[0];
    assert_eq!(call.function.name, "weather.get");
    assert_eq!(
        mock.last_request().unwrap().body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "weather_get"
    );
    let s = Client::shared()
        .chat_stream(req(body), &opts)
        .await
        .unwrap();
    let chunks: Vec<_> = s.body.map(Result::unwrap).collect().await;
    let name = chunks
        .iter()
        .flat_map(|c| {
            c.choices
                .iter()
                .flat_map(|c| c.delta.tool_calls.iter().flatten())
        })
        .find_map(|tc| tc.function.as_ref()?.name.clone());
    assert_eq!(name.as_deref(), Some("weather.get"));
}
