//! One conformance suite for the Mail port, run against the embedded outbox
//! (`.eml` files) and against SES v2 on moto. Each case sends through the
//! port, then reads what the provider holds (the `.eml` file; moto's record
//! of the raw message) and parses it as a mail client would.

use std::sync::Arc;

use agencyops_platform::aws::emulator_config;
use agencyops_platform::clock::ManualClock;
use agencyops_platform::mail::{Attachment, EmbeddedMail, Mail, Message, SesMail};
use agencyops_platform::ports::PortError;
use agencyops_testkit::Moto;
use async_trait::async_trait;
use bytes::Bytes;
use mail_parser::{MessageParser, MimeHeaders};

const FROM: &str = "billing@lumen.studio";

/// Where a harness reads back what its adapter delivered.
#[async_trait]
trait Outbox: Send + Sync {
    /// The raw message the provider holds for `id`.
    async fn raw(&self, id: &str) -> Option<Vec<u8>>;
    /// How many messages the provider holds.
    async fn count(&self) -> usize;
}

struct Harness {
    mail: Arc<dyn Mail>,
    outbox: Box<dyn Outbox>,
    _guard: Box<dyn Send>,
}

// ---------------------------------------------------------------- embedded

struct Files(Arc<EmbeddedMail>);

#[async_trait]
impl Outbox for Files {
    async fn raw(&self, id: &str) -> Option<Vec<u8>> {
        self.0.read(id).await.unwrap().map(|b| b.to_vec())
    }
    async fn count(&self) -> usize {
        self.0.list().await.unwrap().len()
    }
}

fn embedded() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at("2026-11-20T09:00:00Z".parse().unwrap());
    let mail =
        Arc::new(EmbeddedMail::new(dir.path().join("mail"), FROM).with_clock(Arc::new(clock)));
    Harness {
        mail: mail.clone(),
        outbox: Box::new(Files(mail)),
        _guard: Box::new(dir),
    }
}

// ---------------------------------------------------------------- SES (moto)

struct MotoSes(String);

impl MotoSes {
    /// Every raw message moto's SES backend recorded (its model dump).
    async fn sent(&self) -> Vec<serde_json::Value> {
        let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", self.0))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        data["ses"]["RawMessage"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

#[async_trait]
impl Outbox for MotoSes {
    async fn raw(&self, id: &str) -> Option<Vec<u8>> {
        self.sent()
            .await
            .into_iter()
            .find(|m| m["id"] == id)
            .and_then(|m| m["raw_data"].as_str().map(|s| s.as_bytes().to_vec()))
    }
    async fn count(&self) -> usize {
        self.sent().await.len()
    }
}

async fn ses() -> Harness {
    let moto = tokio::task::spawn_blocking(Moto::start)
        .await
        .unwrap()
        .unwrap();
    let client = aws_sdk_sesv2::Client::new(&emulator_config(&moto.endpoint));
    // SES sends only from a verified identity; moto verifies on creation.
    client
        .create_email_identity()
        .email_identity(FROM)
        .send()
        .await
        .unwrap();
    Harness {
        mail: Arc::new(SesMail::new(client, FROM)),
        outbox: Box::new(MotoSes(moto.endpoint.clone())),
        _guard: Box::new(moto),
    }
}

// ---------------------------------------------------------------- cases

fn pdf() -> Bytes {
    // Binary on purpose: every byte value, so a lossy encoding would show.
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..=255u8).cycle().take(3000));
    Bytes::from(b)
}

fn invoice_mail() -> Message {
    Message {
        id: "invoice-0193-send-1".into(),
        to: vec!["ap@northwind.example".into(), "cfo@northwind.example".into()],
        cc: vec!["pm@lumen.studio".into()],
        subject: "Invoice INV-2026-001 from Lumen Studio — €1.200,00".into(),
        text: "Hello,\n\nplease find invoice INV-2026-001 attached.\nView it online: https://app.example/invoices/1\n".into(),
        html: Some("<p>Please find invoice <b>INV-2026-001</b> attached.</p>".into()),
        attachments: vec![Attachment {
            filename: "INV-2026-001.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: pdf(),
        }],
    }
}

fn addresses(a: Option<&mail_parser::Address>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| x.address().map(str::to_owned))
            .collect()
    })
    .unwrap_or_default()
}

/// What a mail client shows: headers, both bodies and the attachment, intact.
async fn a_multipart_message_arrives_whole(h: Harness) {
    let id = h.mail.send(&invoice_mail()).await.unwrap();
    assert!(!id.is_empty());
    let raw = h
        .outbox
        .raw(&id)
        .await
        .expect("the provider holds the message");
    let parsed = MessageParser::default()
        .parse(&raw)
        .expect("parses as mail");

    assert_eq!(addresses(parsed.from()), [FROM]);
    assert_eq!(
        addresses(parsed.to()),
        ["ap@northwind.example", "cfo@northwind.example"]
    );
    assert_eq!(addresses(parsed.cc()), ["pm@lumen.studio"]);
    assert_eq!(
        parsed.subject(),
        Some("Invoice INV-2026-001 from Lumen Studio — €1.200,00")
    );
    assert!(parsed.date().is_some(), "a Date header");
    assert!(
        parsed.message_id().is_some_and(|m| !m.is_empty()),
        "a Message-ID"
    );
    assert_eq!(
        parsed.header_raw("X-AgencyOps-Mail-Id").map(str::trim),
        Some("invoice-0193-send-1")
    );
    assert!(parsed
        .body_text(0)
        .is_some_and(|t| t.contains("please find invoice INV-2026-001 attached")));
    assert!(parsed
        .body_html(0)
        .is_some_and(|t| t.contains("<b>INV-2026-001</b>")));

    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), 1);
    let a = attachments[0];
    assert_eq!(a.attachment_name(), Some("INV-2026-001.pdf"));
    let ct = a.content_type().expect("content type");
    assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")));
    assert_eq!(a.contents(), pdf().as_ref(), "the bytes survive unchanged");
}

