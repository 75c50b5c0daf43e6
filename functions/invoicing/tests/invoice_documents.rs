//! The invoice documents a client or an accounting tool receives: the PDF and
//! HTML a person reads, the UBL e-invoice a buyer's system checks against
//! EN 16931, and the Xero and QuickBooks CSV imports. Documents are built by
//! hand here, with their figures from the domain's invoice maths.

use std::str::FromStr;

use agencyops_domain::invoice::{price, Discount, LineInput, TaxRateSpec};
use agencyops_domain::{Currency, MoneyRounding};
use agencyops_invoicing::documents::exports::{
    quickbooks_csv, xero_csv, QBO_HEADERS, XERO_HEADERS,
};
use agencyops_invoicing::documents::{
    html, pdf, ubl, DocumentEntry, DocumentError, DocumentKind, DocumentLine, DocumentTax,
    InvoiceDocument, LineUnit, Party,
};
use jiff::civil::date;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn rates() -> Vec<TaxRateSpec> {
    vec![
        TaxRateSpec {
            code: "S20".into(),
            name: "VAT 20%".into(),
            percent: dec!(20),
            xero_tax_type: Some("20% (VAT on Income)".into()),
            qbo_tax_code: Some("20.0% S".into()),
        },
        TaxRateSpec {
            code: "R7".into(),
            name: "VAT 7.7%".into(),
            percent: dec!(7.7),
            xero_tax_type: None,
            qbo_tax_code: None,
        },
        TaxRateSpec {
            code: "Z0".into(),
            name: "Zero rated".into(),
            percent: dec!(0),
            xero_tax_type: None,
            qbo_tax_code: None,
        },
    ]
}

/// A line before pricing.
struct Spec {
    description: String,
    quantity: Decimal,
    unit: LineUnit,
    unit_price: Decimal,
    adjustment: Decimal,
    codes: Vec<&'static str>,
    entries: Vec<DocumentEntry>,
}

fn spec(description: &str, quantity: Decimal, unit_price: Decimal, codes: &[&'static str]) -> Spec {
    Spec {
        description: description.into(),
        quantity,
        unit: LineUnit::Hours,
        unit_price,
        adjustment: Decimal::ZERO,
        codes: codes.to_vec(),
        entries: vec![],
    }
}

fn entry(day: i8, person: &str, hours: Decimal, note: &str) -> DocumentEntry {
    DocumentEntry {
        date: date(2026, 11, day),
        person: person.into(),
        note: note.into(),
        hours,
    }
}

fn party(name: &str, country: &str, tax_id: &str) -> Party {
    Party {
        name: name.into(),
        address_lines: vec!["1 Main Street".into(), "Floor 2".into()],
        city: Some("Berlin".into()),
        postal_code: Some("10115".into()),
        country_code: Some(country.into()),
        tax_id: Some(tax_id.into()),
        email: Some(format!(
            "billing@{}.example",
            name.split(' ').next().unwrap().to_lowercase()
        )),
    }
}

/// A document whose figures come from the domain's pricing, as the
/// operations will build it.
fn build(
    number: &str,
    specs: Vec<Spec>,
    discount: Option<Discount>,
    rule: MoneyRounding,
) -> InvoiceDocument {
    let rates = rates();
    let inputs: Vec<LineInput> = specs
        .iter()
        .map(|s| LineInput {
            quantity: s.quantity,
            unit_price: s.unit_price,
            adjustment: s.adjustment,
            tax_codes: s.codes.iter().map(|c| c.to_string()).collect(),
        })
        .collect();
    let t = price(&inputs, discount, &rates, eur(), rule).unwrap();
    let lines = specs
        .into_iter()
        .zip(&t.lines)
        .map(|(s, p)| DocumentLine {
            description: s.description,
            quantity: s.quantity,
            unit: s.unit,
            unit_price: s.unit_price,
            adjustment: s.adjustment,
            amount: p.amount,
            tax_codes: s.codes.iter().map(|c| c.to_string()).collect(),
            entries: s.entries,
            service_date: Some(date(2026, 11, 28)),
            account_code: Some("200".into()),
        })
        .collect();
    let tax_breakdown = t
        .tax_breakdown
        .iter()
        .map(|b| {
            let r = rates.iter().find(|r| r.code == b.code).unwrap();
            DocumentTax {
                code: b.code.clone(),
                name: b.name.clone(),
                percent: b.percent,
                taxable: b.taxable,
                amount: b.amount,
                xero_tax_type: r.xero_tax_type.clone(),
                qbo_tax_code: r.qbo_tax_code.clone(),
            }
        })
        .collect();
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: number.into(),
        issue_date: date(2026, 11, 30),
        due_date: Some(date(2026, 12, 30)),
        currency: eur(),
        po_number: Some("PO-4471".into()),
        notes: Some("Thank you for your business.".into()),
        payment_terms_days: 30,
        payment_instructions: Some("IBAN DE89 3704 0044 0532 0130 00\nBIC COBADEFFXXX".into()),
        seller: party("Brightside Studio GmbH", "DE", "DE123456789"),
        buyer: party("Acme Widgets AG", "AT", "ATU12345678"),
        lines,
        line_total: t.line_total,
        discount_total: t.discount_total,
        tax_exclusive: t.tax_exclusive,
        tax_breakdown,
        tax_total: t.tax_total,
        total: t.total,
        amount_paid: Decimal::ZERO,
        amount_credited: Decimal::ZERO,
        balance_due: t.total,
        void: false,
    }
}

