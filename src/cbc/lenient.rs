//! Tolerant, allocation-light parsing of CBC documents.
//!
//! Real CBC payloads (and the SDK's own fixtures) carry `"tags": ""`, `"user_update_timestamp": ""`,
//! `"null"` and `"false"` as strings, numbers as strings, pids as one-element arrays. One odd field
//! must not drop an alert an analyst needs to see, so every field of a CBC object goes through
//! [`LenientField`]: the value is taken when it has a usable shape and is empty otherwise.
//!
//! [`cbc_object!`] generates a struct plus a streaming `Deserialize` that maps known keys to typed
//! fields and keeps unknown keys in `extra` ([`ExtraValue`]), without buffering the document into
//! an intermediate tree first (serde's `flatten` would, at several times the cost).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A field this version of socdeck does not model, kept so nothing a user may want is lost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExtraValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<ExtraValue>),
    Object(BTreeMap<String, ExtraValue>),
}

/// Unknown fields of a CBC object, by name.
pub type Extra = BTreeMap<String, ExtraValue>;

impl ExtraValue {
    /// A one-line rendering for detail views.
    pub fn display(&self) -> String {
        match self {
            ExtraValue::Null => "null".into(),
            ExtraValue::Bool(b) => b.to_string(),
            ExtraValue::Int(i) => i.to_string(),
            ExtraValue::Float(f) => f.to_string(),
            ExtraValue::Text(s) => s.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        }
    }
}

impl<'de> Deserialize<'de> for ExtraValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExtraValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Null)
            }
            fn visit_none<E>(self) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ExtraValue, D::Error> {
                ExtraValue::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ExtraValue, E> {
                Ok(i64::try_from(v).map_or(ExtraValue::Float(v as f64), ExtraValue::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<ExtraValue, E> {
                Ok(ExtraValue::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExtraValue, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(ExtraValue::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ExtraValue, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, ExtraValue>()? {
                    out.insert(k, v);
                }
                Ok(ExtraValue::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One JSON scalar as seen by a lenient field, borrowed from the input where possible.
enum Scalar<'de> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'de, str>),
    /// An array: its first scalar element (CBC wraps some single values in arrays).
    First(Option<Box<Scalar<'de>>>),
    /// An object or an array of arrays: not a scalar.
    Other,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                let mut first = None;
                while let Some(item) = seq.next_element::<Scalar<'de>>()? {
                    if first.is_none()
                        && !matches!(item, Scalar::Null | Scalar::Other | Scalar::First(_))
                    {
                        first = Some(Box::new(item));
                    }
                }
                Ok(Scalar::First(first))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

fn nullish(s: &str) -> bool {
    s.is_empty() || s.eq_ignore_ascii_case("null") || s.eq_ignore_ascii_case("none")
}

impl Scalar<'_> {
    /// Unwraps a one-element array to its scalar.
    fn flat(self) -> Self {
        match self {
            Scalar::First(Some(inner)) => *inner,
            Scalar::First(None) => Scalar::Null,
            other => other,
        }
    }
    fn into_string(self) -> Option<String> {
        match self.flat() {
            Scalar::Str(s) if nullish(&s) => None,
            Scalar::Str(s) => Some(s.into_owned()),
            Scalar::I64(i) => Some(i.to_string()),
            Scalar::U64(u) => Some(u.to_string()),
            Scalar::F64(f) => Some(f.to_string()),
            Scalar::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    fn into_i64(self) -> Option<i64> {
        match self.flat() {
            Scalar::I64(i) => Some(i),
            Scalar::U64(u) => i64::try_from(u).ok(),
            Scalar::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl Scalar<'_> {
    /// [`Scalar::into_string`] appending to `text` instead of allocating; whether it did.
    fn push_to(self, text: &mut String) -> bool {
        use std::fmt::Write;
        match self.flat() {
            Scalar::Str(s) if nullish(&s) => false,
            Scalar::Str(s) => {
                text.push_str(&s);
                true
            }
            Scalar::I64(i) => write!(text, "{i}").is_ok(),
            Scalar::U64(u) => write!(text, "{u}").is_ok(),
            Scalar::F64(f) => write!(text, "{f}").is_ok(),
            Scalar::Bool(b) => {
                text.push_str(if b { "true" } else { "false" });
                true
            }
            _ => false,
        }
    }
}

/// Reads a text field by the `Option<String>` rule and appends it to a shared buffer instead of
/// allocating a `String` for it; the value says whether there was text (`Some` by the rule).
/// Compact documents keep all their strings in one allocation this way.
pub(crate) struct TextInto<'a>(pub(crate) &'a mut String);

impl<'de> de::DeserializeSeed<'de> for TextInto<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        struct V<'a>(&'a mut String);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<bool, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)).push_to(self.0))
            }
            fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
                Ok(Scalar::I64(v).push_to(self.0))
            }
            fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
                Ok(Scalar::U64(v).push_to(self.0))
            }
            fn visit_f64<E>(self, v: f64) -> Result<bool, E> {
                Ok(Scalar::F64(v).push_to(self.0))
            }
            fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
                Ok(Scalar::Bool(v).push_to(self.0))
            }
            fn visit_unit<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_none<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
                // Rare (CBC's one-element arrays): the general rule, allocation and all.
                let first = Scalar::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(first.push_to(self.0))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(false)
            }
        }
        d.deserialize_any(V(self.0))
    }
}

