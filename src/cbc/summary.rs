//! [`AlertSummary`]: the fields of an alert a queue shows, in two allocations.
//!
//! A queue's first load parses thousands of alerts. Held as ~20 `String`s each, an alert cost
//! ~20 allocations to build, ~20 to free and 664 bytes of struct besides its text; allocation,
//! freeing and the page faults of that memory were a third of the client's CPU. Here every
//! text of one alert lives in one `Box<str>` and fields are spans of it.
//!
//! Parsing follows the same lenient rules as [`crate::cbc_object!`] documents (a text field is
//! read by the `Option<String>` rule, `ttps` by the `Vec<String>` rule, the nested `workflow`
//! and `determination` objects like `Option<Workflow>`/`Option<Determination>`), and skips
//! every field it does not keep without building it.

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::cbc::lenient::{
    Fast, Key, Lenient, LenientField, LenientObject, TextInto, TextListInto,
};
use crate::cbc::model::{Alert, WorkflowStatus};

/// A byte range of [`AlertSummary::text`]; [`Span::NONE`] for an absent field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    const NONE: Span = Span {
        start: u32::MAX,
        len: 0,
    };
}

/// The text fields, as indexes of [`AlertSummary::spans`].
#[derive(Debug, Clone, Copy)]
enum F {
    Id,
    Type,
    Reason,
    DeviceName,
    DeviceOs,
    DeviceUsername,
    DevicePolicy,
    ProcessName,
    ProcessSha256,
    ProcessCmdline,
    ProcessUsername,
    WorkflowStatus,
    WorkflowClosureReason,
    WorkflowChangedByType,
    WorkflowChangedBy,
    DeterminationValue,
    DeterminationChangedByType,
    DeterminationChangedBy,
}

const FIELDS: usize = F::DeterminationChangedBy as usize + 1;

/// The fields of an alert a queue shows, parsed from a search page while every other field is
/// skipped unbuilt. The full [`Alert`] is fetched (`GET alerts/{id}`) when an analyst opens
/// one. Texts are read through accessors (`Option<&str>`, `None` when absent or empty).
#[derive(Clone, Default)]
pub struct AlertSummary {
    /// Every text of the alert, one after the other.
    text: Box<str>,
    spans: [Span; FIELDS],
    /// Spans of `ttps` entries.
    ttps: Box<[Span]>,
    pub severity: Option<i64>,
    pub device_id: Option<i64>,
    pub backend_timestamp: Option<Timestamp>,
    pub backend_update_timestamp: Option<Timestamp>,
    pub alert_notes_present: Option<bool>,
    /// `workflow.change_timestamp`.
    pub workflow_change_timestamp: Option<Timestamp>,
    /// `determination.change_timestamp`.
    pub determination_change_timestamp: Option<Timestamp>,
    /// Whether the alert had a `workflow` / `determination` object at all.
    has_workflow: bool,
    has_determination: bool,
}

impl Default for Span {
    fn default() -> Self {
        Span::NONE
    }
}

