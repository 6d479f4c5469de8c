//! Queries: what a search term means, how it runs against the index, and the snippet of a hit.
//!
//! **Syntax.** Words separated by spaces must all occur in the thread (in any of its documents);
//! `"two words"` is a phrase (the words in that order, in one document); `pref*` is a prefix; a
//! word the tokenizer splits (`foo-bar`, a thread id, a run of ideographs) is a phrase of its
//! parts. Matching is on words, case-insensitive and accent-folded.
//!
//! **Ranking.** A thread's score is the sum, over the clauses, of the BM25 scores of its
//! matching documents: the more (and the more specific) its matches, the higher it ranks. Ties
//! go to the smaller thread id.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};
use threadstore_api::occurrence::{SNIPPET_AFTER, SNIPPET_BEFORE};
use threadstore_api::ThreadId;

use crate::index::{id_of, Fields, SearchIndex};
use crate::tokenizer::{words, Word};
use crate::SearchResult;

/// One clause of a query: normalized words, each with its position in the clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    /// One word.
    Word(String),
    /// Words in order.
    Phrase(Vec<(usize, String)>),
    /// Words in order, the last one a prefix.
    Prefix(Vec<(usize, String)>),
}

/// A parsed search term: every clause must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    clauses: Vec<Clause>,
}

fn positioned(ws: Vec<Word>) -> Vec<(usize, String)> {
    let first = ws.first().map_or(0, |w| w.position);
    ws.into_iter()
        .map(|w| (w.position - first, w.text))
        .collect()
}

impl SearchQuery {
    /// Parses `term`; `None` when it holds no word.
    pub fn parse(term: &str) -> Option<Self> {
        let mut clauses = Vec::new();
        let mut rest = term;
        while let Some(c) = rest.chars().next() {
            if c.is_whitespace() {
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let (chunk, quoted, next) = if c == '"' {
                let body = &rest[1..];
                match body.find('"') {
                    Some(end) => (&body[..end], true, &body[end + 1..]),
                    None => (body, true, ""),
                }
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], false, &rest[end..])
            };
            rest = next;
            let prefix = !quoted && chunk.ends_with('*');
            let ws = words(chunk.trim_end_matches('*'));
            if ws.is_empty() {
                continue;
            }
            clauses.push(if prefix {
                Clause::Prefix(positioned(ws))
            } else if ws.len() == 1 {
                Clause::Word(ws.into_iter().next().map(|w| w.text).unwrap_or_default())
            } else {
                Clause::Phrase(positioned(ws))
            });
        }
        (!clauses.is_empty()).then_some(Self { clauses })
    }

    /// Its clauses.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    fn tantivy_query(clause: &Clause, f: &Fields) -> Box<dyn Query> {
        let term = |w: &str| Term::from_field_text(f.text, w);
        let terms = |ws: &[(usize, String)]| -> Vec<(usize, Term)> {
            ws.iter().map(|(p, w)| (*p, term(w))).collect()
        };
        match clause {
            Clause::Word(w) => Box::new(TermQuery::new(term(w), IndexRecordOption::WithFreqs)),
            Clause::Phrase(ws) => Box::new(PhraseQuery::new_with_offset(terms(ws))),
            Clause::Prefix(ws) => Box::new(PhrasePrefixQuery::new_with_offset(terms(ws))),
        }
    }
}

/// A thread that matches, with what ranks it and where its best match is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The thread.
    pub thread: ThreadId,
    /// Its score (higher is better).
    pub score: f32,
    /// Matching documents, over all clauses.
    pub matches: u32,
    /// Position of its best-scoring document of the first clause
    /// ([`crate::index::META_POSITION`]: the thread's own document).
    pub best_position: u64,
}

