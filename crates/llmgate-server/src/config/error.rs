//! Config errors that say where: file, line and column, field path, what is wrong.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file itself can't be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad YAML, or a value that doesn't fit its field.
    #[error("{}", Located { file, line: *line, column: *column, field, message })]
    Invalid {
        /// The file as it was named (the config, or an included file).
        file: String,
        /// 1-based; `None` when it couldn't be told.
        line: Option<usize>,
        column: Option<usize>,
        /// e.g. `model_list[1].litellm_params.rpm`; empty for the whole document.
        field: String,
        message: String,
    },
}

impl ConfigError {
    /// The field path the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { field, .. } if !field.is_empty() => Some(field),
            _ => None,
        }
    }

    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => *line,
            ConfigError::Read { .. } => None,
        }
    }
}

struct Located<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    field: &'a str,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, ": line {l}, column {c}")?,
            (Some(l), None) => write!(f, ": line {l}")?,
            _ => {}
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

pub(crate) fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

pub(crate) fn segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    let mut out = Vec::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push(Seg::Index(*index)),
            Segment::Map { key } => out.push(Seg::Key(key.clone())),
            Segment::Enum { variant } => out.push(Seg::Key(variant.clone())),
            Segment::Unknown => break,
        }
    }
    out
}

/// serde_norway's message without what we print separately: its trailing
/// " at line L column C" and its own leading "path: ".
pub(crate) fn bare_message(err: &serde_norway::Error, field: &str) -> String {
    let mut msg = err.to_string();
    if let Some(loc) = err.location() {
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(i) = msg.find(&suffix) {
            msg.replace_range(i..i + suffix.len(), "");
        }
    }
    if let Some((head, tail)) = msg.split_once(": ") {
        let looks_like_path = !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_alphanumeric() || "_-.[]?".contains(c));
        if head == field || looks_like_path {
            msg = tail.to_string();
        }
    }
    msg
}

/// A line of YAML as the locator sees it.
struct Line<'a> {
    /// 1-based line number.
    no: usize,
    /// Leading spaces.
    indent: usize,
    /// Starts with a sequence item marker (`- `).
    dash: bool,
    /// Column where the content starts, after any `- ` markers.
    col: usize,
    rest: &'a str,
}

fn scan(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start_matches(' ');
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || raw.starts_with("---")
            || raw.starts_with("...")
            || raw.starts_with('%')
        {
            continue;
        }
        let indent = raw.len() - trimmed.len();
        let (mut col, mut rest, mut dash) = (indent, trimmed, false);
        while rest == "-" || rest.starts_with("- ") {
            dash = true;
            let after = rest[1..].trim_start_matches(' ');
            col += rest.len() - after.len();
            rest = after;
        }
        out.push(Line {
            no: i + 1,
            indent,
            dash,
            col,
            rest,
        });
    }
    out
}

fn is_key(rest: &str, key: &str) -> bool {
    let after = [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .into_iter()
        .find_map(|k| rest.strip_prefix(k.as_str()).map(str::to_string));
    match after {
        Some(a) => {
            let a = a.trim_start_matches(' ');
            a == ":" || a.starts_with(": ") || a.starts_with(":\t")
        }
        None => false,
    }
}

/// Best-effort line of the value at `path` in block-style YAML: the line of the deepest
/// path step found in the text. For errors the YAML parser can't place (checks after
/// parsing, documents using merge keys, whose values may come from elsewhere).
pub(crate) fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    let lines = scan(text);
    let (mut lo, mut hi) = (0, lines.len());
    let mut key_col = lines.first()?.col;
    let mut found = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let Some(i) =
                    (lo..hi).find(|&i| lines[i].col == key_col && is_key(lines[i].rest, k))
                else {
                    break;
                };
                found = Some(lines[i].no);
                // The value's block: deeper lines, or a sequence at the key's own indent.
                let end = (i + 1..hi)
                    .find(|&j| {
                        lines[j].indent < key_col || (lines[j].indent == key_col && !lines[j].dash)
                    })
                    .unwrap_or(hi);
                (lo, hi) = (i + 1, end);
                if lo < hi {
                    key_col = lines[lo].col;
                }
            }
            Seg::Index(n) => {
                let Some(first) = lines.get(lo).filter(|_| lo < hi && lines[lo].dash) else {
                    break;
                };
                let seq_indent = first.indent;
                let items: Vec<usize> = (lo..hi)
                    .filter(|&j| lines[j].dash && lines[j].indent == seq_indent)
                    .collect();
                let Some(&j) = items.get(*n) else {
                    break;
                };
                found = Some(lines[j].no);
                let end = items.get(n + 1).copied().unwrap_or(hi);
                (lo, hi) = (j, end);
                // `-` alone on its line: the item's keys start on the next one.
                key_col = if lines[j].rest.is_empty() && j + 1 < end {
                    lines[j + 1].col
                } else {
                    lines[j].col
                };
                if lines[j].rest.is_empty() {
                    lo = j + 1;
                }
            }
        }
    }
    found
}
