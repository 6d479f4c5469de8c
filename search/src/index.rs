//! [`SearchIndex`]: the tantivy index, its schema, and the one writer that changes it.
//!
//! **Documents.** One per indexed log record (see [`crate::extract`]) and one per thread (its
//! [`DocKind::Meta`] document). Fields: `thread` (the id as a raw term: what deletes and the
//! `--thread` filter match), `thread_hi`/`thread_lo` (the id's 128 bits as two fast u64
//! columns: what the collectors group by), `position` (the record's position, fast;
//! [`META_POSITION`] for the thread document), `kind` (fast), `key` (`meta:<id>` on thread
//! documents only, so one can be replaced) and `text` (the words, with positions for phrases;
//! not stored: a snippet re-reads the record from the log).
//!
//! **Applied position.** Each commit carries, as its payload, the feed position up to which the
//! index has applied every event ([`Payload`]), written atomically with the documents it covers.
//! After a crash the index is what its last commit says, and the indexer goes on from there.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STRING,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};
use threadstore_api::ThreadId;

use crate::extract::DocKind;
use crate::tokenizer;
use crate::{SearchError, SearchResult};

/// The tokenizer's name in the index.
pub const TOKENIZER: &str = "threadstore_words";
/// The position of a thread's own document.
pub const META_POSITION: u64 = u64::MAX;
/// Version of the schema and of the extraction rules; an index of another version is rebuilt.
pub const FORMAT_VERSION: u32 = 1;
/// The writer's memory budget (tantivy's minimum is 15 MB per indexing thread).
const WRITER_BYTES: usize = 24 * 1024 * 1024;

/// The schema's fields.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Thread id, raw.
    pub thread: Field,
    /// High 64 bits of the id.
    pub thread_hi: Field,
    /// Low 64 bits of the id.
    pub thread_lo: Field,
    /// Record position ([`META_POSITION`] for the thread document).
    pub position: Field,
    /// [`DocKind`] code.
    pub kind: Field,
    /// `meta:<id>` on thread documents.
    pub key: Field,
    /// The words.
    pub text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        thread: b.add_text_field("thread", STRING),
        thread_hi: b.add_u64_field("thread_hi", FAST),
        thread_lo: b.add_u64_field("thread_lo", FAST),
        position: b.add_u64_field("position", FAST | INDEXED),
        kind: b.add_u64_field("kind", FAST),
        key: b.add_text_field("key", STRING),
        text: b.add_text_field("text", text_options),
    };
    (b.build(), fields)
}

/// What each commit records beside its documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// [`FORMAT_VERSION`] of the index.
    pub version: u32,
    /// Every feed event below this position is applied.
    pub applied: u64,
}

/// The halves of a thread id, as the fast columns hold them.
pub fn id_halves(thread: ThreadId) -> (u64, u64) {
    let bits = thread.as_uuid().as_u128();
    ((bits >> 64) as u64, bits as u64)
}

/// The thread id of two halves.
pub fn id_of(hi: u64, lo: u64) -> ThreadId {
    ThreadId::from_uuid(uuid::Uuid::from_u128(
        (u128::from(hi) << 64) | u128::from(lo),
    ))
}

/// The index, with its writer and a reader reloaded after each commit.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    dir: Option<PathBuf>,
}

impl SearchIndex {
    /// An index held in memory (the in-memory store's).
    pub fn in_memory() -> SearchResult<Self> {
        let (schema, _) = schema();
        Self::with_index(Index::create_in_ram(schema), None)
    }

