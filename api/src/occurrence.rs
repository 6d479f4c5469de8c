//! Every occurrence of a term inside one thread (CONTRACT.md §8, `search_thread_occurrences`;
//! Codex's `thread/searchOccurrences`, `reference/codex-thread-items.md` §4.3): which items are
//! searched, their searchable text, the matches and their snippets. Pure functions of one
//! ThreadItem; the store walks the items.
//!
//! - **Candidates**: every `userMessage`, and each turn's summary agent message (its final
//!   answer; commentary is never searched).
//! - **Searchable text**: a user message's `text` parts, each without anything up to and
//!   including `## My request for Codex:` and trimmed, joined with nothing between them; an agent
//!   message's Markdown rendered to plain text with its whitespace collapsed.
//! - **Matching**: literal and case-insensitive (Unicode lowercase), non-overlapping, in text
//!   order.
//! - **Snippet**: up to [`SNIPPET_BEFORE`] characters before the match and [`SNIPPET_AFTER`]
//!   after it, with `"... "` / `" ..."` where the text is cut; the match's range in the snippet is
//!   in UTF-16 code units, as Codex's clients index strings.

use pulldown_cmark::{Event, Parser, TagEnd};
use serde_json::Value;

/// Characters kept before a match (Codex's answers keep 49).
pub const SNIPPET_BEFORE: usize = 49;
/// Characters kept after a match.
pub const SNIPPET_AFTER: usize = 96;
/// A user message's text up to and including this marker is the client's preamble, not the
/// request: it is not searched.
pub const REQUEST_MARKER: &str = "## My request for Codex:";

/// What a candidate item is: the rule that makes its searchable text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Candidate {
    /// A `userMessage`: its text parts.
    UserMessage,
    /// A turn's summary agent message: its Markdown as plain text.
    FinalAnswer,
}

/// The searchable text of a ThreadItem read as `candidate`; `None` when the item is not of that
/// kind.
pub fn searchable_text(item: &Value, candidate: Candidate) -> Option<String> {
    let kind = item.get("type").and_then(Value::as_str)?;
    match (candidate, kind) {
        (Candidate::UserMessage, "userMessage") => Some(
            item.get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .map(|text| match text.find(REQUEST_MARKER) {
                    Some(at) => text[at + REQUEST_MARKER.len()..].trim(),
                    None => text.trim(),
                })
                .collect(),
        ),
        (Candidate::FinalAnswer, "agentMessage") => {
            Some(plain_text(item.get("text").and_then(Value::as_str)?))
        }
        _ => None,
    }
}

/// Markdown as plain text: the text of every inline and block, blocks and line breaks as
/// spaces, whitespace collapsed to single spaces.
pub fn plain_text(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                raw.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule => raw.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableCell,
            ) => raw.push(' '),
            _ => {}
        }
    }
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One match: character offsets `[start, end)` in the searchable text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// First character of the match.
    pub start: usize,
    /// One past its last character.
    pub end: usize,
}

/// The term as it is matched (Unicode lowercase); `None` for a blank term.
pub fn normalize_term(term: &str) -> Option<Vec<char>> {
    let lowered: Vec<char> = term.chars().flat_map(char::to_lowercase).collect();
    (!term.trim().is_empty()).then_some(lowered)
}

/// The non-overlapping, case-insensitive matches of `term` (from [`normalize_term`]) in `text`,
/// in order, as character ranges of `text`.
pub fn find_matches(text: &str, term: &[char]) -> Vec<Match> {
    if term.is_empty() {
        return Vec::new();
    }
    // The lowered text, each lowered character with the index of the character it came from
    // (lowercasing may turn one character into several).
    let mut lowered: Vec<char> = Vec::with_capacity(text.len());
    let mut origin: Vec<usize> = Vec::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        for l in c.to_lowercase() {
            lowered.push(l);
            origin.push(index);
        }
    }
    let mut matches = Vec::new();
    let mut at = 0;
    while at + term.len() <= lowered.len() {
        if lowered[at..at + term.len()] == *term {
            let start = origin[at];
            let end = origin[at + term.len() - 1] + 1;
            matches.push(Match { start, end });
            at += term.len();
        } else {
            at += 1;
        }
    }
    matches
}

/// A match's snippet and the match's range in it, in UTF-16 code units.
pub fn snippet(text: &str, m: Match) -> (String, (usize, usize)) {
    let chars: Vec<char> = text.chars().collect();
    let from = m.start.saturating_sub(SNIPPET_BEFORE);
    let to = m.end.saturating_add(SNIPPET_AFTER).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push_str("... ");
    }
    let before: String = chars[from..m.start].iter().collect();
    out.push_str(&before);
    let start = utf16_len(&out);
    let matched: String = chars[m.start..m.end].iter().collect();
    out.push_str(&matched);
    let end = utf16_len(&out);
    let after: String = chars[m.end..to].iter().collect();
    out.push_str(&after);
    if to < chars.len() {
        out.push_str(" ...");
    }
    (out, (start, end))
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn term(t: &str) -> Vec<char> {
        normalize_term(t).unwrap()
    }

    #[test]
    fn a_user_message_is_searched_after_the_request_marker_and_trimmed() {
        let item = json!({"type": "userMessage", "id": "u", "content": [
            {"type": "text", "text": "context\n## My request for Codex:\n  Fix it "},
            {"type": "image", "url": "x"},
            {"type": "text", "text": " and more"},
        ]});
        assert_eq!(
            searchable_text(&item, Candidate::UserMessage).as_deref(),
            Some("Fix itand more")
        );
        assert_eq!(searchable_text(&item, Candidate::FinalAnswer), None);
    }

    #[test]
    fn an_answer_is_its_markdown_as_plain_text() {
        let item = json!({"type": "agentMessage", "id": "a", "text":
            "# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n```\nfn x() {}\n```"});
        assert_eq!(
            searchable_text(&item, Candidate::FinalAnswer).as_deref(),
            Some("Title Some bold and code. one two fn x() {}")
        );
    }

    #[test]
    fn matches_are_case_insensitive_and_do_not_overlap() {
        assert_eq!(
            find_matches("aAa aaa", &term("aa")),
            vec![Match { start: 0, end: 2 }, Match { start: 4, end: 6 }]
        );
        assert_eq!(
            find_matches("Straße STRASSE", &term("straße")),
            vec![Match { start: 0, end: 6 }]
        );
        // A lowercasing that grows the text still maps back to the original characters.
        assert_eq!(
            find_matches("İstanbul", &term("stanbul")),
            vec![Match { start: 1, end: 8 }]
        );
        assert!(normalize_term("  ").is_none());
    }

    #[test]
    fn snippets_are_cut_with_ellipses_and_ranges_count_utf16_units() {
        // Codex's answer for this text (thread/searchOccurrences, Codex 0.171.0).
        let text = "App thread turn two with a tool. RUN: echo app-server pineapple tool";
        let m = find_matches(text, &term("pineapple"))[0];
        assert_eq!(
            snippet(text, m),
            (
                "... hread turn two with a tool. RUN: echo app-server pineapple tool".to_string(),
                (53, 62)
            )
        );
        let long = format!("{}x{}", "🍍".repeat(3), "y".repeat(200));
        let m = find_matches(&long, &term("x"))[0];
        let (s, range) = snippet(&long, m);
        assert_eq!(range, (6, 7), "each pineapple is two UTF-16 units");
        assert!(s.ends_with(" ..."));
        assert_eq!(s.chars().count(), 3 + 1 + SNIPPET_AFTER + 4);
    }
}