macro_rules! texts {
    ($($(#[$m:meta])* $name:ident => $f:ident),* $(,)?) => {
        impl AlertSummary {
            $(
                $(#[$m])*
                pub fn $name(&self) -> Option<&str> {
                    self.get(F::$f)
                }
            )*
        }
    };
}

texts! {
    id => Id,
    /// The alert's `type` (`CB_ANALYTICS`, `WATCHLIST`, … or one this version does not know).
    alert_type => Type,
    reason => Reason,
    device_name => DeviceName,
    device_os => DeviceOs,
    device_username => DeviceUsername,
    device_policy => DevicePolicy,
    process_name => ProcessName,
    process_sha256 => ProcessSha256,
    process_cmdline => ProcessCmdline,
    process_username => ProcessUsername,
    /// `workflow.status`.
    workflow_status => WorkflowStatus,
    /// `workflow.closure_reason`.
    workflow_closure_reason => WorkflowClosureReason,
    /// `workflow.changed_by_type`.
    workflow_changed_by_type => WorkflowChangedByType,
    /// `workflow.changed_by`.
    workflow_changed_by => WorkflowChangedBy,
    /// `determination.value`.
    determination => DeterminationValue,
    /// `determination.changed_by_type`.
    determination_changed_by_type => DeterminationChangedByType,
    /// `determination.changed_by`.
    determination_changed_by => DeterminationChangedBy,
}

impl AlertSummary {
    fn get(&self, f: F) -> Option<&str> {
        self.span(self.spans[f as usize])
    }

    fn span(&self, s: Span) -> Option<&str> {
        if s == Span::NONE {
            return None;
        }
        let start = s.start as usize;
        self.text.get(start..start + s.len as usize)
    }

    /// MITRE ATT&CK technique ids.
    pub fn ttps(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.ttps.iter().map(|&s| self.span(s).unwrap_or_default())
    }

    pub fn has_workflow(&self) -> bool {
        self.has_workflow
    }

    pub fn has_determination(&self) -> bool {
        self.has_determination
    }

    /// Workflow status; an alert without a readable workflow counts as open (safer to show).
    pub fn status(&self) -> WorkflowStatus {
        self.workflow_status()
            .map_or(WorkflowStatus::Open, WorkflowStatus::parse)
    }
}

impl PartialEq for AlertSummary {
    /// Equal when every field reads the same (however the text happens to be laid out).
    fn eq(&self, o: &Self) -> bool {
        (0..FIELDS).all(|i| self.span(self.spans[i]) == o.span(o.spans[i]))
            && self.ttps().eq(o.ttps())
            && (
                self.severity,
                self.device_id,
                self.backend_timestamp,
                self.backend_update_timestamp,
                self.alert_notes_present,
                self.workflow_change_timestamp,
                self.determination_change_timestamp,
                self.has_workflow,
                self.has_determination,
            ) == (
                o.severity,
                o.device_id,
                o.backend_timestamp,
                o.backend_update_timestamp,
                o.alert_notes_present,
                o.workflow_change_timestamp,
                o.determination_change_timestamp,
                o.has_workflow,
                o.has_determination,
            )
    }
}

impl fmt::Debug for AlertSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlertSummary")
            .field("id", &self.id())
            .field("type", &self.alert_type())
            .field("severity", &self.severity)
            .field("reason", &self.reason())
            .field("backend_timestamp", &self.backend_timestamp)
            .field("backend_update_timestamp", &self.backend_update_timestamp)
            .field("workflow_status", &self.workflow_status())
            .field("workflow_closure_reason", &self.workflow_closure_reason())
            .field("workflow_change_timestamp", &self.workflow_change_timestamp)
            .field("workflow_changed_by_type", &self.workflow_changed_by_type())
            .field("workflow_changed_by", &self.workflow_changed_by())
            .field("determination", &self.determination())
            .field("device_id", &self.device_id)
            .field("device_name", &self.device_name())
            .field("device_os", &self.device_os())
            .field("device_username", &self.device_username())
            .field("device_policy", &self.device_policy())
            .field("process_name", &self.process_name())
            .field("process_sha256", &self.process_sha256())
            .field("process_cmdline", &self.process_cmdline())
            .field("process_username", &self.process_username())
            .field("ttps", &self.ttps().collect::<Vec<_>>())
            .field("alert_notes_present", &self.alert_notes_present)
            .finish()
    }
}

thread_local! {
    /// Reused text and TTP buffers of [`Builder`].
    static SCRATCH: std::cell::Cell<(String, Vec<Span>)> = const { std::cell::Cell::new((String::new(), Vec::new())) };
}

/// Scratch text kept for the next alert up to this size.
const SCRATCH_KEEP: usize = 64 * 1024;

/// An alert summary being built: its text so far and its spans.
struct Builder {
    out: AlertSummary,
    text: String,
    ttps: Vec<Span>,
}

impl Builder {
    fn new() -> Self {
        // The buffers of the alert built before on this thread: after the first alerts they
        // no longer grow, and each alert costs one exact allocation per buffer.
        let (mut text, mut ttps) = SCRATCH.take();
        text.clear();
        ttps.clear();
        Builder {
            out: AlertSummary::default(),
            text,
            ttps,
        }
    }

    fn span(&self, start: usize) -> Span {
        Span {
            start: start as u32,
            len: (self.text.len() - start) as u32,
        }
    }

    fn set(&mut self, f: F, value: Option<&str>) {
        self.out.spans[f as usize] = match value {
            Some(v) if !v.is_empty() => {
                let start = self.text.len();
                self.text.push_str(v);
                self.span(start)
            }
            _ => Span::NONE,
        };
    }

    /// Reads text field `f` from a value.
    fn read<'de, D: Deserializer<'de>>(&mut self, d: D, f: F) -> Result<(), D::Error> {
        let start = self.text.len();
        let present = de::DeserializeSeed::deserialize(TextInto(&mut self.text), d)?;
        // A text the rule reads as present but empty (`[""]`) is absent too.
        self.out.spans[f as usize] = if present && self.text.len() > start {
            self.span(start)
        } else {
            Span::NONE
        };
        Ok(())
    }

    fn finish(mut self) -> AlertSummary {
        if self.text.len() > u32::MAX as usize {
            // Spans are 32-bit: an alert with 4 GiB of kept text keeps none of it.
            self.text.clear();
            self.out.spans = [Span::NONE; FIELDS];
            self.ttps.clear();
        }
        let mut out = std::mem::take(&mut self.out);
        out.text = self.text.as_str().into();
        out.ttps = self.ttps.as_slice().into();
        out
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        // An unusually large alert does not pin its buffer for the thread's life.
        if self.text.capacity() <= SCRATCH_KEEP {
            SCRATCH.set((
                std::mem::take(&mut self.text),
                std::mem::take(&mut self.ttps),
            ));
        }
    }
}

/// A top-level field the summary keeps.
#[derive(Debug, Clone, Copy)]
enum Kept {
    Text(F),
    Severity,
    DeviceId,
    BackendTimestamp,
    BackendUpdateTimestamp,
    NotesPresent,
    Ttps,
    Part(Part),
}

fn kept(key: &str) -> Option<Kept> {
    Some(match key {
        "id" => Kept::Text(F::Id),
        "type" => Kept::Text(F::Type),
        "reason" => Kept::Text(F::Reason),
        "device_name" => Kept::Text(F::DeviceName),
        "device_os" => Kept::Text(F::DeviceOs),
        "device_username" => Kept::Text(F::DeviceUsername),
        "device_policy" => Kept::Text(F::DevicePolicy),
        "process_name" => Kept::Text(F::ProcessName),
        "process_sha256" => Kept::Text(F::ProcessSha256),
        "process_cmdline" => Kept::Text(F::ProcessCmdline),
        "process_username" => Kept::Text(F::ProcessUsername),
        "severity" => Kept::Severity,
        "device_id" => Kept::DeviceId,
        "backend_timestamp" => Kept::BackendTimestamp,
        "backend_update_timestamp" => Kept::BackendUpdateTimestamp,
        "alert_notes_present" => Kept::NotesPresent,
        "ttps" => Kept::Ttps,
        "workflow" => Kept::Part(Part::Workflow),
        "determination" => Kept::Part(Part::Determination),
        _ => return None,
    })
}

/// Reads one kept field's value into the builder: the one place its rule is applied, for
/// both routes (the serde visitor and the raw scan).
struct FieldSeed<'a>(&'a mut Builder, Kept);

