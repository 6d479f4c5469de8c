//! Criterion micro-benchmarks of the hot pure functions under every append and page read: the
//! record codec, the item classifier and reducers, Codex JSON line parsing, page cursors and key
//! building. Run with `cargo bench --bench micro`; `threadstore bench` measures the whole store.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use threadstore::codex::generate::realistic_turn_items;
use threadstore::layers::storage::cursor::{CursorScope, PageCursor};
use threadstore::layers::storage::projection::{classify, rebuild};
use threadstore::layers::storage::{codec, keys, LogRecord};
use threadstore::{RolloutItem, RolloutLine, SortDirection, ThreadId, ThreadSortKey};

/// The largest item of a realistic turn (a ~1 KiB reasoning, tool output or answer).
fn big_item() -> RolloutItem {
    realistic_turn_items(0, Some("turn-0"), 1024)
        .into_iter()
        .max_by_key(|i| i.payload_json().len())
        .unwrap_or_else(|| RolloutItem::agent_message("done"))
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// A thread of `turns` realistic turns as log records.
fn thread_records(turns: usize) -> Vec<LogRecord> {
    (0..turns)
        .flat_map(|t| realistic_turn_items(t, Some(&format!("turn-{t}")), 1024))
        .map(|i| LogRecord::new(at(), None, i.kind().to_owned(), i.payload_json().to_owned()))
        .collect()
}

fn codec_benches(c: &mut Criterion) {
    let item = big_item();
    let record = LogRecord::new(
        at(),
        None,
        item.kind().to_owned(),
        item.payload_json().to_owned(),
    );
    let bytes = codec::encode(&record).unwrap_or_default();
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode LogRecord (~1 KiB)", |b| {
        b.iter(|| codec::encode(black_box(&record)))
    });
    g.bench_function("decode LogRecord (~1 KiB)", |b| {
        b.iter(|| codec::decode::<LogRecord>(black_box(&bytes), None, None))
    });
    g.finish();
}

fn json_line_benches(c: &mut Criterion) {
    let line = RolloutLine {
        timestamp: at(),
        ordinal: None,
        item: big_item(),
    };
    let text = line.to_json_line();
    let mut g = c.benchmark_group("rollout line");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse JSON line (~1 KiB)", |b| {
        b.iter(|| RolloutLine::from_json_line(black_box(&text)))
    });
    g.bench_function("write JSON line (~1 KiB)", |b| {
        b.iter(|| black_box(&line).to_json_line())
    });
    g.finish();
}

fn reducer_benches(c: &mut Criterion) {
    let turn = realistic_turn_items(3, Some("turn-3"), 1024);
    let records = thread_records(8);
    let mut g = c.benchmark_group("reducers");
    g.throughput(Throughput::Elements(turn.len() as u64));
    g.bench_function("classify a realistic turn (12 items)", |b| {
        b.iter(|| {
            for item in &turn {
                black_box(classify::classify(item.kind(), item.payload_json()));
            }
        })
    });
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("rebuild projections of 8 turns (96 items)", |b| {
        b.iter(|| rebuild::rebuild(black_box(&records)))
    });
    g.finish();
}

fn cursor_benches(c: &mut Criterion) {
    let scope = CursorScope::Threads {
        sort: ThreadSortKey::UpdatedAt,
        archived: false,
        search: false,
    };
    let cursor = PageCursor {
        thread: None,
        scope: scope.clone(),
        direction: SortDirection::Desc,
        anchor: 0,
        anchor_turn: None,
        anchor_thread: Some((1_767_225_600_000, ThreadId::new())),
        include_anchor: false,
    };
    let text = cursor.encode();
    let mut g = c.benchmark_group("cursor");
    g.bench_function("encode listing cursor", |b| {
        b.iter(|| black_box(&cursor).encode())
    });
    g.bench_function("decode listing cursor", |b| {
        b.iter(|| PageCursor::decode(black_box(&text), None, &scope, SortDirection::Desc))
    });
    g.finish();
}

fn key_benches(c: &mut Criterion) {
    let thread = ThreadId::new();
    let mut g = c.benchmark_group("keys");
    g.bench_function("log key", |b| {
        b.iter(|| keys::log(black_box(&thread), black_box(12_345)))
    });
    g.bench_function("cwd index entry", |b| {
        b.iter(|| {
            let prefix = keys::cwd_index_prefix(
                keys::ACTIVE,
                ThreadSortKey::UpdatedAt,
                black_box("/work/project-7"),
            );
            keys::index_entry(prefix, black_box(1_767_225_600_000), &thread)
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    codec_benches,
    json_line_benches,
    reducer_benches,
    cursor_benches,
    key_benches
);
criterion_main!(benches);
