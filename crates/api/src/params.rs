//! A typed reader over a decoded form tree ([`crate::form`]) that produces
//! Stripe-style errors naming the parameter exactly as the client sent it
//! (`options[document][allowed_types][1]`).
//!
//! Usage: build a [`Params`] from the merged query/body tree, `take_*` every
//! supported parameter, then call [`Params::finish`] so anything left over is
//! reported as an unknown parameter. Nested objects obtained with
//! [`Params::take_obj`] must be finished by the caller as well
//! ([`Params::finish_nested`]); the parent's `finish` does not see them.

use std::fmt;

use crate::form::{FormMap, FormValue};

/// A parameter that was present in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    /// A real value.
    Value(T),
    /// The client sent the empty string (`metadata=`, `options[document]=`),
    /// Stripe's "unset" convention. Whether that is allowed is up to the
    /// caller (else `parameter_invalid_empty`).
    Empty,
}

impl<T> Field<T> {
    /// True for [`Field::Empty`].
    pub fn is_empty(&self) -> bool {
        matches!(self, Field::Empty)
    }

    /// The value, `None` for [`Field::Empty`].
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Empty => None,
        }
    }

    /// Borrowing version of [`Field::value`].
    pub fn as_value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Empty => None,
        }
    }

    /// Maps the value, keeping `Empty`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Value(v) => Field::Value(f(v)),
            Field::Empty => Field::Empty,
        }
    }
}

/// The pairs of a string-to-string hash (`metadata`), in the order sent.
pub type StringPairs = Vec<(String, String)>;

/// An integer filter: `created=5` (`eq`) or `created[gt|gte|lt|lte]=5`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntRange {
    pub eq: Option<i64>,
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

/// A parameter error; `param` is the full path as the client spelled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    UnknownParam {
        param: String,
    },
    InvalidEnum {
        param: String,
        value: String,
        allowed: Vec<&'static str>,
    },
    InvalidInteger {
        param: String,
        value: String,
    },
    InvalidBoolean {
        param: String,
        value: String,
    },
    TooLong {
        param: String,
        value: String,
        max: usize,
    },
    /// `expected` is `"string"`, `"hash"` or `"array"`.
    InvalidType {
        param: String,
        expected: &'static str,
    },
    /// A list longer than allowed.
    TooMany {
        param: String,
        max: usize,
    },
}

impl ParamError {
    /// The parameter, for the error's `param` field.
    pub fn param(&self) -> &str {
        match self {
            ParamError::UnknownParam { param }
            | ParamError::InvalidEnum { param, .. }
            | ParamError::InvalidInteger { param, .. }
            | ParamError::InvalidBoolean { param, .. }
            | ParamError::TooLong { param, .. }
            | ParamError::InvalidType { param, .. }
            | ParamError::TooMany { param, .. } => param,
        }
    }
}

/// `a`, `a or b`, `a, b, or c`.
fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [a, b] => format!("{a} or {b}"),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::UnknownParam { param } => {
                write!(f, "Received unknown parameter: {param}")
            }
            ParamError::InvalidEnum { param, allowed, .. } => {
                write!(f, "Invalid {param}: must be one of {}", join_or(allowed))
            }
            ParamError::InvalidInteger { value, .. } => write!(f, "Invalid integer: {value}"),
            ParamError::InvalidBoolean { value, .. } => write!(f, "Invalid boolean: {value}"),
            ParamError::TooLong { value, max, .. } => {
                let head: String = value.chars().take(50).collect();
                write!(
                    f,
                    "Invalid string: {head}...; must be at most {max} characters"
                )
            }
            ParamError::InvalidType { expected, .. } => write!(f, "Invalid {expected}"),
            ParamError::TooMany { param, max } => {
                write!(f, "Invalid array: {param} can have at most {max} items")
            }
        }
    }
}

impl std::error::Error for ParamError {}

/// One level of parameters (the root, or an object from [`Params::take_obj`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// Path of this object as sent (`""` for the root, `options[document]`).
    prefix: String,
    map: FormMap,
}

