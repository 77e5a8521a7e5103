//! Compact JSON documents: how the store keeps alerts, processes and observations.
//!
//! # Why
//! A `serde_json::Map` costs about 190 bytes per field (a `String` key with its own allocation,
//! a 32-byte `Value`, B-tree node slack, and one more allocation per string value). A 100 000
//! alert backlog is ~30 million fields (alerts plus the ~4 processes and ~2 observations behind
//! each), which came to 5.7 GB. The same data as JSON text is ~1.4 GB, and most of that is the
//! same strings over and over: device names, paths, hashes, command lines and process GUIDs
//! appear in the alert, the process, its children and its observations. So a document here is:
//!
//! * one flat `Arc<[u64]>` per document: every field is one 8-byte *node* (tag, key, payload);
//!   arrays and objects are runs of nodes in the same buffer; 64-bit numbers take one more slot;
//! * keys (24-bit ids) and string values ([`Str`], 32-bit ids) are interned in two process-wide
//!   tables, so each distinct string is stored once, however many documents hold it.
//!
//! That is ~8 bytes per field plus the distinct strings (~3.3 million, 134 MB of text, for a
//! 100 000 alert backlog). Alternatives measured or estimated against it: keeping processes and
//! observations as story seeds and rendering them on demand cannot answer process/observation
//! *searches* (arbitrary queries over every field) without rendering everything, ~10 µs a
//! document; keeping alerts only as serialized JSON makes every unindexed search parse 350 MB;
//! a `(key, value)` enum per field with `Box<str>` strings is ~3 times this size; serde_json's
//! `preserve_order` (IndexMap) is larger than the B-tree (7.3 GB) and changes the key order.
//!
//! Objects keep their fields sorted by key name (the order of `serde_json::Map` without
//! `preserve_order`), so a document serializes to exactly the bytes its `Map` did, and numbers
//! keep their JSON kind (unsigned, signed, float), so converting back gives an equal `Value`.
//!
//! # Interning
//! Interned text lives as long as the process (like the documents, which the simulator never
//! deletes), in chunks: one `Box<str>` per batch of new strings, not one allocation per string.
//! Reading is lock-free: an id indexes lazily allocated, doubling segments of atomic slots
//! (`chunk, offset`; a string ends where the next id of the same chunk starts, or at the chunk's
//! end). Interning takes a mutex, so it is done in two steps: [`Batch`] encodes documents
//! against its own small table of the batch's distinct strings, on any thread and without
//! locks, and [`Batch::finish`] then interns just those (one lock per batch: a story's documents
//! repeat each other's strings ~4 times) and makes the final buffers. The backlog generator
//! encodes on its rendering threads and finishes on the thread that owns the store, so every
//! long-lived allocation comes from one thread (allocating them on the rendering threads,
//! interleaved with their short-lived garbage, fragmented the heap by a third).

use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value};

use super::world::{CompactStory, Story};

// ------------------------------------------------------------------------------------------------
// Hashing

/// FxHash-style hasher with a final mix: the strings hashed are ours (generated, or from a local
/// replay file), so SipHash's flooding resistance buys nothing and costs a third of ingest time.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // splitmix64's finalizer: the hash tables use both the low and the high bits.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

pub type FastBuild = BuildHasherDefault<FastHasher>;
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;

// ------------------------------------------------------------------------------------------------
// Interning

/// Slots in the first segment; segment `k` has `SEG0 << k`, so 23 segments cover every `u32`.
const SEG0: usize = 1 << 10;
const SEGS: usize = 23;

/// An array indexed by `u32` that grows without moving: doubling segments, allocated on first
/// use, so `&'static` references into it stay valid and reads need no lock.
struct Segments<T> {
    segs: [OnceLock<Box<[T]>>; SEGS],
}

impl<T: Default> Segments<T> {
    const fn new() -> Segments<T> {
        Segments {
            segs: [const { OnceLock::new() }; SEGS],
        }
    }

