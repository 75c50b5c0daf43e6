//! Documents and exports through the API: the issued PDF is kept as sent
//! (its SHA-256 on the invoice; later changes never alter it), HTML by
//! Accept, UBL for invoices and credit notes, Xero and QuickBooks CSV, and
//! the profitability report.

mod support;

use std::sync::Arc;

use agencyops_platform::blob::embedded::EmbeddedBlob;
use rust_decimal_macros::dec;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::*;

/// The app with a blob store, so issued documents are kept.
async fn setup_with_blob() -> (App, Studio, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::new(routes());
    let blob = EmbeddedBlob::new(
        dir.path().join("blobs"),
        b"blob-secret".to_vec(),
        "http://localhost".into(),
        None,
    )
    .unwrap();
    app.services.blob = Some(Arc::new(blob));
    app.rebuild_router();
    let s = studio(&app, "acme").await;
    app.put(&s.finance, "/v1/settings/invoicing", json!({
        "number_pattern": "INV-{YYYY}-{SEQ:3}",
        "tax_rates": [{"code": "S20", "name": "VAT 20%", "percent": "20", "xero_tax_type": "20% (VAT on Income)", "qbo_tax_code": "20.0% S"}],
        "agency": {"name": "Lumen Studio", "country_code": "PT", "tax_id": "PT509876543"},
        "payment_instructions": "IBAN PT50 0002 0123 1234 5678 9015 4",
    })).await.expect(200);
    app.patch(
        &s.admin,
        &format!("/v1/clients/{}", s.client),
        json!({"tax_rates": [{"name": "S20", "percent": "20"}]}),
    )
    .await
    .expect(200);
    (app, s, dir)
}

async fn issued_invoice(app: &App, s: &Studio) -> serde_json::Value {
    approved_work(app, s, 3, 60, dec!(100)).await;
    let id = draft(app, s, json!({"detail": "detailed", "po_number": "PO-42"}))
        .await
        .expect(201)
        .id();
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200)
        .body
}

#[tokio::test]
async fn the_issued_pdf_is_kept_as_sent_and_reads_back_its_number_lines_and_totals() {
    let (app, s, _dir) = setup_with_blob().await;
    let inv = issued_invoice(&app, &s).await;
    let id = inv["id"].as_str().unwrap();
    assert_eq!(inv["number"], "INV-2026-001");
    let sha = inv["document"]["sha256"]
        .as_str()
        .expect("the issued document's hash is on the invoice")
        .to_owned();
    let pdf = app
        .get_bytes(
            &s.finance,
            &format!("/v1/invoices/{id}/document"),
            "application/pdf",
        )
        .await;
    assert_eq!(pdf.0, 200);
    assert_eq!(pdf.1, "application/pdf");
    assert_eq!(
        hex::encode(Sha256::digest(&pdf.2)),
        sha,
        "served exactly as kept"
    );
    let text = pdf_extract::extract_text_from_mem(&pdf.2).unwrap();
    for needle in [
        "INV-2026-001",
        "PO-42",
        "Rebrand",
        "300.00",
        "60.00",
        "360.00",
        "Lumen Studio",
        "Northwind",
    ] {
        assert!(
            text.contains(needle),
            "{needle} not in the PDF text:\n{text}"
        );
    }
    // A later rename never alters the sent invoice.
    app.patch(
        &s.admin,
        &format!("/v1/clients/{}", s.client),
        json!({"name": "Northwind Renamed"}),
    )
    .await
    .expect(200);
    app.patch(
        &s.admin,
        &format!("/v1/projects/{}", s.project),
        json!({"name": "Renamed project"}),
    )
    .await
    .expect(200);
    let again = app
        .get_bytes(
            &s.finance,
            &format!("/v1/invoices/{id}/document"),
            "application/pdf",
        )
        .await;
    assert_eq!(hex::encode(Sha256::digest(&again.2)), sha);
    // The client reads it too; HTML by Accept.
    let html = app
        .get_bytes(
            &s.client_user,
            &format!("/v1/invoices/{id}/document"),
            "text/html",
        )
        .await;
    assert_eq!(html.0, 200);
    assert!(html.1.starts_with("text/html"));
    let page = String::from_utf8(html.2).unwrap();
    assert!(
        page.contains("INV-2026-001") && page.contains("360.00"),
        "{page}"
    );
    assert_eq!(
        app.get_bytes(
            &s.member,
            &format!("/v1/invoices/{id}/document"),
            "application/pdf"
        )
        .await
        .0,
        403
    );
    let rival = studio(&app, "rival").await;
    assert_eq!(
        app.get_bytes(
            &rival.admin,
            &format!("/v1/invoices/{id}/document"),
            "application/pdf"
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn ubl_invoices_and_credit_notes_add_up_as_en16931_asks() {
    let (app, s, _dir) = setup_with_blob().await;
    let inv = issued_invoice(&app, &s).await;
    let id = inv["id"].as_str().unwrap();
    let xml = app
        .get_bytes(
            &s.finance,
            &format!("/v1/invoices/{id}/ubl"),
            "application/xml",
        )
        .await;
    assert_eq!(xml.0, 200);
    let text = String::from_utf8(xml.2).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let find = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    assert_eq!(doc.root_element().tag_name().name(), "Invoice");
    assert_eq!(find("ID").as_deref(), Some("INV-2026-001"));
    assert_eq!(find("PayableAmount").as_deref(), Some("360.00"));
    assert_eq!(find("TaxInclusiveAmount").as_deref(), Some("360.00"));
    let credit = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"reason": "Goodwill", "amount": "50.00"}),
        )
        .await
        .expect(201);
    let cid = credit.body["id"].as_str().unwrap();
    let xml = app
        .get_bytes(
            &s.finance,
            &format!("/v1/invoices/{id}/credit-notes/{cid}/ubl"),
            "application/xml",
        )
        .await;
    assert_eq!(xml.0, 200);
    let text = String::from_utf8(xml.2).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "CreditNote");
    assert!(
        text.contains("INV-2026-001"),
        "the credit note references its invoice"
    );
    let draft = app.create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]})).await;
    assert_eq!(
        app.get_bytes(
            &s.finance,
            &format!("/v1/invoices/{draft}/ubl"),
            "application/xml"
        )
        .await
        .0,
        409
    );
}

