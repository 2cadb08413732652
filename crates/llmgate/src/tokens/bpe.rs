//! A counting-only BPE over tiktoken's vocabularies, small enough to keep loaded.
//!
//! tiktoken-rs's `CoreBPE` holds each token's bytes three times (encoder, decoder, sorted
//! list), each in its own allocation, plus 128 clones of its regexes: o200k_base took 37 MB of
//! heap, cl100k_base 19 MB, for good once a request needed a count. Here every token's bytes
//! sit in one buffer, indexed by rank, and the lookup table holds only ranks (~4 MB for
//! o200k_base). The vocabulary is read once from tiktoken-rs's encoder, which is then dropped.
//! Counts are tiktoken's: the same pre-tokenising pattern, special tokens and merge order.

use fancy_regex::Regex;
use hashbrown::HashTable;
use std::hash::BuildHasher;

pub struct Bpe {
    /// Every token's bytes, rank after rank.
    bytes: Box<[u8]>,
    /// Rank `r`'s bytes are `bytes[starts[r]..starts[r + 1]]`.
    starts: Box<[u32]>,
    /// Ranks, found by the hash of their bytes.
    table: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    pattern: Regex,
    /// Each counts as one token where it appears in the text (`encode_with_special_tokens`).
    specials: Vec<&'static str>,
}

/// The vocabularies llmgate counts with.
#[derive(Clone, Copy)]
pub enum Vocabulary {
    Cl100k,
    O200k,
}

const CL100K_PATTERN: &str = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const O200K_PATTERN: &str = concat!(
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|\\p{N}{1,3}",
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
    "|\\s*[\\r\\n]+",
    "|\\s+(?!\\S)",
    "|\\s+",
);

impl Vocabulary {
    /// Ordinary (mergeable) tokens: ranks `0..n`, all present.
    fn ranks(self) -> u32 {
        match self {
            Vocabulary::Cl100k => 100_256,
            Vocabulary::O200k => 199_998,
        }
    }

    fn specials(self) -> Vec<&'static str> {
        match self {
            Vocabulary::Cl100k => vec![
                "<|endoftext|>",
                "<|fim_prefix|>",
                "<|fim_middle|>",
                "<|fim_suffix|>",
                "<|endofprompt|>",
            ],
            Vocabulary::O200k => vec!["<|endoftext|>", "<|endofprompt|>"],
        }
    }

    fn pattern(self) -> &'static str {
        match self {
            Vocabulary::Cl100k => CL100K_PATTERN,
            Vocabulary::O200k => O200K_PATTERN,
        }
    }
}

impl Bpe {
    pub fn load(v: Vocabulary) -> Bpe {
        let core = match v {
            Vocabulary::Cl100k => tiktoken_rs::cl100k_base(),
            Vocabulary::O200k => tiktoken_rs::o200k_base(),
        }
        .expect("tiktoken's embedded vocabulary parses");
        let n = v.ranks();
        let mut bytes = Vec::with_capacity(n as usize * 7);
        let mut starts = Vec::with_capacity(n as usize + 1);
        for token in core._decode_native_and_split((0..n).collect()) {
            starts.push(bytes.len() as u32);
            bytes.extend_from_slice(&token);
        }
        starts.push(bytes.len() as u32);
        drop(core);
        let mut bpe = Bpe {
            bytes: bytes.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            table: HashTable::with_capacity(n as usize),
            hasher: hashbrown::DefaultHashBuilder::default(),
            pattern: Regex::new(v.pattern()).expect("tiktoken's pattern compiles"),
            specials: v.specials(),
        };
        for r in 0..n {
            let h = bpe.hasher.hash_one(bpe.token(r));
            let (bytes, starts, hasher) = (&bpe.bytes, &bpe.starts, &bpe.hasher);
            bpe.table.insert_unique(h, r, |&r| {
                hasher
                    .hash_one(&bytes[starts[r as usize] as usize..starts[r as usize + 1] as usize])
            });
        }
        bpe
    }

