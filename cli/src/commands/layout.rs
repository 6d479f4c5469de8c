//! Output that fits the screen: the display width, text cut to a number of columns, tables and
//! one-line reports laid out within it, and counted nouns ("1 turn", "2 turns").
//!
//! # Width
//!
//! `--width N` sets the width; otherwise `COLUMNS` (when it holds a positive number), otherwise
//! the terminal's width when stdout is a terminal, otherwise 100 columns. `--wide` cuts nothing.
//! Widths are display columns (`unicode-width`): a CJK character takes two.
//!
//! # Cutting
//!
//! Free text (previews, messages, paths, names) is cut on a character boundary and marked with
//! `…`, the widest for its share first, down to 10 columns each and then, if the line still does
//! not fit, further; ids, times and counts are never cut, so a width narrower than those overflows
//! rather than mangling an id. Text is made one line first: runs of whitespace become one space and
//! control characters (which could move the cursor or recolor the terminal) become spaces.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// Columns when neither `--width`, `COLUMNS` nor a terminal says.
pub const DEFAULT_WIDTH: usize = 100;

/// The ellipsis that marks cut text (one column wide).
const ELLIPSIS: &str = "…";

/// Columns between table cells.
const GAP: &str = "  ";

/// The narrowest a cut text gets (when it was wider), so there is something left to read.
const MIN_CUT: usize = 10;

/// How wide output may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Display columns; `None` cuts nothing (`--wide`).
    width: Option<usize>,
}

impl Layout {
    /// The layout for `--width`/`--wide`, `COLUMNS` and stdout (see the module docs).
    pub fn resolve(width: Option<u16>, wide: bool) -> Self {
        let columns = std::env::var("COLUMNS").ok();
        let terminal = console::Term::stdout()
            .size_checked()
            .map(|(_rows, cols)| usize::from(cols));
        Self::choose(width, wide, columns.as_deref(), terminal)
    }

    /// [`Layout::resolve`] with the environment and the terminal passed in.
    pub fn choose(
        width: Option<u16>,
        wide: bool,
        columns: Option<&str>,
        terminal: Option<usize>,
    ) -> Self {
        if wide {
            return Self { width: None };
        }
        let from_env = columns
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        let width = width
            .map(usize::from)
            .filter(|&w| w > 0)
            .or(from_env)
            .or(terminal.filter(|&t| t > 0))
            .unwrap_or(DEFAULT_WIDTH);
        Self { width: Some(width) }
    }

    /// A layout of exactly `width` columns (`None`: unlimited).
    #[cfg(test)]
    pub fn with_width(width: Option<usize>) -> Self {
        Self { width }
    }

    /// The width in columns, `None` when nothing is cut.
    pub fn width(&self) -> Option<usize> {
        self.width
    }

    /// This layout less `indent` columns (for lines printed after an indent).
    pub fn indented(&self, indent: usize) -> Self {
        Self {
            width: self.width.map(|w| w.saturating_sub(indent).max(1)),
        }
    }

    /// One line from `parts`, concatenated (control characters become spaces); when it is too
    /// wide, the parts that may be cut are, the widest first, down to [`MIN_CUT`] columns.
    pub fn line(&self, parts: &[(Cow<'_, str>, Cut)]) -> String {
        let texts: Vec<String> = parts.iter().map(|(t, _)| flat(t)).collect();
        let natural: Vec<usize> = texts.iter().map(|t| t.width()).collect();
        let shrinkable: Vec<Shrink> = parts
            .iter()
            .zip(&natural)
            .map(|((_, cut), &w)| Shrink::of(*cut, w, 0, 1))
            .collect();
        let widths = fit_widths(&natural, &shrinkable, self.width);
        texts
            .iter()
            .zip(parts)
            .zip(widths)
            .map(|((text, (_, cut)), w)| cut_to(text, w, *cut).into_owned())
            .collect()
    }

    /// Clauses joined with `; ` on as few lines as fit; lines after the first are indented by
    /// two spaces, and a clause wider than a line is cut at its end.
    pub fn clauses(&self, clauses: &[String]) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for clause in clauses {
            let clause = one_line(clause);
            if current.is_empty() {
                current = clause;
                continue;
            }
            let joined = format!("{current}; {clause}");
            if self.width.is_none_or(|w| joined.width() <= w) {
                current = joined;
            } else {
                lines.push(format!("{current};"));
                current = format!("  {clause}");
            }
        }
        lines.push(current);
        match self.width {
            None => lines,
            Some(w) => lines
                .into_iter()
                .map(|l| cut_to(&l, w, Cut::End).into_owned())
                .collect(),
        }
    }
}

/// Where text may be cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Never (ids, times, counts).
    Never,
    /// At the end: `Fix the bui…`.
    End,
    /// At the start, keeping the end: `…/OpenPrintKit`.
    Start,
    /// In the middle, keeping both ends (paths): `sessions/2026/0…1f-e3.jsonl`.
    Middle,
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table column.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub header: &'static str,
    pub align: Align,
    pub cut: Cut,
    /// Share of the cutting, relative to the other cut columns: a column of weight 2 keeps about
    /// twice the width of one of weight 1.
    pub weight: usize,
    /// Left out when the table cannot fit with it at a readable width (10 columns).
    pub optional: bool,
}

