//! Which files a receipt may be, and what a file really is. The declared type
//! is only a claim: the processor trusts the first bytes of the file, so an
//! HTML page or a program renamed `.pdf` never becomes a receipt.

/// The largest receipt accepted: a phone photo or a multi-page scan fits.
pub const MAX_RECEIPT_BYTES: u64 = 10 * 1024 * 1024;

pub use agencyops_domain::receipt::{NotAReceiptType, ReceiptType};

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Receipt(ReceiptType),
    /// HTML, SVG or XML: could run script if a browser ever rendered it.
    Markup,
    /// A program (ELF, Windows MZ/PE, Mach-O) or a script with a `#!` line.
    Executable,
    Unknown,
}

/// Looks at the magic bytes. Only the start of the file is used.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        return Sniffed::Receipt(ReceiptType::Pdf);
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Receipt(ReceiptType::Jpeg);
    }
    if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Sniffed::Receipt(ReceiptType::Png);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        return Sniffed::Receipt(ReceiptType::Webp);
    }
    // ISO base media file: [size:4]["ftyp"][major brand:4].
    if bytes.get(4..8) == Some(b"ftyp".as_slice())
        && matches!(
            bytes.get(8..12),
            Some(b"heic") | Some(b"heix") | Some(b"mif1")
        )
    {
        return Sniffed::Receipt(ReceiptType::Heic);
    }
    let executable: [&[u8]; 7] = [
        b"\x7FELF",
        b"MZ",
        b"#!",
        &[0xFE, 0xED, 0xFA, 0xCE],
        &[0xFE, 0xED, 0xFA, 0xCF],
        &[0xCF, 0xFA, 0xED, 0xFE],
        &[0xCA, 0xFE, 0xBA, 0xBE],
    ];
    if executable.iter().any(|m| starts(m)) {
        return Sniffed::Executable;
    }
    if looks_like_markup(bytes) {
        return Sniffed::Markup;
    }
    Sniffed::Unknown
}

/// HTML and friends may start with a BOM, blank lines or comments.
fn looks_like_markup(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let text = String::from_utf8_lossy(&head[start..]).to_ascii_lowercase();
    [
        "<!doctype",
        "<html",
        "<head",
        "<body",
        "<script",
        "<svg",
        "<?xml",
        "<!--",
        "<iframe",
    ]
    .iter()
    .any(|tag| text.starts_with(tag))
}

/// Checks a received file against what was announced: within the size limit,
/// and its content is the declared type. The error is the reason shown to
/// the person.
pub fn check_file(declared: ReceiptType, bytes: &[u8]) -> Result<ReceiptType, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() as u64 > MAX_RECEIPT_BYTES {
        return Err(format!(
            "the file is larger than {} MB",
            MAX_RECEIPT_BYTES / (1024 * 1024)
        ));
    }
    match sniff(bytes) {
        Sniffed::Receipt(t) if t == declared => Ok(t),
        Sniffed::Receipt(t) => Err(format!(
            "the file is a {} but was announced as a {}",
            t.label(),
            declared.label()
        )),
        Sniffed::Markup => Err(format!(
            "the file is a web page (HTML or similar markup), not a {}",
            declared.label()
        )),
        Sniffed::Executable => Err("the file is an executable program".into()),
        Sniffed::Unknown => Err(format!(
            "the file's content is not a {}; allowed are PDF, JPEG, PNG, HEIC and WebP",
            declared.label()
        )),
    }
}