    /// Opens the index in `dir`, creating it if there is none. An index that cannot be read or
    /// is of another [`FORMAT_VERSION`] is `Damaged`: the caller rebuilds it ([`Self::recreate`]).
    pub fn open(dir: &Path) -> SearchResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        let (schema, _) = schema();
        let directory =
            MmapDirectory::open(dir).map_err(|e| SearchError::Damaged(e.to_string()))?;
        let index = Index::open_or_create(directory, schema)
            .map_err(|e| SearchError::Damaged(e.to_string()))?;
        let this = Self::with_index(index, Some(dir.to_path_buf()))?;
        match this.payload()? {
            Some(p) if p.version != FORMAT_VERSION => Err(SearchError::Damaged(format!(
                "index format {} (this version writes {FORMAT_VERSION})",
                p.version
            ))),
            _ => Ok(this),
        }
    }

    /// Deletes whatever is in `dir` and creates an empty index there.
    pub fn recreate(dir: &Path) -> SearchResult<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        }
        Self::open(dir)
    }

    fn with_index(index: Index, dir: Option<PathBuf>) -> SearchResult<Self> {
        index
            .tokenizers()
            .register(TOKENIZER, tokenizer::analyzer());
        let fields = fields_of(&index.schema())?;
        let writer = index
            .writer_with_num_threads(1, WRITER_BYTES)
            .map_err(SearchError::from)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(SearchError::from)?;
        Ok(Self {
            index,
            fields,
            writer: Mutex::new(writer),
            reader,
            dir,
        })
    }

    /// The fields.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// The last commit's payload (`None` before the first commit).
    pub fn payload(&self) -> SearchResult<Option<Payload>> {
        let metas = self.index.load_metas().map_err(SearchError::from)?;
        Ok(match metas.payload {
            None => None,
            Some(text) => Some(
                serde_json::from_str(&text)
                    .map_err(|e| SearchError::Damaged(format!("commit payload: {e}")))?,
            ),
        })
    }

    /// The feed position the last commit covers (0 before the first commit).
    pub fn applied(&self) -> SearchResult<u64> {
        Ok(self.payload()?.map_or(0, |p| p.applied))
    }

    /// A searcher over the last commit.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    fn writer(&self) -> SearchResult<std::sync::MutexGuard<'_, IndexWriter>> {
        self.writer
            .lock()
            .map_err(|_| SearchError::Damaged("the index writer panicked".into()))
    }

    fn base_doc(&self, thread: ThreadId, position: u64, kind: DocKind) -> TantivyDocument {
        let f = self.fields;
        let (hi, lo) = id_halves(thread);
        let mut doc = TantivyDocument::default();
        doc.add_text(f.thread, thread.to_string());
        doc.add_u64(f.thread_hi, hi);
        doc.add_u64(f.thread_lo, lo);
        doc.add_u64(f.position, position);
        doc.add_u64(f.kind, kind as u64);
        doc
    }

    /// Adds the document of a record (uncommitted).
    pub fn add_record(
        &self,
        thread: ThreadId,
        position: u64,
        kind: DocKind,
        text: &str,
    ) -> SearchResult<()> {
        let mut doc = self.base_doc(thread, position, kind);
        doc.add_text(self.fields.text, text);
        self.writer()?
            .add_document(doc)
            .map_err(SearchError::from)?;
        Ok(())
    }

    /// Replaces the thread's own document (uncommitted).
    pub fn set_meta(&self, thread: ThreadId, text: &str) -> SearchResult<()> {
        let key = format!("meta:{thread}");
        let mut doc = self.base_doc(thread, META_POSITION, DocKind::Meta);
        doc.add_text(self.fields.key, &key);
        doc.add_text(self.fields.text, text);
        let writer = self.writer()?;
        writer.delete_term(Term::from_field_text(self.fields.key, &key));
        writer.add_document(doc).map_err(SearchError::from)?;
        Ok(())
    }

    /// Removes every document of the thread (uncommitted).
    pub fn delete_thread(&self, thread: ThreadId) -> SearchResult<()> {
        self.writer()?.delete_term(Term::from_field_text(
            self.fields.thread,
            &thread.to_string(),
        ));
        Ok(())
    }

    /// Commits everything added since the last commit as covering the feed up to `applied`, and
    /// reloads the reader. Blocking (it writes and syncs files).
    pub fn commit(&self, applied: u64) -> SearchResult<()> {
        let payload = serde_json::to_string(&Payload {
            version: FORMAT_VERSION,
            applied,
        })
        .map_err(|e| SearchError::Damaged(e.to_string()))?;
        {
            let mut writer = self.writer()?;
            let mut prepared = writer.prepare_commit().map_err(SearchError::from)?;
            prepared.set_payload(&payload);
            prepared.commit().map_err(SearchError::from)?;
        }
        self.reader.reload().map_err(SearchError::from)
    }

    /// Drops what was added since the last commit.
    pub fn rollback(&self) -> SearchResult<()> {
        self.writer()?.rollback().map_err(SearchError::from)?;
        Ok(())
    }

    /// Removes every document (uncommitted): the first step of a rebuild in place.
    pub fn clear(&self) -> SearchResult<()> {
        self.writer()?
            .delete_all_documents()
            .map_err(SearchError::from)?;
        Ok(())
    }

    /// Bytes of the index's files (0 in memory).
    pub fn size_on_disk(&self) -> u64 {
        let Some(dir) = &self.dir else { return 0 };
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    }
}

fn fields_of(schema: &Schema) -> SearchResult<Fields> {
    let f = |name: &str| {
        schema
            .get_field(name)
            .map_err(|_| SearchError::Damaged(format!("the index has no field {name}")))
    };
    Ok(Fields {
        thread: f("thread")?,
        thread_hi: f("thread_hi")?,
        thread_lo: f("thread_lo")?,
        position: f("position")?,
        kind: f("kind")?,
        key: f("key")?,
        text: f("text")?,
    })
}