    fn locate(i: u32) -> (usize, usize) {
        let n = i as usize / SEG0 + 1;
        let seg = (usize::BITS - 1 - n.leading_zeros()) as usize;
        (seg, i as usize - SEG0 * ((1 << seg) - 1))
    }

    fn get(&self, i: u32) -> Option<&T> {
        let (seg, at) = Segments::<T>::locate(i);
        self.segs[seg].get().map(|s| &s[at])
    }

    fn get_or_alloc(&self, i: u32) -> &T {
        let (seg, at) = Segments::<T>::locate(i);
        &self.segs[seg].get_or_init(|| (0..SEG0 << seg).map(|_| T::default()).collect())[at]
    }
}

/// Hashes as they are: the keys of [`Ids::by_hash`] are `FastHasher` outputs already.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn text_hash(text: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

/// What the interner's lock guards.
///
/// Keyed by the text's 64-bit hash, so neither inserting nor growing the table reads any text
/// (with ~3 million strings scattered over memory, those reads were most of the cost); a hit is
/// confirmed by comparing the text once.
#[derive(Default)]
struct Ids {
    by_hash: std::collections::HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    /// Strings whose hash an earlier string already had (expected: none, ever).
    collided: FastMap<Box<str>, u32>,
    next: u32,
    chunks: u32,
}

struct Interner {
    /// Per id: `(chunk + 1) << 32 | offset` (0 while unset).
    slots: Segments<AtomicU64>,
    chunks: Segments<OnceLock<Box<str>>>,
    ids: Mutex<Option<Ids>>,
    /// `text_hash` (tests make everything collide).
    hash: fn(&str) -> u64,
    limit: u32,
    what: &'static str,
}

/// Field names. 24-bit ids (they share a node with a tag and a payload): 16.7 million distinct
/// names is far beyond any real or replayed data.
static KEYS: Interner = Interner::new(text_hash, 1 << KEY_BITS, "field names");
/// String values.
static STRS: Interner = Interner::new(text_hash, u32::MAX, "strings");

impl Interner {
    const fn new(hash: fn(&str) -> u64, limit: u32, what: &'static str) -> Interner {
        Interner {
            slots: Segments::new(),
            chunks: Segments::new(),
            ids: Mutex::new(None),
            hash,
            limit,
            what,
        }
    }

    /// The text of `id` (lock-free).
    fn text(&'static self, id: u32) -> &'static str {
        let slot = |i: u32| self.slots.get(i).map_or(0, |s| s.load(Ordering::Acquire));
        let at = slot(id);
        let Some(chunk) = (at >> 32).checked_sub(1) else {
            return "";
        };
        let Some(text) = self.chunks.get(chunk as u32).and_then(OnceLock::get) else {
            return "";
        };
        let end = id
            .checked_add(1)
            .map(slot)
            .filter(|next| next >> 32 == at >> 32)
            .map_or(text.len(), |next| next as u32 as usize);
        text.get(at as u32 as usize..end).unwrap_or("")
    }

    fn find(&'static self, ids: &Ids, hash: u64, text: &str) -> Option<u32> {
        match ids.by_hash.get(&hash) {
            Some(&id) if self.text(id) == text => Some(id),
            Some(_) => ids.collided.get(text).copied(),
            None => None,
        }
    }

    fn lookup(&'static self, text: &str) -> Option<u32> {
        let ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        self.find(ids.as_ref()?, (self.hash)(text), text)
    }

    /// The ids of `texts` (distinct strings), interning the new ones as one chunk.
    fn intern_all(&'static self, texts: &TextRun) -> Vec<u32> {
        let mut guard = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        let ids = guard.get_or_insert_with(Ids::default);
        let mut out = Vec::with_capacity(texts.len());
        let mut chunk = String::new();
        let mut fresh: Vec<(u32, u32, u64)> = Vec::new();
        for text in texts.iter() {
            let hash = (self.hash)(text);
            if let Some(id) = self.find(ids, hash, text) {
                out.push(id);
                continue;
            }
            let id = ids.next;
            if id >= self.limit {
                panic!("more than {} distinct {}", self.limit, self.what);
            }
            ids.next += 1;
            let offset = u32::try_from(chunk.len()).expect("a chunk of more than 4 GB");
            fresh.push((id, offset, hash));
            chunk.push_str(text);
            out.push(id);
        }
        if fresh.is_empty() {
            return out;
        }
        let c = ids.chunks;
        ids.chunks += 1;
        let _ = self.chunks.get_or_alloc(c).set(chunk.into_boxed_str());
        // Last id first: whoever sees an id's slot (Acquire) also sees the chunk and the next
        // id's slot, which `text` reads to find where the string ends.
        for &(id, offset, _) in fresh.iter().rev() {
            let at = ((u64::from(c) + 1) << 32) | u64::from(offset);
            self.slots.get_or_alloc(id).store(at, Ordering::Release);
        }
        for (id, _, hash) in fresh {
            match ids.by_hash.entry(hash) {
                Entry::Occupied(_) => {
                    ids.collided.insert(self.text(id).into(), id);
                }
                Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
        }
        out
    }
}

/// An interned string value: equal ids, equal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Str(u32);

impl Str {
    /// The id of `text` if any document ever held it (`None`: no document holds it now).
    pub fn lookup(text: &str) -> Option<Str> {
        STRS.lookup(text).map(Str)
    }

    pub fn as_str(self) -> &'static str {
        STRS.text(self.0)
    }
}

fn key_name(key: u32) -> &'static str {
    KEYS.text(key)
}