impl Column {
    /// A left-aligned column that is never cut (ids, times).
    pub const fn whole(header: &'static str) -> Self {
        Self {
            header,
            align: Align::Left,
            cut: Cut::Never,
            weight: 1,
            optional: false,
        }
    }

    /// A right-aligned column that is never cut (counts).
    pub const fn number(header: &'static str) -> Self {
        Self {
            header,
            align: Align::Right,
            cut: Cut::Never,
            weight: 1,
            optional: false,
        }
    }

    /// A left-aligned column of free text, cut as `cut` says with the given weight.
    pub const fn text(header: &'static str, cut: Cut, weight: usize) -> Self {
        Self {
            header,
            align: Align::Left,
            cut,
            weight,
            optional: false,
        }
    }

    /// This column, left out when the table cannot fit with it at a readable width.
    pub const fn optional(self) -> Self {
        Self {
            optional: true,
            ..self
        }
    }
}

/// A table without borders: cells separated by two spaces, no padding after a row's last cell.
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[Column]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty; cells are made one line).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells.iter().map(|c| one_line(c)).collect();
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// The table's lines within `layout`, with the header row first when `header`.
    pub fn lines(&self, layout: &Layout, header: bool) -> Vec<String> {
        let headers: Vec<String> = self.columns.iter().map(|c| c.header.to_owned()).collect();
        let rows: Vec<&Vec<String>> = header
            .then_some(&headers)
            .into_iter()
            .chain(&self.rows)
            .collect();
        let natural: Vec<usize> = (0..self.columns.len())
            .map(|i| rows.iter().map(|r| r[i].width()).max().unwrap_or(0))
            .collect();
        let shrink: Vec<Shrink> = self
            .columns
            .iter()
            .zip(&natural)
            .map(|(c, &w)| {
                let floor = if header { c.header.width() } else { 0 };
                Shrink::of(c.cut, w, floor, c.weight)
            })
            .collect();
        // The columns shown: all, less the optional ones (the last first) while the others do
        // not fit at their readable minimum with them.
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        if let Some(width) = layout.width {
            let needs = |shown: &[usize]| {
                shown.iter().map(|&i| shrink[i].min).sum::<usize>()
                    + GAP.len() * shown.len().saturating_sub(1)
            };
            while needs(&shown) > width {
                let Some(drop) = shown.iter().rposition(|&i| self.columns[i].optional) else {
                    break;
                };
                shown.remove(drop);
            }
        }
        let budget = layout
            .width
            .map(|w| w.saturating_sub(GAP.len() * shown.len().saturating_sub(1)));
        let fitted = fit_widths(
            &shown.iter().map(|&i| natural[i]).collect::<Vec<_>>(),
            &shown.iter().map(|&i| shrink[i]).collect::<Vec<_>>(),
            budget,
        );
        rows.iter()
            .map(|row| {
                let mut line = String::new();
                for (k, (&i, &width)) in shown.iter().zip(&fitted).enumerate() {
                    let (cell, column) = (&row[i], &self.columns[i]);
                    if k > 0 {
                        line.push_str(GAP);
                    }
                    let text = cut_to(cell, width, column.cut);
                    let pad = " ".repeat(width.saturating_sub(text.width()));
                    match column.align {
                        Align::Left => {
                            line.push_str(&text);
                            line.push_str(&pad);
                        }
                        Align::Right => {
                            line.push_str(&pad);
                            line.push_str(&text);
                        }
                    }
                }
                line.trim_end().to_owned()
            })
            .collect()
    }
}

/// How far a column or part may shrink, and how readily.
#[derive(Clone, Copy, Debug)]
struct Shrink {
    /// The narrowest it gets while others can still give way.
    min: usize,
    /// The narrowest it may get at all.
    last: usize,
    weight: usize,
}

impl Shrink {
    fn of(cut: Cut, natural: usize, floor: usize, weight: usize) -> Self {
        let (min, last) = match cut {
            Cut::Never => (natural, natural),
            _ => (natural.min(MIN_CUT.max(floor)), natural.min(1)),
        };
        Self {
            min,
            last,
            weight: weight.max(1),
        }
    }
}