/// Four lines at three rates and untaxed, a write-down, entries, a discount
/// and a part payment.
fn sample() -> InvoiceDocument {
    let mut design = spec("Design work", dec!(12.5), dec!(90), &["S20"]);
    design.entries = vec![
        entry(3, "Alice Example", dec!(7.5), "Wireframes for the checkout"),
        entry(4, "Bob Sample", dec!(5), "Style guide review"),
    ];
    let mut dev = spec("Development", dec!(10), dec!(100), &["S20"]);
    dev.adjustment = dec!(-50);
    let mut photos = spec("Stock photos", dec!(3), dec!(15.50), &["R7"]);
    photos.unit = LineUnit::Each;
    let mut travel = spec("Travel", dec!(1), dec!(120), &[]);
    travel.unit = LineUnit::Each;
    let mut doc = build(
        "INV-2026-0042",
        vec![design, dev, photos, travel],
        Some(Discount::Amount(dec!(100))),
        MoneyRounding::HalfUp,
    );
    doc.amount_paid = dec!(500);
    doc.balance_due = doc.total - dec!(500);
    doc
}

fn credit_note() -> InvoiceDocument {
    let mut doc = build(
        "CN-2026-0007",
        vec![spec("Design work (refund)", dec!(2), dec!(90), &["S20"])],
        None,
        MoneyRounding::HalfUp,
    );
    doc.kind = DocumentKind::CreditNote {
        invoice_number: "INV-2026-0042".into(),
        invoice_issue_date: date(2026, 11, 30),
        reason: "Two hours billed twice".into(),
    };
    doc.due_date = None;
    doc.po_number = None;
    doc
}

fn pdf_text(doc: &InvoiceDocument) -> String {
    let bytes = pdf::render(doc).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    pdf_extract::extract_text_from_mem(&bytes).unwrap()
}

/// Every figure a person checks on the page, as printed.
fn figures(doc: &InvoiceDocument) -> Vec<String> {
    let mut out = vec![
        doc.number.clone(),
        doc.issue_date.to_string(),
        format!("{:.2}", doc.line_total),
        format!("{:.2}", doc.tax_exclusive),
        format!("{:.2}", doc.tax_total),
        format!("{:.2}", doc.total),
        format!("{:.2}", doc.balance_due),
    ];
    if let Some(due) = doc.due_date {
        out.push(due.to_string());
    }
    for l in &doc.lines {
        out.push(l.description.clone());
        out.push(format!("{:.2}", l.amount));
    }
    for t in &doc.tax_breakdown {
        out.push(t.name.clone());
        out.push(format!("{:.2}", t.taxable));
        out.push(format!("{:.2}", t.amount));
    }
    out
}

// ---------------------------------------------------------------- PDF

#[test]
fn the_pdf_shows_the_parties_dates_lines_totals_and_balance_as_text() {
    let doc = sample();
    let text = pdf_text(&doc);
    for f in figures(&doc) {
        assert!(
            text.contains(&f),
            "{f:?} missing from the PDF text:\n{text}"
        );
    }
    for s in [
        "Invoice",
        "Brightside Studio GmbH",
        "Acme Widgets AG",
        "DE123456789",
        "ATU12345678",
        "PO-4471",
        "Discount",
        "-100.00",
        "Paid",
        "500.00",
        "Balance due",
        "Write-down: -50.00",
        "12.5 h",
        "Alice Example",
        "Wireframes for the checkout",
        "Style guide review",
        "S20",
        "R7",
        "Payment due within 30 days",
        "IBAN DE89 3704 0044 0532 0130 00",
        "BIC COBADEFFXXX",
        "Thank you for your business.",
        "page 1 of 1",
    ] {
        assert!(text.contains(s), "{s:?} missing from the PDF text:\n{text}");
    }
    assert!(!text.contains("VOID"));
}

#[test]
fn a_detailed_invoice_with_300_entries_lists_every_entry_across_pages() {
    let mut line = spec("Support retainer, November", dec!(300), dec!(80), &["S20"]);
    line.entries = (0..300)
        .map(|i| {
            entry(
                1 + (i % 28) as i8,
                &format!("Person {}", i % 7),
                dec!(1),
                &format!("ticket-{i:03} resolved"),
            )
        })
        .collect();
    let doc = build("INV-2026-0300", vec![line], None, MoneyRounding::HalfUp);
    let bytes = pdf::render(&doc).unwrap();
    let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).unwrap();
    assert!(pages.len() >= 3, "300 entries on {} pages", pages.len());
    let text = pages.concat();
    for i in 0..300 {
        let note = format!("ticket-{i:03} resolved");
        assert!(text.contains(&note), "{note} missing");
    }
    // The totals still follow the last entry, and every page says where it is.
    assert!(pages.last().unwrap().contains(&format!("{:.2}", doc.total)));
    let n = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains(&format!("page {} of {n}", i + 1)), "page {i}");
    }
    assert!(pages[1].contains("INV-2026-0300 (continued)"));
    assert!(pages[1].contains("Description"), "the table header repeats");
}