// ------------------------------------------------------------------------------------------------
// Nodes: tag (8 bits) | key (24 bits) | payload (32 bits)

const T_NULL: u8 = 0;
const T_FALSE: u8 = 1;
const T_TRUE: u8 = 2;
/// A signed integer that fits in 32 bits, in the payload.
const T_INT: u8 = 3;
/// `u64` / `i64` / `f64` in the slot the payload points at.
const T_U64: u8 = 4;
const T_I64: u8 = 5;
const T_F64: u8 = 6;
/// Payload: a `Str` id.
const T_STR: u8 = 7;
/// Payload: index of a header slot holding the element count; the elements follow it.
const T_ARR: u8 = 8;
const T_OBJ: u8 = 9;

/// Largest key id a node holds.
const KEY_BITS: u32 = 24;

#[inline]
fn node(tag: u8, key: u32, payload: u32) -> u64 {
    u64::from(tag) | (u64::from(key) << 8) | (u64::from(payload) << 32)
}

#[inline]
fn tag_of(n: u64) -> u8 {
    n as u8
}

#[inline]
fn key_of(n: u64) -> u32 {
    (n >> 8) as u32 & ((1 << KEY_BITS) - 1)
}

#[inline]
fn payload_of(n: u64) -> u32 {
    (n >> 32) as u32
}

// ------------------------------------------------------------------------------------------------
// Documents

/// A JSON object in compact form (see the module docs). Cloning shares the buffer: pages and
/// investigate jobs hold documents without copying them.
#[derive(Clone, PartialEq, Eq)]
pub struct CDoc {
    /// Slot 0 is the top-level object's header (its field count); its fields follow.
    slots: Arc<[u64]>,
}

impl fmt::Debug for CDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.obj().iter()).finish()
    }
}

impl CDoc {
    /// Converts (and interns) one document. Use a [`Batch`] for many.
    pub fn from_map(map: &Map<String, Value>) -> CDoc {
        let mut batch = Batch::new();
        batch.add(map);
        batch.finish().pop().unwrap_or_else(|| CDoc {
            slots: Arc::from([0u64]),
        })
    }

    /// The document as a `serde_json` map again.
    pub fn to_map(&self) -> Map<String, Value> {
        self.obj().to_map()
    }