/// Widths for columns of `natural` widths within `budget` columns: the shrinkable columns give
/// up a column at a time, the one widest for its weight first, until the total fits or none can
/// shrink further (then the total overflows the budget: the columns never cut are too wide).
fn fit_widths(natural: &[usize], shrink: &[Shrink], budget: Option<usize>) -> Vec<usize> {
    let Some(budget) = budget else {
        return natural.to_vec();
    };
    // No column needs more than the whole budget: start there, so a megabyte of text costs no
    // more steps than a line of it.
    let mut widths: Vec<usize> = natural
        .iter()
        .zip(shrink)
        .map(|(&w, s)| {
            if w > s.min {
                w.min(budget.max(s.min))
            } else {
                w
            }
        })
        .collect();
    let mut over = widths.iter().sum::<usize>().saturating_sub(budget);
    // First down to the comfortable minimum, then, if the line still does not fit, down to the
    // last column (an ellipsis alone): a cramped cell beats a line that wraps.
    for floor in [|s: &Shrink| s.min, |s: &Shrink| s.last] {
        while over > 0 {
            let widest = (0..widths.len())
                .filter(|&i| widths[i] > floor(&shrink[i]))
                .max_by(|&a, &b| {
                    // widths[a] / weight[a] vs widths[b] / weight[b], without division.
                    (widths[a] * shrink[b].weight)
                        .cmp(&(widths[b] * shrink[a].weight))
                        .then(b.cmp(&a))
                });
            let Some(i) = widest else { break };
            widths[i] -= 1;
            over -= 1;
        }
    }
    widths
}

