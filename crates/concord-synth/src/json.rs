//! A small JSON text writer and the `jw!` macro that drives it, so the hot
//! path writes each resource straight to text instead of building a
//! `serde_json::Value` (with the workspace's `preserve_order` and
//! `arbitrary_precision` features every map is an `IndexMap` with hashed,
//! allocated keys and every number a `String`).
//!
//! The text is what `serde_json`'s compact writer prints for the same
//! object: strings escaped the same way, numbers as `ryu` (floats, what
//! `serde_json::Number` holds under `arbitrary_precision`) and `itoa`
//! (integers) print them, keys in the order written.

use base64::Engine as _;

/// A JSON text buffer.
#[derive(Default)]
pub struct Json {
    buf: String,
    /// Whether the next value or key needs a comma before it.
    comma: bool,
}

impl Json {
    pub fn with_capacity(n: usize) -> Json {
        Json {
            buf: String::with_capacity(n),
            comma: false,
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    pub fn into_string(self) -> String {
        self.buf
    }

    /// Starts a new top-level value (no comma before it).
    pub fn restart(&mut self) {
        self.comma = false;
    }

    fn sep(&mut self) {
        if self.comma {
            self.buf.push(',');
        }
    }

    pub fn begin_object(&mut self) {
        self.sep();
        self.buf.push('{');
        self.comma = false;
    }

    pub fn end_object(&mut self) {
        self.buf.push('}');
        self.comma = true;
    }

    pub fn begin_array(&mut self) {
        self.sep();
        self.buf.push('[');
        self.comma = false;
    }

    pub fn end_array(&mut self) {
        self.buf.push(']');
        self.comma = true;
    }

    /// An object key, given already quoted with its colon (`"\"k\":"`,
    /// as `jw!` writes it).
    pub fn key(&mut self, quoted: &str) {
        self.sep();
        self.buf.push_str(quoted);
        self.comma = false;
    }

    /// A quoted `"key":` and its value, or nothing when the value is absent
    /// (`None`).
    pub fn field<T: ToJson + ?Sized>(&mut self, quoted: &str, value: &T) {
        if !value.absent() {
            self.key(quoted);
            value.write(self);
        }
    }

    /// Writes text that is already JSON.
    fn raw(&mut self, text: &str) {
        self.sep();
        self.buf.push_str(text);
        self.comma = true;
    }

    pub fn string(&mut self, s: &str) {
        self.sep();
        self.buf.push('"');
        if !needs_escape(s.as_bytes()) {
            // Most strings (codes, systems, names, dates): copied whole.
            self.buf.push_str(s);
            self.buf.push('"');
            self.comma = true;
            return;
        }
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped: &str = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            self.buf.push_str(&s[start..i]);
            if escaped.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.buf.push_str("\\u00");
                self.buf.push(char::from(HEX[usize::from(b >> 4)]));
                self.buf.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                self.buf.push_str(escaped);
            }
            start = i + 1;
        }
        self.buf.push_str(&s[start..]);
        self.buf.push('"');
        self.comma = true;
    }
}

