//! Config parsing: LiteLLM-style files, `os.environ/` references, includes, and errors that
//! name the field and the line.
//!
//! Each test uses its own environment variable names: tests run in parallel threads.

use std::path::PathBuf;

use serde_json::json;

use super::error::{locate, Seg};
use super::*;

fn parse(yaml: &str) -> Config {
    Config::from_yaml_str(yaml, "config.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(yaml: &str) -> String {
    match Config::from_yaml_str(yaml, "config.yaml") {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn set(name: &str, value: &str) {
    std::env::set_var(name, value);
}

/// A fresh directory under the system temp dir.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llmgate-config-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const FULL: &str = r#"
environment_variables:
  CFGT_FULL_AZURE_BASE: https://my-endpoint.openai.azure.com
  CFGT_FULL_FLAG: true

model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eu
      api_base: os.environ/CFGT_FULL_AZURE_BASE
      api_key: os.environ/CFGT_FULL_AZURE_KEY
      api_version: "2024-08-01-preview"
      rpm: os.environ/CFGT_FULL_RPM
      timeout: "30"
      extra_headers:
        X-Team: os.environ/CFGT_FULL_TEAM
        X-Static: fixed
        X-Missing: os.environ/CFGT_FULL_UNSET_HEADER
    model_info:
      id: azure-eu-1
      mode: chat
      base_model: azure/gpt-4o
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/CFGT_FULL_OPENAI_KEY
      organization: org-123
      tpm: 100000
      max_retries: 2
      stream_timeout: 12.5
      drop_params: true
      input_cost_per_token: 0.0000025
      output_cost_per_token: 1e-5
  - model_name: gemini
    litellm_params:
      model: vertex_ai/gemini-1.5-pro
      vertex_project: my-project
      vertex_location: us-central1
      vertex_credentials: os.environ/CFGT_FULL_VERTEX_CREDS
      use_in_pass_through: os.environ/CFGT_FULL_FLAG
      missing_thing: os.environ/CFGT_FULL_UNSET_EXTRA
  - model_name: demo
    litellm_params:
      model: gpt-4o-mini
      mock_response: "Hi from the demo"

litellm_settings:
  drop_params: True
  request_timeout: 600
  num_retries: 3
  set_verbose: false
  callbacks: ["prometheus"]
  cache: true
  cache_params:
    type: redis
    password: os.environ/CFGT_FULL_REDIS_PASSWORD

general_settings:
  master_key: os.environ/CFGT_FULL_MASTER_KEY
  database_url: postgresql://u:p@localhost/db
  alerting: ["slack"]

router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
  timeout: 45
  allowed_fails: 3
  cooldown_time: 0
  redis_host: localhost

guardrails:
  - guardrail_name: pii
    litellm_params:
      guardrail: lakera
      mode: pre_call
"#;

#[test]
fn full_litellm_config() {
    set("CFGT_FULL_AZURE_KEY", "azure-secret");
    set("CFGT_FULL_OPENAI_KEY", "sk-openai-secret");
    set("CFGT_FULL_RPM", "600");
    set("CFGT_FULL_TEAM", "search");
    set("CFGT_FULL_VERTEX_CREDS", "/etc/creds.json");
    set("CFGT_FULL_REDIS_PASSWORD", "redis-pw");
    set("CFGT_FULL_MASTER_KEY", "sk-master-0123456789");
    let cfg = parse(FULL);

    // environment_variables were set before references were resolved.
    assert_eq!(
        std::env::var("CFGT_FULL_AZURE_BASE").unwrap(),
        "https://my-endpoint.openai.azure.com"
    );
    assert_eq!(
        std::env::var("CFGT_FULL_FLAG").unwrap(),
        "True",
        "Python's str(True)"
    );
    assert_eq!(cfg.environment_variables.len(), 2);

    assert_eq!(cfg.model_list.len(), 4);
    let names: Vec<&str> = cfg
        .model_list
        .iter()
        .map(|m| m.model_name.as_str())
        .collect();
    assert_eq!(names, ["gpt-4o", "gpt-4o", "gemini", "demo"]);

    let azure = &cfg.model_list[0];
    let p = &azure.litellm_params;
    assert_eq!(p.model, "azure/gpt-4o-eu");
    assert_eq!(
        p.api_base.as_deref(),
        Some("https://my-endpoint.openai.azure.com")
    );
    assert_eq!(p.api_key.as_ref().unwrap().expose(), "azure-secret");
    assert_eq!(p.api_version.as_deref(), Some("2024-08-01-preview"));
    assert_eq!(p.rpm, Some(600));
    assert_eq!(p.timeout, Some(30.0));
    assert_eq!(
        p.extra_headers.get("X-Team").map(String::as_str),
        Some("search")
    );
    assert_eq!(
        p.extra_headers.get("X-Static").map(String::as_str),
        Some("fixed")
    );
    assert!(
        !p.extra_headers.contains_key("X-Missing"),
        "unset header is dropped"
    );
    assert_eq!(azure.model_info.id.as_deref(), Some("azure-eu-1"));
    assert_eq!(azure.model_info.mode.as_deref(), Some("chat"));
    assert_eq!(azure.model_info.extra["base_model"], json!("azure/gpt-4o"));

    let openai = &cfg.model_list[1].litellm_params;
    assert_eq!(
        openai.api_key.as_ref().unwrap().expose(),
        "sk-openai-secret"
    );
    assert_eq!(openai.organization.as_deref(), Some("org-123"));
    assert_eq!((openai.tpm, openai.max_retries), (Some(100_000), Some(2)));
    assert_eq!(openai.stream_timeout, Some(12.5));
    assert_eq!(openai.drop_params, Some(true));
    assert_eq!(openai.input_cost_per_token, Some(0.0000025));
    assert_eq!(openai.output_cost_per_token, Some(1e-5));
    assert!(openai.extra.is_empty());

    let gemini = &cfg.model_list[2].litellm_params;
    assert_eq!(gemini.extra["vertex_project"], json!("my-project"));
    assert_eq!(gemini.extra["vertex_location"], json!("us-central1"));
    assert_eq!(gemini.extra["vertex_credentials"], json!("/etc/creds.json"));
    // LiteLLM's get_secret turns "true"/"false" into booleans, and unset into None.
    assert_eq!(gemini.extra["use_in_pass_through"], json!(true));
    assert_eq!(gemini.extra["missing_thing"], json!(null));

    assert_eq!(
        cfg.model_list[3].litellm_params.mock_response,
        Some(json!("Hi from the demo"))
    );

    let ls = &cfg.litellm_settings;
    assert!(ls.drop_params && !ls.set_verbose);
    assert_eq!((ls.request_timeout, ls.num_retries), (Some(600.0), Some(3)));
    assert_eq!(ls.extra["callbacks"], json!(["prometheus"]));
    assert_eq!(ls.extra["cache_params"]["password"], json!("redis-pw"));

    let gs = &cfg.general_settings;
    assert_eq!(
        gs.master_key.as_ref().unwrap().expose(),
        "sk-master-0123456789"
    );
    assert_eq!(
        gs.database_url.as_ref().unwrap().expose(),
        "postgresql://u:p@localhost/db"
    );
    assert!(!gs.dangerously_permit_weak_or_unset_master_key);
    assert_eq!(gs.extra["alerting"], json!(["slack"]));

    let rs = &cfg.router_settings;
    assert_eq!(rs.routing_strategy.as_deref(), Some("simple-shuffle"));
    assert_eq!((rs.num_retries, rs.allowed_fails), (Some(2), Some(3)));
    assert_eq!((rs.timeout, rs.cooldown_time), (Some(45.0), Some(0.0)));
    assert_eq!(rs.extra["redis_host"], json!("localhost"));

    assert_eq!(cfg.extra["guardrails"][0]["guardrail_name"], json!("pii"));
    assert!(!cfg.extra.contains_key("environment_variables"));
    assert!(!cfg.extra.contains_key("include"));
}

#[test]
fn debug_output_does_not_leak_secrets() {
    let s = Secret::new("sk-very-secret");
    assert_eq!(format!("{s:?}"), "***");
    assert_eq!(s.to_string(), "***");
    assert_eq!(s.expose(), "sk-very-secret");

    set("CFGT_DEBUG_KEY", "sk-upstream-secret-value");
    let cfg = parse(
        r#"
environment_variables:
  CFGT_DEBUG_ENV_SECRET: env-secret-value
model_list:
  - model_name: m
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/CFGT_DEBUG_KEY
general_settings:
  master_key: sk-master-secret-value
  database_url: postgresql://user:db-password@host/db
"#,
    );
    let dump = format!("{cfg:?} {cfg:#?}");
    for secret in [
        "sk-upstream-secret-value",
        "sk-master-secret-value",
        "db-password",
        "env-secret-value",
    ] {
        assert!(!dump.contains(secret), "{secret} leaked in {dump}");
    }
    assert!(dump.contains("CFGT_DEBUG_ENV_SECRET"), "names are shown");
}

#[test]
fn missing_sections_empty_file_and_null_model_list_give_defaults() {
    for text in [
        "",
        "# just a comment\n",
        "~\n",
        "model_list:\n",
        "model_list: []\n",
    ] {
        let cfg = parse(text);
        assert!(cfg.model_list.is_empty(), "{text:?}");
        assert_eq!(cfg.litellm_settings, LitellmSettings::default());
        assert_eq!(cfg.router_settings, RouterSettings::default());
        assert!(cfg.general_settings.master_key.is_none());
    }
    let cfg = parse("litellm_settings:\ngeneral_settings: {}\nmodel_list:\n  - model_name: a\n    litellm_params: {model: a}\n    model_info:\n");
    assert_eq!(cfg.model_list[0].model_info, ModelInfoConfig::default());
    assert!(!cfg.litellm_settings.drop_params);
}

#[test]
fn numbers_and_booleans_may_be_strings() {
    set("CFGT_NUM_TIMEOUT", "2.5");
    set("CFGT_NUM_BOOL", "TRUE");
    let cfg = parse(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      rpm: "100"
      tpm: 2000.0
      max_retries: " 3 "
      timeout: os.environ/CFGT_NUM_TIMEOUT
      drop_params: os.environ/CFGT_NUM_BOOL
      api_version: 2024.1
litellm_settings:
  drop_params: "yes"
  num_retries: "4"
general_settings:
  dangerously_permit_weak_or_unset_master_key: "true"
"#,
    );
    let p = &cfg.model_list[0].litellm_params;
    assert_eq!(
        (p.rpm, p.tpm, p.max_retries),
        (Some(100), Some(2000), Some(3))
    );
    assert_eq!(p.timeout, Some(2.5));
    assert_eq!(p.drop_params, Some(true));
    assert_eq!(p.api_version.as_deref(), Some("2024.1"));
    assert!(cfg.litellm_settings.drop_params);
    assert_eq!(cfg.litellm_settings.num_retries, Some(4));
    assert!(
        cfg.general_settings
            .dangerously_permit_weak_or_unset_master_key
    );
}

#[test]
fn unset_variable_in_optional_field_is_none() {
    let cfg = parse(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      api_key: os.environ/CFGT_OPT_UNSET_KEY
      rpm: os.environ/CFGT_OPT_UNSET_RPM
      timeout: os.environ/CFGT_OPT_UNSET_TIMEOUT
general_settings:
  master_key: os.environ/CFGT_OPT_UNSET_MASTER
"#,
    );
    let p = &cfg.model_list[0].litellm_params;
    assert!(p.api_key.is_none() && p.rpm.is_none() && p.timeout.is_none());
    // A master key that was asked for but resolves to nothing is kept (empty), so start-up
    // refuses it rather than running with auth off.
    let mk = cfg.general_settings.master_key.as_ref().map(|k| k.expose());
    assert_eq!(mk, Some(""));
}

#[test]
fn unset_variable_in_required_field_names_field_and_variable() {
    let msg = parse_err(
        "model_list:\n  - model_name: a\n    litellm_params:\n      model: os.environ/CFGT_REQ_UNSET_MODEL\n",
    );
    assert!(msg.contains("config.yaml: line 4, column 14"), "{msg}");
    assert!(msg.contains("model_list[0].litellm_params.model"), "{msg}");
    assert!(msg.contains("CFGT_REQ_UNSET_MODEL"), "{msg}");
    assert!(msg.contains("not set"), "{msg}");
}

#[test]
fn wrong_type_names_field_line_and_column() {
    let msg = parse_err(
        r#"model_list:
  - model_name: a
    litellm_params:
      model: openai/a
  - model_name: b
    litellm_params:
      model: openai/b
      rpm: abc
"#,
    );
    assert_eq!(
        msg,
        "config.yaml: line 8, column 12: model_list[1].litellm_params.rpm: invalid value: string \"abc\", expected a non-negative integer"
    );

    let msg = parse_err("model_list:\n  - model_name: a\n    litellm_params:\n      model: x\n      max_retries: -1\n");
    assert!(
        msg.contains("line 5") && msg.contains("model_list[0].litellm_params.max_retries"),
        "{msg}"
    );

    let msg = parse_err("router_settings:\n  num_retries: [1]\n");
    assert!(
        msg.contains("line 2") && msg.contains("router_settings.num_retries"),
        "{msg}"
    );

    let msg = parse_err("litellm_settings: 5\n");
    assert!(
        msg.contains("line 1") && msg.contains("litellm_settings: invalid type"),
        "{msg}"
    );

    let msg = parse_err("model_list:\n  model_name: a\n");
    assert!(
        msg.contains("line 2") && msg.contains("model_list: invalid type: map"),
        "{msg}"
    );
}

#[test]
fn env_value_of_wrong_type_is_reported_at_its_reference() {
    set("CFGT_TYPE_RPM", "lots");
    let msg = parse_err("model_list:\n  - model_name: a\n    litellm_params:\n      model: x\n      rpm: os.environ/CFGT_TYPE_RPM\n");
    assert!(
        msg.contains("line 5") && msg.contains("model_list[0].litellm_params.rpm"),
        "{msg}"
    );
    assert!(msg.contains("\"lots\""), "{msg}");
}

#[test]
fn missing_model_name_names_the_entry_and_line() {
    let msg = parse_err(
        r#"model_list:
  - model_name: a
    litellm_params:
      model: openai/a
  - litellm_params:
      model: openai/b
"#,
    );
    assert!(msg.contains("line 5"), "{msg}");
    assert!(
        msg.contains("model_list[1]: missing field `model_name`"),
        "{msg}"
    );
}

#[test]
fn missing_or_empty_model_is_an_error() {
    let msg = parse_err(
        "model_list:\n  - model_name: a\n    litellm_params:\n      api_base: http://x\n",
    );
    assert!(msg.contains("line 4"), "{msg}");
    assert!(
        msg.contains("model_list[0].litellm_params: missing field `model`"),
        "{msg}"
    );

    let msg = parse_err("model_list:\n  - model_name: a\n    litellm_params:\n      model: \"\"\n");
    assert!(msg.contains("line 4"), "{msg}");
    assert!(
        msg.contains("model_list[0].litellm_params.model: must not be empty"),
        "{msg}"
    );

    let msg = parse_err("model_list:\n  - model_name: a\n");
    assert!(
        msg.contains("line 2") && msg.contains("missing field `litellm_params`"),
        "{msg}"
    );

    let msg = parse_err("model_list:\n  - model_name: \"\"\n    litellm_params: {model: x}\n");
    assert!(
        msg.contains("line 2") && msg.contains("model_list[0].model_name: must not be empty"),
        "{msg}"
    );
}

#[test]
fn model_must_be_provider_slash_name_or_bare() {
    for ok in [
        "gpt-4o",
        "openai/gpt-4o",
        "openrouter/meta-llama/llama-3",
        "openai/*",
        "*",
    ] {
        let cfg = parse(&format!(
            "model_list:\n  - model_name: m\n    litellm_params:\n      model: \"{ok}\"\n"
        ));
        assert_eq!(cfg.model_list[0].litellm_params.model, ok);
    }
    for bad in ["openai/", "/gpt-4o", "openai/gpt 4o"] {
        let msg = parse_err(&format!(
            "model_list:\n  - model_name: m\n    litellm_params:\n      model: \"{bad}\"\n"
        ));
        assert!(
            msg.contains("line 4") && msg.contains("litellm_params.model: invalid model"),
            "{msg}"
        );
    }
}

#[test]
fn timeouts_must_be_positive() {
    let msg = parse_err(
        "model_list:\n  - model_name: a\n    litellm_params:\n      model: x\n      timeout: 0\n",
    );
    assert!(msg.contains("line 5, column 16"), "{msg}");
    assert!(
        msg.contains("model_list[0].litellm_params.timeout: must be greater than 0"),
        "{msg}"
    );

    let msg = parse_err("litellm_settings:\n  request_timeout: -5\n");
    assert!(
        msg.contains("line 2") && msg.contains("litellm_settings.request_timeout"),
        "{msg}"
    );

    let msg = parse_err("router_settings:\n  timeout: \"soon\"\n");
    assert!(
        msg.contains("line 2") && msg.contains("router_settings.timeout"),
        "{msg}"
    );

    let msg = parse_err("router_settings:\n  cooldown_time: -1\n");
    assert!(
        msg.contains("line 2") && msg.contains("must not be negative"),
        "{msg}"
    );
}

#[test]
fn yaml_syntax_error_has_line() {
    let msg = parse_err("model_list:\n  - model_name: a\n   litellm_params: {\n");
    assert!(msg.starts_with("config.yaml: line 3"), "{msg}");

    let msg = parse_err("- just\n- a list\n");
    assert!(
        msg.contains("line 1") && msg.contains("top level must be a mapping"),
        "{msg}"
    );
}

#[test]
fn anchors_and_aliases() {
    let cfg = parse(
        r#"
shared: &azure
  model: azure/gpt-4o
  api_base: https://a.example
  rpm: 10
model_list:
  - model_name: a
    litellm_params: *azure
  - model_name: b
    litellm_params: *azure
"#,
    );
    assert_eq!(
        cfg.model_list[0].litellm_params,
        cfg.model_list[1].litellm_params
    );
    assert_eq!(cfg.model_list[1].litellm_params.rpm, Some(10));
    // A bad value inside an anchor is reported where it is written.
    let msg = parse_err(
        "base: &b\n  model: x\n  rpm: zz\nmodel_list:\n  - model_name: a\n    litellm_params: *b\n",
    );
    assert!(
        msg.contains("line 3") && msg.contains("model_list[0].litellm_params.rpm"),
        "{msg}"
    );
}

#[test]
fn merge_keys() {
    let yaml = r#"
defaults: &defaults
  api_base: https://shared.example/v1
  rpm: 5
  timeout: 10
model_list:
  - model_name: a
    litellm_params:
      <<: *defaults
      model: openai/a
  - model_name: b
    litellm_params:
      <<: *defaults
      model: openai/b
      rpm: 7
"#;
    let cfg = parse(yaml);
    let (a, b) = (
        &cfg.model_list[0].litellm_params,
        &cfg.model_list[1].litellm_params,
    );
    assert_eq!(a.api_base.as_deref(), Some("https://shared.example/v1"));
    assert_eq!((a.rpm, a.timeout), (Some(5), Some(10.0)));
    assert_eq!(
        b.rpm,
        Some(7),
        "the mapping's own keys win over merged ones"
    );
    assert!(!a.extra.contains_key("<<"));

    // Errors in a merged document still name the field and the line.
    let bad = yaml.replace("rpm: 7", "rpm: lots");
    let msg = parse_err(&bad);
    assert!(msg.contains("line 15"), "{msg}");
    assert!(msg.contains("model_list[1].litellm_params.rpm"), "{msg}");
}

#[test]
fn environment_variables_are_set_before_resolution() {
    let cfg = parse(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      api_key: os.environ/CFGT_ENVSEC_KEY
      rpm: os.environ/CFGT_ENVSEC_RPM
environment_variables:
  CFGT_ENVSEC_KEY: sk-from-section
  CFGT_ENVSEC_RPM: 42
  CFGT_ENVSEC_FLOAT: 1.0
  CFGT_ENVSEC_REF: os.environ/CFGT_ENVSEC_UNSET_SOURCE
"#,
    );
    let p = &cfg.model_list[0].litellm_params;
    assert_eq!(p.api_key.as_ref().unwrap().expose(), "sk-from-section");
    assert_eq!(p.rpm, Some(42));
    assert_eq!(std::env::var("CFGT_ENVSEC_FLOAT").unwrap(), "1.0");
    // A reference to an unset variable leaves the name unset, as LiteLLM does.
    assert!(std::env::var("CFGT_ENVSEC_REF").is_err());
    assert!(!cfg.environment_variables.contains_key("CFGT_ENVSEC_REF"));

    let msg = parse_err("environment_variables:\n  A: {b: 1}\n");
    assert!(
        msg.contains("line 2") && msg.contains("environment_variables.A"),
        "{msg}"
    );

    let msg = parse_err("environment_variables:\n  \"A=B\": x\n");
    assert!(
        msg.contains("line 2") && msg.contains("invalid environment variable name"),
        "{msg}"
    );
}

#[test]
fn include_appends_model_list_and_replaces_sections() {
    let dir = temp_dir("include");
    std::fs::write(
        dir.join("models.yaml"),
        "model_list:\n  - model_name: from-include\n    litellm_params:\n      model: openai/b\n      api_key: os.environ/CFGT_INC_KEY\nrouter_settings:\n  num_retries: 9\nguardrails:\n  - guardrail_name: g2\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/nested.yaml"),
        "model_list:\n  - model_name: nested\n    litellm_params: {model: openai/c}\n",
    )
    .unwrap();
    std::fs::write(dir.join("more.yaml"), "include:\n  - sub/nested.yaml\n").unwrap();
    let main = dir.join("config.yaml");
    std::fs::write(
        &main,
        "include:\n  - models.yaml\n  - more.yaml\nenvironment_variables:\n  CFGT_INC_KEY: sk-inc\nmodel_list:\n  - model_name: main\n    litellm_params:\n      model: openai/a\nrouter_settings:\n  num_retries: 1\n  timeout: 5\nguardrails:\n  - guardrail_name: g1\n",
    )
    .unwrap();

    let cfg = Config::load(&main).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = cfg
        .model_list
        .iter()
        .map(|m| m.model_name.as_str())
        .collect();
    assert_eq!(names, ["main", "from-include", "nested"]);
    assert_eq!(
        cfg.model_list[1]
            .litellm_params
            .api_key
            .as_ref()
            .unwrap()
            .expose(),
        "sk-inc"
    );
    // LiteLLM's merge: a section the included file has replaces the main one.
    assert_eq!(cfg.router_settings.num_retries, Some(9));
    assert_eq!(cfg.router_settings.timeout, None);
    assert_eq!(
        cfg.extra["guardrails"],
        json!([{"guardrail_name": "g1"}, {"guardrail_name": "g2"}])
    );
    assert!(!cfg.extra.contains_key("include"));

    // Errors inside an included file name that file.
    std::fs::write(
        dir.join("models.yaml"),
        "model_list:\n  - model_name: x\n    litellm_params:\n      model: openai/b\n      tpm: many\n",
    )
    .unwrap();
    let msg = Config::load(&main).unwrap_err().to_string();
    assert!(msg.contains("models.yaml: line 5"), "{msg}");
    assert!(msg.contains("model_list[0].litellm_params.tpm"), "{msg}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn include_errors() {
    let dir = temp_dir("include-errors");
    let main = dir.join("config.yaml");
    std::fs::write(&main, "model_list: []\ninclude:\n  - missing.yaml\n").unwrap();
    let msg = Config::load(&main).unwrap_err().to_string();
    assert!(
        msg.contains("line 3") && msg.contains("include[0]"),
        "{msg}"
    );
    assert!(msg.contains("cannot read included file"), "{msg}");

    std::fs::write(&main, "include: other.yaml\n").unwrap();
    let msg = Config::load(&main).unwrap_err().to_string();
    assert!(
        msg.contains("line 1") && msg.contains("include: invalid type"),
        "{msg}"
    );

    std::fs::write(&main, "include:\n  - config.yaml\n").unwrap();
    let msg = Config::load(&main).unwrap_err().to_string();
    assert!(msg.contains("included more than once"), "{msg}");

    let err = Config::load(&dir.join("nope.yaml")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    assert!(err.to_string().contains("nope.yaml"), "{err}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn error_accessors() {
    let err = Config::from_yaml_str("router_settings:\n  timeout: 0\n", "c.yaml").unwrap_err();
    assert_eq!(err.field(), Some("router_settings.timeout"));
    assert_eq!(err.line(), Some(2));
}

#[test]
fn quick_start_is_one_entry_named_after_the_model() {
    let cfg = Config::quick_start("gpt-4o");
    assert_eq!(cfg.model_list.len(), 1);
    assert_eq!(cfg.model_list[0].model_name, "gpt-4o");
    assert_eq!(cfg.model_list[0].litellm_params.model, "gpt-4o");
    assert!(cfg.general_settings.master_key.is_none());
}

#[test]
fn locate_follows_block_yaml() {
    let text = r#"# comment
model_list:
- model_name: a
  litellm_params:
    model: x
-
  model_name: b
  litellm_params:
    model: y
    rpm: 5
router_settings:
  timeout: 3
"#;
    let k = |s: &str| Seg::Key(s.into());
    assert_eq!(
        locate(text, &[k("router_settings"), k("timeout")]),
        Some(12)
    );
    assert_eq!(locate(text, &[k("model_list"), Seg::Index(0)]), Some(3));
    assert_eq!(
        locate(
            text,
            &[
                k("model_list"),
                Seg::Index(1),
                k("litellm_params"),
                k("rpm")
            ]
        ),
        Some(10)
    );
    // Not written out (e.g. from a merge key): the deepest step found.
    assert_eq!(
        locate(
            text,
            &[
                k("model_list"),
                Seg::Index(0),
                k("litellm_params"),
                k("api_base")
            ]
        ),
        Some(4)
    );
    assert_eq!(locate(text, &[k("nothing")]), None);
}

#[test]
fn debug_redacts_credentials_in_free_form_maps() {
    let cfg = parse(
        r#"
model_list:
  - model_name: bedrock
    litellm_params:
      model: bedrock/anthropic.claude-3
      aws_access_key_id: AKIA-visible-id-is-a-key-too
      aws_secret_access_key: bedrock-secret-value
      aws_region_name: us-east-1
      extra_headers:
        Authorization: Bearer header-secret-value
        X-Team: search
litellm_settings:
  cache_params:
    password: redis-secret-value
guardrails:
  - guardrail_name: g
    litellm_params:
      api_key: guardrail-secret-value
"#,
    );
    let dump = format!("{cfg:?}");
    for secret in [
        "bedrock-secret-value",
        "header-secret-value",
        "redis-secret-value",
        "guardrail-secret-value",
    ] {
        assert!(!dump.contains(secret), "{secret} leaked in {dump}");
    }
    assert!(
        dump.contains("us-east-1") && dump.contains("search"),
        "{dump}"
    );
    // The values themselves are intact.
    assert_eq!(
        cfg.model_list[0].litellm_params.extra["aws_secret_access_key"],
        json!("bedrock-secret-value")
    );
}

// --- settings llmgate reads but does not implement (support.rs) ---

fn ignored(yaml: &str) -> Vec<String> {
    ignored_settings(&parse(yaml))
        .into_iter()
        .map(|s| {
            if s.known {
                s.path
            } else {
                format!("?{}", s.path)
            }
        })
        .collect()
}

#[test]
fn ignored_settings_of_the_full_config() {
    set("CFGT_FULL_AZURE_KEY", "azure-secret");
    set("CFGT_FULL_OPENAI_KEY", "sk-openai-secret");
    set("CFGT_FULL_RPM", "600");
    set("CFGT_FULL_TEAM", "search");
    set("CFGT_FULL_VERTEX_CREDS", "/etc/creds.json");
    set("CFGT_FULL_REDIS_PASSWORD", "redis-pw");
    set("CFGT_FULL_MASTER_KEY", "sk-master-0123456789");
    assert_eq!(
        ignored(FULL),
        ["guardrails[0].litellm_params.guardrail: lakera",]
    );
}

#[test]
fn implemented_settings_are_not_reported() {
    let yaml = r#"
model_list:
  - model_name: a
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      api_base: http://x
      api_key: k
      timeout: 3
      stream_timeout: 2
      max_retries: 1
      extra_headers: {X-A: b}
      vertex_project: p
      vertex_location: us-central1
      custom_llm_provider: vertex_ai
    model_info:
      id: one
      mode: chat
      access_groups: [g]
      supports_vision: true
      description: fine
litellm_settings:
  drop_params: true
  num_retries: 2
  request_timeout: 30
  set_verbose: false
  cache: false
  callbacks: []
  cache_params: {type: redis, host: localhost, port: 6379}
general_settings:
  master_key: sk-abcdefgh12345
  store_model_in_db: true
  proxy_batch_write_at: 5
  alerting: ["webhook"]
  use_x_forwarded_for: true
  encryption_algorithm: aes-256-gcm
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 1
  timeout: 10
  redis_host: localhost
  allowed_fails: null
"#;
    assert_eq!(ignored(yaml), Vec::<String>::new());
}

#[test]
fn unsupported_and_unknown_keys_are_named_with_their_paths() {
    let yaml = r#"
mcp_servers:
  github: {url: "http://localhost:1/mcp", spec_path: /x.json, urll: http://typo}
modle_list: [{model_name: x}]
model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: b
    rpm: 10
    litellm_params: {model: openai/b, rpm: 5, temperature: 0.2, api_bse: http://x}
    model_info: {base_model: azure/gpt-4o, cache_read_input_token_cost: 0.1}
litellm_settings:
  success_callback: ["langfuse", "custom_callbacks.handler"]
  failure_callback: "langfus"
  fallbacks: [{a: [b]}]
  cache_params: {type: s3}
general_settings:
  mastr_key: sk-x
  alerting: ["slack", "webhook", "email"]
  alert_types: [llm_exceptions, fallback_reports, llm_exceptons]
  alert_to_webhook_url: {budget_alerts: "http://x/hook"}
  alerting_args: {budget_alert_ttl: 60, spend_anomaly_multiplier: 2}
router_settings:
  routing_strategy: least-busy
  model_group_alias: {x: a}
guardrails:
  - guardrail_name: g1
    litellm_params: {guardrail: pangea, mode: pre_call}
  - guardrail_name: g2
    litellm_params: {guardrail: my_guard}
  - guardrail_name: g3
"#;
    let got = ignored(yaml);
    for want in [
        "mcp_servers.github.spec_path",
        "?mcp_servers.github.urll",
        "?modle_list",
        "guardrails[0].litellm_params.guardrail: pangea",
        "?guardrails[1].litellm_params.guardrail: my_guard",
        "guardrails[2]",
        "?model_list[1].litellm_params.api_bse",
        "model_list[1].model_info.cache_read_input_token_cost",
        "litellm_settings.success_callback: custom_callbacks.handler",
        "?litellm_settings.failure_callback: langfus",
        "litellm_settings.cache_params.type: s3",
        "?general_settings.mastr_key",
        "general_settings.alerting: email",
        "general_settings.alert_types: fallback_reports",
        "?general_settings.alert_types: llm_exceptons",
        "general_settings.alerting_args: spend_anomaly_multiplier",
    ] {
        assert!(
            got.iter().any(|g| g == want),
            "{want} missing from {got:#?}"
        );
    }
    assert_eq!(got.len(), 16, "{got:#?}");
    // Model 0 is all supported; slack and webhook alerting work; the router settings are all read.
    assert!(!got.iter().any(|g| g.contains("model_list[0]")
        || g.contains("webhook")
        || g.contains(": slack")
        || g.contains("budget_alert")));
}

#[test]
fn ignored_settings_print_what_is_missing_and_never_a_secret() {
    let cfg = parse(
        "general_settings:\n  master_key: sk-abcdefgh12345\n  typo_key: x\nrouter_settings:\n  cooldown_time: 5\n  polling_interval: 1\n",
    );
    let lines: Vec<String> = ignored_settings(&cfg)
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "general_settings.typo_key (unknown: not a LiteLLM setting; a typo?)",
            "router_settings.polling_interval (request scheduler)",
        ]
    );
}

/// README.md's list is the table's: every key the table marks as not implemented is in the
/// README section, so neither drifts from the other.
#[test]
fn readme_lists_every_unsupported_setting() {
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find("## Settings llmgate reads but does not implement yet")
        .expect("README section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut missing = Vec::new();
    for s in support::SECTIONS {
        for row in s.rows {
            // `*.*` (custom Python callbacks/guardrails) is described in words there.
            let named = |key: &str| key == "*.*" || section.contains(&format!("`{key}`"));
            match row.support {
                support::Support::Yes => {}
                support::Support::No => {
                    if !named(row.key) {
                        missing.push(format!("{}: {}", s.path, row.key));
                    }
                }
                support::Support::Values(values) => {
                    for v in values {
                        if matches!(v.support, support::Support::No) && !named(v.key) {
                            missing.push(format!("{}.{}: {}", s.path, row.key, v.key));
                        }
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in README: {missing:#?}");
}

#[test]
fn guardrail_params_are_checked_per_type() {
    let yaml = r#"
guardrails:
  - guardrail_name: cf
    guardrail_info: {owner: security}
    policy_template: pii-basic
    descripton: typo
    litellm_params:
      guardrail: litellm_content_filter
      mode: pre_call
      default_on: true
      patterns: [{pattern_type: prebuilt, pattern_name: email, action: MASK}]
      api_key: not-read-here
      categories: [{category: harmful_self_harm}]
      blocked_wrods: [{keyword: x, action: BLOCK}]
      violation_message_template: "no: {default_message}"
  - guardrail_name: generic
    litellm_params:
      guardrail: generic_guardrail_api
      api_base: http://x
      api_key: k
      timeout: 2
      unreachable_fallback: fail_open
      fail_on_error: false
      extra_headers: [x-request-id]
  - guardrail_name: lakera
    litellm_params: {guardrail: lakera_v2, payload: false, project_id: p, presidio_language: de}
  - guardrail_name: old
    litellm_params: {guardrail: lakera, category_thresholds: {jailbreak: 0.1}}
"#;
    assert_eq!(
        ignored(yaml),
        [
            "guardrails[0].policy_template",
            "?guardrails[0].descripton",
            "guardrails[0].litellm_params.api_key",
            "guardrails[0].litellm_params.categories",
            "?guardrails[0].litellm_params.blocked_wrods",
            "guardrails[0].litellm_params.violation_message_template",
            "guardrails[1].litellm_params.extra_headers",
            "guardrails[2].litellm_params.presidio_language",
            // A type llmgate does not run is named by its type alone.
            "guardrails[3].litellm_params.guardrail: lakera",
        ]
    );
    let notes: Vec<String> = ignored_settings(&parse(yaml))
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        notes[2],
        "guardrails[0].litellm_params.api_key (not read by this guardrail type)"
    );
    assert_eq!(
        notes[3],
        "guardrails[0].litellm_params.categories (content filter categories)"
    );
}

/// Every type llmgate runs has its param table, and no other type has one.
#[test]
fn every_implemented_guardrail_type_has_its_params() {
    let mut with_table: Vec<&str> = support::GUARDRAIL_TYPE_PARAMS
        .iter()
        .map(|(t, _)| *t)
        .collect();
    let mut implemented = crate::guardrails::IMPLEMENTED.to_vec();
    with_table.sort();
    implemented.sort();
    assert_eq!(with_table, implemented);
}
