//! The loading pipeline: read, parse, includes, environment_variables, typed parse, merge.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_norway::Value;

use super::env::{self, EnvValue};
use super::error::{bare_message, locate, path_string, segments, Seg};
use super::{Config, ConfigError};

/// Guards against include cycles and runaway nesting.
const MAX_INCLUDED_FILES: usize = 64;

/// What has to be known before the rest can be read: more files, and variables to set.
#[derive(Deserialize, Default)]
struct Preamble {
    #[serde(default, deserialize_with = "env::nullable")]
    include: Vec<String>,
    #[serde(default, deserialize_with = "env::nullable")]
    environment_variables: BTreeMap<String, EnvValue>,
}

/// One YAML file.
struct Source {
    name: String,
    /// Where its relative `include:` paths start.
    dir: PathBuf,
    text: String,
    /// The parsed tree, merge keys applied.
    value: Value,
    /// The document uses `<<:` merge keys, which serde_norway applies only on a `Value`;
    /// typed parsing then reads the tree instead of the text (lines come from [`locate`]).
    merged: bool,
}

impl Source {
    fn parse(name: String, dir: PathBuf, text: String) -> Result<Source, ConfigError> {
        let mut value: Value = serde_norway::from_str(&text).map_err(|e| {
            let loc = e.location();
            ConfigError::Invalid {
                file: name.clone(),
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                field: String::new(),
                message: bare_message(&e, ""),
            }
        })?;
        let merged = has_merge_key(&value);
        if merged {
            value.apply_merge().map_err(|e| ConfigError::Invalid {
                file: name.clone(),
                line: None,
                column: None,
                field: String::new(),
                message: format!("merge key `<<`: {e}"),
            })?;
        }
        if !matches!(value, Value::Null | Value::Mapping(_)) {
            return Err(ConfigError::Invalid {
                file: name,
                line: Some(1),
                column: None,
                field: String::new(),
                message: "the top level must be a mapping of sections (model_list, litellm_settings, general_settings, ...)".into(),
            });
        }
        Ok(Source {
            name,
            dir,
            text,
            value,
            merged,
        })
    }

    fn has(&self, key: &str) -> bool {
        self.value.get(key).is_some()
    }

    /// Typed parse; errors carry the field path and line.
    fn deserialize<T: DeserializeOwned + Default>(&self) -> Result<T, ConfigError> {
        if self.value.is_null() {
            return Ok(T::default());
        }
        let result = if self.merged {
            serde_path_to_error::deserialize(&self.value)
        } else {
            serde_path_to_error::deserialize(serde_norway::Deserializer::from_str(&self.text))
        };
        result.map_err(|e| {
            let path = segments(e.path());
            let field = path_string(&path);
            let inner = e.into_inner();
            let message = bare_message(&inner, &field);
            match inner.location() {
                Some(loc) => ConfigError::Invalid {
                    file: self.name.clone(),
                    line: Some(loc.line()),
                    column: Some(loc.column()),
                    field,
                    message,
                },
                None => self.error_at(&path, message),
            }
        })
    }

    /// An error about a value found after parsing: the line is looked up in the text.
    fn error_at(&self, path: &[Seg], message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.name.clone(),
            line: locate(&self.text, path),
            column: None,
            field: path_string(path),
            message,
        }
    }
}

fn has_merge_key(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| k.as_str() == Some("<<") || has_merge_key(v)),
        Value::Sequence(items) => items.iter().any(has_merge_key),
        Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn read(path: &Path) -> Result<String, std::io::Error> {
    std::fs::read_to_string(path)
}

pub(super) fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    from_text(text, path.display().to_string(), dir, Some(path))
}

