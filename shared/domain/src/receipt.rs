//! The kinds of file a receipt may be. Stored on the receipt and read in
//! request bodies as their media type, so it lives below both.

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
