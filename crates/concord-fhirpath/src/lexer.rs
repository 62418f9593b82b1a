//! Tokenizer: turns expression text into tokens with byte positions.

use crate::error::{FhirPathError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A plain identifier or keyword.
    Ident(String),
    /// A backtick-delimited identifier (never a keyword).
    Quoted(String),
    Str(String),
    /// Integer or decimal literal text.
    Number(String),
    /// `@...` literal text without the `@`.
    DateTime(String),
    /// `%name`, `` %`name` `` or `%'name'`.
    Env(String),
    /// `$this`, `$index`, `$total`.
    Dollar(String),
    /// Operators and punctuation.
    Sym(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

const SYMS: &[&str] = &[
    "<=", ">=", "!=", "!~", "(", ")", "[", "]", "{", "}", ".", ",", "+", "-", "*", "/", "&", "|",
    "=", "~", "<", ">",
];

pub fn tokenize(src: &str) -> Result<Vec<Token>> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_trivia()?;
        let pos = lx.i;
        if lx.i >= lx.bytes.len() {
            out.push(Token { tok: Tok::Eof, pos });
            return Ok(out);
        }
        let tok = lx.next_token()?;
        out.push(Token { tok, pos });
    }
}

struct Lexer<'s> {
    src: &'s str,
    bytes: &'s [u8],
    i: usize,
}