/// Reads a list of texts by the `Vec<String>` rule, appending each to `text` and calling
/// `item` with its byte range there.
pub(crate) struct TextListInto<'a, F>(pub(crate) &'a mut String, pub(crate) F);

impl<'de, F: FnMut(std::ops::Range<usize>)> de::DeserializeSeed<'de> for TextListInto<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        struct V<'a, F>(&'a mut String, F);
        impl<F: FnMut(std::ops::Range<usize>)> V<'_, F> {
            fn one(mut self, v: &str) {
                let start = self.0.len();
                self.0.push_str(v);
                (self.1)(start..self.0.len());
            }
        }
        impl<'de, F: FnMut(std::ops::Range<usize>)> Visitor<'de> for V<'_, F> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
                loop {
                    let start = self.0.len();
                    match seq.next_element_seed(TextInto(&mut *self.0))? {
                        Some(true) => (self.1)(start..self.0.len()),
                        Some(false) => {}
                        None => return Ok(()),
                    }
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<(), E> {
                if !nullish(v) {
                    self.one(v);
                }
                Ok(())
            }
            fn visit_unit<E>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_none<E>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E>(self, _: bool) -> Result<(), E> {
                Ok(())
            }
            fn visit_i64<E>(self, v: i64) -> Result<(), E> {
                self.one(&v.to_string());
                Ok(())
            }
            fn visit_u64<E>(self, v: u64) -> Result<(), E> {
                self.one(&v.to_string());
                Ok(())
            }
            fn visit_f64<E>(self, _: f64) -> Result<(), E> {
                Ok(())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(())
            }
        }
        d.deserialize_any(V(self.0, self.1))
    }
}

/// How one field of a CBC object is read: never an error for a wrong shape, only for broken
/// JSON (which fails the whole page, as it must).
pub trait LenientField: Sized + Default {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
    /// Whether serialization can leave the field out.
    fn is_absent(&self) -> bool;
}

impl LenientField for Option<String> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Scalar::deserialize(d)?.into_string())
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl LenientField for Option<i64> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Scalar::deserialize(d)?.into_i64())
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl LenientField for Option<bool> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Scalar::deserialize(d)?.flat() {
            Scalar::Bool(b) => Some(b),
            Scalar::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Scalar::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Scalar::I64(i) => Some(i != 0),
            Scalar::U64(u) => Some(u != 0),
            _ => None,
        })
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl LenientField for Option<Timestamp> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Scalar::deserialize(d)?.flat() {
            Scalar::Str(s) => s.trim().parse::<Timestamp>().ok(),
            // Some CBC services send epoch milliseconds.
            Scalar::I64(ms) => Timestamp::from_millisecond(ms).ok(),
            _ => None,
        })
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl LenientField for Vec<String> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar<'de>>()? {
                    out.extend(s.into_string());
                }
                Ok(out)
            }
            fn visit_str<E>(self, v: &str) -> Result<Vec<String>, E> {
                Ok(if nullish(v) {
                    Vec::new()
                } else {
                    vec![v.to_owned()]
                })
            }
            fn visit_unit<E>(self) -> Result<Vec<String>, E> {
                Ok(Vec::new())
            }
            fn visit_none<E>(self) -> Result<Vec<String>, E> {
                Ok(Vec::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Vec<String>, E> {
                Ok(Vec::new())
            }
            fn visit_i64<E>(self, v: i64) -> Result<Vec<String>, E> {
                Ok(vec![v.to_string()])
            }
            fn visit_u64<E>(self, v: u64) -> Result<Vec<String>, E> {
                Ok(vec![v.to_string()])
            }
            fn visit_f64<E>(self, _: f64) -> Result<Vec<String>, E> {
                Ok(Vec::new())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Vec::new())
            }
        }
        d.deserialize_any(V)
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

/// A nested CBC object (or list of them): taken when it parses, `None`/empty otherwise.
impl<T: LenientObject> LenientField for Option<T> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<MaybeObject<T>>::deserialize(d)?.and_then(|m| m.0))
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl<T: LenientObject> LenientField for Vec<T> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        de::DeserializeSeed::deserialize(ExtendLenient(&mut out), d)?;
        Ok(out)
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