/// Every thread matching `query` (only `thread`'s, when given), best first (ties: smaller id
/// first). Blocking: a search reads the index's files.
pub fn search(
    index: &SearchIndex,
    query: &SearchQuery,
    thread: Option<ThreadId>,
) -> SearchResult<Vec<Hit>> {
    let f = index.fields();
    let searcher = index.searcher();
    let mut total: Option<HashMap<(u64, u64), Agg>> = None;
    for clause in &query.clauses {
        let mut q = SearchQuery::tantivy_query(clause, &f);
        if let Some(id) = thread {
            let only = TermQuery::new(
                Term::from_field_text(f.thread, &id.to_string()),
                IndexRecordOption::Basic,
            );
            q = Box::new(BooleanQuery::new(vec![
                (Occur::Must, q),
                (Occur::Must, Box::new(only)),
            ]));
        }
        let found = searcher.search(q.as_ref(), &ByThread)?;
        total = Some(match total {
            None => found,
            Some(mut acc) => {
                acc.retain(|k, _| found.contains_key(k));
                for (k, agg) in acc.iter_mut() {
                    if let Some(more) = found.get(k) {
                        agg.score += more.score;
                        agg.matches += more.matches;
                    }
                }
                acc
            }
        });
        if total.as_ref().is_some_and(HashMap::is_empty) {
            break;
        }
    }
    let mut hits: Vec<Hit> = total
        .unwrap_or_default()
        .into_iter()
        .map(|((hi, lo), agg)| Hit {
            thread: id_of(hi, lo),
            score: agg.score,
            matches: agg.matches,
            best_position: agg.best_position,
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.thread.cmp(&b.thread))
    });
    Ok(hits)
}

/// Documents per thread in the index (for `verify`). Blocking.
pub fn documents_per_thread(index: &SearchIndex) -> SearchResult<HashMap<ThreadId, u64>> {
    let searcher = index.searcher();
    let found = searcher.search(&tantivy::query::AllQuery, &ByThread)?;
    Ok(found
        .into_iter()
        .map(|((hi, lo), agg)| (id_of(hi, lo), u64::from(agg.matches)))
        .collect())
}

/// Documents of one thread (for tests and `verify`). Blocking.
pub fn documents_of(index: &SearchIndex, thread: ThreadId) -> SearchResult<u64> {
    let f = index.fields();
    let q = TermQuery::new(
        Term::from_field_text(f.thread, &thread.to_string()),
        IndexRecordOption::Basic,
    );
    Ok(index.searcher().search(&q, &tantivy::collector::Count)? as u64)
}

#[derive(Clone, Copy, Debug)]
struct Agg {
    score: f32,
    matches: u32,
    best: f32,
    best_position: u64,
}

/// Groups matching documents by thread: summed score, count, best document.
struct ByThread;

struct ByThreadSegment {
    hi: Column<u64>,
    lo: Column<u64>,
    position: Column<u64>,
    found: HashMap<(u64, u64), Agg>,
}

