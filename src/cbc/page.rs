//! An alert search page parsed while its body arrives.
//!
//! A page of 1 000 alerts is ~3.5 MB of JSON. Buffering it whole and parsing it afterwards
//! keeps a page-sized buffer alive, parses memory long evicted from the cache and leaves the CPU
//! idle while the bytes arrive. [`PageReader`] instead walks the page object itself and parses
//! each alert of `results` as soon as the bytes for it are in, from a small window that stays
//! in cache, appending to the caller's `Vec`.
//!
//! It accepts, refuses and produces what [`AlertPageInto`] does on the whole body (tested at
//! every chunk cut and on thousands of corrupted pages): an unusual top level (an array,
//! `null`, a string) is buffered and handed to that parser, and every value is parsed by the
//! same lenient types — or, for types that have one, by their raw route
//! ([`LenientObject::parse_fast`]), which hands anything it is unsure of to those types. One
//! difference: each alert is parsed as a top-level value, so serde_json's nesting limit (128)
//! counts from the alert, not from the page, two levels up.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::error::Category;

use crate::cbc::client::{json_error_kind, parse_json_seed};
use crate::cbc::lenient::{Fast, Key, Lenient, LenientObject, MaybeObject};
use crate::cbc::model::{AlertPageInto, PageCounts};
use crate::cbc::scan;

/// Parse once this much is buffered: an alert cut at the window's end is parsed again when the
/// rest arrives, so the window is a few dozen alerts wide to keep that waste small, and small
/// enough to stay in the CPU's cache (`cargo bench --bench parse_pages` was fastest at 128 KB).
const WINDOW: usize = 128 * 1024;

/// Why a page could not be read: the kind of JSON error and where in the body it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub category: Category,
    /// Byte offset in the body.
    pub at: u64,
}

impl PageError {
    /// For error messages: what went wrong and where, never the body's text (it could echo
    /// anything).
    pub fn detail(&self) -> String {
        let kind = json_error_kind(self.category);
        format!("invalid JSON ({kind} at byte {})", self.at)
    }

    fn new(category: Category, at: u64) -> Self {
        PageError { category, at }
    }

    fn of(e: &serde_json::Error, window: &[u8], from: usize, base: u64) -> Self {
        // serde_json counts lines and columns from where that parse started.
        let tail = &window[from.min(window.len())..];
        let mut offset = 0usize;
        for _ in 1..e.line() {
            match tail[offset..].iter().position(|&b| b == b'\n') {
                Some(i) => offset += i + 1,
                None => break,
            }
        }
        let at = base + (from + offset + e.column().saturating_sub(1)) as u64;
        PageError::new(e.classify(), at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Results,
    NumFound,
    NumAvailable,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the top-level value.
    Start,
    /// After `{`: a key or `}`.
    FirstKey,
    /// After `,` in the page object: a key.
    Key,
    Colon(Field),
    Value(Field),
    /// After `[` of `results`: an alert or `]`.
    FirstElem,
    /// After `,` in `results`: an alert.
    Elem,
    /// After an alert: `,` or `]`.
    AfterElem,
    /// After a value of the page object: `,` or `}`.
    AfterValue,
    Done,
}

/// Reads one alert search page from body chunks into a caller's `Vec` (see the module docs).
pub struct PageReader<'a, T> {
    out: &'a mut Vec<T>,
    /// `out.len()` when the page began: a retried request starts over from here.
    base: usize,
    /// Bytes received and not yet parsed.
    pending: Vec<u8>,
    /// Body offset of `pending[0]`.
    offset: u64,
    state: State,
    results: bool,
    num_found: Option<u64>,
    num_available: Option<Option<u64>>,
    /// The body is not an object: keep it whole for [`AlertPageInto`].
    whole: bool,
    window: usize,
    /// Parse again once this much is pending: at least a window, and twice what the last
    /// attempt could not finish, so one huge alert is not re-parsed for every chunk.
    need: usize,
}

/// The outcome of parsing one value at a position of the window.
enum Parsed<X> {
    /// The value and the position after it.
    Value(X, usize),
    /// The window ends inside the value.
    More,
    Fail(serde_json::Error),
}

/// The window as serde_json should read it: `&str` when it is UTF-8 (nothing re-validated),
/// bytes otherwise (serde_json then validates what it builds, as `from_slice` does).
#[derive(Clone, Copy)]
enum Src<'w> {
    Text(&'w str),
    Bytes(&'w [u8]),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Text(s) => s.len(),
            Src::Bytes(b) => b.len(),
        }
    }
}

