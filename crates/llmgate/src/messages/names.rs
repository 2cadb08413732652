//! Tool names the chat format refuses: OpenAI takes at most 64 characters, Claude Code's MCP
//! tools (`mcp__server__tool`) can be longer. Sent shortened (a stable hash keeps them apart,
//! as LiteLLM does), given back to the client under their own names.

use super::MessagesRequest;

const MAX: usize = 64;

/// The name a tool is sent under: itself, or its first 55 characters and a hash of the whole.
pub fn sent(name: &str) -> String {
    if name.len() <= MAX {
        return name.to_string();
    }
    let mut end = 55;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    // FNV-1a: the same name gives the same suffix in every request of a conversation.
    let hash = name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!("{}_{:08x}", &name[..end], hash as u32)
}

/// The request's shortened names, to restore them in the answer.
#[derive(Default, Clone, Debug)]
pub struct ToolNames(Vec<(String, String)>);

impl ToolNames {
    pub fn of(req: &MessagesRequest) -> ToolNames {
        let names = req
            .tools
            .iter()
            .flatten()
            .filter_map(|t| t["name"].as_str())
            .filter(|n| n.len() > MAX)
            .map(|n| (sent(n), n.to_string()))
            .collect();
        ToolNames(names)
    }

    /// The client's name for a name the model answered with.
    pub fn original<'a>(&'a self, name: &'a str) -> &'a str {
        self.0
            .iter()
            .find(|(s, _)| s == name)
            .map_or(name, |(_, o)| o.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_stably_and_restored() {
        let long = format!("mcp__some_server__{}", "x".repeat(60));
        let s = sent(&long);
        assert_eq!(s.len(), 64);
        assert_eq!(s, sent(&long));
        assert_ne!(s, sent(&format!("{long}y")));
        assert_eq!(sent("Read"), "Read");
        let req: MessagesRequest = serde_json::from_value(serde_json::json!({
            "model": "m", "messages": [], "tools": [{"name": long, "input_schema": {}}, {"name": "Read"}]}))
        .unwrap();
        let names = ToolNames::of(&req);
        assert_eq!(names.original(&s), long);
        assert_eq!(names.original("Read"), "Read");
    }
}