/// Whether JSON needs any byte of `s` escaped (`"`, `\\` or a control
/// character), checked eight bytes at a time.
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether a byte of `x` is zero (the classic bit trick; exact).
    fn has_zero(x: u64) -> bool {
        (x.wrapping_sub(ONES) & !x & HIGH) != 0
    }
    // Whether a byte of `x` is below 0x20 (exact for bytes below 0x80;
    // bytes of 0x80 and up never need escaping and never set it).
    fn has_control(x: u64) -> bool {
        (x.wrapping_sub(ONES * 0x20) & !x & HIGH) != 0
    }
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let x = u64::from_le_bytes(word);
        if has_control(x)
            || has_zero(x ^ (ONES * u64::from(b'"')))
            || has_zero(x ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A value the writer can print. `absent` values (`None`) make `field`
/// leave the key out, as the generator did by not inserting it.
pub trait ToJson {
    fn write(&self, w: &mut Json);
    fn absent(&self) -> bool {
        false
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write(&self, w: &mut Json) {
        (**self).write(w);
    }
    fn absent(&self) -> bool {
        (**self).absent()
    }
}

impl ToJson for str {
    fn write(&self, w: &mut Json) {
        w.string(self);
    }
}

impl ToJson for String {
    fn write(&self, w: &mut Json) {
        w.string(self);
    }
}

impl ToJson for bool {
    fn write(&self, w: &mut Json) {
        w.raw(if *self { "true" } else { "false" });
    }
}

impl ToJson for f64 {
    fn write(&self, w: &mut Json) {
        if self.is_finite() {
            w.raw(ryu::Buffer::new().format_finite(*self));
        } else {
            w.raw("null");
        }
    }
}

macro_rules! integers {
    ($($t:ty)*) => {$(
        impl ToJson for $t {
            fn write(&self, w: &mut Json) {
                w.raw(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
integers!(i64 u64 u32 usize);

impl<T: ToJson> ToJson for Option<T> {
    fn write(&self, w: &mut Json) {
        match self {
            Some(v) => v.write(w),
            None => w.raw("null"),
        }
    }
    fn absent(&self) -> bool {
        self.is_none()
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write(&self, w: &mut Json) {
        w.begin_array();
        for v in self {
            v.write(w);
        }
        w.end_array();
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn write(&self, w: &mut Json) {
        self.as_slice().write(w);
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write(&self, w: &mut Json) {
        self.as_slice().write(w);
    }
}

/// A value written by a closure (an object or array built in a loop).
pub struct With<F: Fn(&mut Json)>(pub F);

impl<F: Fn(&mut Json)> ToJson for With<F> {
    fn write(&self, w: &mut Json) {
        (self.0)(w);
    }
}

/// A string written as its UTF-8 bytes in standard base64 (an
/// `Attachment.data`), encoded straight into the buffer.
pub struct Base64<'a>(pub &'a str);

impl ToJson for Base64<'_> {
    fn write(&self, w: &mut Json) {
        w.sep();
        w.buf.push('"');
        base64::engine::general_purpose::STANDARD.encode_string(self.0.as_bytes(), &mut w.buf);
        w.buf.push('"');
        w.comma = true;
    }
}

/// Writes a JSON object or array in `serde_json::json!` syntax to a
/// `&mut Json`: `jw!(w, {"a": 1, "b": [x, {"c": y}]})`. Keys are string
/// literals; a value is an object, an array or any expression whose type is
/// `ToJson` (an absent `Option` leaves its key out). Values are evaluated in
/// the order written.
macro_rules! jw {
    ($w:expr, { $($body:tt)* }) => {{
        let w: &mut $crate::json::Json = $w;
        w.begin_object();
        $crate::json::jw!(@obj w; $($body)*);
        w.end_object();
    }};
    ($w:expr, [ $($body:tt)* ]) => {{
        let w: &mut $crate::json::Json = $w;
        w.begin_array();
        $crate::json::jw!(@arr w; $($body)*);
        w.end_array();
    }};

    // Object members.
    (@obj $w:ident; ) => {};
    (@obj $w:ident; $k:literal : { $($v:tt)* } $(, $($rest:tt)*)?) => {
        $w.key(concat!("\"", $k, "\":"));
        $crate::json::jw!($w, { $($v)* });
        $crate::json::jw!(@obj $w; $($($rest)*)?);
    };
    (@obj $w:ident; $k:literal : [ $($v:tt)* ] $(, $($rest:tt)*)?) => {
        $w.key(concat!("\"", $k, "\":"));
        $crate::json::jw!($w, [ $($v)* ]);
        $crate::json::jw!(@obj $w; $($($rest)*)?);
    };
    (@obj $w:ident; $k:literal : $($rest:tt)+) => {
        $crate::json::jw!(@field $w; $k; (); $($rest)+);
    };
    // An expression value: collect tokens up to the next comma.
    (@field $w:ident; $k:literal; ($($e:tt)+); , $($rest:tt)*) => {
        $w.field(concat!("\"", $k, "\":"), &($($e)+));
        $crate::json::jw!(@obj $w; $($rest)*);
    };
    (@field $w:ident; $k:literal; ($($e:tt)+); ) => {
        $w.field(concat!("\"", $k, "\":"), &($($e)+));
    };
    (@field $w:ident; $k:literal; ($($e:tt)*); $t:tt $($rest:tt)*) => {
        $crate::json::jw!(@field $w; $k; ($($e)* $t); $($rest)*);
    };

    // Array items.
    (@arr $w:ident; ) => {};
    (@arr $w:ident; { $($v:tt)* } $(, $($rest:tt)*)?) => {
        $crate::json::jw!($w, { $($v)* });
        $crate::json::jw!(@arr $w; $($($rest)*)?);
    };
    (@arr $w:ident; [ $($v:tt)* ] $(, $($rest:tt)*)?) => {
        $crate::json::jw!($w, [ $($v)* ]);
        $crate::json::jw!(@arr $w; $($($rest)*)?);
    };
    (@arr $w:ident; $($rest:tt)+) => {
        $crate::json::jw!(@item $w; (); $($rest)+);
    };
    (@item $w:ident; ($($e:tt)+); , $($rest:tt)*) => {
        $crate::json::ToJson::write(&($($e)+), $w);
        $crate::json::jw!(@arr $w; $($rest)*);
    };
    (@item $w:ident; ($($e:tt)+); ) => {
        $crate::json::ToJson::write(&($($e)+), $w);
    };
    (@item $w:ident; ($($e:tt)*); $t:tt $($rest:tt)*) => {
        $crate::json::jw!(@item $w; ($($e)* $t); $($rest)*);
    };
}

pub(crate) use jw;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_byte_that_needs_escaping() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    let expected = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&s), expected, "byte {b} at {at} of {len}");
                }
            }
        }
        assert!(!needs_escape("Zoë Müller/ß".as_bytes()));
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let mut w = Json::default();
        let none: Option<&str> = None;
        let items = vec![1i64, 2];
        jw!(&mut w, {
            "s": "a\"b\\c\nd\u{1}é/",
            "n": 120.0,
            "x": 0.1 + 0.2,
            "i": -7i64,
            "skip": none,
            "b": true,
            "nested": {"list": [1.5, {"k": "v"}, [items]]},
            "with": With(|w: &mut Json| jw!(w, ["a"]))
        });
        let expected = serde_json::json!({
            "s": "a\"b\\c\nd\u{1}é/",
            "n": 120.0,
            "x": 0.1 + 0.2,
            "i": -7,
            "b": true,
            "nested": {"list": [1.5, {"k": "v"}, [[1, 2]]]},
            "with": ["a"]
        });
        assert_eq!(w.as_str(), serde_json::to_string(&expected).unwrap());
    }
}