fn parse<'w, X: Deserialize<'w>>(src: Src<'w>, pos: usize, finished: bool) -> Parsed<X> {
    let (next, used) = match src {
        Src::Text(s) => {
            let mut it = serde_json::Deserializer::from_str(&s[pos..]).into_iter::<X>();
            (it.next(), it.byte_offset())
        }
        Src::Bytes(b) => {
            let mut it = serde_json::Deserializer::from_slice(&b[pos..]).into_iter::<X>();
            (it.next(), it.byte_offset())
        }
    };
    match next {
        // A number or literal ending exactly where the window ends may go on in the next chunk.
        Some(Ok(_)) if !finished && pos + used == src.len() => Parsed::More,
        Some(Ok(x)) => Parsed::Value(x, pos + used),
        Some(Err(e)) if !finished && e.classify() == Category::Eof => Parsed::More,
        Some(Err(e)) => Parsed::Fail(e),
        // Only whitespace left: the caller skipped it already, so this is the end.
        None => Parsed::More,
    }
}

impl<'a, T: LenientObject> PageReader<'a, T> {
    pub fn new(out: &'a mut Vec<T>) -> Self {
        let base = out.len();
        PageReader {
            out,
            base,
            pending: Vec::new(),
            offset: 0,
            state: State::Start,
            results: false,
            num_found: None,
            num_available: None,
            whole: false,
            window: WINDOW,
            need: WINDOW,
        }
    }

    /// A smaller window, so tests can exercise every cut with small pages.
    #[cfg(test)]
    fn with_window(mut self, window: usize) -> Self {
        self.window = window.max(1);
        self.need = self.window;
        self
    }

    /// Forgets everything read so far (the request is being sent again).
    pub fn reset(&mut self) {
        self.out.truncate(self.base);
        self.pending.clear();
        self.offset = 0;
        self.state = State::Start;
        self.results = false;
        self.num_found = None;
        self.num_available = None;
        self.whole = false;
        self.need = self.window;
    }

    /// Takes the next chunk of the body, parsing whatever it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), PageError> {
        if self.whole {
            self.pending.extend_from_slice(chunk);
            return Ok(());
        }
        if self.pending.is_empty() && chunk.len() >= self.window {
            // Parse straight from the chunk; only its unfinished tail is copied.
            let used = self.step(chunk, false)?;
            self.offset += used as u64;
            self.pending.extend_from_slice(&chunk[used..]);
            self.need = (2 * self.pending.len()).max(self.window);
            return Ok(());
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= self.need {
            self.drain(false)?;
            self.need = (2 * self.pending.len()).max(self.window);
        }
        Ok(())
    }

    /// The body is complete: parses the rest and returns the page's counts.
    pub fn finish(&mut self) -> Result<PageCounts, PageError> {
        if !self.whole {
            self.drain(true)?;
        }
        if self.whole {
            let out = &mut *self.out;
            return parse_whole(&self.pending, self.offset, AlertPageInto(out));
        }
        if self.state != State::Done {
            return Err(PageError::new(
                Category::Eof,
                self.offset + self.pending.len() as u64,
            ));
        }
        Ok(PageCounts {
            num_found: self.num_found.unwrap_or_default(),
            num_available: self.num_available.unwrap_or_default(),
        })
    }

    fn drain(&mut self, finished: bool) -> Result<(), PageError> {
        let pending = std::mem::take(&mut self.pending);
        let used = self.step(&pending, finished);
        self.pending = pending;
        let used = used?;
        self.pending.drain(..used);
        self.offset += used as u64;
        Ok(())
    }