impl Lexer<'_> {
    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T> {
        Err(FhirPathError::syntax(self.src, pos, msg))
    }

    fn peek(&self, off: usize) -> u8 {
        self.bytes.get(self.i + off).copied().unwrap_or(0)
    }

    fn skip_trivia(&mut self) -> Result<()> {
        loop {
            let c = self.peek(0);
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else if c == b'/' && self.peek(1) == b'/' {
                while self.i < self.bytes.len() && self.bytes[self.i] != b'\n' {
                    self.i += 1;
                }
            } else if c == b'/' && self.peek(1) == b'*' {
                let start = self.i;
                self.i += 2;
                loop {
                    if self.i >= self.bytes.len() {
                        return self.err(start, "unterminated comment");
                    }
                    if self.peek(0) == b'*' && self.peek(1) == b'/' {
                        self.i += 2;
                        break;
                    }
                    self.i += 1;
                }
            } else {
                return Ok(());
            }
        }
    }

    fn next_token(&mut self) -> Result<Tok> {
        let c = self.peek(0);
        let start = self.i;
        if c.is_ascii_alphabetic() || c == b'_' {
            return Ok(Tok::Ident(self.ident()));
        }
        if c.is_ascii_digit() {
            return Ok(Tok::Number(self.number()));
        }
        match c {
            b'`' => {
                self.i += 1;
                Ok(Tok::Quoted(self.delimited(b'`', start)?))
            }
            b'\'' => {
                self.i += 1;
                Ok(Tok::Str(self.delimited(b'\'', start)?))
            }
            b'@' => {
                self.i += 1;
                self.datetime(start)
            }
            b'%' => {
                self.i += 1;
                match self.peek(0) {
                    b'`' => {
                        self.i += 1;
                        Ok(Tok::Env(self.delimited(b'`', start)?))
                    }
                    b'\'' => {
                        self.i += 1;
                        Ok(Tok::Env(self.delimited(b'\'', start)?))
                    }
                    c if c.is_ascii_alphabetic() || c == b'_' => Ok(Tok::Env(self.ident())),
                    _ => self.err(start, "expected a variable name after '%'"),
                }
            }
            b'$' => {
                self.i += 1;
                let name = self.ident();
                match name.as_str() {
                    "this" | "index" | "total" => Ok(Tok::Dollar(name)),
                    _ => self.err(start, format!("unknown special variable '${name}'")),
                }
            }
            _ => {
                for s in SYMS {
                    if self.src[self.i..].starts_with(s) {
                        self.i += s.len();
                        return Ok(Tok::Sym(s));
                    }
                }
                let ch = self.src[self.i..].chars().next().unwrap_or('?');
                self.err(start, format!("unexpected character '{ch}'"))
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'_' {
            self.i += 1;
        }
        self.src[start..self.i].to_string()
    }

    fn digits(&mut self) {
        while self.peek(0).is_ascii_digit() {
            self.i += 1;
        }
    }

    fn number(&mut self) -> String {
        let start = self.i;
        self.digits();
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            self.i += 1;
            self.digits();
        }
        self.src[start..self.i].to_string()
    }

    fn delimited(&mut self, close: u8, start: usize) -> Result<String> {
        let mut out = String::new();
        loop {
            let Some(ch) = self.src[self.i..].chars().next() else {
                return self.err(start, "unterminated string or identifier");
            };
            self.i += ch.len_utf8();
            if ch as u32 == u32::from(close) {
                return Ok(out);
            }
            if ch != '\\' {
                out.push(ch);
                continue;
            }
            let esc_pos = self.i - 1;
            let Some(e) = self.src[self.i..].chars().next() else {
                return self.err(start, "unterminated string or identifier");
            };
            self.i += e.len_utf8();
            match e {
                '\'' | '"' | '`' | '\\' | '/' => out.push(e),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hex = self.src.get(self.i..self.i + 4).unwrap_or("");
                    let code = u32::from_str_radix(hex, 16).ok().filter(|_| hex.len() == 4);
                    match code.and_then(char::from_u32) {
                        Some(c) => {
                            out.push(c);
                            self.i += 4;
                        }
                        None => return self.err(esc_pos, "invalid \\u escape"),
                    }
                }
                other => return self.err(esc_pos, format!("invalid escape '\\{other}'")),
            }
        }
    }

    /// `@YYYY[-MM[-DD]][T[hh[:mm[:ss[.fff]]]][Z|±hh:mm]]` or `@Thh[:mm[:ss[.fff]]]`.
    fn datetime(&mut self, start: usize) -> Result<Tok> {
        let begin = self.i;
        let time_only = self.peek(0) == b'T';
        if time_only {
            self.i += 1;
            self.time(start)?;
            return Ok(Tok::DateTime(self.src[begin..self.i].to_string()));
        }
        if !self.fixed(4) {
            return self.err(start, "invalid date literal: expected a 4-digit year");
        }
        if self.peek(0) == b'-' && self.peek(1).is_ascii_digit() {
            self.i += 1;
            if !self.fixed(2) {
                return self.err(start, "invalid date literal: expected a 2-digit month");
            }
            if self.peek(0) == b'-' && self.peek(1).is_ascii_digit() {
                self.i += 1;
                if !self.fixed(2) {
                    return self.err(start, "invalid date literal: expected a 2-digit day");
                }
            }
        }
        if self.peek(0) == b'T' {
            self.i += 1;
            if self.peek(0).is_ascii_digit() {
                self.time(start)?;
                if self.peek(0) == b'Z' {
                    self.i += 1;
                } else if (self.peek(0) == b'+' || self.peek(0) == b'-')
                    && self.peek(1).is_ascii_digit()
                {
                    self.i += 1;
                    if !(self.fixed(2) && self.peek(0) == b':' && {
                        self.i += 1;
                        self.fixed(2)
                    }) {
                        return self.err(start, "invalid time zone in date-time literal");
                    }
                }
            }
        }
        Ok(Tok::DateTime(self.src[begin..self.i].to_string()))
    }

    fn time(&mut self, start: usize) -> Result<()> {
        if !self.fixed(2) {
            return self.err(start, "invalid time literal: expected a 2-digit hour");
        }
        if self.peek(0) == b':' && self.peek(1).is_ascii_digit() {
            self.i += 1;
            if !self.fixed(2) {
                return self.err(start, "invalid time literal: expected 2-digit minutes");
            }
            if self.peek(0) == b':' && self.peek(1).is_ascii_digit() {
                self.i += 1;
                if !self.fixed(2) {
                    return self.err(start, "invalid time literal: expected 2-digit seconds");
                }
                if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
                    self.i += 1;
                    self.digits();
                }
            }
        }
        Ok(())
    }

    fn fixed(&mut self, n: usize) -> bool {
        if (0..n).all(|k| self.peek(k).is_ascii_digit()) {
            self.i += n;
            true
        } else {
            false
        }
    }
}
