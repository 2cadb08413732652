//! The SDK's router against the mock upstream: LiteLLM's model list and router settings in,
//! retries, fallbacks and cooldowns as the gateway applies them, no server involved.

use llmgate::router::{SdkRouter, Settings};
use llmgate::{ChatCompletionRequest, ChatMessage};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

fn deployment(mock: &MockServer, group: &str, model: &str, id: &str) -> Value {
    json!({
        "model_name": group,
        "litellm_params": {"model": format!("openai/{model}"), "api_base": format!("{}/v1", mock.base_url()), "api_key": "sk-test"},
        "model_info": {"id": id},
    })
}

fn settings(v: Value) -> Settings {
    Settings::from_map(v.as_object().unwrap()).unwrap()
}

fn hi(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatMessage::text("user", "hi")],
        ..Default::default()
    }
}

/// The upstream models asked for, in order.
fn asked(mock: &MockServer) -> Vec<String> {
    mock.requests()
        .iter()
        .filter_map(|r| r.body["model"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_failing_deployment_is_retried_on_the_other_then_cooled_down() {
    let mock = MockServer::start().await;
    let list = json!([
        deployment(&mock, "g", "mock-error-401", "bad"),
        deployment(&mock, "g", "gpt-4o", "good"),
    ]);
    let r = SdkRouter::from_model_list(&list, settings(json!({"num_retries": 1}))).unwrap();
    for _ in 0..6 {
        let answer = r
            .chat(hi("g"))
            .await
            .expect("the healthy deployment answers");
        assert_eq!(answer.body.choices.len(), 1);
    }
    // The 401 cooled "bad" down after its first failure: it was asked at most once.
    let bad = asked(&mock)
        .iter()
        .filter(|m| *m == "mock-error-401")
        .count();
    assert!(bad <= 1, "{:?}", asked(&mock));
}

#[tokio::test]
async fn fallbacks_answer_when_the_group_fails_and_the_final_error_says_so() {
    let mock = MockServer::start().await;
    let list = json!([
        deployment(&mock, "broken", "mock-error-500", "b1"),
        deployment(&mock, "backup", "gpt-4o", "ok"),
        deployment(&mock, "also-broken", "mock-error-503", "b2"),
    ]);
    let r = SdkRouter::from_model_list(
        &list,
        settings(json!({"num_retries": 0, "fallbacks": [{"broken": ["backup"]}, {"also-broken": ["broken"]}]})),
    )
    .unwrap();
    let answer = r.chat(hi("broken")).await.unwrap();
    assert_eq!(answer.body.choices.len(), 1);
    assert_eq!(asked(&mock), ["mock-error-500", "gpt-4o"]);

    // also-broken -> broken -> backup (nested, depth 2): answered.
    assert!(r.chat(hi("also-broken")).await.is_ok());

    let r = SdkRouter::from_model_list(
        &list,
        settings(json!({"num_retries": 0, "fallbacks": [{"broken": ["also-broken"]}], "max_fallbacks": 1})),
    )
    .unwrap();
    let e = r.chat(hi("broken")).await.unwrap_err();
    assert_eq!(e.status, 500, "the asked group's error: {e}");
    let msg = e.to_string();
    assert!(
        msg.contains("LiteLLM: model group 'broken' failed with the error above. Fallback to also-broken also failed:"),
        "{msg}"
    );
}

#[tokio::test]
async fn request_params_in_litellm_params_are_not_sent_as_provider_settings() {
    let mock = MockServer::start().await;
    let mut d = deployment(&mock, "g", "gpt-4o", "a");
    d["litellm_params"]["weight"] = json!(2);
    d["litellm_params"]["order"] = json!(1);
    let r = SdkRouter::from_model_list(&json!([d]), Settings::default()).unwrap();
    r.chat(hi("g")).await.unwrap();
    let body = &mock.last_request().unwrap().body;
    assert!(
        body.get("weight").is_none() && body.get("order").is_none(),
        "{body}"
    );
}