impl<'de> de::DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let FieldSeed(b, kept) = self;
        match kept {
            Kept::Text(f) => b.read(d, f)?,
            Kept::Severity => b.out.severity = LenientField::read(d)?,
            Kept::DeviceId => b.out.device_id = LenientField::read(d)?,
            Kept::BackendTimestamp => b.out.backend_timestamp = LenientField::read(d)?,
            Kept::BackendUpdateTimestamp => b.out.backend_update_timestamp = LenientField::read(d)?,
            Kept::NotesPresent => b.out.alert_notes_present = LenientField::read(d)?,
            Kept::Ttps => {
                let mut ttps = std::mem::take(&mut b.ttps);
                ttps.clear();
                let seed = TextListInto(&mut b.text, |r: std::ops::Range<usize>| {
                    ttps.push(Span {
                        start: r.start as u32,
                        len: r.len() as u32,
                    })
                });
                let read = seed.deserialize(d);
                b.ttps = ttps;
                read?;
            }
            Kept::Part(part) => Nested(b, part).deserialize(d)?,
        }
        Ok(())
    }
}

/// The raw route (see [`crate::cbc::scan`]): keys and skipped values are scanned, each kept
/// value is parsed by serde_json from exactly its own text through [`FieldSeed`]. Anything
/// the scanner is unsure of makes the whole object go through `Deserialize` instead.
fn parse_fast(text: &str, pos: usize) -> Fast<AlertSummary> {
    use crate::cbc::scan::{self, Skip};
    use serde::de::DeserializeSeed;
    let b = text.as_bytes();
    if b.get(pos) != Some(&b'{') {
        return Fast::Unsure;
    }
    let mut builder = Builder::new();
    let mut i = scan::ws(b, pos + 1);
    macro_rules! at {
        ($i:expr) => {
            match b.get($i) {
                Some(&c) => c,
                None => return Fast::More,
            }
        };
    }
    macro_rules! skip {
        ($e:expr) => {
            match $e {
                Skip::End(e) => e,
                Skip::More => return Fast::More,
                Skip::Unsure => return Fast::Unsure,
            }
        };
    }
    if at!(i) == b'}' {
        return Fast::Value(builder.finish(), i + 1);
    }
    loop {
        if at!(i) != b'"' {
            return Fast::Unsure;
        }
        let (key_skip, escaped) = scan::string_escaped(b, i);
        let key_end = skip!(key_skip);
        if escaped {
            // An escaped key: serde_json unescapes it.
            return Fast::Unsure;
        }
        let key = &text[i + 1..key_end - 1];
        i = scan::ws(b, key_end);
        if at!(i) != b':' {
            return Fast::Unsure;
        }
        i = scan::ws(b, i + 1);
        at!(i);
        let end = skip!(scan::value(b, i));
        if let Some(k) = kept(key) {
            let mut de = serde_json::Deserializer::from_str(&text[i..end]);
            let read = FieldSeed(&mut builder, k).deserialize(&mut de);
            if read.and_then(|()| de.end()).is_err() {
                return Fast::Unsure;
            }
        }
        i = scan::ws(b, end);
        match at!(i) {
            b',' => i = scan::ws(b, i + 1),
            b'}' => return Fast::Value(builder.finish(), i + 1),
            _ => return Fast::Unsure,
        }
    }
}

