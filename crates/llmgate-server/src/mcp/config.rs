//! An `mcp_servers:` entry as LiteLLM reads it: the config key is the server's name; `url` +
//! `transport` (`http`, `sse`) or `command`/`args`/`env` (`stdio`); `auth_type` + `auth_value`
//! (credentials through `os.environ/`, resolved by the config loader); `static_headers`;
//! `extra_headers` (client headers forwarded per request); `allowed_tools`/`disallowed_tools`;
//! `access_groups`, `allow_all_keys`; `description`, `mcp_info`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// LiteLLM's `MCP_TOOL_PREFIX_SEPARATOR`: tools are offered as `<server>-<tool>`.
pub const SEPARATOR: &str = "-";

#[derive(Clone, Debug, PartialEq)]
pub enum Transport {
    /// Streamable HTTP (`transport: http`, LiteLLM's default for a `url`).
    Http { url: String },
    /// The 2024-11-05 HTTP+SSE transport (`transport: sse`).
    Sse { url: String },
    /// A child process speaking JSON-RPC over stdin/stdout, spawned by the gateway.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
}

/// One upstream MCP server, parsed.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub name: String,
    /// What grants may name it by besides its name: a stored server's `server_id` (a config
    /// server's is its name).
    pub server_id: String,
    /// A `LiteLLM_MCPServerTable` row's `updated_at` (None: from config.yaml).
    pub stored: Option<i64>,
    pub description: Option<String>,
    pub transport: Transport,
    /// Headers every upstream request carries: the `auth_type` credential and `static_headers`.
    pub headers: Vec<(String, String)>,
    /// `auth_type: oauth2` with client credentials: a token fetched from `token_url` and
    /// sent as a bearer token, cached until shortly before it expires.
    pub oauth2: Option<OAuth2>,
    /// Client request headers forwarded to this server (lower-case names).
    pub extra_headers: Vec<String>,
    /// Bare tool names; None: every tool.
    pub allowed_tools: Option<Vec<String>>,
    pub disallowed_tools: Vec<String>,
    pub access_groups: Vec<String>,
    /// Every key may use it (LiteLLM's `allow_all_keys`).
    pub allow_all_keys: bool,
    /// `mcp_info` as configured, with `server_name` (and `description`) filled in.
    pub mcp_info: Map<String, Value>,
    /// `mcp_info.mcp_server_cost_info`: what one tool call costs.
    pub cost: Cost,
}

/// OAuth2 client credentials (RFC 6749 §4.4) to an upstream server.
#[derive(Clone, Debug, PartialEq)]
pub struct OAuth2 {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

/// LiteLLM's `MCPServerCostInfo`: `default_cost_per_query`, `tool_name_to_cost_per_query`.
#[derive(Clone, Debug, Default)]
pub struct Cost {
    pub default: f64,
    pub per_tool: BTreeMap<String, f64>,
}

impl Cost {
    pub fn of(&self, tool: &str) -> f64 {
        self.per_tool.get(tool).copied().unwrap_or(self.default)
    }
}

impl ServerSpec {
    /// Whether the tool (bare name) is offered: `allowed_tools` (if set) minus `disallowed_tools`.
    pub fn offers(&self, tool: &str) -> bool {
        let named = |list: &[String]| {
            list.iter()
                .any(|t| t == tool || t.strip_prefix(&self.prefix()) == Some(tool))
        };
        self.allowed_tools.as_deref().is_none_or(named) && !named(&self.disallowed_tools)
    }

