//! A Claude model's generation, read from its id: how it thinks, whether it takes sampling
//! parameters, where it takes system messages.

/// What a Claude model id says about the request it takes, by LiteLLM's rules for Claude ids
/// (its model map's generalisations, which its explicit entries agree with).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// Version 4.6 or later: adaptive thinking, `output_config.effort`.
    pub adaptive: bool,
    /// Exactly 4.6: adaptive, yet still takes `type: enabled` with a budget.
    pub legacy_budgets: bool,
    /// Fable and Mythos: always think, and refuse `type: disabled`.
    pub always_on: bool,
    /// Version 5 or later: thinks when the request says nothing.
    pub on_by_default: bool,
    /// Version 4.8 or later: takes `system` messages inside the conversation.
    pub mid_system: bool,
    /// Version 4.7 or later, Fable and Mythos: no `top_p`, `top_k`, nor a temperature but 1.
    pub no_sampling: bool,
}

impl Generation {
    pub fn of(model: &str) -> Generation {
        let mut g = Generation::default();
        let mut rest = model;
        while let Some(at) = rest.find("claude-") {
            rest = &rest[at + "claude-".len()..];
            let family_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            if family_len == 0 || rest.as_bytes().get(family_len) != Some(&b'-') {
                continue;
            }
            let family = &rest[..family_len];
            let version = &rest[family_len + 1..];
            g.always_on |= family == "fable" || family == "mythos";
            g.no_sampling |= g.always_on;
            let (major, after) = digits(version);
            match (major, after.as_bytes().first()) {
                ("4", Some(b'-' | b'.' | b'_')) => {
                    let (minor, _) = digits(&after[1..]);
                    let m: u32 = minor.parse().unwrap_or(0);
                    // One or two digits (4.10+); a longer run is a date, not a minor.
                    let at_least = |n: u32| match minor.len() {
                        1 => m >= n,
                        2 => m >= 10,
                        _ => false,
                    };
                    g.adaptive |= at_least(6);
                    g.legacy_budgets |= minor == "6";
                    g.no_sampling |= at_least(7);
                    g.mid_system |= at_least(8);
                }
                (m, _) if m.len() == 1 && m.as_bytes()[0] >= b'5' => {
                    g.adaptive = true;
                    g.on_by_default = true;
                    g.mid_system = true;
                    g.no_sampling = true;
                }
                _ => {}
            }
        }
        g
    }

    pub fn thinks_by_default(&self) -> bool {
        self.always_on || self.on_by_default
    }
}

/// The leading ASCII digits of `s`, and what follows them.
fn digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s.split_at(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_by_model_id() {
        let g = Generation::of;
        assert!(!g("claude-haiku-4-5").adaptive);
        assert!(!g("claude-3-7-sonnet-20250219").adaptive);
        assert!(!g("claude-sonnet-4-20250514").adaptive);
        let opus46 = g("claude-opus-4-6");
        assert!(opus46.adaptive && opus46.legacy_budgets && !opus46.on_by_default);
        assert!(g("claude-opus-4-7-20260416").adaptive && !g("claude-opus-4-7").legacy_budgets);
        assert!(g("us.anthropic.claude-sonnet-4-6-v1:0").legacy_budgets);
        let fable = g("claude-fable-5");
        assert!(fable.adaptive && fable.always_on && fable.on_by_default);
        assert!(!g("claude-opus-41").adaptive);
        assert!(!g("claude-opus-4-6").no_sampling && g("claude-opus-4-7").no_sampling);
        assert!(g("claude-mythos-preview").no_sampling && g("claude-sonnet-5").no_sampling);
        assert!(!g("claude-opus-4-7").mid_system && g("claude-opus-4-8").mid_system);
    }
}
