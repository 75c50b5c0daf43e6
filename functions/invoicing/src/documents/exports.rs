//! Invoices as CSV files for the accounting tools' own import screens: Xero's
//! sales invoice import and QuickBooks Online's invoice import. One row per
//! line, plus discount rows, with exactly the headers each tool expects.
//!
//! So that a file adds up to the invoice, in both formats:
//! - A line whose quantity x unit price is exactly its amount goes out as
//!   quantity and unit price. Any other line (a write-down or write-up, or a
//!   price whose product was rounded) goes out as quantity 1 at its net
//!   amount, and its description says what it bills ("12.5 h at 90.00,
//!   write-down -50.00"), because the tools recompute quantity x unit price.
//! - The invoice discount is one negative "Discount" row per tax rate (its
//!   share: that rate's line nets less its taxable base), carrying the rate,
//!   so the rows' amounts add up to the tax-exclusive total and each rate's
//!   rows to its taxable base. The tools' per-line discount column is a
//!   percentage and would round again, so it stays empty.
//! - A line has one tax column, so a line taxed at two rates is refused.
//!
//! Xero computes the tax itself from the tax type (import the file as
//! "tax exclusive"). QuickBooks takes the tax per row: each rate's tax is
//! allocated over its lines in proportion to their amounts, in minor units, so
//! the rows add up to the rate's tax exactly (discount rows carry none).
//!
//! Credit notes: Xero imports a sales document with negative quantities as a
//! credit note, so a credit note's rows go out with their quantities negated
//! (its Reference names the invoice it credits when there is no PO number).
//! QuickBooks Online's invoice import takes no credit memos, so a credit note
//! in a QuickBooks export is refused with a message saying so.

use agencyops_domain::invoice::allocate;
use agencyops_domain::Currency;
use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{money, quantity, DocumentError, DocumentKind, DocumentTax, InvoiceDocument};

/// Xero's limit on invoices in one import file.
pub const XERO_MAX_INVOICES: usize = 500;
/// QuickBooks Online's limits on one import file.
pub const QBO_MAX_INVOICES: usize = 100;
pub const QBO_MAX_ROWS: usize = 1000;
/// QuickBooks Online's longest invoice number (its DocNumber).
pub const QBO_MAX_NUMBER_CHARS: usize = 21;

pub const XERO_HEADERS: [&str; 27] = [
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
];

pub const QBO_HEADERS: [&str; 16] = [
    "*InvoiceNo",
    "*Customer",
    "*InvoiceDate",
    "*DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "*ItemAmount",
    "*ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
    "Service Date",
];

/// Xero's tax type for untaxed rows.
const XERO_UNTAXED: &str = "Tax Exempt";
/// QuickBooks Online's code for untaxed rows.
const QBO_UNTAXED: &str = "NON";

/// The lines taxed at one rate (or untaxed, `tax: None`).
struct Group<'a> {
    tax: Option<&'a DocumentTax>,
    line_nets: Decimal,
    taxable: Decimal,
}

impl Group<'_> {
    fn discount(&self) -> Decimal {
        self.line_nets - self.taxable
    }
}

/// One CSV row before formatting.
struct Row<'a> {
    description: String,
    quantity: Decimal,
    unit_amount: Decimal,
    /// quantity x unit amount, exactly.
    amount: Decimal,
    group: usize,
    account_code: Option<&'a str>,
    service_date: Option<Date>,
    /// This row's share of its rate's tax (QuickBooks).
    tax: Decimal,
}