impl From<&Alert> for AlertSummary {
    fn from(a: &Alert) -> Self {
        let mut b = Builder::new();
        b.set(F::Id, a.id.as_deref());
        b.set(F::Type, a.alert_type.as_deref());
        b.set(F::Reason, a.reason.as_deref());
        b.set(F::DeviceName, a.device_name.as_deref());
        b.set(F::DeviceOs, a.device_os.as_deref());
        b.set(F::DeviceUsername, a.device_username.as_deref());
        b.set(F::DevicePolicy, a.device_policy.as_deref());
        b.set(F::ProcessName, a.process_name.as_deref());
        b.set(F::ProcessSha256, a.process_sha256.as_deref());
        b.set(F::ProcessCmdline, a.process_cmdline.as_deref());
        b.set(F::ProcessUsername, a.process_username.as_deref());
        if let Some(w) = &a.workflow {
            b.out.has_workflow = true;
            b.set(F::WorkflowStatus, w.status.as_deref());
            b.set(F::WorkflowClosureReason, w.closure_reason.as_deref());
            b.set(F::WorkflowChangedByType, w.changed_by_type.as_deref());
            b.set(F::WorkflowChangedBy, w.changed_by.as_deref());
            b.out.workflow_change_timestamp = w.change_timestamp;
        }
        if let Some(d) = &a.determination {
            b.out.has_determination = true;
            b.set(F::DeterminationValue, d.value.as_deref());
            b.set(F::DeterminationChangedByType, d.changed_by_type.as_deref());
            b.set(F::DeterminationChangedBy, d.changed_by.as_deref());
            b.out.determination_change_timestamp = d.change_timestamp;
        }
        for t in &a.ttps {
            let start = b.text.len();
            b.text.push_str(t);
            let span = b.span(start);
            b.ttps.push(span);
        }
        b.out.severity = a.severity;
        b.out.device_id = a.device_id;
        b.out.backend_timestamp = a.backend_timestamp;
        b.out.backend_update_timestamp = a.backend_update_timestamp;
        b.out.alert_notes_present = a.alert_notes_present;
        b.finish()
    }
}

