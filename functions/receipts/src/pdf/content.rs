//! The text of a PDF's uncompressed content streams, line by line.

use rust_decimal::Decimal;

// Caps that keep a hostile PDF (a 10 MB stream of `(a)(a)(a)…`, one endless
// string, one endless line) from making the reader hold more than a receipt
// ever needs; what lies past them is skipped, not refused.

/// Enough for any receipt; keeps a hostile PDF from making us collect much.
const MAX_LINES: usize = 2000;
/// All the text kept from one file: a long receipt has a few kilobytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// One line's text: receipts print short lines; the rest is dropped.
pub const MAX_LINE_BYTES: usize = 1024;
/// Operands kept for one operator: a kerned `TJ` array has one string and one
/// number per glyph of its line, so a few hundred; later ones are dropped.
const MAX_OPERANDS: usize = 512;
/// Longer tokens are neither an operator nor a number worth reading.
const MAX_TOKEN_BYTES: usize = 64;
/// How far before `stream` its dictionary (and a `/Filter`) is looked for.
const MAX_DICT_BYTES: usize = 4096;

/// The text of every uncompressed content stream, one entry per text line,
/// within [`MAX_LINES`], [`MAX_LINE_BYTES`] each and [`MAX_TEXT_BYTES`] in all.
pub fn text_lines(pdf: &[u8]) -> Vec<String> {
    let mut lines = Lines::default();
    for content in streams(pdf) {
        if lines.full() {
            break;
        }
        TextReader::default().read(content, &mut lines);
    }
    lines.lines
}

/// Lines read so far, and how much text they hold.
#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    bytes: usize,
}

impl Lines {
    fn full(&self) -> bool {
        self.lines.len() >= MAX_LINES || self.bytes >= MAX_TEXT_BYTES
    }

    /// Keeps a line, cut short where the text budget ends.
    fn push(&mut self, mut line: String) {
        if self.full() {
            return;
        }
        truncate_at_char(&mut line, MAX_TEXT_BYTES - self.bytes);
        self.bytes += line.len();
        self.lines.push(line);
    }
}

/// Cuts `s` to at most `max` bytes, at a character boundary.
fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The bodies of streams whose dictionary names no filter.
fn streams(pdf: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut scanned = 0;
    while let Some(at) = find(pdf, b"stream", pos) {
        pos = at + b"stream".len();
        if at >= 3 && &pdf[at - 3..at] == b"end" {
            continue;
        }
        let mut start = pos;
        if pdf.get(start) == Some(&b'\r') {
            start += 1;
        }
        if pdf.get(start) != Some(&b'\n') {
            continue;
        }
        start += 1;
        let Some(end) = find(pdf, b"endstream", start) else {
            break;
        };
        // The dictionary sits between the object header and `stream`; look
        // back a bounded way only (and not past the previous stream), or a
        // file of stream markers makes this quadratic.
        let window = at.saturating_sub(MAX_DICT_BYTES).max(scanned);
        let dict_from = pdf[window..at]
            .windows(3)
            .rposition(|w| w == b"obj")
            .map_or(window, |p| window + p);
        let dict = &pdf[dict_from..at];
        if find(dict, b"/Filter", 0).is_none() {
            out.push(&pdf[start..end]);
        }
        pos = end + b"endstream".len();
        scanned = pos;
    }
    out
}

/// Walks a content stream's operators, gathering shown text into lines: a
/// new line starts whenever the text position moves vertically.
#[derive(Default)]
struct TextReader {
    strings: Vec<String>,
    numbers: Vec<Decimal>,
    in_array: bool,
    y: Decimal,
    line_y: Option<Decimal>,
    current: String,
}