    fn token(&self, r: u32) -> &[u8] {
        &self.bytes[self.starts[r as usize] as usize..self.starts[r as usize + 1] as usize]
    }

    fn rank(&self, piece: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(piece);
        self.table.find(h, |&r| self.token(r) == piece).copied()
    }

    /// Tokens of `text` with special tokens counted as one each, as tiktoken's
    /// `encode_with_special_tokens` returns them.
    pub fn count(&self, text: &str) -> usize {
        let mut total = 0;
        let mut rest = text;
        loop {
            let next = self
                .specials
                .iter()
                .filter_map(|s| rest.find(s).map(|at| (at, s.len())))
                .min();
            match next {
                Some((at, len)) => {
                    total += self.count_ordinary(&rest[..at]) + 1;
                    rest = &rest[at + len..];
                }
                None => return total + self.count_ordinary(rest),
            }
        }
    }

    fn count_ordinary(&self, text: &str) -> usize {
        self.pattern
            .find_iter(text)
            .filter_map(Result::ok)
            .map(|m| self.count_piece(m.as_str().as_bytes()))
            .sum()
    }

    /// Tokens of one pre-tokenised piece: tiktoken's byte-pair merge (the lowest-ranked
    /// adjacent pair merged first), counting the parts left.
    fn count_piece(&self, piece: &[u8]) -> usize {
        if piece.len() <= 1 || self.rank(piece).is_some() {
            return piece.len().min(1);
        }
        // (start, rank of the pair starting there).
        let mut parts: Vec<(usize, u32)> = Vec::with_capacity(piece.len() + 1);
        let mut min = (u32::MAX, usize::MAX);
        for i in 0..piece.len() - 1 {
            let r = self.rank(&piece[i..i + 2]).unwrap_or(u32::MAX);
            if r < min.0 {
                min = (r, i);
            }
            parts.push((i, r));
        }
        parts.push((piece.len() - 1, u32::MAX));
        parts.push((piece.len(), u32::MAX));
        let rank_at = |parts: &[(usize, u32)], i: usize| {
            if i + 3 < parts.len() {
                self.rank(&piece[parts[i].0..parts[i + 3].0])
                    .unwrap_or(u32::MAX)
            } else {
                u32::MAX
            }
        };
        while min.0 != u32::MAX {
            let i = min.1;
            if i > 0 {
                parts[i - 1].1 = rank_at(&parts, i - 1);
            }
            parts[i].1 = rank_at(&parts, i);
            parts.remove(i + 1);
            min = (u32::MAX, usize::MAX);
            for (i, &(_, r)) in parts[..parts.len() - 1].iter().enumerate() {
                if r < min.0 {
                    min = (r, i);
                }
            }
        }
        parts.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_equal_tiktoken_on_varied_text() {
        let texts = [
            "hello world",
            "The quick brown fox jumps over the lazy dog.\n\n  Then it   rests.  ",
            "naïve café — 東京タワー 123456789 3.14159 !!! ??? ```rust\nfn main() {}\n```",
            "I'm you're they've we'll he'd SHE'S",
            "<|endoftext|> a special in the middle <|endofprompt|>end",
            "emoji 🎉🎉 and zero-width\u{200b}joins, tabs\tand\r\nCRLF",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "https://example.com/a/b?c=d&e=f#g {\"json\": [1, 2, {\"k\": null}]}",
            "",
            " ",
            "\n\n\n",
        ];
        for (v, core) in [
            (Vocabulary::Cl100k, tiktoken_rs::cl100k_base().unwrap()),
            (Vocabulary::O200k, tiktoken_rs::o200k_base().unwrap()),
        ] {
            let bpe = Bpe::load(v);
            for t in texts {
                assert_eq!(
                    bpe.count(t),
                    core.encode_with_special_tokens(t).len(),
                    "{t:?}"
                );
            }
        }
    }
}