impl LenientObject for AlertSummary {
    fn parse_fast(text: &str, pos: usize) -> Fast<Self> {
        parse_fast(text, pos)
    }
}

impl<'de> serde::Deserialize<'de> for AlertSummary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AlertSummary;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CBC alert object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AlertSummary, A::Error> {
                let mut b = Builder::new();
                while let Some(Key(key)) = map.next_key()? {
                    match kept(&key) {
                        Some(k) => map.next_value_seed(FieldSeed(&mut b, k))?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(b.finish())
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Workflow,
    Determination,
}

/// The `workflow` or `determination` object, read into the builder: an object is taken, any
/// other value leaves the part absent (as `Option<Workflow>` reads it).
struct Nested<'a>(&'a mut Builder, Part);

impl<'de> de::DeserializeSeed<'de> for Nested<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let Nested(b, part) = self;
        // A later occurrence replaces an earlier one, whatever it holds.
        let fields: &[F] = match part {
            Part::Workflow => &[
                F::WorkflowStatus,
                F::WorkflowClosureReason,
                F::WorkflowChangedByType,
                F::WorkflowChangedBy,
            ],
            Part::Determination => &[
                F::DeterminationValue,
                F::DeterminationChangedByType,
                F::DeterminationChangedBy,
            ],
        };
        for &f in fields {
            b.out.spans[f as usize] = Span::NONE;
        }
        match part {
            Part::Workflow => {
                b.out.has_workflow = false;
                b.out.workflow_change_timestamp = None;
            }
            Part::Determination => {
                b.out.has_determination = false;
                b.out.determination_change_timestamp = None;
            }
        }
        d.deserialize_option(NestedV(b, part))
    }
}

struct NestedV<'a>(&'a mut Builder, Part);