    /// Parses what `window` holds from the current state; returns the bytes consumed.
    fn step(&mut self, window: &[u8], finished: bool) -> Result<usize, PageError> {
        let src = match std::str::from_utf8(window) {
            Ok(s) => Src::Text(s),
            // A character cut by the chunk boundary: parse up to it, it completes later.
            Err(e) if e.error_len().is_none() && !finished => {
                Src::Text(std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default())
            }
            Err(_) => Src::Bytes(window),
        };
        let bytes = window;
        let len = src.len();
        let base = self.offset;
        let syntax = |at: usize| PageError::new(Category::Syntax, base + at as u64);
        let mut pos = 0usize;
        loop {
            pos = scan::ws(&bytes[..len], pos);
            if pos == len {
                return Ok(pos);
            }
            let b = bytes[pos];
            // Each arm either advances `pos` or returns.
            macro_rules! value {
                ($ty:ty) => {
                    match parse::<$ty>(src, pos, finished) {
                        Parsed::Value(v, end) => {
                            pos = end;
                            v
                        }
                        Parsed::More => return Ok(pos),
                        Parsed::Fail(e) => return Err(PageError::of(&e, bytes, pos, base)),
                    }
                };
            }
            match self.state {
                State::Start if b == b'{' => {
                    pos += 1;
                    self.state = State::FirstKey;
                }
                State::Start => {
                    // Not an object: the whole-body parser decides what it is.
                    self.whole = true;
                    return Ok(pos);
                }
                State::FirstKey if b == b'}' => {
                    pos += 1;
                    self.state = State::Done;
                }
                State::FirstKey | State::Key if b == b'"' => {
                    let key = value!(Key);
                    self.state = State::Colon(match key.0.as_ref() {
                        "results" => Field::Results,
                        "num_found" => Field::NumFound,
                        "num_available" => Field::NumAvailable,
                        _ => Field::Other,
                    });
                }
                State::FirstKey | State::Key => return Err(syntax(pos)),
                State::Colon(field) if b == b':' => {
                    pos += 1;
                    self.state = State::Value(field);
                }
                State::Colon(_) => return Err(syntax(pos)),
                State::Value(field) => {
                    let duplicate = match field {
                        Field::Results => self.results,
                        Field::NumFound => self.num_found.is_some(),
                        Field::NumAvailable => self.num_available.is_some(),
                        Field::Other => false,
                    };
                    if duplicate {
                        return Err(PageError::new(Category::Data, base + pos as u64));
                    }
                    match field {
                        Field::Results if b == b'[' => {
                            pos += 1;
                            self.results = true;
                            self.state = State::FirstElem;
                            continue;
                        }
                        Field::Results => {
                            // `null`, one object instead of a list, …: the lenient list rule.
                            let list = value!(Lenient<Vec<T>>);
                            self.out.extend(list.0);
                            self.results = true;
                        }
                        Field::NumFound => self.num_found = Some(value!(u64)),
                        Field::NumAvailable => self.num_available = Some(value!(Option<u64>)),
                        Field::Other => {
                            value!(IgnoredAny);
                        }
                    }
                    self.state = State::AfterValue;
                }
                State::FirstElem if b == b']' => {
                    pos += 1;
                    self.state = State::AfterValue;
                }
                State::FirstElem | State::Elem => {
                    if let (Src::Text(text), b'{') = (src, b) {
                        match T::parse_fast(text, pos) {
                            Fast::Value(alert, end) => {
                                self.out.push(alert);
                                pos = end;
                                self.state = State::AfterElem;
                                continue;
                            }
                            Fast::More if !finished => return Ok(pos),
                            // Unsure, or cut short at the very end: the exact route decides.
                            _ => {}
                        }
                    }
                    let alert = value!(MaybeObject<T>);
                    self.out.extend(alert.0);
                    self.state = State::AfterElem;
                }
                State::AfterElem => {
                    self.state = match b {
                        b',' => State::Elem,
                        b']' => State::AfterValue,
                        _ => return Err(syntax(pos)),
                    };
                    pos += 1;
                }
                State::AfterValue => {
                    self.state = match b {
                        b',' => State::Key,
                        b'}' => State::Done,
                        _ => return Err(syntax(pos)),
                    };
                    pos += 1;
                }
                State::Done => return Err(syntax(pos)),
            }
        }
    }
}