    /// The top-level object.
    pub fn obj(&self) -> CObj<'_> {
        CObj {
            slots: &self.slots,
            header: 0,
        }
    }

    pub fn get(&self, key: &str) -> Option<CVal<'_>> {
        self.obj().get(key)
    }

    /// Changes the document through its `Map` form (alert changes are rare; documents are not
    /// built for editing).
    pub fn update(&mut self, change: impl FnOnce(&mut Map<String, Value>)) {
        let mut map = self.to_map();
        change(&mut map);
        *self = CDoc::from_map(&map);
    }
}

impl Serialize for CDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.obj().serialize(s)
    }
}

/// Distinct strings, back to back (`ends[i]` is where string `i` ends).
struct TextRun {
    text: String,
    ends: Vec<u32>,
}

impl TextRun {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.text[start as usize..end as usize])
    }
}

/// A batch's own table of its distinct strings.
struct Local<'s> {
    ids: FastMap<&'s str, u32>,
    texts: TextRun,
}

impl<'s> Local<'s> {
    /// Sized for a story (~150 distinct field names, ~200 distinct strings).
    fn with_capacity(n: usize) -> Local<'s> {
        Local {
            ids: FastMap::with_capacity_and_hasher(n, FastBuild::default()),
            texts: TextRun {
                text: String::with_capacity(n * 24),
                ends: Vec::with_capacity(n),
            },
        }
    }

    fn id(&mut self, s: &'s str, limit: u32) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = u32::try_from(self.texts.len())
            .ok()
            .filter(|&id| id < limit)
            .expect("too many distinct strings in one batch of documents");
        self.texts.text.push_str(s);
        let end = u32::try_from(self.texts.text.len()).expect("a batch of more than 4 GB of text");
        self.texts.ends.push(end);
        self.ids.insert(s, id);
        id
    }
}

/// Documents encoded against their own string tables, ready to be [`finish`](Batch::finish)ed:
/// see the module docs. Encoding needs no lock and can run on any thread.
pub struct Batch<'s> {
    keys: Local<'s>,
    strs: Local<'s>,
    /// The documents back to back, each with slot indices relative to its own start.
    slots: Vec<u64>,
    starts: Vec<usize>,
}

/// A [`Batch`] without its borrows: what crosses threads.
pub struct Encoded {
    keys: TextRun,
    strs: TextRun,
    slots: Vec<u64>,
    starts: Vec<usize>,
}

impl Default for Batch<'_> {
    fn default() -> Self {
        Batch::new()
    }
}