/// A plain message without attachments or HTML is still a proper mail.
async fn a_plain_message_has_every_header(h: Harness) {
    let msg = Message {
        id: "digest-2026-W47".into(),
        to: vec!["fin@lumen.studio".into()],
        cc: vec![],
        subject: "AR digest, week 47".into(),
        text: "Nothing is overdue.".into(),
        html: None,
        attachments: vec![],
    };
    let id = h.mail.send(&msg).await.unwrap();
    let raw = h.outbox.raw(&id).await.expect("held");
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(addresses(parsed.to()), ["fin@lumen.studio"]);
    assert!(addresses(parsed.cc()).is_empty());
    assert_eq!(parsed.subject(), Some("AR digest, week 47"));
    assert_eq!(
        parsed.body_text(0).as_deref().map(str::trim),
        Some("Nothing is overdue.")
    );
    assert_eq!(parsed.attachments().count(), 0);
    assert!(parsed.date().is_some() && parsed.message_id().is_some());
}

/// The port does not deduplicate: sending twice is two mails (the mail
/// sender's marker is what makes a message id go out once).
async fn every_send_is_a_new_message(h: Harness) {
    let a = h.mail.send(&invoice_mail()).await.unwrap();
    let b = h.mail.send(&invoice_mail()).await.unwrap();
    assert_ne!(a, b);
    assert_eq!(h.outbox.count().await, 2);
    assert!(h.outbox.raw(&a).await.is_some() && h.outbox.raw(&b).await.is_some());
}

/// What no provider would deliver is refused before anything is sent.
async fn undeliverable_messages_are_refused_and_nothing_is_sent(h: Harness) {
    let cases: Vec<(&str, Message)> = vec![
        (
            "no recipient",
            Message {
                to: vec![],
                ..invoice_mail()
            },
        ),
        (
            "not an address",
            Message {
                to: vec!["northwind".into()],
                ..invoice_mail()
            },
        ),
        (
            "bad cc",
            Message {
                cc: vec!["a b@c.io".into()],
                ..invoice_mail()
            },
        ),
        (
            "header injection",
            Message {
                subject: "Hi\r\nBcc: victim@evil.example".into(),
                ..invoice_mail()
            },
        ),
        (
            "too many",
            Message {
                to: (0..51).map(|i| format!("p{i}@northwind.example")).collect(),
                ..invoice_mail()
            },
        ),
    ];
    for (what, msg) in cases {
        assert!(
            matches!(h.mail.send(&msg).await, Err(PortError::Refused(_))),
            "{what} was not refused"
        );
    }
    assert_eq!(h.outbox.count().await, 0);
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::embedded()).await;
                }
            )*
        }
        mod ses {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::ses().await).await;
                }
            )*
        }
    };
}

conformance!(
    a_multipart_message_arrives_whole,
    a_plain_message_has_every_header,
    every_send_is_a_new_message,
    undeliverable_messages_are_refused_and_nothing_is_sent,
);

// ---------------------------------------------------------------- embedded only

#[tokio::test]
async fn embedded_outbox_is_one_eml_file_per_message_in_sending_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at("2026-11-20T09:00:00Z".parse().unwrap());
    let mail = EmbeddedMail::new(dir.path(), FROM).with_clock(Arc::new(clock.clone()));
    let first = mail.send(&invoice_mail()).await.unwrap();
    clock.advance(jiff::SignedDuration::from_secs(60));
    let second = mail.send(&invoice_mail()).await.unwrap();
    assert_eq!(mail.list().await.unwrap(), [first.clone(), second.clone()]);

    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            p.is_file()
                .then(|| p.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    files.sort();
    assert_eq!(files, [format!("{first}.eml"), format!("{second}.eml")]);
    // Nothing half-written is left beside them.
    let tmp: Vec<_> = std::fs::read_dir(dir.path().join("tmp")).unwrap().collect();
    assert!(tmp.is_empty());

    // Dated by the clock it was given, as the local host's settable clock says.
    let raw = mail.read(&first).await.unwrap().unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        parsed.date().map(|d| d.to_rfc3339()),
        Some("2026-11-20T09:00:00Z".into())
    );
    // Ids that are not this adapter's never reach the file system.
    for bad in ["../etc/passwd", "x", "", "a/b"] {
        assert_eq!(mail.read(bad).await.unwrap(), None, "{bad:?}");
    }
}

#[tokio::test]
async fn embedded_outbox_that_never_sent_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mail = EmbeddedMail::new(dir.path().join("never"), FROM);
    assert!(mail.list().await.unwrap().is_empty());
}