#[test]
fn a_void_document_says_void() {
    let mut doc = sample();
    doc.void = true;
    let text = pdf_text(&doc);
    assert!(text.contains("VOID"));
    assert!(html::render(&doc).contains("VOID"));
}

#[test]
fn a_credit_note_names_itself_the_invoice_it_amends_and_why() {
    let doc = credit_note();
    let text = pdf_text(&doc);
    assert!(text.contains("Credit note"));
    assert!(text.contains("INV-2026-0042"));
    assert!(text.contains("Two hours billed twice"));
    assert!(text.contains("CN-2026-0007"));
    assert!(
        !text.contains("Payment due"),
        "a credit note asks for no payment"
    );
    let page = html::render(&doc);
    assert!(page.contains("Credit note"));
    assert!(page.contains("INV-2026-0042"));
    assert!(page.contains("Two hours billed twice"));
}

#[test]
fn long_descriptions_and_non_latin_text_wrap_and_stay_extractable() {
    let words = "Discovery workshop with stakeholders across three departments ".repeat(6);
    let mut doc = build(
        "INV-2026-0043",
        vec![
            spec(words.trim(), dec!(4), dec!(150), &["S20"]),
            spec("Übersetzung für Łódź – café", dec!(1), dec!(10), &["S20"]),
        ],
        None,
        MoneyRounding::HalfUp,
    );
    doc.notes = Some("Zahlbar ohne Abzug.".into());
    let text = pdf_text(&doc);
    // Wrapped over several lines, every word is there in order.
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    assert!(squeeze(&text).contains(&squeeze(&words)), "{text}");
    assert!(text.contains("Übersetzung für Łódź – café"), "{text}");
    assert!(text.contains("Zahlbar ohne Abzug."));
}

#[test]
fn a_description_taller_than_a_page_continues_on_the_next_page() {
    let text: String = (0..400).map(|i| format!("part-{i:03} ")).collect();
    let doc = build(
        "INV-2026-0045",
        vec![
            spec(text.trim(), dec!(1), dec!(10), &["S20"]),
            spec("Follow-up call", dec!(1), dec!(20), &["S20"]),
        ],
        None,
        MoneyRounding::HalfUp,
    );
    let bytes = pdf::render(&doc).unwrap();
    let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).unwrap();
    assert!(pages.len() >= 2);
    let all = pages.concat();
    for i in 0..400 {
        assert!(all.contains(&format!("part-{i:03}")), "part-{i:03} missing");
    }
    assert!(all.contains("Follow-up call"));
    let after = &all[all.find("part-399").unwrap()..];
    assert!(
        after.contains("Total (EUR) 36.00"),
        "the total follows: {after}"
    );
}

// ---------------------------------------------------------------- HTML

#[test]
fn html_escapes_every_text_and_holds_the_same_figures() {
    let mut doc = sample();
    doc.lines[0].description = "<script>alert('x')</script> & more".into();
    doc.buyer.name = "Acme \"Widgets\" <AG>".into();
    let page = html::render(&doc);
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
    assert!(page.contains("Acme &quot;Widgets&quot; &lt;AG&gt;"));
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Self-contained: nothing loaded from elsewhere.
    assert!(!page.contains("src="));
    assert!(!page.contains("<link"));
    for f in figures(&doc) {
        if f == doc.lines[0].description {
            continue;
        }
        assert!(page.contains(&f), "{f:?} missing from the HTML");
    }
    for s in [
        "Alice Example",
        "PO-4471",
        "-100.00",
        "Write-down: -50.00",
        "BIC COBADEFFXXX",
    ] {
        assert!(page.contains(s), "{s:?} missing from the HTML");
    }
}

// ---------------------------------------------------------------- CSV

const XERO_HEADER_LINE: &str = "*ContactName,EmailAddress,POAddressLine1,POAddressLine2,POAddressLine3,POAddressLine4,POCity,PORegion,POPostalCode,POCountry,*InvoiceNumber,Reference,*InvoiceDate,*DueDate,InventoryItemCode,*Description,*Quantity,*UnitAmount,Discount,*AccountCode,*TaxType,TrackingName1,TrackingOption1,TrackingName2,TrackingOption2,Currency,BrandingTheme";
const QBO_HEADER_LINE: &str = "*InvoiceNo,*Customer,*InvoiceDate,*DueDate,Terms,Location,Memo,Item(Product/Service),ItemDescription,ItemQuantity,ItemRate,*ItemAmount,*ItemTaxCode,ItemTaxAmount,Currency,Service Date";

fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(bytes);
    let headers = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r.records().map(|r| r.unwrap()).collect();
    (headers, rows)
}

fn dec_of(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("{s:?} is not a decimal"))
}