/// Reads a lenient list of objects (the rule of `Vec<T>` as a [`LenientField`]) and appends
/// its objects to a caller's `Vec`, so a page of results can be parsed straight into the
/// collection it ends up in. On an error some objects may already have been appended.
pub struct ExtendLenient<'a, T>(pub &'a mut Vec<T>);

impl<'de, T: LenientObject> de::DeserializeSeed<'de> for ExtendLenient<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        struct V<'a, T>(&'a mut Vec<T>);
        impl<'de, T: LenientObject> Visitor<'de> for V<'_, T> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while let Some(item) = seq.next_element::<MaybeObject<T>>()? {
                    self.0.extend(item.0);
                }
                Ok(())
            }
            fn visit_unit<E>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_none<E>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
                // A single object where a list was expected: keep it.
                self.0
                    .push(T::deserialize(de::value::MapAccessDeserializer::new(map))?);
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
        d.deserialize_any(V(self.0))
    }
}

/// Marker for objects generated by [`cbc_object!`]: their `Deserialize` only fails on broken JSON.
pub trait LenientObject: for<'de> Deserialize<'de> {
    /// Reads the object starting at `text[pos] == b'{'` by a faster route than `Deserialize`,
    /// if the type has one. It must give exactly what `Deserialize` gives, or `Unsure`.
    #[doc(hidden)]
    fn parse_fast(_text: &str, _pos: usize) -> Fast<Self>
    where
        Self: Sized,
    {
        Fast::Unsure
    }
}

/// What [`LenientObject::parse_fast`] made of an object.
#[doc(hidden)]
pub enum Fast<T> {
    /// The object and the index just past it.
    Value(T, usize),
    /// The text ends inside the object.
    More,
    /// Not handled here (or not well-formed): use `Deserialize`, which decides.
    Unsure,
}

/// An object if the value is one, else `None` (the value is skipped).
pub(crate) struct MaybeObject<T>(pub(crate) Option<T>);

impl<'de, T: LenientObject> Deserialize<'de> for MaybeObject<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: LenientObject> Visitor<'de> for V<T> {
            type Value = MaybeObject<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MaybeObject<T>, A::Error> {
                Ok(MaybeObject(Some(T::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeObject<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeObject(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
            fn visit_none<E>(self) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<MaybeObject<T>, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<MaybeObject<T>, E> {
                Ok(MaybeObject(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Reads one field with its [`LenientField`] rule (used by the generated visitors).
pub struct Lenient<T>(pub T);

impl<'de, T: LenientField> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::read(d).map(Lenient)
    }
}

/// An object key, borrowed from the input when it has no escapes.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Declares a CBC object: a struct whose fields are all [`LenientField`]s, plus `extra` for
/// unknown keys, with a streaming lenient `Deserialize` and a `Serialize` that leaves absent
/// fields out. A field may name its JSON key (`alert_type = "type": Option<String>`).
///
/// Prefixed with `skip_unknown;` it declares a *projection*: unknown keys are skipped without
/// being built (lists that need a few fields of big documents), and `extra` stays empty.
#[macro_export]
macro_rules! cbc_object {
    (skip_unknown; $($rest:tt)*) => { $crate::cbc_object!(@object skip; $($rest)*); };
    (@object $unknown:ident;
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident $(= $json:literal)? : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                $(#[serde(rename = $json)])?
                #[serde(skip_serializing_if = "crate::cbc::lenient::LenientField::is_absent")]
                pub $field: $ty,
            )*
            /// Fields this version does not model, kept as received.
            #[serde(flatten)]
            pub extra: $crate::cbc::lenient::Extra,
        }

        impl $crate::cbc::lenient::LenientObject for $name {}

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a CBC ", stringify!($name), " object"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        while let Some($crate::cbc::lenient::Key(key)) = map.next_key()? {
                            match key.as_ref() {
                                $(
                                    $crate::cbc_object!(@key $field $($json)?) => {
                                        out.$field = map.next_value::<$crate::cbc::lenient::Lenient<$ty>>()?.0;
                                    }
                                )*
                                _ => $crate::cbc_object!(@unknown $unknown, map, out, key),
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
    (@unknown keep, $map:ident, $out:ident, $key:ident) => {{
        let v: $crate::cbc::lenient::ExtraValue = $map.next_value()?;
        $out.extra.insert($key.into_owned(), v);
    }};
    (@unknown skip, $map:ident, $out:ident, $key:ident) => {{
        let _ = &$out;
        $map.next_value::<serde::de::IgnoredAny>()?;
    }};
    (@key $field:ident $json:literal) => { $json };
    (@key $field:ident) => { stringify!($field) };
    ($($rest:tt)*) => { $crate::cbc_object!(@object keep; $($rest)*); };
}