impl<'s> Batch<'s> {
    pub fn new() -> Batch<'s> {
        Batch {
            keys: Local::with_capacity(256),
            strs: Local::with_capacity(512),
            slots: Vec::with_capacity(2048),
            starts: Vec::with_capacity(16),
        }
    }

    /// Encodes one more document.
    pub fn add(&mut self, map: &'s Map<String, Value>) {
        let start = self.slots.len();
        self.starts.push(start);
        self.object(start, map);
    }

    /// Encodes one more document given as fields sorted by key, without duplicate keys (see
    /// [`sort_fields`]): what a `Map` collected from them would be.
    pub fn add_fields(&mut self, fields: &'s [(&'s str, Value)]) {
        debug_assert!(fields.is_sorted_by(|a, b| a.0 < b.0));
        let start = self.slots.len();
        self.starts.push(start);
        let header = self.block(fields.len());
        for (i, (k, v)) in fields.iter().enumerate() {
            self.field(start, header + 1 + i, k, v);
        }
    }

    /// Drops the borrowed lookup tables, keeping what `finish` needs.
    pub fn encoded(self) -> Encoded {
        Encoded {
            keys: self.keys.texts,
            strs: self.strs.texts,
            slots: self.slots,
            starts: self.starts,
        }
    }

    /// Interns the batch's strings and returns its documents, in the order added.
    pub fn finish(self) -> Vec<CDoc> {
        self.encoded().finish()
    }

    /// Appends an object's header and fields (sorted by key) to the document starting at
    /// `base`; returns the header index relative to `base`.
    fn object(&mut self, base: usize, map: &'s Map<String, Value>) -> u32 {
        let header = self.block(map.len());
        // `Map` is a `BTreeMap` (sorted) unless some crate turns on serde_json's
        // `preserve_order`; lookups need sorted fields either way.
        if map.keys().is_sorted() {
            for (i, (k, v)) in map.iter().enumerate() {
                self.field(base, header + 1 + i, k, v);
            }
        } else {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            for (i, (k, v)) in fields.into_iter().enumerate() {
                self.field(base, header + 1 + i, k, v);
            }
        }
        rel(header, base)
    }

    fn field(&mut self, base: usize, at: usize, k: &'s str, v: &'s Value) {
        let key = self.keys.id(k, 1 << KEY_BITS);
        let n = self.value(base, v, key);
        self.slots[at] = n;
    }

    /// Reserves a header and `n` node slots; returns the header's absolute index.
    fn block(&mut self, n: usize) -> usize {
        let header = self.slots.len();
        self.slots.push(n as u64);
        self.slots.resize(header + 1 + n, 0);
        header
    }

    fn wide(&mut self, base: usize, tag: u8, key: u32, bits: u64) -> u64 {
        let at = rel(self.slots.len(), base);
        self.slots.push(bits);
        node(tag, key, at)
    }

    fn value(&mut self, base: usize, v: &'s Value, key: u32) -> u64 {
        match v {
            Value::Null => node(T_NULL, key, 0),
            Value::Bool(false) => node(T_FALSE, key, 0),
            Value::Bool(true) => node(T_TRUE, key, 0),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    match i32::try_from(i) {
                        Ok(small) => node(T_INT, key, small as u32),
                        Err(_) => self.wide(base, T_I64, key, i as u64),
                    }
                } else if let Some(u) = n.as_u64() {
                    self.wide(base, T_U64, key, u)
                } else {
                    let f = n.as_f64().unwrap_or(0.0);
                    self.wide(base, T_F64, key, f.to_bits())
                }
            }
            Value::String(s) => node(T_STR, key, self.strs.id(s, u32::MAX)),
            Value::Array(items) => {
                let header = self.block(items.len());
                for (i, item) in items.iter().enumerate() {
                    let n = self.value(base, item, 0);
                    self.slots[header + 1 + i] = n;
                }
                node(T_ARR, key, rel(header, base))
            }
            Value::Object(m) => {
                let header = self.object(base, m);
                node(T_OBJ, key, header)
            }
        }
    }
}

/// `i` relative to `base`, as a payload.
fn rel(i: usize, base: usize) -> u32 {
    u32::try_from(i - base).expect("a document of more than 4 billion slots")
}

impl Encoded {
    /// See [`Batch::finish`].
    pub fn finish(mut self) -> Vec<CDoc> {
        let keys = KEYS.intern_all(&self.keys);
        let strs = STRS.intern_all(&self.strs);
        let ends = self
            .starts
            .iter()
            .skip(1)
            .copied()
            .chain([self.slots.len()]);
        let ranges: Vec<(usize, usize)> = self.starts.iter().copied().zip(ends).collect();
        ranges
            .into_iter()
            .map(|(start, end)| {
                let doc = &mut self.slots[start..end];
                relink(doc, 0, true, &keys, &strs);
                CDoc {
                    slots: Arc::from(&*doc),
                }
            })
            .collect()
    }
}

/// Rewrites batch-local key and string ids to interned ones in the block (object fields or
/// array elements, which have no key) at `header`.
fn relink(doc: &mut [u64], header: usize, object: bool, keys: &[u32], strs: &[u32]) {
    let n = doc[header] as usize;
    for i in header + 1..header + 1 + n {
        let old = doc[i];
        let (tag, payload) = (tag_of(old), payload_of(old));
        let key = if object {
            keys[key_of(old) as usize]
        } else {
            0
        };
        let payload = match tag {
            T_STR => strs[payload as usize],
            _ => payload,
        };
        doc[i] = node(tag, key, payload);
        if matches!(tag, T_ARR | T_OBJ) {
            relink(doc, payload as usize, tag == T_OBJ, keys, strs);
        }
    }
}