#[test]
fn xero_csv_has_its_headers_one_row_per_line_and_adds_up_to_the_invoice() {
    let doc = sample();
    let bytes = xero_csv(std::slice::from_ref(&doc)).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text.lines().next().unwrap(), XERO_HEADER_LINE);
    let (headers, rows) = parse_csv(&bytes);
    assert_eq!(headers, XERO_HEADERS);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    // 4 lines, and the discount split over three rates and the untaxed line.
    assert_eq!(rows.len(), 4 + 3);
    let net: Decimal = rows
        .iter()
        .map(|r| dec_of(&r[col("*Quantity")]) * dec_of(&r[col("*UnitAmount")]))
        .sum();
    // Xero computes the tax from the tax type; the net rows are the invoice's net.
    assert_eq!(net, doc.tax_exclusive);
    for r in &rows {
        assert_eq!(&r[col("*InvoiceNumber")], "INV-2026-0042");
        assert_eq!(&r[col("*InvoiceDate")], "30/11/2026");
        assert_eq!(&r[col("*DueDate")], "30/12/2026");
        assert_eq!(&r[col("Reference")], "PO-4471");
        assert_eq!(&r[col("*ContactName")], "Acme Widgets AG");
        assert_eq!(&r[col("POCountry")], "AT");
        assert_eq!(&r[col("Currency")], "EUR");
        assert_eq!(&r[col("*AccountCode")], "200");
    }
    assert_eq!(&rows[0][col("*Description")], "Design work");
    assert_eq!(&rows[0][col("*Quantity")], "12.5");
    assert_eq!(&rows[0][col("*UnitAmount")], "90.00");
    assert_eq!(&rows[0][col("*TaxType")], "20% (VAT on Income)");
    // The write-down line: its net as 1 x 950.00, saying what it bills.
    assert_eq!(&rows[1][col("*Quantity")], "1");
    assert_eq!(&rows[1][col("*UnitAmount")], "950.00");
    assert!(rows[1][col("*Description")].contains("write-down -50.00"));
    // No Xero name for the rate: its name; untaxed: Tax Exempt.
    assert_eq!(&rows[2][col("*TaxType")], "VAT 7.7%");
    assert_eq!(&rows[3][col("*TaxType")], "Tax Exempt");
    // Each rate's rows add up to its taxable base.
    for t in &doc.tax_breakdown {
        let tax_type = t.xero_tax_type.clone().unwrap_or(t.name.clone());
        let base: Decimal = rows
            .iter()
            .filter(|r| r[col("*TaxType")] == tax_type)
            .map(|r| dec_of(&r[col("*Quantity")]) * dec_of(&r[col("*UnitAmount")]))
            .sum();
        assert_eq!(base, t.taxable, "{}", t.code);
    }
}

#[test]
fn xero_takes_credit_notes_as_negative_quantities() {
    let doc = credit_note();
    let (headers, rows) = parse_csv(&xero_csv(&[sample(), doc.clone()]).unwrap());
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let credit: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("*InvoiceNumber")] == "CN-2026-0007")
        .collect();
    assert_eq!(credit.len(), 1);
    assert_eq!(&credit[0][col("*Quantity")], "-2");
    assert_eq!(&credit[0][col("Reference")], "Credit for INV-2026-0042");
    let net: Decimal = credit
        .iter()
        .map(|r| dec_of(&r[col("*Quantity")]) * dec_of(&r[col("*UnitAmount")]))
        .sum();
    assert_eq!(net, -doc.tax_exclusive);
}

#[test]
fn quickbooks_csv_has_its_headers_and_rows_plus_tax_add_up_to_the_total() {
    let a = sample();
    let mut b = build(
        "INV-2026-0044",
        vec![
            spec("Consulting", dec!(0.8333), dec!(90), &["S20"]),
            spec("Consulting", dec!(1.1667), dec!(90), &["S20"]),
            spec("Consulting", dec!(2.3333), dec!(90), &["S20"]),
        ],
        Some(Discount::Percent(dec!(3))),
        MoneyRounding::HalfUp,
    );
    b.due_date = None;
    b.payment_terms_days = 14;
    let bytes = quickbooks_csv(&[a.clone(), b.clone()]).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text.lines().next().unwrap(), QBO_HEADER_LINE);
    let (headers, rows) = parse_csv(&bytes);
    assert_eq!(headers, QBO_HEADERS);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for doc in [&a, &b] {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r[col("*InvoiceNo")] == doc.number)
            .collect();
        let discount_rows =
            doc.tax_breakdown.len() + usize::from(doc.lines.iter().any(|l| l.tax_codes.is_empty()));
        let discount_rows = if doc.discount_total.is_zero() {
            0
        } else {
            discount_rows
        };
        assert_eq!(
            mine.len(),
            doc.lines.len() + discount_rows,
            "{}",
            doc.number
        );
        let amounts: Decimal = mine.iter().map(|r| dec_of(&r[col("*ItemAmount")])).sum();
        let taxes: Decimal = mine.iter().map(|r| dec_of(&r[col("ItemTaxAmount")])).sum();
        assert_eq!(amounts, doc.tax_exclusive);
        assert_eq!(taxes, doc.tax_total);
        assert_eq!(amounts + taxes, doc.total);
        for t in &doc.tax_breakdown {
            let code = t.qbo_tax_code.clone().unwrap_or(t.code.clone());
            let tax: Decimal = mine
                .iter()
                .filter(|r| r[col("*ItemTaxCode")] == code)
                .map(|r| dec_of(&r[col("ItemTaxAmount")]))
                .sum();
            assert_eq!(tax, t.amount, "the {} shares add up to its tax", t.code);
        }
        for r in &mine {
            assert_eq!(&r[col("*InvoiceDate")], "11/30/2026");
            // Rate x quantity is the amount on every row QuickBooks recomputes.
            assert_eq!(
                dec_of(&r[col("ItemQuantity")]) * dec_of(&r[col("ItemRate")]),
                dec_of(&r[col("*ItemAmount")])
            );
        }
    }
    let a_rows: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("*InvoiceNo")] == "INV-2026-0042")
        .collect();
    assert_eq!(&a_rows[0][col("*DueDate")], "12/30/2026");
    assert_eq!(&a_rows[0][col("Terms")], "Net 30");
    assert_eq!(&a_rows[0][col("*ItemTaxCode")], "20.0% S");
    assert_eq!(&a_rows[0][col("Service Date")], "11/28/2026");
    assert_eq!(&a_rows[3][col("*ItemTaxCode")], "NON");
    let b_rows: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("*InvoiceNo")] == "INV-2026-0044")
        .collect();
    // No due date: the issue date plus the terms.
    assert_eq!(&b_rows[0][col("*DueDate")], "12/14/2026");
    assert_eq!(&b_rows[0][col("Terms")], "Net 14");
}

