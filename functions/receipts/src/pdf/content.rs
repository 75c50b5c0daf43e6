//! The text of a PDF's uncompressed content streams, line by line.

use rust_decimal::Decimal;

/// Enough for any receipt; keeps a hostile PDF from making us collect much.
const MAX_LINES: usize = 2000;
/// How far before `stream` its dictionary (and a `/Filter`) is looked for.
const MAX_DICT_BYTES: usize = 4096;

/// The text of every uncompressed content stream, one entry per text line.
pub fn text_lines(pdf: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    for content in streams(pdf) {
        TextReader::default().read(content, &mut lines);
        if lines.len() >= MAX_LINES {
            lines.truncate(MAX_LINES);
            break;
        }
    }
    lines
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
    fn read(mut self, content: &[u8], lines: &mut Vec<String>) {
        let mut i = 0;
        while i < content.len() && lines.len() < MAX_LINES {
            let b = content[i];
            match b {
                b'%' => {
                    while i < content.len() && content[i] != b'\n' && content[i] != b'\r' {
                        i += 1;
                    }
                }
                b'(' => {
                    let (s, next) = literal_string(content, i + 1);
                    self.strings.push(s);
                    i = next;
                    continue;
                }
                b'<' if content.get(i + 1) != Some(&b'<') => {
                    let (s, next) = hex_string(content, i + 1);
                    self.strings.push(s);
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
                    let token = String::from_utf8_lossy(&content[start..i]);
                    self.token(&token, lines);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        self.flush_line(lines);
    }

    fn token(&mut self, token: &str, lines: &mut Vec<String>) {
        if let Ok(n) = token.parse::<Decimal>() {
            // Big kerning gaps inside a TJ array separate words.
            if self.in_array && n.abs() > Decimal::from(200) {
                self.strings.push(" ".into());
            }
            self.numbers.push(n);
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

    fn show(&mut self, lines: &mut Vec<String>) {
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
        self.line_y = Some(self.y);
    }

    fn flush_line(&mut self, lines: &mut Vec<String>) {
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

/// A `( ... )` string from just after the parenthesis; returns the text and
/// the position after its closing parenthesis.
fn literal_string(content: &[u8], mut i: usize) -> (String, usize) {
    let mut out = Vec::new();
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
    (latin1(&out), i)
}

fn hex_string(content: &[u8], mut i: usize) -> (String, usize) {
    let mut digits = Vec::new();
    while i < content.len() && content[i] != b'>' {
        if content[i].is_ascii_hexdigit() {
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