    /// `<name>-`: what this server's tool names start with.
    pub fn prefix(&self) -> String {
        format!("{}{SEPARATOR}", self.name)
    }
}

/// Every entry of the `mcp_servers:` mapping, in config order. An entry that cannot work is
/// an error naming it (the start is refused, as for a bad guardrail).
pub fn parse(section: Option<&Value>) -> Result<Vec<ServerSpec>, String> {
    let Some(section) = section.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(entries) = section.as_object() else {
        return Err("mcp_servers must be a mapping of server name to its settings".into());
    };
    entries
        .iter()
        .map(|(name, v)| parse_entry(name, v))
        .collect()
}

fn parse_entry(name: &str, v: &Value) -> Result<ServerSpec, String> {
    parse_at(&format!("mcp_servers.{name}"), name, v)
}

/// An entry in the config's shape, errors naming it `at`.
pub fn parse_at(at: &str, name: &str, v: &Value) -> Result<ServerSpec, String> {
    let at = at.to_string();
    if name.is_empty()
        || name.contains(SEPARATOR)
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(format!(
            "{at}: a server name may hold only letters, digits, `_` and `.` (`{SEPARATOR}` separates it from the tool names)"
        ));
    }
    let Some(m) = v.as_object() else {
        return Err(format!("{at} must be a mapping"));
    };
    let text = |k: &str| -> Result<Option<String>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{at}.{k} must be a string")),
        }
    };
    let list = |k: &str| -> Result<Option<Vec<String>>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{at}.{k} must be a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(format!("{at}.{k} must be a list of strings")),
        }
    };
    let map = |k: &str| -> Result<BTreeMap<String, String>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k2, x)| match x {
                    Value::String(s) => Ok((k2.clone(), s.clone())),
                    Value::Number(n) => Ok((k2.clone(), n.to_string())),
                    Value::Bool(b) => Ok((k2.clone(), b.to_string())),
                    _ => Err(format!("{at}.{k}.{k2} must be a string")),
                })
                .collect(),
            Some(_) => Err(format!("{at}.{k} must be a mapping")),
        }
    };
    let url = text("url")?;
    let command = text("command")?;
    let transport = match (text("transport")?.as_deref(), url, command) {
        (Some("stdio") | None, None, Some(command)) => Transport::Stdio {
            command,
            args: list("args")?.unwrap_or_default(),
            env: map("env")?,
        },
        (Some("stdio"), _, None) => return Err(format!("{at}: transport stdio needs `command`")),
        (Some("http") | None, Some(url), _) => Transport::Http { url },
        (Some("sse"), Some(url), _) => Transport::Sse { url },
        (Some(t @ ("http" | "sse")), None, _) => {
            return Err(format!("{at}: transport {t} needs `url`"))
        }
        (Some(t), _, _) => {
            return Err(format!(
                "{at}.transport: `{t}` is not one of http, sse, stdio"
            ))
        }
        (None, None, None) => return Err(format!("{at} needs `url` or `command`")),
    };
    if let Transport::Http { url } | Transport::Sse { url } = &transport {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("{at}.url must be an http(s) URL"));
        }
    }
    let mut headers = Vec::new();
    let auth_value = text("auth_value")?;
    let mut oauth2 = None;
    match (text("auth_type")?.as_deref(), auth_value) {
        (None | Some("none"), _) => {}
        (Some("oauth2"), _) => {
            let (Some(token_url), Some(client_id), Some(client_secret)) =
                (text("token_url")?, text("client_id")?, text("client_secret")?)
            else {
                return Err(format!(
                    "{at}: auth_type oauth2 needs token_url, client_id and client_secret (client credentials; the interactive OAuth flow is not supported)"
                ));
            };
            if !(token_url.starts_with("http://") || token_url.starts_with("https://")) {
                return Err(format!("{at}.token_url must be an http(s) URL"));
            }
            let scopes = match m.get("scopes") {
                Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
                _ => list("scopes")?.unwrap_or_default(),
            };
            oauth2 = Some(OAuth2 {
                token_url,
                client_id,
                client_secret,
                scopes,
            });
        }
        (Some(kind), None) => return Err(format!("{at}: auth_type {kind} needs `auth_value`")),
        (Some("bearer_token"), Some(v)) => headers.push(("authorization".into(), format!("Bearer {v}"))),
        (Some("basic"), Some(v)) => headers.push(("authorization".into(), format!("Basic {v}"))),
        (Some("authorization"), Some(v)) => headers.push(("authorization".into(), v)),
        (Some("api_key"), Some(v)) => headers.push(("x-api-key".into(), v)),
        (Some(kind), _) => {
            return Err(format!(
                "{at}.auth_type: `{kind}` is not supported (none, api_key, bearer_token, basic, authorization, oauth2)"
            ))
        }
    }
    for (k, v) in map("static_headers")? {
        headers.push((k.to_ascii_lowercase(), v));
    }
    for (k, v) in &headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(v).is_err()
        {
            return Err(format!("{at}: header `{k}` is not a valid HTTP header"));
        }
    }
    let description = text("description")?;
    let mut mcp_info = match m.get("mcp_info") {
        Some(Value::Object(o)) => o.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(format!("{at}.mcp_info must be a mapping")),
    };
    mcp_info
        .entry("server_name")
        .or_insert_with(|| Value::String(name.to_string()));
    if let Some(d) = &description {
        mcp_info
            .entry("description")
            .or_insert_with(|| Value::String(d.clone()));
    }
    let cost = parse_cost(&at, mcp_info.get("mcp_server_cost_info"))?;
    let allow_all_keys = match m.get("allow_all_keys") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(format!("{at}.allow_all_keys must be true or false")),
    };
    Ok(ServerSpec {
        name: name.to_string(),
        server_id: name.to_string(),
        stored: None,
        description,
        transport,
        headers,
        oauth2,
        extra_headers: list("extra_headers")?
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        allowed_tools: list("allowed_tools")?,
        disallowed_tools: list("disallowed_tools")?.unwrap_or_default(),
        access_groups: list("access_groups")?.unwrap_or_default(),
        allow_all_keys,
        mcp_info,
        cost,
    })
}

