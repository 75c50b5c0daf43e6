//! The invoice as a UBL 2.1 `Invoice` (or `CreditNote`) carrying the EN 16931
//! core, the form Peppol BIS 3, XRechnung and Factur-X build on.
//!
//! How the document maps onto it:
//! - VAT categories: a rate above 0 % is `S`, a 0 % rate is `Z`, untaxed lines
//!   are `E` (exempt, with a reason, as BR-E-10 asks). Rates of one category
//!   and percent share one breakdown (EN 16931 keys the breakdown by them).
//! - EN 16931 gives every line exactly one VAT category (BR-CO-4), so a line
//!   taxed at two rates is refused rather than misstated.
//! - The invoice discount is one document-level allowance per breakdown,
//!   carrying its category: that rate's line nets less its taxable base, so
//!   the allowances add up to the discount (BR-CO-11) and each base is its
//!   lines less its allowance (BR-S-08).
//! - A line's write-down is a line allowance, a write-up a line charge, so
//!   quantity x price + charges - allowances is the line's net amount.
//! - `PrepaidAmount` is what has been paid. Credits are not in it: a credit
//!   note travels as its own `CreditNote` referencing the invoice, and the
//!   buyer's system nets the two; counting it here too would take it off twice.
//! - UBL 2.1 credit notes have no due date element, so a credit note carries
//!   none.
//!
//! All XML goes through quick-xml's writer, which escapes every text and
//! attribute value.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;

use agencyops_domain::Currency;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::Decimal;

use super::{
    money, payment_terms, quantity, DocumentError, DocumentKind, InvoiceDocument, LineUnit, Party,
};

pub const CUSTOMIZATION_ID: &str = "urn:cen.eu:en16931:2017";
const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// One VAT breakdown: a category and percent, with the lines taxed so.
struct Breakdown {
    category: &'static str,
    percent: Decimal,
    /// Sum of the net amounts of the lines in this breakdown.
    line_nets: Decimal,
    taxable: Decimal,
    tax: Decimal,
}

impl Breakdown {
    /// This breakdown's share of the invoice discount.
    fn discount(&self) -> Decimal {
        self.line_nets - self.taxable
    }
}

/// The breakdowns, and which breakdown each line falls in.
fn breakdowns(doc: &InvoiceDocument) -> Result<(Vec<Breakdown>, Vec<usize>), DocumentError> {
    let mut out: Vec<Breakdown> = Vec::new();
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &doc.tax_breakdown {
        let category = if t.percent.is_zero() { "Z" } else { "S" };
        let percent = t.percent.normalize();
        let i = match out
            .iter()
            .position(|b| b.category == category && b.percent == percent)
        {
            Some(i) => i,
            None => {
                out.push(Breakdown {
                    category,
                    percent,
                    line_nets: Decimal::ZERO,
                    taxable: Decimal::ZERO,
                    tax: Decimal::ZERO,
                });
                out.len() - 1
            }
        };
        out[i].taxable += t.taxable;
        out[i].tax += t.amount;
        by_code.insert(t.code.as_str(), i);
    }
    let taxed_bases: Decimal = out.iter().map(|b| b.taxable).sum();
    let mut exempt: Option<usize> = None;
    let mut of_line = Vec::with_capacity(doc.lines.len());
    for (n, line) in doc.lines.iter().enumerate() {
        let mut codes: Vec<&str> = line.tax_codes.iter().map(String::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        let i = match codes.as_slice() {
            [] => *exempt.get_or_insert_with(|| {
                out.push(Breakdown {
                    category: "E",
                    percent: Decimal::ZERO,
                    line_nets: Decimal::ZERO,
                    // Whatever of the tax-exclusive total no rate taxes.
                    taxable: doc.tax_exclusive - taxed_bases,
                    tax: Decimal::ZERO,
                });
                out.len() - 1
            }),
            [code] => *by_code
                .get(code)
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
        out[i].line_nets += line.amount;
        of_line.push(i);
    }
    Ok((out, of_line))
}

type W = Writer<Vec<u8>>;

/// Drops the characters XML 1.0 cannot carry at all, even escaped (control
/// characters other than tab and newlines), so a stray one pasted into a
/// description cannot make the whole e-invoice unreadable.
fn xml_chars(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|c| allowed(*c)).collect())
    }
}

fn leaf(w: &mut W, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_chars(text)))?;
    Ok(())
}

fn leaf_with(w: &mut W, name: &str, attr: (&str, &str), text: &str) -> io::Result<()> {
    w.create_element(name)
        .with_attribute(attr)
        .write_text_content(BytesText::new(&xml_chars(text)))?;
    Ok(())
}

fn amount(w: &mut W, name: &str, value: Decimal, c: Currency) -> io::Result<()> {
    leaf_with(w, name, ("currencyID", c.code()), &money(value, c))
}

