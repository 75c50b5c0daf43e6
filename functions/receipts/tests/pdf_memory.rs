//! Peak memory while the processor handles a hostile PDF: 10 MB of `(a)(a)(a)…`
//! once made the text reader keep millions of string operands (well over
//! 100 MB for one upload, in a Lambda of 256 MB). This binary counts every
//! byte allocated through a global allocator, so the peak measured is the
//! real one of the whole processing (download, hash, reading, writes), not an
//! estimate. It holds one test only, so nothing else allocates meanwhile.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use agencyops_receipts::file_type::MAX_RECEIPT_BYTES;
use agencyops_receipts::process_event_json;
use serde_json::json;
use support::*;

/// Bytes currently allocated, and the most ever allocated at once.
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

fn grew(n: usize) {
    let now = CURRENT.fetch_add(n, SeqCst) + n;
    PEAK.fetch_max(now, SeqCst);
}

fn shrank(n: usize) {
    CURRENT.fetch_sub(n, SeqCst);
}

// SAFETY: every call is passed on to the system allocator unchanged; only
// the sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            // Counted as if old and new both lived for a moment, as they do
            // when the block moves: the peak is never underestimated.
            grew(new_size);
            shrank(layout.size());
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MB: usize = 1024 * 1024;

/// A valid PDF whose one content stream is `(a)` repeated up to the upload limit.
fn strings_without_operator() -> Vec<u8> {
    let frame = pdf_with_content(b"", None).len();
    // Room for the longer /Length and xref offsets of the full file.
    let room = usize::try_from(MAX_RECEIPT_BYTES).unwrap() - frame - 64;
    let content = b"(a)".repeat(room / 3);
    let pdf = pdf_with_content(&content, None);
    assert!(pdf.len() as u64 <= MAX_RECEIPT_BYTES);
    assert!(pdf.len() > 9 * MB, "the file is near the 10 MB limit");
    pdf
}

#[tokio::test]
async fn a_10_mb_pdf_of_strings_is_processed_within_64_mb_more_than_before() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let pdf = strings_without_operator();
    let ticket = app
        .post(
            &s.member,
            &format!("/v1/expenses/{x}/receipt"),
            json!({"content_type": "application/pdf", "size": pdf.len()}),
        )
        .await
        .expect(201)
        .body;
    assert!(upload(&ticket, pdf.clone()).await.status().is_success());
    let events = blob_events(app).await;
    assert_eq!(events.len(), 1);

    let baseline = CURRENT.load(SeqCst);
    PEAK.store(baseline, SeqCst);
    process_event_json(&app.services, &events[0]).await.unwrap();
    let extra = PEAK.load(SeqCst).saturating_sub(baseline);

    // The processing really read the file: it is attached, with its hash.
    let r = app
        .get(&s.member, &format!("/v1/expenses/{x}/receipt"))
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["sha256"], sha256_hex(&pdf));
    assert!(
        extra < 64 * MB,
        "processing a {} byte PDF took {:.1} MB more at its peak",
        pdf.len(),
        extra as f64 / MB as f64
    );
}