#[tokio::test]
async fn exports_parse_with_each_tools_headers_and_add_up() {
    let (app, s, _dir) = setup_with_blob().await;
    issued_invoice(&app, &s).await;
    let xero = app
        .get_bytes(
            &s.finance,
            "/v1/exports/invoices?format=xero&from=2026-11-01&to=2026-11-30",
            "text/csv",
        )
        .await;
    assert_eq!(xero.0, 200);
    assert!(xero.1.starts_with("text/csv"));
    let mut r = csv::Reader::from_reader(xero.2.as_slice());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(headers[0], "*ContactName");
    assert!(
        headers.contains(&"*InvoiceNumber".to_owned()) && headers.contains(&"*TaxType".to_owned())
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let at = |h: &str| headers.iter().position(|x| x == h).unwrap();
    assert_eq!(&rows[0][at("*InvoiceNumber")], "INV-2026-001");
    assert_eq!(&rows[0][at("*InvoiceDate")], "20/11/2026");
    assert_eq!(&rows[0][at("*TaxType")], "20% (VAT on Income)");
    let qbo = app
        .get_bytes(
            &s.finance,
            "/v1/exports/invoices?format=quickbooks",
            "text/csv",
        )
        .await;
    assert_eq!(qbo.0, 200);
    let mut r = csv::Reader::from_reader(qbo.2.as_slice());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(headers[0], "*InvoiceNo");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let at = |h: &str| headers.iter().position(|x| x == h).unwrap();
    let total: rust_decimal::Decimal = rows
        .iter()
        .map(|r| {
            r[at("*ItemAmount")]
                .parse::<rust_decimal::Decimal>()
                .unwrap()
                + r[at("ItemTaxAmount")]
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
        })
        .sum();
    assert_eq!(total, dec!(360.00));
    assert_eq!(&rows[0][at("*InvoiceDate")], "11/20/2026");
    let bad = app
        .get(&s.finance, "/v1/exports/invoices?format=sage")
        .await
        .expect(400);
    assert!(bad.fields().iter().any(|f| f.starts_with("query")));
    app.get(&s.manager, "/v1/exports/invoices?format=xero")
        .await
        .expect(403);
}

#[tokio::test]
async fn profitability_shows_revenue_cost_margin_and_write_downs_per_project() {
    let (app, s, _dir) = setup_with_blob().await;
    approved_work(&app, &s, 4, 60, dec!(100)).await;
    let res = draft(&app, &s, json!({})).await.expect(201);
    let id = res.id();
    let line = res.body["lines"][0]["id"].as_str().unwrap().to_owned();
    app.patch(
        &s.finance,
        &format!("/v1/invoices/{id}"),
        json!({"lines": [{"id": line, "adjustment": "-40.00"}]}),
    )
    .await
    .expect(200);
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    let rep = app
        .get(
            &s.finance,
            "/v1/reports/profitability?from=2026-11-01&to=2026-11-30",
        )
        .await
        .expect(200);
    let p = &rep.body["projects"][0];
    assert_eq!(p["project_id"], s.project.as_str());
    assert_eq!(p["invoiced"], "360.00", "{}", rep.body);
    assert_eq!(p["time_cost"], "160.00", "4 h at the cost rate of 40");
    assert_eq!(p["margin"], "200.00");
    assert_eq!(p["margin_percent"], "55.6");
    assert_eq!(p["write_downs"], "40.00");
    assert_eq!(rep.body["totals"][0]["invoiced"], "360.00");
    app.get(&s.member, "/v1/reports/profitability")
        .await
        .expect(403);
    let empty = app
        .get(&s.finance, "/v1/reports/profitability?from=2027-01-01")
        .await
        .expect(200);
    assert_eq!(empty.body["projects"].as_array().unwrap().len(), 0);
}