/// A body that is not a page object, parsed whole (as the client parses any other body).
fn parse_whole<T: LenientObject>(
    bytes: &[u8],
    base: u64,
    seed: AlertPageInto<'_, T>,
) -> Result<PageCounts, PageError> {
    parse_json_seed(bytes, seed).map_err(|e| PageError::of(&e, bytes, 0, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbc::model::{Alert, AlertPage, AlertSummary};

    fn whole<T: LenientObject>(json: &[u8], out: &mut Vec<T>) -> Result<PageCounts, PageError> {
        parse_whole(json, 0, AlertPageInto(out))
    }

    fn streamed<T: LenientObject>(
        json: &[u8],
        chunk: usize,
        window: usize,
        out: &mut Vec<T>,
    ) -> Result<PageCounts, PageError> {
        let mut r = PageReader::new(out).with_window(window);
        for c in json.chunks(chunk.max(1)) {
            r.feed(c)?;
        }
        r.finish()
    }

    /// An alert already in the caller's `Vec`: pages append, never replace.
    fn earlier() -> AlertSummary {
        AlertSummary::from(&Alert {
            id: Some("earlier".into()),
            ..Default::default()
        })
    }

    const CASES: &[&str] = &[
        r#"{"results":[{"id":"a","severity":5},{"id":"b"}],"num_found":2,"num_available":2}"#,
        r#"{"num_found":7,"results":[{"id":"a"}]}"#,
        r#"{"results":[]}"#,
        r#"{}"#,
        r#" { "results" : [ { "id" : "a" } , { "id" : "b" } ] , "num_found" : 12345 } "#,
        "{\n\"results\":\n[\n{\"id\":\"nl\"}\n]\n}\n",
        r#"{"results":null,"num_found":0,"num_available":null}"#,
        r#"{"results":{"id":"single"},"num_found":1}"#,
        r#"{"results":[1,"x",null,[2],{"id":"kept"}],"num_found":5}"#,
        r#"{"results":"nope","num_found":1}"#,
        r#"{"extra":{"deep":[1,2,{"a":null}]},"results":[{"id":"a"}],"num_found":1}"#,
        r#"{"res\u0075lts":[{"id":"escaped key"}],"num_found":1}"#,
        r#"{"results":[{"id":"\u65e5\u672c","reason":"日本語の理由 ｶﾀｶﾅ 🚨"}],"num_found":1}"#,
        r#"[[{"id":"seq form"}],3,4]"#,
        r#"[[{"id":"short seq"}]]"#,
        r#"[]"#,
        // Alerts as the raw scan meets them (AlertSummary has one): escapes, numbers,
        // literals and nesting in skipped fields, escaped keys, odd kept values.
        r#"{"results":[{"id":"a","junk":"x\u0001y\n\"\\","n":-0.5e-3,"z":0,"t":true,"f":false,"u":null}]}"#,
        r#"{"results":[{ "id" : "sp" , "deep" : [[[{"a":[{}]}]]] , "device_name" : "d" }]}"#,
        r#"{"results":[{"dev\u0069ce_name":"escaped key is kept","id":"k"}]}"#,
        r#"{"results":[{"device_name":{"a":[1,2]},"severity":[5],"ttps":"T1","workflow":[]}]}"#,
        r#"{"results":[{"id":"a","id":"b","workflow":{"status":"OPEN"},"workflow":null}]}"#,
        r#"{"results":[{"id":"x","severity":1e400}]}"#,
        r#"{"results":[{"id":"x","junk":1e400}]}"#,
        r#"{"results":[{"id":"\ud83d\ude00 pair","reason":"\ud83d lone"}]}"#,
        r#"{"results":[{"id":"x","junk":"\ud83d lone skipped"}]}"#,
        // Refused by both:
        "{\"results\":[{\"id\":\"a\",\"junk\":\"x\u{1}y\"}]}",
        "{\"results\":[{\"id\":\"a\u{1f}\"}]}",
        r#"{"results":[{"id":"a","junk":"\x"}]}"#,
        r#"{"results":[{"id":"a","junk":"\u12G4"}]}"#,
        r#"{"results":[{"id":"a","n":01}]}"#,
        r#"{"results":[{"id":"a","n":1.}]}"#,
        r#"{"results":[{"id":"a","n":-}]}"#,
        r#"{"results":[{"id":"a","x":tru}]}"#,
        r#"{"results":[{"id":"a","x":nul,"y":1}]}"#,
        r#"{"results":[{"id":"a" "x":1}]}"#,
        r#"{"results":[{"id":"a",}]}"#,
        r#"{"results":[{"id" "a"}]}"#,
        r#"{"results":[{"id":"a","severity":"5"x}]}"#,
        r#"{"results":[{"id":"a"]}"#,
        r#"{"results":[{"id":"a","x":[1,]}]}"#,
        r#"{"results":[{"id":"a"}],"results":[],"num_found":1}"#,
        r#"{"results":[],"num_found":1,"num_found":2}"#,
        r#"{"results":[],"num_available":1,"num_available":2}"#,
        r#"{"results":[],"num_found":"12"}"#,
        r#"{"results":[],"num_found":-1}"#,
        r#"{"results":[],"num_found":1.5}"#,
        r#"{"results":[],"num_available":"x"}"#,
        r#"{"results":[{"id":"a"}],"num_found":1"#,
        r#"{"results":[{"id":"a"}],"num_found":"#,
        r#"{"results":[{"id":"a"},],"num_found":1}"#,
        r#"{"results":[{"id":"a"}],}"#,
        r#"{"results":[{"id":"a"}] "num_found":1}"#,
        r#"{"results" [{"id":"a"}]}"#,
        r#"{results:[]}"#,
        r#"{"results":[{"id":"a"}"#,
        r#"{"results":[{"id":"a"}]"#,
        r#"[[],1,2,3]"#,
        r#""a page""#,
        r#"null"#,
        r#""#,
        r#"   "#,
        r#"{"results":[{"id":"a"}]} trailing"#,
        r#"{"results":[{"id":"a"}]}}"#,
    ];

    /// Every case, cut into chunks of every small size and parsed with windows of several
    /// widths, gives exactly what the whole-body parser gives: same alerts, counts, refusals.
    #[test]
    fn streamed_pages_match_the_whole_body_parser_at_every_cut() {
        for json in CASES {
            let bytes = json.as_bytes();
            // The whole-body parser appends to what is there and accepts, refuses and
            // produces exactly what the page type does (so what the client did before).
            let mut want = vec![earlier()];
            let want_counts = whole(bytes, &mut want);
            let page: Result<AlertPage<AlertSummary>, _> = serde_json::from_slice(bytes);
            match (&page, &want_counts) {
                (Ok(page), Ok(counts)) => {
                    assert_eq!(want.remove(0).id(), Some("earlier"), "{json}");
                    assert_eq!(want, page.results, "{json}");
                    assert_eq!(
                        (counts.num_found, counts.num_available),
                        (page.num_found, page.num_available),
                        "{json}"
                    );
                }
                (Err(_), Err(_)) => {}
                (page, whole) => panic!("{json}: AlertPage {page:?} vs whole body {whole:?}"),
            }
            for chunk in 1..=bytes.len().max(1) {
                for window in [1, 3, 16, 64 * 1024] {
                    let mut got = vec![earlier()];
                    let counts = streamed(bytes, chunk, window, &mut got);
                    let ctx = format!("{json} (chunk {chunk}, window {window})");
                    match (&want_counts, counts) {
                        (Ok(w), Ok(c)) => {
                            assert_eq!(got.remove(0).id(), Some("earlier"), "{ctx}");
                            assert_eq!(got, want, "{ctx}");
                            assert_eq!(*w, c, "{ctx}");
                        }
                        (Err(_), Err(_)) => {}
                        (w, c) => panic!("{ctx}: whole {w:?} vs streamed {c:?}"),
                    }
                }
            }
        }
    }

    /// Thousands of small corruptions of a real page (a byte replaced by a JSON-significant
    /// one, removed or doubled): the streamed reader, with its raw scan, accepts and refuses
    /// exactly what the whole-body parser does, and reads the same alerts.
    #[test]
    fn corrupted_pages_are_judged_as_on_the_whole_body() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/cbc/fixtures/alerts_v7_search_response.json"
        );
        let page = std::fs::read(path).expect("fixture");
        const BYTES: &[u8] = b"\"\\{}[],:0-1.eEu tfnx\x01\n";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..3000 {
            let mut json = page.clone();
            for _ in 0..1 + round % 3 {
                let at = next() as usize % json.len();
                match next() % 3 {
                    0 => json[at] = BYTES[next() as usize % BYTES.len()],
                    1 => {
                        json.remove(at);
                    }
                    _ => json.insert(at, json[at]),
                }
            }
            let mut want: Vec<AlertSummary> = Vec::new();
            let want_counts = whole(&json, &mut want);
            let chunk = 1 + next() as usize % 700;
            let window = [1, 97, 4096, 64 * 1024][round % 4];
            let mut got: Vec<AlertSummary> = Vec::new();
            let counts = streamed(&json, chunk, window, &mut got);
            let ctx = || format!("round {round}: {}", String::from_utf8_lossy(&json));
            match (&want_counts, &counts) {
                (Ok(w), Ok(c)) => {
                    assert_eq!((w, &want), (c, &got), "{}", ctx());
                    accepted += 1;
                }
                (Err(_), Err(_)) => refused += 1,
                _ => panic!("whole {want_counts:?} vs streamed {counts:?}: {}", ctx()),
            }
        }
        // Both kinds were exercised.
        assert!(
            accepted > 300 && refused > 300,
            "{accepted} accepted, {refused} refused"
        );
    }

    /// The SDK's search fixture, fed in TLS-record-sized and odd-sized chunks, as full alerts.
    #[test]
    fn the_search_fixture_streams_into_the_same_alerts() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/cbc/fixtures/alerts_v7_search_response.json"
        );
        let Ok(bytes) = std::fs::read(path) else {
            panic!("fixture missing: {path}");
        };
        let mut want: Vec<Alert> = Vec::new();
        let want_counts = whole(&bytes, &mut want).unwrap();
        assert!(!want.is_empty());
        for chunk in [1, 7, 100, 1000, 16 * 1024, bytes.len()] {
            for window in [1, 512, 64 * 1024] {
                let mut got = Vec::new();
                let counts = streamed(&bytes, chunk, window, &mut got).unwrap();
                assert_eq!((counts, &got), (want_counts, &want), "chunk {chunk}");
            }
        }
    }

    /// Bytes that are not UTF-8 inside a skipped field are accepted as the whole-body parser
    /// accepts them; inside a kept string they are refused by both.
    #[test]
    fn invalid_utf8_is_judged_as_on_the_whole_body() {
        let skipped = b"{\"results\":[{\"id\":\"a\",\"junk\":\"\xff\xfe\"}],\"num_found\":1}";
        let kept = b"{\"results\":[{\"id\":\"\xff\"}],\"num_found\":1}";
        for json in [&skipped[..], &kept[..]] {
            let mut want: Vec<AlertSummary> = Vec::new();
            let want_counts = whole(json, &mut want);
            for chunk in 1..json.len() {
                let mut got: Vec<AlertSummary> = Vec::new();
                let counts = streamed(json, chunk, 4, &mut got);
                assert_eq!(counts.is_ok(), want_counts.is_ok(), "chunk {chunk}");
                if counts.is_ok() {
                    assert_eq!(got, want, "chunk {chunk}");
                }
            }
        }
        let mut out: Vec<AlertSummary> = Vec::new();
        assert!(whole(skipped, &mut out).is_ok());
        assert_eq!(out[0].id(), Some("a"));
        assert!(whole(kept, &mut Vec::<AlertSummary>::new()).is_err());
    }

    #[test]
    fn reset_drops_what_a_failed_attempt_appended() {
        let mut out = vec![AlertSummary::default()];
        let mut r = PageReader::new(&mut out).with_window(1);
        r.feed(br#"{"results":[{"id":"a"},{"id":"b"},"#).unwrap();
        r.reset();
        r.feed(br#"{"results":[{"id":"c"}],"num_found":1}"#)
            .unwrap();
        let counts = r.finish().unwrap();
        assert_eq!(counts.num_found, 1);
        let ids: Vec<_> = out.iter().map(|a| a.id()).collect();
        assert_eq!(ids, [None, Some("c")]);
    }

    #[test]
    fn errors_say_where_in_the_body() {
        let json = br#"{"results":[{"id":"a"},{"id":"b"} x],"num_found":2}"#;
        let at = json.iter().position(|&b| b == b'x').unwrap() as u64;
        for chunk in [1, 5, json.len()] {
            let mut out: Vec<AlertSummary> = Vec::new();
            let e = streamed(json, chunk, 1, &mut out).unwrap_err();
            assert_eq!(e, PageError::new(Category::Syntax, at), "chunk {chunk}");
        }
        let cut = br#"{"results":[{"id":"a"}"#;
        let mut out: Vec<AlertSummary> = Vec::new();
        let e = streamed(cut, 3, 1, &mut out).unwrap_err();
        assert_eq!(e.category, Category::Eof);
    }
}
