//! The demo agency's invoices, through the invoicing API: one paid, one
//! partially paid (billing part of Rui's approved week), one overdue and one
//! draft, numbered by the agency's series.

use serde_json::json;

use crate::demo::{id, Api, Team};

pub(crate) async fn seed(admin: &Api, team: &Team) -> anyhow::Result<()> {
    let today = jiff::Zoned::now().date();
    let ago = |days: i64| {
        today
            .checked_sub(jiff::Span::new().days(days))
            .ok()
            .map(|d| d.to_string())
    };
    admin
        .call(
            axum::http::Method::PUT,
            "/v1/settings/invoicing",
            Some(json!({
                "number_pattern": "{YYYY}-{SEQ:4}",
                "credit_note_pattern": "CN-{YYYY}-{SEQ:4}",
                "tax_rates": [{"code": "VAT23", "name": "IVA 23%", "percent": "23", "xero_tax_type": "23% (VAT on Income)", "qbo_tax_code": "23.0% S"}],
                "agency": {"name": "Lumen Studio, Lda", "address_lines": ["Rua das Flores 12"], "city": "Lisboa", "postal_code": "1200-195", "country_code": "PT", "tax_id": "PT509876543", "email": "billing@lumen.example"},
                "payment_instructions": "IBAN PT50 0002 0123 1234 5678 9015 4, BIC BPIPPTPL",
                "account_code": "200",
            })),
        )
        .await?;
    let clients = admin.get("/v1/clients?limit=1").await?;
    let client = id(&clients["items"][0])?;
    let manual = |desc: &str, price: &str, issue: Option<String>| {
        let mut b = json!({"client_id": client, "kind": "manual",
            "lines": [{"description": desc, "quantity": "1", "unit_price": price, "tax_code": "VAT23"}]});
        if let Some(d) = issue {
            b["issue_date"] = json!(d);
        }
        b
    };
    // Paid: the discovery workshop, two months ago.
    let paid = id(&admin
        .post(
            "/v1/invoices",
            manual("Discovery workshop", "2400.00", ago(60)),
        )
        .await?)?;
    admin
        .post(&format!("/v1/invoices/{paid}/issue"), json!({}))
        .await?;
    admin
        .post(&format!("/v1/invoices/{paid}/payments"), json!({"amount": "2952.00", "date": ago(35), "method": "bank_transfer", "reference": "TRF 88231"}))
        .await?;
    // Overdue: the brand audit, issued 45 days ago on 30-day terms, unpaid.
    let overdue = id(&admin
        .post("/v1/invoices", manual("Brand audit", "1800.00", ago(45)))
        .await?)?;
    admin
        .post(&format!("/v1/invoices/{overdue}/issue"), json!({}))
        .await?;
    // Partially paid: Rui's first two approved days of last week, detailed.
    let monday = jiff::civil::ISOWeekDate::new(
        today
            .checked_sub(jiff::Span::new().days(7))?
            .iso_week_date()
            .year(),
        today
            .checked_sub(jiff::Span::new().days(7))?
            .iso_week_date()
            .week(),
        jiff::civil::Weekday::Monday,
    )?
    .date();
    let tuesday = monday.checked_add(jiff::Span::new().days(1))?;
    let tm = admin
        .post(
            "/v1/invoices",
            json!({"client_id": client, "kind": "time_and_materials", "project_ids": [team.rebrand],
                   "period": {"from": monday.to_string(), "to": tuesday.to_string()}, "detail": "detailed",
                   "po_number": "NW-PO-2291"}),
        )
        .await?;
    let tm = id(&tm)?;
    let issued = admin
        .post(&format!("/v1/invoices/{tm}/issue"), json!({}))
        .await?;
    let half = issued["total"]
        .as_str()
        .and_then(|t| t.parse::<rust_decimal::Decimal>().ok())
        .map(|t| (t / rust_decimal::Decimal::from(2)).round_dp(2).to_string())
        .unwrap_or_else(|| "100.00".into());
    admin
        .post(
            &format!("/v1/invoices/{tm}/payments"),
            json!({"amount": half, "date": today.to_string(), "method": "card"}),
        )
        .await?;
    // Draft: next month's retainer, not yet issued.
    admin
        .post(
            "/v1/invoices",
            manual("Brand guardian retainer", "3000.00", None),
        )
        .await?;
    Ok(())
}
