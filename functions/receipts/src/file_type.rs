//! Which files a receipt may be, and what a file really is. The declared type
//! is only a claim: the processor trusts the first bytes of the file, so an
//! HTML page or a program renamed `.pdf` never becomes a receipt.

/// The largest receipt accepted: a phone photo or a multi-page scan fits.
pub const MAX_RECEIPT_BYTES: u64 = 10 * 1024 * 1024;

/// The kinds of file a receipt may be. In JSON it is its media type
/// (`"application/pdf"`); reading one ignores letter case and surrounding
/// space, so `"Image/JPEG"` is a JPEG, but nothing else is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
pub enum ReceiptType {
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/heic")]
    Heic,
    #[serde(rename = "image/webp")]
    Webp,
}

impl std::fmt::Display for ReceiptType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.mime())
    }
}

/// A content type that is not one of the allowed receipt types.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a receipt type; must be one of {list}", list = ReceiptType::allowed_list())]
pub struct NotAReceiptType(pub String);

impl std::str::FromStr for ReceiptType {
    type Err = NotAReceiptType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReceiptType::from_content_type(s).ok_or_else(|| NotAReceiptType(s.to_owned()))
    }
}

impl<'de> serde::Deserialize<'de> for ReceiptType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl ReceiptType {
    pub const ALL: [ReceiptType; 5] = [
        ReceiptType::Pdf,
        ReceiptType::Jpeg,
        ReceiptType::Png,
        ReceiptType::Heic,
        ReceiptType::Webp,
    ];

    /// The media type pinned in upload URLs and stored on the receipt.
    pub fn mime(self) -> &'static str {
        match self {
            ReceiptType::Pdf => "application/pdf",
            ReceiptType::Jpeg => "image/jpeg",
            ReceiptType::Png => "image/png",
            ReceiptType::Heic => "image/heic",
            ReceiptType::Webp => "image/webp",
        }
    }

    /// The name people know the format by, for messages.
    pub fn label(self) -> &'static str {
        match self {
            ReceiptType::Pdf => "PDF",
            ReceiptType::Jpeg => "JPEG image",
            ReceiptType::Png => "PNG image",
            ReceiptType::Heic => "HEIC image",
            ReceiptType::Webp => "WebP image",
        }
    }

    /// A declared content type, compared without case; parameters such as
    /// `; charset=` are not accepted, because the type is pinned verbatim.
    pub fn from_content_type(content_type: &str) -> Option<ReceiptType> {
        let wanted = content_type.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|t| t.mime() == wanted)
    }

    /// For error messages: "application/pdf, image/jpeg, ...".
    pub fn allowed_list() -> String {
        Self::ALL.map(ReceiptType::mime).join(", ")
    }
}

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