impl TextReader {
    fn read(mut self, content: &[u8], lines: &mut Lines) {
        let mut i = 0;
        while i < content.len() && !lines.full() {
            let b = content[i];
            match b {
                b'%' => {
                    while i < content.len() && content[i] != b'\n' && content[i] != b'\r' {
                        i += 1;
                    }
                }
                b'(' => {
                    let (s, next) = literal_string(content, i + 1);
                    self.operand_string(s);
                    i = next;
                    continue;
                }
                b'<' if content.get(i + 1) != Some(&b'<') => {
                    let (s, next) = hex_string(content, i + 1);
                    self.operand_string(s);
                    i = next;
                    continue;
                }
                b'[' => self.in_array = true,
                b']' => self.in_array = false,
                _ if is_regular(b) => {
                    let start = i;
                    while i < content.len() && is_regular(content[i]) {
                        i += 1;
                    }
                    if i - start <= MAX_TOKEN_BYTES {
                        let token = String::from_utf8_lossy(&content[start..i]);
                        self.token(&token, lines);
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        self.flush_line(lines);
    }

    /// A string operand, unless the operator already has all it may keep.
    fn operand_string(&mut self, s: String) {
        if self.strings.len() < MAX_OPERANDS {
            self.strings.push(s);
        }
    }

    fn token(&mut self, token: &str, lines: &mut Lines) {
        if let Ok(n) = token.parse::<Decimal>() {
            // Big kerning gaps inside a TJ array separate words.
            if self.in_array && n.abs() > Decimal::from(200) {
                self.operand_string(" ".into());
            }
            if self.numbers.len() < MAX_OPERANDS {
                self.numbers.push(n);
            }
            return;
        }
        if token.starts_with('/') {
            return;
        }
        match token {
            "Tj" | "TJ" => self.show(lines),
            "'" | "\"" => {
                self.flush_line(lines);
                self.show(lines);
            }
            "T*" => self.flush_line(lines),
            "Td" | "TD" => {
                // Saturating: a hostile file's moves must not overflow (panic).
                if let Some(ty) = self.numbers.last() {
                    self.y = self.y.saturating_add(*ty);
                }
            }
            "Tm" => {
                if let Some(f) = self.numbers.last() {
                    self.y = *f;
                }
            }
            "BT" => self.y = Decimal::ZERO,
            _ => {}
        }
        if token != "Tj" && token != "TJ" {
            self.strings.clear();
        }
        self.numbers.clear();
    }

    fn show(&mut self, lines: &mut Lines) {
        let text: String = self.strings.drain(..).collect();
        self.numbers.clear();
        if text.trim().is_empty() {
            return;
        }
        if self.line_y.is_some_and(|y| y != self.y) {
            self.flush_line(lines);
        }
        if !self.current.is_empty() && !self.current.ends_with(' ') {
            self.current.push(' ');
        }
        self.current.push_str(&text);
        truncate_at_char(&mut self.current, MAX_LINE_BYTES);
        self.line_y = Some(self.y);
    }

    fn flush_line(&mut self, lines: &mut Lines) {
        let line = self
            .current
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !line.is_empty() {
            lines.push(line);
        }
        self.current.clear();
        self.line_y = None;
    }
}

fn is_regular(b: u8) -> bool {
    !b.is_ascii_whitespace() && !b"()<>[]{}%".contains(&b) && b != 0
}

/// Bytes as text: the standard fonts' encodings agree with Latin-1 on
/// everything a receipt's total, date and name need.
fn latin1(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| char::from(b))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A `( ... )` string from just after the parenthesis; returns the text (its
/// first [`MAX_LINE_BYTES`] bytes: no line keeps more) and the position after
/// its closing parenthesis.
fn literal_string(content: &[u8], mut i: usize) -> (String, usize) {
    let mut out = Capped::default();
    let mut depth = 0usize;
    while i < content.len() {
        let b = content[i];
        i += 1;
        match b {
            b'\\' => {
                let Some(&e) = content.get(i) else { break };
                i += 1;
                match e {
                    b'n' | b'r' | b't' | b'f' | b'b' => out.push(b' '),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match content.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(u8::try_from(v & 0xFF).unwrap_or(b' '));
                    }
                    b'\r' | b'\n' => {}
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' if depth == 0 => break,
            b')' => {
                depth -= 1;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    (latin1(&out.0), i)
}

/// The bytes of a string operand, up to [`MAX_LINE_BYTES`]; more are dropped.
#[derive(Default)]
struct Capped(Vec<u8>);

impl Capped {
    fn push(&mut self, b: u8) {
        if self.0.len() < MAX_LINE_BYTES {
            self.0.push(b);
        }
    }
}

fn hex_string(content: &[u8], mut i: usize) -> (String, usize) {
    let mut digits = Vec::new();
    while i < content.len() && content[i] != b'>' {
        if content[i].is_ascii_hexdigit() && digits.len() < 2 * MAX_LINE_BYTES {
            digits.push(content[i]);
        }
        i += 1;
    }
    if digits.len() % 2 == 1 {
        digits.push(b'0');
    }
    let bytes: Vec<u8> = digits
        .chunks(2)
        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect();
    (latin1(&bytes), i + 1)
}