/// `text` on one line: control characters become spaces and runs of whitespace one space.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `text` with every control character (line breaks and tabs included) replaced by a space.
fn flat(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` cut to at most `max` display columns, as `cut` says, with `…` where it was cut.
pub fn cut_to(text: &str, max: usize, cut: Cut) -> Cow<'_, str> {
    if cut == Cut::Never || text.width() <= max {
        return Cow::Borrowed(text);
    }
    let room = max.saturating_sub(ELLIPSIS.width());
    Cow::Owned(match cut {
        Cut::Never | Cut::End => format!("{}{ELLIPSIS}", head(text, room)),
        Cut::Start => format!("{ELLIPSIS}{}", tail(text, room)),
        Cut::Middle => {
            let start = head(text, room - room / 2);
            let end = tail(&text[start.len()..], room / 2);
            format!("{start}{ELLIPSIS}{end}")
        }
    })
}

/// The first `max` display columns of `text`, as text; ends on a character boundary.
pub fn clip_end(text: &str, max: usize) -> String {
    cut_to(&one_line(text), max, Cut::End).into_owned()
}

/// The longest prefix of `text` at most `max` columns wide.
fn head(text: &str, max: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        used += c.width().unwrap_or(0);
        if used > max {
            break;
        }
        end = i + c.len_utf8();
    }
    // A string can be wider than its characters (emoji presentation sequences): trim to fit.
    let mut prefix = &text[..end];
    while prefix.width() > max {
        let Some((last, _)) = prefix.char_indices().next_back() else {
            break;
        };
        prefix = &prefix[..last];
    }
    prefix
}

/// The longest suffix of `text` at most `max` columns wide.
fn tail(text: &str, max: usize) -> &str {
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        used += c.width().unwrap_or(0);
        if used > max {
            break;
        }
        start = i;
    }
    let mut suffix = &text[start..];
    while suffix.width() > max {
        let Some(c) = suffix.chars().next() else {
            break;
        };
        suffix = &suffix[c.len_utf8()..];
    }
    suffix
}

/// `n` and the noun, plural unless `n` is 1: `1 turn`, `0 turns`, `2 turns`.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn width_of(lines: &[String]) -> usize {
        lines.iter().map(|l| l.width()).max().unwrap_or(0)
    }

    #[test]
    fn the_width_comes_from_the_flag_then_columns_then_the_terminal() {
        let w = |l: Layout| l.width();
        assert_eq!(
            w(Layout::choose(Some(80), false, Some("120"), Some(60))),
            Some(80)
        );
        assert_eq!(
            w(Layout::choose(None, false, Some("120"), Some(60))),
            Some(120)
        );
        assert_eq!(
            w(Layout::choose(None, false, Some("junk"), Some(60))),
            Some(60)
        );
        assert_eq!(w(Layout::choose(None, false, Some("0"), None)), Some(100));
        assert_eq!(w(Layout::choose(None, false, None, None)), Some(100));
        assert_eq!(w(Layout::choose(Some(80), true, None, Some(60))), None);
    }

    #[test]
    fn cutting_counts_display_columns_and_ends_on_a_character() {
        assert_eq!(cut_to("abcdefghijkl", 5, Cut::End), "abcd…");
        assert_eq!(cut_to("abcdefghijkl", 5, Cut::Start), "…ijkl");
        assert_eq!(cut_to("abcdefghijkl", 6, Cut::Middle), "abc…kl");
        assert_eq!(cut_to("abcdefghijkl", 5, Cut::Never), "abcdefghijkl");
        assert_eq!(cut_to("short", 5, Cut::End), "short");
        // Two columns per CJK character: 3 characters and the ellipsis fill 7 columns.
        let cut = cut_to("这个任务失败了", 8, Cut::End);
        assert_eq!(cut, "这个任…");
        assert!(cut.width() <= 8);
        assert_eq!(cut_to("这个任务失败了", 8, Cut::Start), "…失败了");
        assert_eq!(clip_end("a  b\nc\u{1b}[31md", 20), "a b c [31md");
        assert_eq!(count(1u64, "turn"), "1 turn");
        assert_eq!(count(0u64, "turn"), "0 turns");
        assert_eq!(count(2u64, "thread"), "2 threads");
    }

    #[test]
    fn tables_cut_their_text_columns_to_the_width() {
        let mut table = Table::new(&[
            Column::whole("id"),
            Column::number("n"),
            Column::text("cwd", Cut::Start, 1),
            Column::text("preview", Cut::End, 2),
        ]);
        table.row(vec![
            "0123456789".into(),
            "7".into(),
            "/home/someone/projects/a-long-folder-name".into(),
            "比较适合macos系统terminal的中文字体有哪些推荐？".repeat(3),
        ]);
        let lines = table.lines(&Layout::with_width(Some(60)), true);
        assert_eq!(lines.len(), 2);
        assert!(width_of(&lines) <= 60, "{lines:#?}");
        assert!(lines[1].starts_with("0123456789  7  …"), "{lines:#?}");
        assert!(lines[1].ends_with('…'), "{lines:#?}");
        // Unlimited: nothing is cut.
        let lines = table.lines(&Layout::with_width(None), false);
        assert!(!lines[0].contains('…'), "{lines:#?}");
        // Narrower than the comfortable minimum: the text columns give way further.
        let lines = table.lines(&Layout::with_width(Some(30)), true);
        assert!(width_of(&lines) <= 30, "{lines:#?}");
        assert!(lines[1].starts_with("0123456789  7  "), "{lines:#?}");
        // An optional column is left out rather than squeezed to nothing.
        let mut table = Table::new(&[
            Column::whole("id"),
            Column::text("cwd", Cut::Start, 1).optional(),
            Column::text("preview", Cut::End, 1),
        ]);
        table.row(vec![
            "0123456789".into(),
            "/a/b/c/d/e/f/g/h".into(),
            "x".repeat(40),
        ]);
        let lines = table.lines(&Layout::with_width(Some(40)), true);
        assert!(lines[0].starts_with("id          cwd"), "{lines:#?}");
        assert_eq!(lines[1].width(), 40, "{lines:#?}");
        let lines = table.lines(&Layout::with_width(Some(30)), true);
        assert_eq!(lines[0], "id          preview", "{lines:#?}");
        assert_eq!(lines[1].width(), 30, "{lines:#?}");
        // Too narrow for the whole columns: they stay whole, and the line overflows.
        let lines = table.lines(&Layout::with_width(Some(5)), false);
        assert!(lines[0].starts_with("0123456789"), "{lines:#?}");
    }

    #[test]
    fn lines_and_clauses_fit() {
        let layout = Layout::with_width(Some(45));
        let line = layout.line(&[
            ("imported ".into(), Cut::Never),
            ("0123456789abcdef".into(), Cut::Never),
            (" from ".into(), Cut::Never),
            (
                "/a/very/long/path/to/a/rollout-file.jsonl".into(),
                Cut::Middle,
            ),
        ]);
        assert_eq!(line.width(), 45, "{line}");
        assert!(
            line.starts_with("imported 0123456789abcdef from /a/"),
            "{line}"
        );
        assert!(line.ends_with(".jsonl"), "{line}");
        let clauses: Vec<String> = ["imported 3 threads", "0 already present", "a clause"]
            .iter()
            .map(|s| s.repeat(2))
            .collect();
        let lines = layout.clauses(&clauses);
        assert!(lines.len() > 1 && width_of(&lines) <= 45, "{lines:#?}");
        assert!(lines[1].starts_with("  "), "{lines:#?}");
    }
}