/// Sorts fields by key and drops all but the last of each repeated key: the fields a `Map`
/// collected from them would have (`BTreeMap::from_iter` keeps the last value of a key).
pub fn sort_fields<K: Ord, V>(fields: &mut Vec<(K, V)>) {
    // Reversed, a stable sort puts the last of equal keys first, which `dedup` keeps.
    fields.reverse();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, kept| later.0 == kept.0);
}

/// A story encoded on a rendering thread (see [`Batch`]); `finish` it where the store is.
pub struct EncodedStory {
    counts: [usize; 3],
    docs: Encoded,
}

impl EncodedStory {
    /// A story whose documents are field lists (alerts, processes, observations): each is
    /// encoded as the `Map` collected from it would be.
    pub fn from_fields(mut parts: [Vec<Vec<(&str, Value)>>; 3]) -> EncodedStory {
        for docs in &mut parts {
            for fields in docs.iter_mut() {
                sort_fields(fields);
            }
        }
        let mut batch = Batch::new();
        for docs in &parts {
            for fields in docs {
                batch.add_fields(fields);
            }
        }
        EncodedStory {
            counts: [parts[0].len(), parts[1].len(), parts[2].len()],
            docs: batch.encoded(),
        }
    }

    pub fn new(story: &Story) -> EncodedStory {
        let mut batch = Batch::new();
        let parts = [&story.alerts, &story.processes, &story.observations];
        for docs in parts {
            for d in docs {
                batch.add(d);
            }
        }
        EncodedStory {
            counts: parts.map(Vec::len),
            docs: batch.encoded(),
        }
    }

    pub fn finish(self) -> CompactStory {
        let mut docs = self.docs.finish().into_iter();
        let [a, p, o] = self.counts;
        CompactStory {
            alerts: docs.by_ref().take(a).collect(),
            processes: docs.by_ref().take(p).collect(),
            observations: docs.take(o).collect(),
        }
    }
}

impl From<&Story> for CompactStory {
    fn from(story: &Story) -> CompactStory {
        EncodedStory::new(story).finish()
    }
}

// ------------------------------------------------------------------------------------------------
// Reading

/// One value inside a [`CDoc`].
#[derive(Clone, Copy)]
pub struct CVal<'a> {
    slots: &'a [u64],
    node: u64,
}

/// An object inside a [`CDoc`] (the document itself or a nested one).
#[derive(Clone, Copy)]
pub struct CObj<'a> {
    slots: &'a [u64],
    header: usize,
}

/// What a [`CVal`] is.
pub enum CKind<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'static str),
    Array(CArr<'a>),
    Object(CObj<'a>),
}

/// An array inside a [`CDoc`].
#[derive(Clone, Copy)]
pub struct CArr<'a> {
    slots: &'a [u64],
    header: usize,
}

fn run(slots: &[u64], header: usize) -> &[u64] {
    let n = slots[header] as usize;
    &slots[header + 1..header + 1 + n]
}

impl<'a> CVal<'a> {
    pub fn kind(self) -> CKind<'a> {
        let p = payload_of(self.node);
        match tag_of(self.node) {
            T_FALSE => CKind::Bool(false),
            T_TRUE => CKind::Bool(true),
            T_INT => CKind::Number(Number::from(p as i32)),
            T_U64 => CKind::Number(Number::from(self.slots[p as usize])),
            T_I64 => CKind::Number(Number::from(self.slots[p as usize] as i64)),
            T_F64 => Number::from_f64(f64::from_bits(self.slots[p as usize]))
                .map_or(CKind::Null, CKind::Number),
            T_STR => CKind::String(STRS.text(p)),
            T_ARR => CKind::Array(CArr {
                slots: self.slots,
                header: p as usize,
            }),
            T_OBJ => CKind::Object(CObj {
                slots: self.slots,
                header: p as usize,
            }),
            _ => CKind::Null,
        }
    }

    pub fn is_null(self) -> bool {
        tag_of(self.node) == T_NULL
    }

    pub fn as_str(self) -> Option<&'static str> {
        self.str_id().map(Str::as_str)
    }

    /// The interned id of a string value.
    pub fn str_id(self) -> Option<Str> {
        (tag_of(self.node) == T_STR).then(|| Str(payload_of(self.node)))
    }

    pub fn as_bool(self) -> Option<bool> {
        match tag_of(self.node) {
            T_FALSE => Some(false),
            T_TRUE => Some(true),
            _ => None,
        }
    }

    pub fn to_value(self) -> Value {
        match self.kind() {
            CKind::Null => Value::Null,
            CKind::Bool(b) => Value::Bool(b),
            CKind::Number(n) => Value::Number(n),
            CKind::String(s) => Value::String(s.to_string()),
            CKind::Array(a) => Value::Array(a.iter().map(CVal::to_value).collect()),
            CKind::Object(o) => Value::Object(o.to_map()),
        }
    }
}