#[test]
fn oversized_exports_are_refused_with_the_limit() {
    let one = build(
        "INV-1",
        vec![spec("Work", dec!(1), dec!(10), &["S20"])],
        None,
        MoneyRounding::HalfUp,
    );
    let xero = vec![one.clone(); 501];
    let err = xero_csv(&xero).unwrap_err();
    assert!(matches!(
        err,
        DocumentError::TooManyForXero { count: 501, .. }
    ));
    assert!(err.to_string().contains("at most 500 invoices"), "{err}");
    assert!(err.is_request_error());
    assert!(xero_csv(&xero[..500]).is_ok());

    let err = quickbooks_csv(&xero[..101]).unwrap_err();
    assert!(err.to_string().contains("at most 100 invoices"), "{err}");
    assert!(quickbooks_csv(&xero[..100]).is_ok());

    let big = build(
        "INV-2",
        (0..1001)
            .map(|_| spec("Work", dec!(1), dec!(10), &["S20"]))
            .collect(),
        None,
        MoneyRounding::HalfUp,
    );
    let err = quickbooks_csv(std::slice::from_ref(&big)).unwrap_err();
    assert!(matches!(
        err,
        DocumentError::TooManyRowsForQuickBooks { count: 1001, .. }
    ));
    assert!(err.to_string().contains("at most 1000 rows"), "{err}");

    let mut long = one.clone();
    long.number = "INV-2026-000000000001".into(); // 21 characters: fine
    assert!(quickbooks_csv(std::slice::from_ref(&long)).is_ok());
    long.number.push('2');
    let err = quickbooks_csv(&[long]).unwrap_err();
    assert!(err.to_string().contains("at most 21 characters"), "{err}");

    let err = quickbooks_csv(&[credit_note()]).unwrap_err();
    assert!(err.to_string().contains("credit memo"), "{err}");
}

