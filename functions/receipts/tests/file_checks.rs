//! What a file really is, decided from its first bytes; and how event keys are
//! decoded, since AWS and emulators encode them differently.

use agencyops_receipts::decode_event_key;
use agencyops_receipts::file_type::{check_file, sniff, ReceiptType, Sniffed, MAX_RECEIPT_BYTES};

fn with_tail(head: &[u8]) -> Vec<u8> {
    let mut b = head.to_vec();
    b.extend_from_slice(&[0u8; 64]);
    b
}

#[test]
fn each_allowed_type_is_recognised_by_its_magic_bytes() {
    let cases: [(&[u8], ReceiptType); 8] = [
        (b"%PDF-1.7\n", ReceiptType::Pdf),
        (&[0xFF, 0xD8, 0xFF, 0xE0], ReceiptType::Jpeg),
        (&[0xFF, 0xD8, 0xFF, 0xE1], ReceiptType::Jpeg),
        (
            &[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
            ReceiptType::Png,
        ),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", ReceiptType::Webp),
        (b"\x00\x00\x00\x18ftypheic", ReceiptType::Heic),
        (b"\x00\x00\x00\x18ftypheix", ReceiptType::Heic),
        (b"\x00\x00\x00\x1cftypmif1", ReceiptType::Heic),
    ];
    for (head, kind) in cases {
        let bytes = with_tail(head);
        assert_eq!(sniff(&bytes), Sniffed::Receipt(kind), "{head:?}");
        assert_eq!(check_file(kind, &bytes), Ok(kind));
    }
}

#[test]
fn near_misses_are_not_receipts() {
    for head in [
        &b"%PDF"[..],                    // no dash: not a PDF header
        b"RIFF\x24\x00\x00\x00WAVEfmt ", // RIFF, but audio
        b"\x00\x00\x00\x18ftypisom",     // MP4 video
        &[0x89, 0x50, 0x4E, 0x47],       // truncated PNG signature
        b"GIF89a",
        b"PK\x03\x04", // zip / docx
    ] {
        assert_eq!(sniff(head), Sniffed::Unknown, "{head:?}");
    }
}

#[test]
fn html_and_programs_are_refused_whatever_they_claim() {
    let html: [&[u8]; 5] = [
        b"<!DOCTYPE html><html><body>hi</body></html>",
        b"\xEF\xBB\xBF\n  <html><script>alert(1)</script>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"<?xml version='1.0'?><x/>",
        b"   <SCRIPT>evil()</SCRIPT>",
    ];
    for bytes in html {
        assert_eq!(sniff(bytes), Sniffed::Markup, "{bytes:?}");
        let why = check_file(ReceiptType::Pdf, bytes).unwrap_err();
        assert!(why.contains("web page"), "{why}");
    }
    let programs: [&[u8]; 4] = [
        b"\x7FELF\x02\x01\x01\x00",
        b"MZ\x90\x00\x03\x00",
        b"#!/bin/sh\nrm -rf /\n",
        &[0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1],
    ];
    for bytes in programs {
        assert_eq!(sniff(bytes), Sniffed::Executable, "{bytes:?}");
        let why = check_file(ReceiptType::Pdf, bytes).unwrap_err();
        assert!(why.contains("executable"), "{why}");
    }
}

#[test]
fn a_real_type_that_differs_from_the_declared_one_is_refused() {
    let png = with_tail(&[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
    let why = check_file(ReceiptType::Jpeg, &png).unwrap_err();
    assert_eq!(
        why,
        "the file is a PNG image but was announced as a JPEG image"
    );
}

#[test]
fn empty_and_oversized_files_are_refused() {
    assert_eq!(
        check_file(ReceiptType::Pdf, b"").unwrap_err(),
        "the file is empty"
    );
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(MAX_RECEIPT_BYTES as usize + 1, b' ');
    assert!(check_file(ReceiptType::Pdf, &big)
        .unwrap_err()
        .contains("larger than 10 MB"));
    big.truncate(MAX_RECEIPT_BYTES as usize);
    assert_eq!(check_file(ReceiptType::Pdf, &big), Ok(ReceiptType::Pdf));
}

#[test]
fn declared_types_are_the_five_allowed_ones() {
    for (ct, kind) in [
        ("application/pdf", Some(ReceiptType::Pdf)),
        ("Application/PDF", Some(ReceiptType::Pdf)),
        ("image/jpeg", Some(ReceiptType::Jpeg)),
        ("image/png", Some(ReceiptType::Png)),
        ("image/heic", Some(ReceiptType::Heic)),
        ("image/webp", Some(ReceiptType::Webp)),
        ("text/html", None),
        ("application/pdf; charset=utf-8", None),
        ("image/svg+xml", None),
        ("application/octet-stream", None),
        ("", None),
    ] {
        assert_eq!(ReceiptType::from_content_type(ct), kind, "{ct}");
    }
}

/// In JSON a receipt type is its media type, read in any letter case; the
/// OpenAPI document lists exactly the five, so clients see the choice.
#[test]
fn receipt_types_are_media_types_in_json_and_in_the_api_document() {
    for t in ReceiptType::ALL {
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json, t.mime());
        assert_eq!(serde_json::from_value::<ReceiptType>(json).unwrap(), t);
    }
    assert_eq!(
        serde_json::from_str::<ReceiptType>("\" Image/JPEG \"").unwrap(),
        ReceiptType::Jpeg
    );
    let refused = serde_json::from_str::<ReceiptType>("\"text/html\"")
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("\"text/html\" is not a receipt type")
            && refused.contains("application/pdf, image/jpeg, image/png, image/heic, image/webp"),
        "{refused}"
    );
    let doc =
        serde_json::to_value(<agencyops_receipts::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ReceiptType"]["enum"],
        serde_json::json!([
            "application/pdf",
            "image/jpeg",
            "image/png",
            "image/heic",
            "image/webp"
        ])
    );
    // A reference to that schema (bare or wrapped with its description).
    let field = schemas["UploadRequest"]["properties"]["content_type"].to_string();
    assert!(
        field.contains("#/components/schemas/ReceiptType"),
        "{field}"
    );
}

#[test]
fn event_keys_decode_the_aws_and_the_emulator_encodings_alike() {
    // AWS keeps `/` and writes spaces as `+`.
    assert_eq!(
        decode_event_key("receipts/acme/x1/my+receipt+%281%29.pdf").as_deref(),
        Some("receipts/acme/x1/my receipt (1).pdf")
    );
    // moto encodes `/` as well.
    assert_eq!(
        decode_event_key("receipts%2Facme%2Fx1%2Fu1").as_deref(),
        Some("receipts/acme/x1/u1")
    );
    assert_eq!(decode_event_key("caf%C3%A9").as_deref(), Some("café"));
    assert_eq!(decode_event_key("100%").as_deref(), Some("100%"));
    assert_eq!(decode_event_key("a%zzb").as_deref(), Some("a%zzb"));
    assert_eq!(decode_event_key("%FF%FE"), None, "not UTF-8");
}