fn node(w: &mut W, name: &str, f: impl FnOnce(&mut W) -> io::Result<()>) -> io::Result<()> {
    w.create_element(name).write_inner_content(f)?;
    Ok(())
}

fn vat_scheme(w: &mut W) -> io::Result<()> {
    node(w, "cac:TaxScheme", |w| leaf(w, "cbc:ID", "VAT"))
}

fn category(w: &mut W, element: &str, b: &Breakdown, with_reason: bool) -> io::Result<()> {
    node(w, element, |w| {
        leaf(w, "cbc:ID", b.category)?;
        leaf(w, "cbc:Percent", &b.percent.to_string())?;
        if with_reason && b.category == "E" {
            leaf(w, "cbc:TaxExemptionReason", "Exempt from VAT")?;
        }
        vat_scheme(w)
    })
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn party(w: &mut W, element: &str, p: &Party) -> io::Result<()> {
    node(w, element, |w| {
        node(w, "cac:Party", |w| {
            if let Some(email) = non_empty(&p.email) {
                leaf_with(w, "cbc:EndpointID", ("schemeID", "EM"), email)?;
            }
            node(w, "cac:PartyName", |w| leaf(w, "cbc:Name", &p.name))?;
            node(w, "cac:PostalAddress", |w| {
                let lines: Vec<&str> = p
                    .address_lines
                    .iter()
                    .map(|l| l.trim())
                    .filter(|l| !l.is_empty())
                    .collect();
                if let Some(street) = lines.first() {
                    leaf(w, "cbc:StreetName", street)?;
                }
                if let Some(more) = lines.get(1) {
                    leaf(w, "cbc:AdditionalStreetName", more)?;
                }
                if let Some(city) = non_empty(&p.city) {
                    leaf(w, "cbc:CityName", city)?;
                }
                if let Some(zip) = non_empty(&p.postal_code) {
                    leaf(w, "cbc:PostalZone", zip)?;
                }
                if lines.len() > 2 {
                    node(w, "cac:AddressLine", |w| {
                        leaf(w, "cbc:Line", &lines[2..].join(", "))
                    })?;
                }
                if let Some(country) = non_empty(&p.country_code) {
                    node(w, "cac:Country", |w| {
                        leaf(w, "cbc:IdentificationCode", country)
                    })?;
                }
                Ok(())
            })?;
            if let Some(tax_id) = non_empty(&p.tax_id) {
                node(w, "cac:PartyTaxScheme", |w| {
                    leaf(w, "cbc:CompanyID", tax_id)?;
                    vat_scheme(w)
                })?;
            }
            node(w, "cac:PartyLegalEntity", |w| {
                leaf(w, "cbc:RegistrationName", &p.name)
            })?;
            if let Some(email) = non_empty(&p.email) {
                node(w, "cac:Contact", |w| leaf(w, "cbc:ElectronicMail", email))?;
            }
            Ok(())
        })
    })
}

fn write(
    w: &mut W,
    doc: &InvoiceDocument,
    groups: &[Breakdown],
    of_line: &[usize],
) -> io::Result<()> {
    let c = doc.currency;
    let credit = matches!(doc.kind, DocumentKind::CreditNote { .. });
    let (root, ns, line_el, qty_el) = if credit {
        (
            "CreditNote",
            NS_CREDIT_NOTE,
            "cac:CreditNoteLine",
            "cbc:CreditedQuantity",
        )
    } else {
        (
            "Invoice",
            NS_INVOICE,
            "cac:InvoiceLine",
            "cbc:InvoicedQuantity",
        )
    };
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element(root)
        .with_attribute(("xmlns", ns))
        .with_attribute(("xmlns:cac", NS_CAC))
        .with_attribute(("xmlns:cbc", NS_CBC))
        .write_inner_content(|w| {
            leaf(w, "cbc:CustomizationID", CUSTOMIZATION_ID)?;
            leaf(w, "cbc:ID", &doc.number)?;
            leaf(w, "cbc:IssueDate", &doc.issue_date.to_string())?;
            if credit {
                leaf(w, "cbc:CreditNoteTypeCode", "381")?;
            } else {
                if let Some(due) = doc.due_date {
                    leaf(w, "cbc:DueDate", &due.to_string())?;
                }
                leaf(w, "cbc:InvoiceTypeCode", "380")?;
            }
            let mut note = Vec::new();
            if doc.void {
                note.push("VOID: this document has been voided.".to_owned());
            }
            if let DocumentKind::CreditNote { reason, .. } = &doc.kind {
                note.push(format!("Reason: {reason}"));
            }
            if let Some(n) = non_empty(&doc.notes) {
                note.push(n.to_owned());
            }
            if !note.is_empty() {
                leaf(w, "cbc:Note", &note.join("\n"))?;
            }
            leaf(w, "cbc:DocumentCurrencyCode", c.code())?;
            let po = non_empty(&doc.po_number);
            if let Some(po) = po {
                leaf(w, "cbc:BuyerReference", po)?;
                node(w, "cac:OrderReference", |w| leaf(w, "cbc:ID", po))?;
            }
            if let DocumentKind::CreditNote {
                invoice_number,
                invoice_issue_date,
                ..
            } = &doc.kind
            {
                node(w, "cac:BillingReference", |w| {
                    node(w, "cac:InvoiceDocumentReference", |w| {
                        leaf(w, "cbc:ID", invoice_number)?;
                        leaf(w, "cbc:IssueDate", &invoice_issue_date.to_string())
                    })
                })?;
            }
            party(w, "cac:AccountingSupplierParty", &doc.seller)?;
            party(w, "cac:AccountingCustomerParty", &doc.buyer)?;
            // A credit note asks for no payment, so it states no terms.
            if !credit {
                let mut terms = payment_terms(doc);
                if let Some(p) = non_empty(&doc.payment_instructions) {
                    terms = format!("{terms}.\n{p}");
                }
                node(w, "cac:PaymentTerms", |w| leaf(w, "cbc:Note", &terms))?;
            }
            for g in groups.iter().filter(|g| !g.discount().is_zero()) {
                node(w, "cac:AllowanceCharge", |w| {
                    leaf(w, "cbc:ChargeIndicator", "false")?;
                    leaf(w, "cbc:AllowanceChargeReasonCode", "95")?;
                    leaf(w, "cbc:AllowanceChargeReason", "Discount")?;
                    amount(w, "cbc:Amount", g.discount(), c)?;
                    category(w, "cac:TaxCategory", g, false)
                })?;
            }
            node(w, "cac:TaxTotal", |w| {
                amount(w, "cbc:TaxAmount", doc.tax_total, c)?;
                for g in groups {
                    node(w, "cac:TaxSubtotal", |w| {
                        amount(w, "cbc:TaxableAmount", g.taxable, c)?;
                        amount(w, "cbc:TaxAmount", g.tax, c)?;
                        category(w, "cac:TaxCategory", g, true)
                    })?;
                }
                Ok(())
            })?;
            node(w, "cac:LegalMonetaryTotal", |w| {
                amount(w, "cbc:LineExtensionAmount", doc.line_total, c)?;
                amount(w, "cbc:TaxExclusiveAmount", doc.tax_exclusive, c)?;
                amount(w, "cbc:TaxInclusiveAmount", doc.total, c)?;
                amount(w, "cbc:AllowanceTotalAmount", doc.discount_total, c)?;
                amount(w, "cbc:PrepaidAmount", doc.amount_paid, c)?;
                amount(w, "cbc:PayableAmount", doc.total - doc.amount_paid, c)
            })?;
            for (n, (line, g)) in doc.lines.iter().zip(of_line).enumerate() {
                let g = &groups[*g];
                node(w, line_el, |w| {
                    leaf(w, "cbc:ID", &(n + 1).to_string())?;
                    let unit = match line.unit {
                        LineUnit::Hours => "HUR",
                        LineUnit::Each => "C62",
                    };
                    leaf_with(w, qty_el, ("unitCode", unit), &quantity(line.quantity))?;
                    amount(w, "cbc:LineExtensionAmount", line.amount, c)?;
                    if let Some(day) = line.service_date {
                        node(w, "cac:InvoicePeriod", |w| {
                            leaf(w, "cbc:EndDate", &day.to_string())
                        })?;
                    }
                    if !line.adjustment.is_zero() {
                        let charge = line.adjustment.is_sign_positive();
                        node(w, "cac:AllowanceCharge", |w| {
                            leaf(
                                w,
                                "cbc:ChargeIndicator",
                                if charge { "true" } else { "false" },
                            )?;
                            leaf(
                                w,
                                "cbc:AllowanceChargeReason",
                                if charge { "Write-up" } else { "Write-down" },
                            )?;
                            amount(w, "cbc:Amount", line.adjustment.abs(), c)
                        })?;
                    }
                    node(w, "cac:Item", |w| {
                        leaf(w, "cbc:Name", &line.description)?;
                        category(w, "cac:ClassifiedTaxCategory", g, false)
                    })?;
                    node(w, "cac:Price", |w| {
                        amount(w, "cbc:PriceAmount", line.unit_price, c)
                    })
                })?;
            }
            Ok(())
        })?;
    Ok(())
}

/// Renders the document as UBL 2.1 XML.
pub fn render(doc: &InvoiceDocument) -> Result<String, DocumentError> {
    let (groups, of_line) = breakdowns(doc)?;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, doc, &groups, &of_line).map_err(|e| DocumentError::Xml(e.to_string()))?;
    String::from_utf8(w.into_inner()).map_err(|e| DocumentError::Xml(e.to_string()))
}