#[test]
fn a_line_taxed_at_two_rates_has_no_single_tax_column_or_category() {
    let doc = build(
        "INV-3",
        vec![spec("Work", dec!(1), dec!(10), &["S20", "R7"])],
        None,
        MoneyRounding::HalfUp,
    );
    for err in [
        ubl::render(&doc).unwrap_err(),
        xero_csv(std::slice::from_ref(&doc)).unwrap_err(),
        quickbooks_csv(std::slice::from_ref(&doc)).unwrap_err(),
    ] {
        assert!(
            matches!(err, DocumentError::SeveralRatesOnLine { line: 1, count: 2 }),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------- UBL

const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";

fn kids<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn kid<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> Result<roxmltree::Node<'a, 'i>, String> {
    kids(n, name)
        .next()
        .ok_or_else(|| format!("no {name} under {}", n.tag_name().name()))
}

fn text_of(n: roxmltree::Node, name: &str) -> Result<String, String> {
    Ok(kid(n, name)?.text().unwrap_or("").to_owned())
}

fn amount_of(n: roxmltree::Node, name: &str, currency: &str) -> Result<Decimal, String> {
    let el = kid(n, name)?;
    if el.attribute("currencyID") != Some(currency) {
        return Err(format!("{name} has no currencyID {currency}"));
    }
    let t = el.text().unwrap_or("");
    if Decimal::from_str(t).map_err(|e| e.to_string())?.scale() > 2 {
        return Err(format!("{name} {t} has more than two decimals"));
    }
    Decimal::from_str(t).map_err(|e| format!("{name}: {e}"))
}

/// The EN 16931 arithmetic a receiving system checks, on the XML alone.
fn check_en16931(xml: &str) -> Result<(), String> {
    let tree = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
    let root = tree.root_element();
    let credit = root.tag_name().name() == "CreditNote";
    let (line_el, qty_el) = if credit {
        ("CreditNoteLine", "CreditedQuantity")
    } else {
        ("InvoiceLine", "InvoicedQuantity")
    };
    let cur = text_of(root, "DocumentCurrencyCode")?;
    let c = cur.as_str();
    let total = kid(root, "LegalMonetaryTotal")?;
    let line_ext = amount_of(total, "LineExtensionAmount", c)?;
    let tax_excl = amount_of(total, "TaxExclusiveAmount", c)?;
    let tax_incl = amount_of(total, "TaxInclusiveAmount", c)?;
    let allowances = amount_of(total, "AllowanceTotalAmount", c)?;
    let prepaid = amount_of(total, "PrepaidAmount", c)?;
    let payable = amount_of(total, "PayableAmount", c)?;

    // Lines: net = quantity x price + charges - allowances (rounded).
    let mut line_sum = Decimal::ZERO;
    let mut nets_by_cat: Vec<((String, Decimal), Decimal)> = Vec::new();
    let mut add = |key: (String, Decimal), v: Decimal| match nets_by_cat
        .iter_mut()
        .find(|(k, _)| *k == key)
    {
        Some((_, s)) => *s += v,
        None => nets_by_cat.push((key, v)),
    };
    for line in kids(root, line_el) {
        let net = amount_of(line, "LineExtensionAmount", c)?;
        line_sum += net;
        let qty = Decimal::from_str(&text_of(line, qty_el)?).map_err(|e| e.to_string())?;
        let unit = kid(line, qty_el)?.attribute("unitCode").unwrap_or("");
        if unit != "HUR" && unit != "C62" {
            return Err(format!("unit code {unit}"));
        }
        let price = amount_of(kid(line, "Price")?, "PriceAmount", c)?;
        let mut adj = Decimal::ZERO;
        for ac in kids(line, "AllowanceCharge") {
            let a = amount_of(ac, "Amount", c)?;
            adj += if text_of(ac, "ChargeIndicator")? == "true" {
                a
            } else {
                -a
            };
        }
        // Quantity x price is rounded once; the rounding rule is the invoice's.
        if (qty * price + adj - net).abs() > dec!(0.005) {
            return Err(format!("line {qty} x {price} + {adj} is not {net}"));
        }
        let cat = kid(kid(line, "Item")?, "ClassifiedTaxCategory")?;
        let pct = Decimal::from_str(&text_of(cat, "Percent")?).map_err(|e| e.to_string())?;
        add((text_of(cat, "ID")?, pct.normalize()), net);
    }
    // Document-level allowances, by category.
    let mut doc_allowances = Decimal::ZERO;
    for ac in kids(root, "AllowanceCharge") {
        if text_of(ac, "ChargeIndicator")? != "false" {
            return Err("a document-level charge".into());
        }
        let a = amount_of(ac, "Amount", c)?;
        doc_allowances += a;
        let cat = kid(ac, "TaxCategory")?;
        let pct = Decimal::from_str(&text_of(cat, "Percent")?).map_err(|e| e.to_string())?;
        add((text_of(cat, "ID")?, pct.normalize()), -a);
    }
    let tax_total = kid(root, "TaxTotal")?;
    let tax = amount_of(tax_total, "TaxAmount", c)?;
    let mut sub_sum = Decimal::ZERO;
    let mut subtotals = 0;
    for sub in kids(tax_total, "TaxSubtotal") {
        subtotals += 1;
        let taxable = amount_of(sub, "TaxableAmount", c)?;
        let amount = amount_of(sub, "TaxAmount", c)?;
        sub_sum += amount;
        let cat = kid(sub, "TaxCategory")?;
        let id = text_of(cat, "ID")?;
        let pct = Decimal::from_str(&text_of(cat, "Percent")?).map_err(|e| e.to_string())?;
        if text_of(kid(cat, "TaxScheme")?, "ID")? != "VAT" {
            return Err("tax scheme is not VAT".into());
        }
        if !["S", "Z", "E"].contains(&id.as_str()) {
            return Err(format!("category {id}"));
        }
        if id == "E" && kid(cat, "TaxExemptionReason").is_err() {
            return Err("BR-E-10: an exempt breakdown needs a reason".into());
        }
        // BR-S-08 and friends: the base is the category's lines less its allowances.
        let base = nets_by_cat
            .iter()
            .find(|(k, _)| *k == (id.clone(), pct.normalize()))
            .map_or(Decimal::ZERO, |(_, v)| *v);
        if base != taxable {
            return Err(format!(
                "{id} {pct}: lines less allowances {base} != taxable {taxable}"
            ));
        }
        if (amount - (taxable * pct / Decimal::ONE_HUNDRED)).abs() > dec!(0.005) {
            return Err(format!("{id} {pct}: tax {amount} on {taxable}"));
        }
    }
    if subtotals != nets_by_cat.len() {
        return Err(format!(
            "{subtotals} subtotals for {} categories",
            nets_by_cat.len()
        ));
    }
    let checks = [
        ("BR-CO-10", line_sum == line_ext),
        ("BR-CO-11", doc_allowances == allowances),
        ("BR-CO-13", tax_excl == line_ext - allowances),
        ("BR-CO-14", tax == sub_sum),
        ("BR-CO-15", tax_incl == tax_excl + tax),
        ("BR-CO-16", payable == tax_incl - prepaid),
    ];
    for (rule, ok) in checks {
        if !ok {
            return Err(format!("{rule} fails:\n{xml}"));
        }
    }
    Ok(())
}

#[test]
fn ubl_invoice_carries_the_en16931_core_and_adds_up() {
    let doc = sample();
    let xml = ubl::render(&doc).unwrap();
    check_en16931(&xml).unwrap();
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let root = tree.root_element();
    assert_eq!(root.tag_name().name(), "Invoice");
    assert_eq!(
        root.tag_name().namespace(),
        Some("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2")
    );
    let cbc = |name: &str| {
        root.children()
            .find(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(CBC))
            .and_then(|c| c.text())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(cbc("CustomizationID"), "urn:cen.eu:en16931:2017");
    assert_eq!(cbc("ID"), "INV-2026-0042");
    assert_eq!(cbc("IssueDate"), "2026-11-30");
    assert_eq!(cbc("DueDate"), "2026-12-30");
    assert_eq!(cbc("InvoiceTypeCode"), "380");
    assert_eq!(cbc("DocumentCurrencyCode"), "EUR");
    assert_eq!(cbc("BuyerReference"), "PO-4471");
    let terms = text_of(kid(root, "PaymentTerms").unwrap(), "Note").unwrap();
    assert!(terms.contains("Payment due within 30 days") && terms.contains("BIC COBADEFFXXX"));
    let order = kid(root, "OrderReference").unwrap();
    assert_eq!(order.tag_name().namespace(), Some(CAC));
    assert_eq!(text_of(order, "ID").unwrap(), "PO-4471");

    let supplier = kid(kid(root, "AccountingSupplierParty").unwrap(), "Party").unwrap();
    let customer = kid(kid(root, "AccountingCustomerParty").unwrap(), "Party").unwrap();
    for (p, name, country, tax_id) in [
        (supplier, "Brightside Studio GmbH", "DE", "DE123456789"),
        (customer, "Acme Widgets AG", "AT", "ATU12345678"),
    ] {
        assert_eq!(text_of(kid(p, "PartyName").unwrap(), "Name").unwrap(), name);
        assert_eq!(
            text_of(kid(p, "PartyLegalEntity").unwrap(), "RegistrationName").unwrap(),
            name
        );
        let addr = kid(p, "PostalAddress").unwrap();
        assert_eq!(text_of(addr, "StreetName").unwrap(), "1 Main Street");
        assert_eq!(text_of(addr, "CityName").unwrap(), "Berlin");
        assert_eq!(text_of(addr, "PostalZone").unwrap(), "10115");
        assert_eq!(
            text_of(kid(addr, "Country").unwrap(), "IdentificationCode").unwrap(),
            country
        );
        assert_eq!(
            text_of(kid(p, "PartyTaxScheme").unwrap(), "CompanyID").unwrap(),
            tax_id
        );
    }

    // One subtotal per rate plus the exempt travel line, with S / Z / E.
    let subtotals: Vec<_> = kids(kid(root, "TaxTotal").unwrap(), "TaxSubtotal").collect();
    let cats: Vec<(String, String)> = subtotals
        .iter()
        .map(|s| {
            let cat = kid(*s, "TaxCategory").unwrap();
            (
                text_of(cat, "ID").unwrap(),
                text_of(cat, "Percent").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cats,
        vec![
            ("S".into(), "7.7".into()),
            ("S".into(), "20".into()),
            ("E".into(), "0".into())
        ]
    );
    // The discount: one allowance per breakdown, adding up to the discount.
    let allowances: Vec<_> = kids(root, "AllowanceCharge").collect();
    assert_eq!(allowances.len(), 3);
    let m = kid(root, "LegalMonetaryTotal").unwrap();
    assert_eq!(text_of(m, "AllowanceTotalAmount").unwrap(), "100.00");
    assert_eq!(text_of(m, "PrepaidAmount").unwrap(), "500.00");
    assert_eq!(
        text_of(m, "PayableAmount").unwrap(),
        format!("{:.2}", doc.balance_due)
    );
    assert_eq!(
        text_of(m, "TaxInclusiveAmount").unwrap(),
        format!("{:.2}", doc.total)
    );

    let lines: Vec<_> = kids(root, "InvoiceLine").collect();
    assert_eq!(lines.len(), 4);
    let q = kid(lines[0], "InvoicedQuantity").unwrap();
    assert_eq!(
        (q.attribute("unitCode"), q.text()),
        (Some("HUR"), Some("12.5"))
    );
    assert_eq!(
        kid(lines[2], "InvoicedQuantity")
            .unwrap()
            .attribute("unitCode"),
        Some("C62")
    );
    // The write-down is a line allowance.
    let wd = kid(lines[1], "AllowanceCharge").unwrap();
    assert_eq!(text_of(wd, "ChargeIndicator").unwrap(), "false");
    assert_eq!(text_of(wd, "Amount").unwrap(), "50.00");
    assert_eq!(text_of(lines[1], "LineExtensionAmount").unwrap(), "950.00");
    let item = kid(lines[0], "Item").unwrap();
    assert_eq!(text_of(item, "Name").unwrap(), "Design work");
    assert_eq!(
        text_of(kid(item, "ClassifiedTaxCategory").unwrap(), "ID").unwrap(),
        "S"
    );
}

#[test]
fn ubl_credit_note_is_a_credit_note_referencing_the_invoice() {
    let xml = ubl::render(&credit_note()).unwrap();
    check_en16931(&xml).unwrap();
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let root = tree.root_element();
    assert_eq!(root.tag_name().name(), "CreditNote");
    assert_eq!(
        root.tag_name().namespace(),
        Some("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2")
    );
    assert_eq!(text_of(root, "CreditNoteTypeCode").unwrap(), "381");
    assert!(kid(root, "InvoiceTypeCode").is_err());
    let r = kid(
        kid(root, "BillingReference").unwrap(),
        "InvoiceDocumentReference",
    )
    .unwrap();
    assert_eq!(text_of(r, "ID").unwrap(), "INV-2026-0042");
    assert_eq!(text_of(r, "IssueDate").unwrap(), "2026-11-30");
    assert!(text_of(root, "Note")
        .unwrap()
        .contains("Two hours billed twice"));
    assert!(
        kid(root, "PaymentTerms").is_err(),
        "a credit note asks for no payment"
    );
    assert_eq!(kids(root, "CreditNoteLine").count(), 1);
    assert_eq!(kids(root, "InvoiceLine").count(), 0);
    let line = kids(root, "CreditNoteLine").next().unwrap();
    assert_eq!(text_of(line, "CreditedQuantity").unwrap(), "2");
}

#[test]
fn ubl_text_is_escaped_and_reads_back_exactly() {
    let mut doc = sample();
    doc.lines[0].description = "Design <b>& \"build\"</b> ]]> 'x'".into();
    doc.buyer.name = "Müller & Söhne <KG>".into();
    // A control character pasted into a note has no XML form: it is dropped.
    doc.lines[1].description = "Develop\u{1}ment\u{b}".into();
    let xml = ubl::render(&doc).unwrap();
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let root = tree.root_element();
    let line = kids(root, "InvoiceLine").next().unwrap();
    assert_eq!(
        text_of(kid(line, "Item").unwrap(), "Name").unwrap(),
        "Design <b>& \"build\"</b> ]]> 'x'"
    );
    let customer = kid(kid(root, "AccountingCustomerParty").unwrap(), "Party").unwrap();
    assert_eq!(
        text_of(kid(customer, "PartyName").unwrap(), "Name").unwrap(),
        "Müller & Söhne <KG>"
    );
    let second = kids(root, "InvoiceLine").nth(1).unwrap();
    assert_eq!(
        text_of(kid(second, "Item").unwrap(), "Name").unwrap(),
        "Development"
    );
}

fn money() -> impl Strategy<Value = Decimal> {
    (0i64..2_000_000).prop_map(|c| Decimal::new(c, 2))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the lines, rates and discount, the e-invoice satisfies the
    /// EN 16931 arithmetic, and both exports add up to the invoice.
    #[test]
    fn ubl_always_satisfies_en16931_and_exports_add_up(
        raw in prop::collection::vec((0i64..100_000, money(), 0usize..4, -500i64..500, any::<bool>()), 1..30),
        percent_discount in prop::option::of(0i64..10_000),
        amount_discount in prop::option::of(0i64..100_000),
        half_even in any::<bool>(),
        credit in any::<bool>(),
    ) {
        let rule = if half_even { MoneyRounding::HalfEven } else { MoneyRounding::HalfUp };
        let specs: Vec<Spec> = raw.iter().map(|(q, p, r, adj, hours)| {
            let quantity = Decimal::new(*q, 4);
            let gross = agencyops_domain::invoice::line_amount(quantity, *p, eur(), rule).unwrap();
            let mut s = spec("Line", quantity, *p, match r { 0 => &[], 1 => &["S20"], 2 => &["R7"], _ => &["Z0"] });
            s.adjustment = Decimal::new(*adj, 2).max(-gross);
            s.unit = if *hours { LineUnit::Hours } else { LineUnit::Each };
            s
        }).collect();
        let line_total: Decimal = specs.iter().map(|s| {
            agencyops_domain::invoice::line_amount(s.quantity, s.unit_price, eur(), rule).unwrap() + s.adjustment
        }).sum();
        let discount = match (percent_discount, amount_discount) {
            (Some(p), _) => Some(Discount::Percent(Decimal::new(p, 2))),
            (None, Some(a)) => Some(Discount::Amount(Decimal::new(a, 2).min(line_total))),
            _ => None,
        };
        let mut doc = build("INV-P", specs, discount, rule);
        if credit {
            doc.kind = DocumentKind::CreditNote {
                invoice_number: "INV-1".into(),
                invoice_issue_date: date(2026, 11, 1),
                reason: "Correction".into(),
            };
        }
        let xml = ubl::render(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_en16931(&xml).map_err(TestCaseError::fail)?;

        let (headers, rows) = parse_csv(&xero_csv(std::slice::from_ref(&doc)).unwrap());
        let q = headers.iter().position(|h| h == "*Quantity").unwrap();
        let u = headers.iter().position(|h| h == "*UnitAmount").unwrap();
        let net: Decimal = rows.iter().map(|r| dec_of(&r[q]) * dec_of(&r[u])).sum();
        let sign = if credit { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
        prop_assert_eq!(net, sign * doc.tax_exclusive);

        if !credit {
            let (headers, rows) = parse_csv(&quickbooks_csv(std::slice::from_ref(&doc)).unwrap());
            let a = headers.iter().position(|h| h == "*ItemAmount").unwrap();
            let t = headers.iter().position(|h| h == "ItemTaxAmount").unwrap();
            let sum: Decimal = rows.iter().map(|r| dec_of(&r[a]) + dec_of(&r[t])).sum();
            prop_assert_eq!(sum, doc.total);
        }
    }
}