impl Collector for ByThread {
    type Fruit = HashMap<(u64, u64), Agg>;
    type Child = ByThreadSegment;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<ByThreadSegment> {
        let ff = reader.fast_fields();
        Ok(ByThreadSegment {
            hi: ff.u64("thread_hi")?,
            lo: ff.u64("thread_lo")?,
            position: ff.u64("position")?,
            found: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: HashMap<(u64, u64), Agg> = HashMap::new();
        for fruit in fruits {
            for (k, agg) in fruit {
                all.entry(k).and_modify(|a| merge(a, &agg)).or_insert(agg);
            }
        }
        Ok(all)
    }
}

fn merge(into: &mut Agg, other: &Agg) {
    into.score += other.score;
    into.matches += other.matches;
    if other.best > into.best
        || (other.best == into.best && other.best_position < into.best_position)
    {
        into.best = other.best;
        into.best_position = other.best_position;
    }
}

impl SegmentCollector for ByThreadSegment {
    type Fruit = HashMap<(u64, u64), Agg>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let key = (
            self.hi.first(doc).unwrap_or_default(),
            self.lo.first(doc).unwrap_or_default(),
        );
        let hit = Agg {
            score,
            matches: 1,
            best: score,
            best_position: self.position.first(doc).unwrap_or_default(),
        };
        self.found
            .entry(key)
            .and_modify(|a| merge(a, &hit))
            .or_insert(hit);
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}

/// The byte ranges of `text`'s words that match a clause of `query`, in text order.
pub fn match_ranges(text: &str, query: &SearchQuery) -> Vec<std::ops::Range<usize>> {
    let ws = words(text);
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    for clause in &query.clauses {
        let (seq, prefix_last): (Vec<&str>, bool) = match clause {
            Clause::Word(w) => (vec![w.as_str()], false),
            Clause::Phrase(p) => (p.iter().map(|(_, w)| w.as_str()).collect(), false),
            Clause::Prefix(p) => (p.iter().map(|(_, w)| w.as_str()).collect(), true),
        };
        if seq.is_empty() || seq.len() > ws.len() {
            continue;
        }
        for start in 0..=ws.len() - seq.len() {
            let matched = seq.iter().enumerate().all(|(i, want)| {
                let got = ws[start + i].text.as_str();
                if prefix_last && i + 1 == seq.len() {
                    got.starts_with(want)
                } else {
                    got == *want
                }
            });
            if matched {
                spans.push(ws[start].range.start..ws[start + seq.len() - 1].range.end);
            }
        }
    }
    // In text order; overlapping matches (of two clauses) become one range.
    spans.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for span in spans {
        match out.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => out.push(span),
        }
    }
    out
}

/// A snippet of `text` around its first match of `query`: up to [`SNIPPET_BEFORE`] characters
/// before it and [`SNIPPET_AFTER`] after, `"... "` / `" ..."` where cut, whitespace collapsed to
/// single spaces, and the ranges of every match inside it in UTF-16 code units. With no match,
/// the start of the text and no ranges.
pub fn snippet(text: &str, query: &SearchQuery) -> (String, Vec<(usize, usize)>) {
    // Collapse whitespace first, so ranges are found in the text shown.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let ranges = match_ranges(&flat, query);
    let char_at = |byte: usize| flat[..byte].chars().count();
    let total = flat.chars().count();
    let (from, to) = match ranges.first() {
        Some(first) => {
            let start = char_at(first.start);
            let end = char_at(first.end);
            (
                start.saturating_sub(SNIPPET_BEFORE),
                end.saturating_add(SNIPPET_AFTER).min(total),
            )
        }
        None => (0, total.min(SNIPPET_BEFORE + SNIPPET_AFTER)),
    };
    let byte_of = |chars: usize| {
        flat.char_indices()
            .nth(chars)
            .map_or(flat.len(), |(b, _)| b)
    };
    let (from_b, to_b) = (byte_of(from), byte_of(to));
    let mut out = String::new();
    if from > 0 {
        out.push_str("... ");
    }
    let lead = utf16(&out);
    out.push_str(&flat[from_b..to_b]);
    if to < total {
        out.push_str(" ...");
    }
    let spans = ranges
        .iter()
        .filter(|r| r.start >= from_b && r.end <= to_b)
        .map(|r| {
            let start = lead + utf16(&flat[from_b..r.start]);
            (start, start + utf16(&flat[r.start..r.end]))
        })
        .collect();
    (out, spans)
}

fn utf16(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> SearchQuery {
        SearchQuery::parse(s).unwrap()
    }

    #[test]
    fn terms_phrases_and_prefixes_parse() {
        assert_eq!(
            q(r#"Parser "borrow checker" tok*"#).clauses,
            vec![
                Clause::Word("parser".into()),
                Clause::Phrase(vec![(0, "borrow".into()), (1, "checker".into())]),
                Clause::Prefix(vec![(0, "tok".into())]),
            ]
        );
        assert_eq!(
            q("foo-bar").clauses,
            vec![Clause::Phrase(vec![(0, "foo".into()), (1, "bar".into())])]
        );
        assert!(SearchQuery::parse(" ,; ").is_none());
        assert!(SearchQuery::parse("").is_none());
    }

    #[test]
    fn snippets_mark_every_match_in_utf16() {
        let (s, r) = snippet("Le café est fermé; café noir.", &q("cafe"));
        assert_eq!(s, "Le café est fermé; café noir.");
        assert_eq!(r, vec![(3, 7), (19, 23)]);
        let (s, r) = snippet("修复了 parser 的错误", &q("错误"));
        assert_eq!(&s, "修复了 parser 的错误");
        assert_eq!(r, vec![(12, 14)]);
        let (s, r) = snippet("emoji 😀 then target", &q("target"));
        assert_eq!(r, vec![(14, 20)]);
        assert_eq!(s.encode_utf16().skip(14).take(6).count(), 6);
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let text = format!("{} needle {}", "a ".repeat(200), "b ".repeat(200));
        let (s, r) = snippet(&text, &q("needle"));
        assert!(s.starts_with("... ") && s.ends_with(" ..."));
        let (a, b) = r[0];
        assert_eq!(&s[a..b], "needle");
    }

    #[test]
    fn prefix_and_phrase_matches_are_marked() {
        assert_eq!(
            match_ranges(
                "tokenize the tokens, borrow checker",
                &q(r#"tok* "borrow checker""#)
            ),
            vec![0..8, 13..19, 21..35]
        );
    }
}