pub(super) fn from_text(
    text: String,
    name: String,
    dir: PathBuf,
    file: Option<&Path>,
) -> Result<Config, ConfigError> {
    // 1. The file and everything it includes, breadth-first as LiteLLM appends them.
    let mut seen: HashSet<PathBuf> = file.map(canonical).into_iter().collect();
    let mut sources = vec![Source::parse(name, dir, text)?];
    let mut preambles: Vec<Preamble> = Vec::new();
    let mut i = 0;
    while i < sources.len() {
        let pre: Preamble = sources[i].deserialize()?;
        let mut included = Vec::new();
        let src = &sources[i];
        for (k, inc) in pre.include.iter().enumerate() {
            let at = [Seg::Key("include".into()), Seg::Index(k)];
            let path = src.dir.join(inc);
            let text = read(&path).map_err(|e| {
                src.error_at(
                    &at,
                    format!("cannot read included file {}: {e}", path.display()),
                )
            })?;
            if !seen.insert(canonical(&path)) || seen.len() > MAX_INCLUDED_FILES {
                return Err(src.error_at(
                    &at,
                    format!(
                        "{} is included more than once (include cycle?)",
                        path.display()
                    ),
                ));
            }
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            included.push(Source::parse(path.display().to_string(), dir, text)?);
        }
        sources.extend(included);
        preambles.push(pre);
        i += 1;
    }

    // 2. environment_variables go into the process environment before anything else is
    // resolved, so `os.environ/` references to them work. The last file that has the
    // section wins, as with LiteLLM's include merge.
    let mut environment_variables = BTreeMap::new();
    if let Some(idx) = (0..sources.len())
        .rev()
        .find(|&i| sources[i].has("environment_variables"))
    {
        environment_variables =
            set_environment(&sources[idx], &preambles[idx].environment_variables)?;
    }

    // 3. Typed parse of each file, merged in order as LiteLLM's include does: lists are
    // appended, any other key an included file has replaces the earlier value.
    let mut cfg = Config::default();
    for (idx, src) in sources.iter().enumerate() {
        let mut part: Config = src.deserialize()?;
        part.extra.remove("include");
        part.extra.remove("environment_variables");
        if idx == 0 {
            cfg = part;
            continue;
        }
        cfg.model_list.extend(part.model_list);
        if src.has("litellm_settings") {
            cfg.litellm_settings = part.litellm_settings;
        }
        if src.has("general_settings") {
            cfg.general_settings = part.general_settings;
        }
        if src.has("router_settings") {
            cfg.router_settings = part.router_settings;
        }
        for (k, v) in part.extra {
            match (cfg.extra.get_mut(&k), v) {
                (Some(serde_json::Value::Array(have)), serde_json::Value::Array(more)) => {
                    have.extend(more)
                }
                (_, v) => {
                    cfg.extra.insert(k, v);
                }
            }
        }
    }
    cfg.environment_variables = environment_variables;
    cfg.written = super::Written(written(&sources));

    // 4. Free-form values get the same `os.environ/` treatment as typed ones.
    resolve_extras(&mut cfg);
    // 5. The router's settings are checked whole (fallback shapes, policies, strategy).
    if let Err((field, message)) = super::router::settings(&cfg) {
        let path: Vec<Seg> = field.split('.').map(|k| Seg::Key(k.into())).collect();
        let src = sources.iter().rev().find(|s| s.has("router_settings"));
        return Err(src.unwrap_or(&sources[0]).error_at(&path, message));
    }
    for src in &sources {
        env::warn_unset(&src.name, &src.value, "");
    }
    Ok(cfg)
}

/// Sets the section's variables; returns what was set.
///
/// `std::env::set_var` is only sound while no other thread reads the environment: config is
/// loaded at start, before the async runtime spawns its workers (see `server::run`).
fn set_environment(
    src: &Source,
    vars: &BTreeMap<String, EnvValue>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut set = BTreeMap::new();
    for (key, value) in vars {
        let at = || {
            vec![
                Seg::Key("environment_variables".into()),
                Seg::Key(key.clone()),
            ]
        };
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(src.error_at(&at(), format!("invalid environment variable name {key:?}")));
        }
        let Some(value) = &value.0 else { continue };
        if value.contains('\0') {
            return Err(src.error_at(&at(), "the value contains a NUL byte".into()));
        }
        if std::env::var(key).ok().as_deref() != Some(value.as_str()) {
            std::env::set_var(key, value);
        }
        set.insert(key.clone(), value.clone());
    }
    Ok(set)
}

fn resolve_extras(cfg: &mut Config) {
    let resolve_map = |m: &mut serde_json::Map<String, serde_json::Value>| {
        m.values_mut().for_each(env::resolve_json)
    };
    resolve_map(&mut cfg.extra);
    resolve_map(&mut cfg.litellm_settings.extra);
    resolve_map(&mut cfg.general_settings.extra);
    resolve_map(&mut cfg.router_settings.extra);
    for entry in &mut cfg.model_list {
        resolve_map(&mut entry.litellm_params.extra);
        resolve_map(&mut entry.model_info.extra);
        if let Some(mock) = &mut entry.litellm_params.mock_response {
            env::resolve_json(mock);
        }
    }
}

/// The files' trees merged as the typed sections are (lists appended, other keys replaced),
/// before any `os.environ/` is resolved.
fn written(sources: &[Source]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for src in sources {
        let Value::Mapping(m) = &src.value else {
            continue;
        };
        for (k, v) in m {
            let k = yaml_key(k);
            if k == "include" {
                continue;
            }
            match (out.get_mut(&k), yaml_json(v)) {
                (Some(serde_json::Value::Array(have)), serde_json::Value::Array(more)) => {
                    have.extend(more)
                }
                (_, v) => {
                    out.insert(k, v);
                }
            }
        }
    }
    serde_json::Value::Object(out)
}

fn yaml_key(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_norway::to_string(other)
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default(),
    }
}

fn yaml_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(J::Null, J::Number)
            }
        }
        Value::String(s) => J::String(s.clone()),
        Value::Sequence(items) => J::Array(items.iter().map(yaml_json).collect()),
        Value::Mapping(m) => {
            J::Object(m.iter().map(|(k, v)| (yaml_key(k), yaml_json(v))).collect())
        }
        Value::Tagged(t) => yaml_json(&t.value),
    }
}