impl<'de> Visitor<'de> for NestedV<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let NestedV(b, part) = self;
        while let Some(Key(key)) = map.next_key()? {
            match (part, key.as_ref()) {
                (Part::Workflow, "status") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::WorkflowStatus)))?
                }
                (Part::Workflow, "closure_reason") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::WorkflowClosureReason)))?
                }
                (Part::Workflow, "changed_by_type") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::WorkflowChangedByType)))?
                }
                (Part::Workflow, "changed_by") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::WorkflowChangedBy)))?
                }
                (Part::Workflow, "change_timestamp") => {
                    b.out.workflow_change_timestamp = map.next_value::<Lenient<_>>()?.0
                }
                (Part::Determination, "value") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::DeterminationValue)))?
                }
                (Part::Determination, "changed_by_type") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::DeterminationChangedByType)))?
                }
                (Part::Determination, "changed_by") => {
                    map.next_value_seed(FieldSeed(b, Kept::Text(F::DeterminationChangedBy)))?
                }
                (Part::Determination, "change_timestamp") => {
                    b.out.determination_change_timestamp = map.next_value::<Lenient<_>>()?.0
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match part {
            Part::Workflow => b.out.has_workflow = true,
            Part::Determination => b.out.has_determination = true,
        }
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary reads every field exactly as the full alert type does, for every lenient
    /// shape of it, and `From<&Alert>` agrees with parsing.
    #[test]
    fn parses_like_the_full_alert_for_every_shape() {
        let docs = [
            r#"{"id":"a","type":"CB_ANALYTICS","severity":7,"reason":"r","backend_timestamp":"2024-05-01T10:00:00.000Z",
               "backend_update_timestamp":"2024-05-01T10:05:00Z","device_id":42,"device_name":"ws-01","device_os":"WINDOWS",
               "device_username":"u@x","device_policy":"Standard","process_name":"c:\\windows\\p.exe",
               "process_sha256":"ab","process_cmdline":"p.exe \"-x\" \u65e5","process_username":"NT AUTHORITY\\SYSTEM",
               "ttps":["T1059","","null",7,true,1.5,["T1003"],{"x":1}],"alert_notes_present":"true",
               "workflow":{"status":"IN_PROGRESS","closure_reason":"NO_REASON","change_timestamp":"2024-05-01T10:04:00Z",
                           "changed_by_type":"USER","changed_by":"ana","extra":{"deep":[1]}},
               "determination":{"value":"TRUE_POSITIVE","change_timestamp":1714557600000,"changed_by_type":"SYSTEM","changed_by":"sys"},
               "unknown":{"a":[1,2,{"b":null}]},"huge":"x"}"#,
            r#"{"id":["first","second"],"severity":"5","device_id":[9],"reason":null,"device_name":"","device_os":"None",
               "process_name":12,"process_sha256":1.25,"process_cmdline":false,"process_username":[null,"u"],
               "ttps":"T1486","workflow":null,"determination":[{"value":"x"}]}"#,
            r#"{"ttps":null,"workflow":"OPEN","determination":{},"alert_notes_present":0}"#,
            r#"{"ttps":42,"workflow":{"status":["CLOSED"]},"workflow":{"changed_by":"later"}}"#,
            r#"{"ttps":{"a":1},"id":"x","id":"y","device_name":{"nested":true},"device_os":[[1],"WINDOWS"]}"#,
            r#"{"ttps":[],"workflow":{"status":""},"process_name":[""]}"#,
            r#"{}"#,
        ];
        for (n, doc) in docs.into_iter().enumerate() {
            let full: Alert = serde_json::from_str(doc).unwrap();
            let summary: AlertSummary = serde_json::from_str(doc).unwrap();
            // The raw route reads the same, and handles all of these shapes itself.
            match parse_fast(doc, 0) {
                Fast::Value(fast, end) => {
                    assert_eq!(fast, summary, "{doc}");
                    assert_eq!(end, doc.len(), "{doc}");
                }
                Fast::More => panic!("{doc}: complete document reported as cut"),
                Fast::Unsure => panic!("doc {n} left to serde: {doc}"),
            }
            for cut in 1..doc.len() {
                if !doc.is_char_boundary(cut) {
                    continue;
                }
                assert!(
                    matches!(parse_fast(&doc[..cut], 0), Fast::More),
                    "{doc} cut at {cut}"
                );
            }
            let from_full = AlertSummary::from(&full);
            assert_eq!(summary, from_full, "{doc}");
            assert_eq!(summary.id(), full.id.as_deref(), "{doc}");
            assert_eq!(summary.device_os(), full.device_os.as_deref(), "{doc}");
            assert_eq!(
                summary.process_name(),
                full.process_name.as_deref(),
                "{doc}"
            );
            assert_eq!(summary.ttps().collect::<Vec<_>>(), full.ttps, "{doc}");
            assert_eq!(
                summary.workflow_changed_by(),
                full.workflow.as_ref().and_then(|w| w.changed_by.as_deref()),
                "{doc}"
            );
            assert_eq!(summary.has_workflow(), full.workflow.is_some(), "{doc}");
            assert_eq!(
                summary.has_determination(),
                full.determination.is_some(),
                "{doc}"
            );
            assert_eq!(summary.status(), full.status(), "{doc}");
        }
    }

    #[test]
    fn reads_the_first_document_in_full() {
        let doc = r#"{"id":"a","severity":7,"process_name":"c:\\windows\\p.exe","ttps":["T1059","T1003"],
            "workflow":{"status":"CLOSED","closure_reason":"RESOLVED"},"determination":{"value":"FALSE_POSITIVE"}}"#;
        let s: AlertSummary = serde_json::from_str(doc).unwrap();
        assert_eq!(s.id(), Some("a"));
        assert_eq!(s.severity, Some(7));
        assert_eq!(s.process_name(), Some(r"c:\windows\p.exe"));
        assert_eq!(s.ttps().collect::<Vec<_>>(), ["T1059", "T1003"]);
        assert_eq!(s.status(), WorkflowStatus::Closed);
        assert_eq!(s.workflow_closure_reason(), Some("RESOLVED"));
        assert_eq!(s.determination(), Some("FALSE_POSITIVE"));
        assert_eq!(s.device_name(), None);
        // Broken JSON is still an error.
        assert!(serde_json::from_str::<AlertSummary>(r#"{"id":"a","ttps":["x"}"#).is_err());
        // Small: two allocations and ~300 bytes instead of ~20 strings and 664 bytes.
        assert!(std::mem::size_of::<AlertSummary>() <= 320);
    }
}