impl<'a> CArr<'a> {
    pub fn iter(self) -> impl Iterator<Item = CVal<'a>> + 'a {
        let slots = self.slots;
        run(slots, self.header)
            .iter()
            .map(move |&node| CVal { slots, node })
    }

    pub fn len(self) -> usize {
        self.slots[self.header] as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl<'a> CObj<'a> {
    pub fn len(self) -> usize {
        self.slots[self.header] as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The field `key` (binary search: fields are sorted by name).
    pub fn get(self, key: &str) -> Option<CVal<'a>> {
        let fields = run(self.slots, self.header);
        fields
            .binary_search_by(|&n| key_name(key_of(n)).cmp(key))
            .ok()
            .map(|i| CVal {
                slots: self.slots,
                node: fields[i],
            })
    }

    pub fn iter(self) -> impl Iterator<Item = (&'static str, CVal<'a>)> + 'a {
        let slots = self.slots;
        run(slots, self.header)
            .iter()
            .map(move |&node| (key_name(key_of(node)), CVal { slots, node }))
    }

    pub fn values(self) -> impl Iterator<Item = CVal<'a>> + 'a {
        self.iter().map(|(_, v)| v)
    }

    pub fn to_map(self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }
}

impl fmt::Debug for CVal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

impl Serialize for CVal<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = payload_of(self.node);
        match tag_of(self.node) {
            T_FALSE => s.serialize_bool(false),
            T_TRUE => s.serialize_bool(true),
            T_INT => s.serialize_i64(i64::from(p as i32)),
            T_U64 => s.serialize_u64(self.slots[p as usize]),
            T_I64 => s.serialize_i64(self.slots[p as usize] as i64),
            T_F64 => s.serialize_f64(f64::from_bits(self.slots[p as usize])),
            T_STR => s.serialize_str(STRS.text(p)),
            T_ARR => {
                let items = run(self.slots, p as usize);
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for &node in items {
                    seq.serialize_element(&CVal {
                        slots: self.slots,
                        node,
                    })?;
                }
                seq.end()
            }
            T_OBJ => CObj {
                slots: self.slots,
                header: p as usize,
            }
            .serialize(s),
            _ => s.serialize_unit(),
        }
    }
}