/// Keys that make a map look like a list: `""` (from `a[]`) or digits.
fn is_index(key: &str) -> bool {
    key.bytes().all(|b| b.is_ascii_digit())
}

/// Sort key comparing decimal strings numerically, any length.
fn numeric_order(key: &str) -> (usize, &str) {
    let trimmed = key.trim_start_matches('0');
    (trimmed.len(), trimmed)
}

fn parse_i64(param: String, value: String) -> Result<i64, ParamError> {
    let digits = value.strip_prefix('-').unwrap_or(&value);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = value.parse::<i64>() {
            return Ok(n);
        }
    }
    Err(ParamError::InvalidInteger { param, value })
}

fn check_len(param: String, value: String, max_len: usize) -> Result<String, ParamError> {
    if value.chars().count() > max_len {
        Err(ParamError::TooLong {
            param,
            value,
            max: max_len,
        })
    } else {
        Ok(value)
    }
}

fn lookup_enum<E: Copy>(
    param: String,
    value: String,
    allowed: &[(&'static str, E)],
) -> Result<E, ParamError> {
    match allowed.iter().find(|(name, _)| *name == value) {
        Some((_, e)) => Ok(*e),
        None => Err(ParamError::InvalidEnum {
            param,
            value,
            allowed: allowed.iter().map(|(name, _)| *name).collect(),
        }),
    }
}

/// A list item as sent: its full path and its value.
struct Item {
    param: String,
    value: FormValue,
}

impl Item {
    fn into_string(self) -> Result<(String, String), ParamError> {
        match self.value {
            FormValue::Str(s) => Ok((self.param, s)),
            FormValue::Map(_) => Err(ParamError::InvalidType {
                param: self.param,
                expected: "string",
            }),
        }
    }
}

impl Params {
    /// The root parameters of a request.
    pub fn new(map: FormMap) -> Params {
        Params {
            prefix: String::new(),
            map,
        }
    }

    /// This object's own path (`""` for the root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Full path of a child: `name` at the root,
    /// `options[document][name]` inside `options[document]`.
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}[{name}]", self.prefix)
        }
    }

    /// True if nothing (more) is left at this level.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Fails with [`ParamError::UnknownParam`] naming the first parameter
    /// not taken (`foo`, `options[document][foo]`). An unknown list is named
    /// by its first item (`expand[0]`), an unknown hash by its own name.
    ///
    /// Only this level is checked: objects handed out by [`Params::take_obj`]
    /// must be finished by the caller.
    pub fn finish(self) -> Result<(), ParamError> {
        let Some((key, value)) = self.map.entries.first() else {
            return Ok(());
        };
        let mut param = self.path(key);
        if let FormValue::Map(m) = value {
            if m.entries.iter().all(|(k, _)| is_index(k)) {
                if let Some((k, _)) = m.entries.first() {
                    let k = if k.is_empty() { "0" } else { k.as_str() };
                    param = format!("{param}[{k}]");
                }
            }
        }
        Err(ParamError::UnknownParam { param })
    }

    /// Same as [`Params::finish`]; reads better on nested objects.
    pub fn finish_nested(self) -> Result<(), ParamError> {
        self.finish()
    }

    /// Removes and returns the raw value (for shapes not covered here).
    pub fn take_raw(&mut self, name: &str) -> Option<FormValue> {
        self.map.remove(name)
    }

    /// A scalar: `Empty` for `""`, `InvalidType "string"` for a hash.
    fn take_scalar(&mut self, name: &str) -> Result<Option<Field<String>>, ParamError> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(FormValue::Str(s)) if s.is_empty() => Ok(Some(Field::Empty)),
            Some(FormValue::Str(s)) => Ok(Some(Field::Value(s))),
            Some(FormValue::Map(_)) => Err(ParamError::InvalidType {
                param: self.path(name),
                expected: "string",
            }),
        }
    }

    /// A hash: `Empty` for `""`, `InvalidType expected` for another string.
    fn take_map(
        &mut self,
        name: &str,
        expected: &'static str,
    ) -> Result<Option<Field<FormMap>>, ParamError> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(FormValue::Str(s)) if s.is_empty() => Ok(Some(Field::Empty)),
            Some(FormValue::Str(_)) => Err(ParamError::InvalidType {
                param: self.path(name),
                expected,
            }),
            Some(FormValue::Map(m)) => Ok(Some(Field::Value(m))),
        }
    }

    /// A string of at most `max_len` characters.
    pub fn take_str(
        &mut self,
        name: &str,
        max_len: usize,
    ) -> Result<Option<Field<String>>, ParamError> {
        match self.take_scalar(name)? {
            Some(Field::Value(s)) => {
                Ok(Some(Field::Value(check_len(self.path(name), s, max_len)?)))
            }
            other => Ok(other),
        }
    }

    /// One of the `allowed` names.
    pub fn take_enum<E: Copy>(
        &mut self,
        name: &str,
        allowed: &[(&'static str, E)],
    ) -> Result<Option<Field<E>>, ParamError> {
        match self.take_scalar(name)? {
            Some(Field::Value(s)) => Ok(Some(Field::Value(lookup_enum(
                self.path(name),
                s,
                allowed,
            )?))),
            Some(Field::Empty) => Ok(Some(Field::Empty)),
            None => Ok(None),
        }
    }

    /// Exactly `true` or `false`.
    pub fn take_bool(&mut self, name: &str) -> Result<Option<Field<bool>>, ParamError> {
        match self.take_scalar(name)? {
            Some(Field::Value(s)) => match s.as_str() {
                "true" => Ok(Some(Field::Value(true))),
                "false" => Ok(Some(Field::Value(false))),
                _ => Err(ParamError::InvalidBoolean {
                    param: self.path(name),
                    value: s,
                }),
            },
            Some(Field::Empty) => Ok(Some(Field::Empty)),
            None => Ok(None),
        }
    }

    /// An optional `-` then digits, fitting an i64.
    pub fn take_i64(&mut self, name: &str) -> Result<Option<Field<i64>>, ParamError> {
        match self.take_scalar(name)? {
            Some(Field::Value(s)) => Ok(Some(Field::Value(parse_i64(self.path(name), s)?))),
            Some(Field::Empty) => Ok(Some(Field::Empty)),
            None => Ok(None),
        }
    }

    /// A nested object. The returned [`Params`] names its children
    /// `name[child]` (under this object's own path); call
    /// [`Params::finish_nested`] on it when done.
    pub fn take_obj(&mut self, name: &str) -> Result<Option<Field<Params>>, ParamError> {
        let prefix = self.path(name);
        Ok(self
            .take_map(name, "hash")?
            .map(|field| field.map(|map| Params { prefix, map })))
    }

    /// The items of a list (`a[0]=x&a[1]=y`, `a[]=x&a[]=y`, or a mix), in
    /// numeric index order; `[]` items count as the index of their position.
    fn take_list(
        &mut self,
        name: &str,
        max_items: usize,
    ) -> Result<Option<Field<Vec<Item>>>, ParamError> {
        let param = self.path(name);
        let map = match self.take_map(name, "array")? {
            Some(Field::Value(map)) => map,
            Some(Field::Empty) => return Ok(Some(Field::Empty)),
            None => return Ok(None),
        };
        if !map.entries.iter().all(|(k, _)| is_index(k)) {
            return Err(ParamError::InvalidType {
                param,
                expected: "array",
            });
        }
        if map.entries.len() > max_items {
            return Err(ParamError::TooMany {
                param,
                max: max_items,
            });
        }
        let mut indexed: Vec<(String, FormValue)> = map
            .entries
            .into_iter()
            .enumerate()
            .map(|(pos, (k, v))| (if k.is_empty() { pos.to_string() } else { k }, v))
            .collect();
        indexed.sort_by(|(a, _), (b, _)| numeric_order(a).cmp(&numeric_order(b)));
        let items = indexed
            .into_iter()
            .map(|(k, value)| Item {
                param: format!("{param}[{k}]"),
                value,
            })
            .collect();
        Ok(Some(Field::Value(items)))
    }

    /// A list of strings, each at most `max_len` characters (an empty item
    /// is kept as `""`), at most `max_items` items.
    pub fn take_str_list(
        &mut self,
        name: &str,
        max_len: usize,
        max_items: usize,
    ) -> Result<Option<Field<Vec<String>>>, ParamError> {
        let items = match self.take_list(name, max_items)? {
            Some(Field::Value(items)) => items,
            Some(Field::Empty) => return Ok(Some(Field::Empty)),
            None => return Ok(None),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let (param, value) = item.into_string()?;
            out.push(check_len(param, value, max_len)?);
        }
        Ok(Some(Field::Value(out)))
    }

    /// A list of `allowed` names, at most `max_items` items.
    pub fn take_enum_list<E: Copy>(
        &mut self,
        name: &str,
        allowed: &[(&'static str, E)],
        max_items: usize,
    ) -> Result<Option<Field<Vec<E>>>, ParamError> {
        let items = match self.take_list(name, max_items)? {
            Some(Field::Value(items)) => items,
            Some(Field::Empty) => return Ok(Some(Field::Empty)),
            None => return Ok(None),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let (param, value) = item.into_string()?;
            out.push(lookup_enum(param, value, allowed)?);
        }
        Ok(Some(Field::Value(out)))
    }

    /// A flat string-to-string hash such as `metadata[k]=v`, in the order
    /// sent. Values `""` are kept (the caller decides they mean "delete");
    /// keys and lengths are not validated here. A deeper level
    /// (`metadata[a][b]=1`) is `InvalidType { param: "metadata[a]",
    /// expected: "string" }`.
    pub fn take_string_map(
        &mut self,
        name: &str,
    ) -> Result<Option<Field<StringPairs>>, ParamError> {
        let param = self.path(name);
        let map = match self.take_map(name, "hash")? {
            Some(Field::Value(map)) => map,
            Some(Field::Empty) => return Ok(Some(Field::Empty)),
            None => return Ok(None),
        };
        let mut out = Vec::with_capacity(map.entries.len());
        for (k, v) in map.entries {
            match v {
                FormValue::Str(s) => out.push((k, s)),
                FormValue::Map(_) => {
                    return Err(ParamError::InvalidType {
                        param: format!("{param}[{k}]"),
                        expected: "string",
                    })
                }
            }
        }
        Ok(Some(Field::Value(out)))
    }

    /// `created=5` (sets `eq`) or `created[gt|gte|lt|lte]=5`. Any other
    /// sub-key is `UnknownParam` (`created[foo]`); an empty bound
    /// (`created[gt]=`) is `InvalidInteger`.
    pub fn take_int_or_range(&mut self, name: &str) -> Result<Option<Field<IntRange>>, ParamError> {
        let param = self.path(name);
        let map = match self.map.remove(name) {
            None => return Ok(None),
            Some(FormValue::Str(s)) if s.is_empty() => return Ok(Some(Field::Empty)),
            Some(FormValue::Str(s)) => {
                let eq = parse_i64(param, s)?;
                return Ok(Some(Field::Value(IntRange {
                    eq: Some(eq),
                    ..IntRange::default()
                })));
            }
            Some(FormValue::Map(map)) => map,
        };
        let mut range = IntRange::default();
        for (k, v) in map.entries {
            let sub = format!("{param}[{k}]");
            let slot = match k.as_str() {
                "gt" => &mut range.gt,
                "gte" => &mut range.gte,
                "lt" => &mut range.lt,
                "lte" => &mut range.lte,
                _ => return Err(ParamError::UnknownParam { param: sub }),
            };
            match v {
                FormValue::Str(s) => *slot = Some(parse_i64(sub, s)?),
                FormValue::Map(_) => {
                    return Err(ParamError::InvalidType {
                        param: sub,
                        expected: "string",
                    })
                }
            }
        }
        Ok(Some(Field::Value(range)))
    }
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