/// The document's rows: its lines, then one discount row per rate.
fn rows(doc: &InvoiceDocument) -> Result<(Vec<Group<'_>>, Vec<Row<'_>>), DocumentError> {
    let c = doc.currency;
    let mut groups: Vec<Group> = doc
        .tax_breakdown
        .iter()
        .map(|t| Group {
            tax: Some(t),
            line_nets: Decimal::ZERO,
            taxable: t.taxable,
        })
        .collect();
    let taxed_bases: Decimal = groups.iter().map(|g| g.taxable).sum();
    let mut untaxed: Option<usize> = None;
    let mut rows = Vec::with_capacity(doc.lines.len() + groups.len());
    for (n, line) in doc.lines.iter().enumerate() {
        let mut codes: Vec<&str> = line.tax_codes.iter().map(String::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        let group = match codes.as_slice() {
            [] => *untaxed.get_or_insert_with(|| {
                groups.push(Group {
                    tax: None,
                    line_nets: Decimal::ZERO,
                    taxable: doc.tax_exclusive - taxed_bases,
                });
                groups.len() - 1
            }),
            [code] => groups
                .iter()
                .position(|g| g.tax.is_some_and(|t| t.code == *code))
                .ok_or_else(|| DocumentError::UnknownTaxCode {
                    line: n + 1,
                    code: (*code).to_owned(),
                })?,
            more => {
                return Err(DocumentError::SeveralRatesOnLine {
                    line: n + 1,
                    count: more.len(),
                })
            }
        };
        groups[group].line_nets += line.amount;
        let exact = line.quantity.checked_mul(line.unit_price) == Some(line.amount);
        let (qty, unit, description) = if exact {
            (line.quantity, line.unit_price, line.description.clone())
        } else {
            let unit_label = match line.unit {
                super::LineUnit::Hours => " h",
                super::LineUnit::Each => "",
            };
            let mut what = format!(
                "{}{unit_label} at {}",
                quantity(line.quantity),
                money(line.unit_price, c)
            );
            if !line.adjustment.is_zero() {
                let kind = if line.adjustment.is_sign_negative() {
                    "write-down"
                } else {
                    "write-up"
                };
                what.push_str(&format!(", {kind} {}", money(line.adjustment, c)));
            }
            (
                Decimal::ONE,
                line.amount,
                format!("{} ({what})", line.description),
            )
        };
        rows.push(Row {
            description,
            quantity: qty,
            unit_amount: unit,
            amount: line.amount,
            group,
            account_code: line.account_code.as_deref(),
            service_date: line.service_date,
            tax: Decimal::ZERO,
        });
    }
    // Each rate's tax over its line rows, before the discount rows join.
    for (g, group) in groups.iter().enumerate() {
        let tax = group.tax.map_or(Decimal::ZERO, |t| t.amount);
        let members: Vec<usize> = (0..rows.len()).filter(|r| rows[*r].group == g).collect();
        let weights: Vec<Decimal> = members.iter().map(|r| rows[*r].amount).collect();
        for (r, share) in members.iter().zip(allocate(tax, &weights, c)) {
            rows[*r].tax = share;
        }
    }
    for (g, group) in groups.iter().enumerate() {
        let share = group.discount();
        if share.is_zero() {
            continue;
        }
        let account_code = rows
            .iter()
            .find(|r| r.group == g)
            .and_then(|r| r.account_code);
        let label = match group.tax {
            Some(t) => format!("Discount ({})", t.name),
            None => "Discount (untaxed)".to_owned(),
        };
        rows.push(Row {
            description: label,
            quantity: Decimal::ONE,
            unit_amount: -share,
            amount: -share,
            group: g,
            account_code,
            service_date: None,
            tax: Decimal::ZERO,
        });
    }
    Ok((groups, rows))
}

/// The due date, or the issue date plus the payment terms when none is set
/// (both tools require one).
fn due_date(doc: &InvoiceDocument) -> Date {
    doc.due_date.unwrap_or_else(|| {
        jiff::Span::new()
            .try_days(i64::from(doc.payment_terms_days))
            .ok()
            .and_then(|span| doc.issue_date.checked_add(span).ok())
            .unwrap_or(doc.issue_date)
    })
}

fn csv_error(e: impl std::fmt::Display) -> DocumentError {
    DocumentError::Csv(e.to_string())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, DocumentError> {
    w.into_inner().map_err(|e| csv_error(e.error()))
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// A Xero sales invoice import file (dates dd/mm/yyyy, amounts tax exclusive).
pub fn xero_csv(docs: &[InvoiceDocument]) -> Result<Vec<u8>, DocumentError> {
    if docs.len() > XERO_MAX_INVOICES {
        return Err(DocumentError::TooManyForXero {
            count: docs.len(),
            max: XERO_MAX_INVOICES,
        });
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(XERO_HEADERS).map_err(csv_error)?;
    for doc in docs {
        let c: Currency = doc.currency;
        let (groups, rows) = rows(doc)?;
        let b = &doc.buyer;
        let mut address: Vec<String> = b
            .address_lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect();
        if address.len() > 4 {
            let rest = address.split_off(3).join(", ");
            address.push(rest);
        }
        address.resize(4, String::new());
        let reference = match (&doc.po_number, &doc.kind) {
            (Some(po), _) if !po.is_empty() => po.clone(),
            (_, DocumentKind::CreditNote { invoice_number, .. }) => {
                format!("Credit for {invoice_number}")
            }
            _ => String::new(),
        };
        let sign = match doc.kind {
            DocumentKind::Invoice => Decimal::ONE,
            DocumentKind::CreditNote { .. } => Decimal::NEGATIVE_ONE,
        };
        let issued = doc.issue_date.strftime("%d/%m/%Y").to_string();
        let due = due_date(doc).strftime("%d/%m/%Y").to_string();
        for row in rows {
            let tax_type = match groups[row.group].tax {
                Some(t) => t.xero_tax_type.clone().unwrap_or_else(|| t.name.clone()),
                None => XERO_UNTAXED.to_owned(),
            };
            let record: [&str; 27] = [
                &b.name,
                opt(&b.email),
                &address[0],
                &address[1],
                &address[2],
                &address[3],
                opt(&b.city),
                "",
                opt(&b.postal_code),
                opt(&b.country_code),
                &doc.number,
                &reference,
                &issued,
                &due,
                "",
                &row.description,
                &quantity(sign * row.quantity),
                &money(row.unit_amount, c),
                "",
                row.account_code.unwrap_or(""),
                &tax_type,
                "",
                "",
                "",
                "",
                c.code(),
                "",
            ];
            w.write_record(record).map_err(csv_error)?;
        }
    }
    finish(w)
}

/// A QuickBooks Online invoice import file (dates MM/DD/YYYY).
pub fn quickbooks_csv(docs: &[InvoiceDocument]) -> Result<Vec<u8>, DocumentError> {
    if docs.len() > QBO_MAX_INVOICES {
        return Err(DocumentError::TooManyInvoicesForQuickBooks {
            count: docs.len(),
            max: QBO_MAX_INVOICES,
        });
    }
    let mut planned = Vec::with_capacity(docs.len());
    let mut count = 0;
    for doc in docs {
        if let DocumentKind::CreditNote { .. } = doc.kind {
            return Err(DocumentError::CreditNoteForQuickBooks {
                number: doc.number.clone(),
            });
        }
        let len = doc.number.chars().count();
        if len > QBO_MAX_NUMBER_CHARS {
            return Err(DocumentError::NumberTooLongForQuickBooks {
                number: doc.number.clone(),
                len,
                max: QBO_MAX_NUMBER_CHARS,
            });
        }
        let (groups, rows) = rows(doc)?;
        count += rows.len();
        planned.push((doc, groups, rows));
    }
    if count > QBO_MAX_ROWS {
        return Err(DocumentError::TooManyRowsForQuickBooks {
            count,
            max: QBO_MAX_ROWS,
        });
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(QBO_HEADERS).map_err(csv_error)?;
    for (doc, groups, rows) in planned {
        let c = doc.currency;
        let issued = doc.issue_date.strftime("%m/%d/%Y").to_string();
        let due = due_date(doc).strftime("%m/%d/%Y").to_string();
        let terms = format!("Net {}", doc.payment_terms_days);
        for row in rows {
            let tax_code = match groups[row.group].tax {
                Some(t) => t.qbo_tax_code.clone().unwrap_or_else(|| t.code.clone()),
                None => QBO_UNTAXED.to_owned(),
            };
            let service = row
                .service_date
                .map(|d| d.strftime("%m/%d/%Y").to_string())
                .unwrap_or_default();
            let record: [&str; 16] = [
                &doc.number,
                &doc.buyer.name,
                &issued,
                &due,
                &terms,
                "",
                opt(&doc.notes),
                "",
                &row.description,
                &quantity(row.quantity),
                &money(row.unit_amount, c),
                &money(row.amount, c),
                &tax_code,
                &money(row.tax, c),
                c.code(),
                &service,
            ];
            w.write_record(record).map_err(csv_error)?;
        }
    }
    finish(w)
}