impl Serialize for CObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, &v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_byte_for_byte() {
        let v = json!({
            "z": 1, "a": "text", "m": null, "t": true, "f": false,
            "big": u64::MAX, "neg": i64::MIN, "small_neg": -5, "i32max": 2147483647,
            "i32max1": 2147483648u64, "float": 1.5, "whole_float": 2.0, "neg_zero": -0.0,
            "arr": [1, "x", [], {}, [null, {"k": "v", "a": [2.5]}]],
            "obj": {"b": {"c": "d"}, "a": []},
            "empty": "", "unicode": "東京\u{202e}\n\"",
        });
        let map = v.as_object().unwrap().clone();
        let doc = CDoc::from_map(&map);
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(doc.to_map(), map);
        assert_eq!(doc.get("a").and_then(CVal::as_str), Some("text"));
        assert!(doc.get("m").unwrap().is_null());
        assert!(doc.get("nope").is_none());
        assert_eq!(doc.get("t").and_then(CVal::as_bool), Some(true));
        for (k, v) in doc.obj().iter() {
            assert_eq!(&v.to_value(), &map[k], "{k}");
        }
        let empty = CDoc::from_map(&Map::new());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        assert!(empty.obj().is_empty());
    }

    #[test]
    fn interned_strings_are_shared_and_found() {
        let a = CDoc::from_map(json!({"x": "shared-value-1"}).as_object().unwrap());
        let b = CDoc::from_map(json!({"y": ["shared-value-1"]}).as_object().unwrap());
        let ia = a.get("x").and_then(CVal::str_id).unwrap();
        let CKind::Array(arr) = b.get("y").unwrap().kind() else {
            panic!("array expected")
        };
        let ib = arr.iter().next().and_then(CVal::str_id).unwrap();
        assert_eq!(ia, ib);
        assert_eq!(Str::lookup("shared-value-1"), Some(ia));
        assert_eq!(Str::lookup("never-interned-anywhere-\u{1}"), None);
        assert_eq!(ia.as_str(), "shared-value-1");
    }

    #[test]
    fn segments_cover_every_id() {
        let locate = Segments::<u8>::locate;
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(SEG0 as u32 - 1), (0, SEG0 - 1));
        assert_eq!(locate(SEG0 as u32), (1, 0));
        assert_eq!(locate(3 * SEG0 as u32), (2, 0));
        let (seg, i) = locate(u32::MAX);
        assert!(seg < SEGS && i < SEG0 << seg);
    }

    #[test]
    fn batches_share_interned_strings_and_chunks_split_right() {
        let a = json!({"k": "", "l": "alpha-\u{e9}", "m": "beta", "n": ""});
        let b = json!({"k": "beta", "z": ["", "gamma", "alpha-\u{e9}"]});
        let mut batch = Batch::new();
        batch.add(a.as_object().unwrap());
        batch.add(b.as_object().unwrap());
        let docs = batch.finish();
        assert_eq!(docs[0].to_map(), *a.as_object().unwrap());
        assert_eq!(docs[1].to_map(), *b.as_object().unwrap());
        let id = |d: &CDoc, k| d.get(k).and_then(CVal::str_id);
        assert_eq!(id(&docs[0], "m"), id(&docs[1], "k"));
        assert_eq!(id(&docs[0], "k"), id(&docs[0], "n"));
        // Interned again from another batch: the same ids, the same text.
        let again = CDoc::from_map(a.as_object().unwrap());
        assert_eq!(id(&again, "l"), id(&docs[0], "l"));
        assert_eq!(again.get("l").and_then(CVal::as_str), Some("alpha-\u{e9}"));
    }

    #[test]
    fn colliding_hashes_still_intern_by_text() {
        let table: &'static Interner =
            Box::leak(Box::new(Interner::new(|_| 7, u32::MAX, "test strings")));
        let run = |texts: &[&str]| {
            let mut local = Local::with_capacity(4);
            for t in texts {
                local.id(t, u32::MAX);
            }
            table.intern_all(&local.texts)
        };
        let first = run(&["a", "b", "", "c"]);
        assert_eq!(first, vec![0, 1, 2, 3]);
        assert_eq!(run(&["c", "d", "a"]), vec![3, 4, 0]);
        for (id, text) in ["a", "b", "", "c", "d"].iter().enumerate() {
            assert_eq!(table.text(id as u32), *text);
            assert_eq!(table.lookup(text), Some(id as u32));
        }
        assert_eq!(table.lookup("e"), None);
    }

    #[test]
    fn update_goes_through_the_map() {
        let mut d = CDoc::from_map(json!({"a": 1, "b": {"c": 2}}).as_object().unwrap());
        d.update(|m| {
            m.insert("a".into(), json!("changed"));
            m.insert("0".into(), json!([1]));
        });
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"0":[1],"a":"changed","b":{"c":2}}"#
        );
    }
}
