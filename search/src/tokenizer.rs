//! The words of a text, as the index and the highlighter see them: runs of letters and digits,
//! except that each CJK ideograph, kana or hangul syllable is a word of its own (those scripts
//! do not separate words with spaces; a term of several such characters is matched as a phrase
//! of them). Then lowercased and ASCII-folded (`café` matches `cafe`); words longer than
//! [`MAX_WORD_BYTES`] (base64, hashes run together) are dropped.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Words longer than this many bytes are not indexed.
pub const MAX_WORD_BYTES: usize = 64;

/// The analyzer every text goes through, at indexing, at query time and for highlighting.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// A word of the text: its normalized form and its byte range in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Lowercased, folded.
    pub text: String,
    /// Byte range in the analyzed text.
    pub range: std::ops::Range<usize>,
    /// Position in the text, in words (dropped words leave a gap).
    pub position: usize,
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push(Word {
            text: t.text.clone(),
            range: t.offset_from..t.offset_to,
            position: t.position,
        });
    }
    out
}

/// Whether `c` is a word on its own (scripts written without spaces).
fn stands_alone(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

/// Splits text into runs of alphanumeric characters, each [`stands_alone`] character apart.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

/// The token stream of [`WordTokenizer`].
pub struct WordStream<'a> {
    text: &'a str,
    at: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            at: 0,
            token: &mut self.token,
        }
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        let rest = &self.text[self.at..];
        let mut start = None;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match start {
                None if stands_alone(c) => {
                    start = Some(i);
                    end = i + c.len_utf8();
                    break;
                }
                None if c.is_alphanumeric() => start = Some(i),
                None => {}
                Some(_) if c.is_alphanumeric() && !stands_alone(c) => {}
                Some(_) => {
                    end = i;
                    break;
                }
            }
        }
        let Some(start) = start else {
            self.at = self.text.len();
            return false;
        };
        let (from, to) = (self.at + start, self.at + end);
        self.at = to;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.text.push_str(&self.text[from..to]);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        words(s).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_are_alphanumeric_runs_lowercased_and_folded() {
        assert_eq!(
            texts("Fix the Café-bug, v2!"),
            ["fix", "the", "cafe", "bug", "v2"]
        );
        assert_eq!(words("ab cd")[1].range, 3..5);
    }

    #[test]
    fn each_ideograph_is_a_word_and_ranges_are_bytes() {
        assert_eq!(texts("修复bug测试"), ["修", "复", "bug", "测", "试"]);
        let w = words("修复bug");
        assert_eq!(w[1].range, 3..6);
        assert_eq!(w[2].range, 6..9);
    }

    #[test]
    fn long_runs_are_not_words() {
        let blob = "A".repeat(200);
        assert_eq!(texts(&format!("see {blob} here")), ["see", "here"]);
    }
}