fn parse_cost(at: &str, v: Option<&Value>) -> Result<Cost, String> {
    let at = format!("{at}.mcp_info.mcp_server_cost_info");
    let price = |v: &Value, k: &str| {
        v.as_f64()
            .filter(|p| *p >= 0.0 && p.is_finite())
            .ok_or_else(|| format!("{at}.{k} must be a number >= 0"))
    };
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Cost::default());
    };
    let Some(m) = v.as_object() else {
        return Err(format!("{at} must be a mapping"));
    };
    let default = match m.get("default_cost_per_query") {
        None | Some(Value::Null) => 0.0,
        Some(p) => price(p, "default_cost_per_query")?,
    };
    let mut per_tool = BTreeMap::new();
    match m.get("tool_name_to_cost_per_query") {
        None | Some(Value::Null) => {}
        Some(Value::Object(tools)) => {
            for (tool, p) in tools {
                per_tool.insert(
                    tool.clone(),
                    price(p, &format!("tool_name_to_cost_per_query.{tool}"))?,
                );
            }
        }
        Some(_) => {
            return Err(format!(
                "{at}.tool_name_to_cost_per_query must be a mapping"
            ))
        }
    }
    Ok(Cost { default, per_tool })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_parse_as_litellm_writes_them() {
        let s = parse(Some(&json!({
            "deepwiki": {"url": "https://mcp.deepwiki.com/mcp", "transport": "http",
                         "auth_type": "bearer_token", "auth_value": "t0k",
                         "allowed_tools": ["read"], "disallowed_tools": ["deepwiki-drop"]},
            "local": {"transport": "stdio", "command": "python", "args": ["s.py"], "env": {"A": 1}},
        })))
        .unwrap();
        assert_eq!(
            s[0].headers,
            vec![("authorization".into(), "Bearer t0k".into())]
        );
        assert!(s[0].offers("read") && !s[0].offers("write") && !s[0].offers("drop"));
        assert!(matches!(&s[1].transport, Transport::Stdio { env, .. } if env["A"] == "1"));
    }

    #[test]
    fn unusable_entries_are_named() {
        for (v, needle) in [
            (json!({"a-b": {"url": "http://x"}}), "mcp_servers.a-b"),
            (
                json!({"a": {"transport": "ws", "url": "http://x"}}),
                "not one of",
            ),
            (
                json!({"a": {"url": "http://x", "auth_type": "api_key"}}),
                "auth_value",
            ),
            (json!({"a": {"transport": "stdio"}}), "command"),
            (json!({"a": {"url": "ftp://x"}}), "http(s)"),
        ] {
            let e = parse(Some(&v)).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
    }
}
