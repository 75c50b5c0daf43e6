//! The invoice as one self-contained HTML page (inline style, no scripts, no
//! external resources), with the same content and figures as the PDF. Every
//! piece of text from the document goes through [`escape`], so a line
//! description can never become markup.

use std::fmt::Write;

use super::{
    money, party_lines, payment_terms, quantity, quantity_with_unit, title, DocumentKind,
    InvoiceDocument, Party,
};

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;font-size:14px;color:#141414;max-width:860px;margin:2em auto;padding:0 1em}\
h1{font-size:28px;margin:0}\
.void{color:#c81e1e;font-weight:bold;font-size:28px;margin-left:.5em}\
header{display:flex;justify-content:space-between;gap:2em}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.2em 1em;margin:.5em 0}\
dt{font-weight:bold}dd{margin:0}\
.party p{margin:0}.party .name{font-weight:bold;font-size:16px}\
.label{font-size:11px;font-weight:bold;text-transform:uppercase;margin-top:1.5em}\
table{border-collapse:collapse;width:100%;margin-top:1.5em}\
th,td{padding:.3em .4em;text-align:left;vertical-align:top}\
thead th{border-bottom:1px solid #888}\
tbody.line>tr:first-child td{border-top:1px solid #ddd}\
.num{text-align:right;white-space:nowrap}\
tr.entry td,tr.adjustment td{font-size:12px;color:#444}\
table.totals{width:auto;margin-left:auto}\
table.totals tr.strong td{font-weight:bold;border-top:1px solid #888}\
.block{margin-top:1.5em;white-space:pre-line}";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn party(out: &mut String, label: &str, p: &Party) {
    out.push_str("<div class=\"party\">");
    if !label.is_empty() {
        let _ = write!(out, "<div class=\"label\">{}</div>", escape(label));
    }
    let _ = write!(out, "<p class=\"name\">{}</p>", escape(&p.name));
    for l in party_lines(p) {
        let _ = write!(out, "<p>{}</p>", escape(&l));
    }
    out.push_str("</div>");
}

/// Renders the document as an HTML page.
pub fn render(doc: &InvoiceDocument) -> String {
    let c = doc.currency;
    let mut out = String::new();
    let heading = format!("{} {}", title(doc), doc.number);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        escape(&heading)
    );

    out.push_str("<header>");
    party(&mut out, "", &doc.seller);
    out.push_str("<div>");
    let _ = write!(out, "<h1>{}", escape(title(doc)));
    if doc.void {
        out.push_str("<span class=\"void\">VOID</span>");
    }
    out.push_str("</h1><dl>");
    let mut facts: Vec<(&str, String)> = vec![
        ("Number", doc.number.clone()),
        ("Issue date", doc.issue_date.to_string()),
    ];
    if let Some(due) = doc.due_date {
        facts.push(("Due date", due.to_string()));
    }
    if let Some(po) = doc.po_number.as_deref().filter(|p| !p.is_empty()) {
        facts.push(("PO number", po.to_owned()));
    }
    if let DocumentKind::CreditNote {
        invoice_number,
        invoice_issue_date,
        ..
    } = &doc.kind
    {
        facts.push((
            "Credits invoice",
            format!("{invoice_number} of {invoice_issue_date}"),
        ));
    }
    facts.push(("Currency", c.code().to_owned()));
    for (k, v) in facts {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    out.push_str("</dl></div></header>");

    party(&mut out, "Bill to", &doc.buyer);

    if let DocumentKind::CreditNote {
        invoice_number,
        invoice_issue_date,
        reason,
    } = &doc.kind
    {
        let _ = write!(
            out,
            "<p class=\"block\">This credit note amends invoice {} of {}.<br>Reason: {}</p>",
            escape(invoice_number),
            escape(&invoice_issue_date.to_string()),
            escape(reason)
        );
    }

    out.push_str(
        "<table class=\"lines\"><thead><tr><th>Description</th><th class=\"num\">Quantity</th>\
         <th class=\"num\">Unit price</th><th>Tax</th><th class=\"num\">Amount</th></tr></thead>",
    );
    for line in &doc.lines {
        out.push_str("<tbody class=\"line\">");
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&line.description),
            escape(&quantity_with_unit(line.quantity, line.unit)),
            money(line.unit_price, c),
            escape(&line.tax_codes.join(", ")),
            money(line.amount, c),
        );
        if !line.adjustment.is_zero() {
            let what = if line.adjustment.is_sign_negative() {
                "Write-down"
            } else {
                "Write-up"
            };
            let _ = write!(
                out,
                "<tr class=\"adjustment\"><td colspan=\"5\">{what}: {}</td></tr>",
                money(line.adjustment, c)
            );
        }
        for e in &line.entries {
            let _ = write!(
                out,
                "<tr class=\"entry\"><td colspan=\"2\">{} · {}</td><td class=\"num\">{} h</td><td colspan=\"2\">{}</td></tr>",
                e.date,
                escape(&e.person),
                quantity(e.hours),
                escape(&e.note),
            );
        }
        out.push_str("</tbody>");
    }
    out.push_str("</table>");

    out.push_str("<table class=\"totals\"><tbody>");
    let row = |out: &mut String, label: &str, mid: &str, value: String, strong: bool| {
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            if strong { " class=\"strong\"" } else { "" },
            escape(label),
            escape(mid),
            value
        );
    };
    row(&mut out, "Subtotal", "", money(doc.line_total, c), false);
    if !doc.discount_total.is_zero() {
        row(
            &mut out,
            "Discount",
            "",
            money(-doc.discount_total, c),
            false,
        );
        row(
            &mut out,
            "Net total",
            "",
            money(doc.tax_exclusive, c),
            false,
        );
    }
    for t in &doc.tax_breakdown {
        let on = format!("on {}", money(t.taxable, c));
        row(&mut out, &t.name, &on, money(t.amount, c), false);
    }
    row(&mut out, "Tax total", "", money(doc.tax_total, c), false);
    let total = format!("Total ({})", c.code());
    row(&mut out, &total, "", money(doc.total, c), true);
    row(&mut out, "Paid", "", money(doc.amount_paid, c), false);
    row(
        &mut out,
        "Credited",
        "",
        money(doc.amount_credited, c),
        false,
    );
    let balance = format!("Balance due ({})", c.code());
    row(&mut out, &balance, "", money(doc.balance_due, c), true);
    out.push_str("</tbody></table>");

    // A credit note asks for no payment, so it states no terms.
    if doc.kind == DocumentKind::Invoice {
        let _ = write!(
            out,
            "<p class=\"block\"><strong>{}</strong></p>",
            escape(&payment_terms(doc))
        );
    }
    if let Some(p) = doc
        .payment_instructions
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        let _ = write!(
            out,
            "<div class=\"label\">Payment instructions</div><p class=\"block\" style=\"margin-top:.3em\">{}</p>",
            escape(p)
        );
    }
    if let Some(n) = doc.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        let _ = write!(
            out,
            "<div class=\"label\">Notes</div><p class=\"block\" style=\"margin-top:.3em\">{}</p>",
            escape(n)
        );
    }
    out.push_str("</body></html>\n");
    out
}
