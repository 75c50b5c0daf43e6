//! The invoice as a PDF: A4, one embedded font (DejaVu Sans, subset by krilla,
//! with ToUnicode maps so every word can be searched and copied), plain
//! ruled tables. Layout happens first into pages of drawing operations, then
//! the pages are drawn; that way long invoices flow onto as many pages as
//! they need (the lines table repeats its header) and every footer can say
//! "page i of n".

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::{
    money, party_lines, payment_terms, quantity_with_unit, title, DocumentError, DocumentKind,
    DocumentLine, InvoiceDocument,
};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 48.0;
const RIGHT: f32 = PAGE_W - MARGIN;
/// Content stops here; the footer sits below.
const BOTTOM: f32 = PAGE_H - MARGIN - 14.0;

const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;

// The lines table: where each column starts (left) or ends (right-aligned).
const COL_DESC: f32 = MARGIN;
const DESC_W: f32 = 215.0;
const COL_QTY_RIGHT: f32 = MARGIN + 280.0;
const COL_PRICE_RIGHT: f32 = MARGIN + 350.0;
const COL_TAX: f32 = MARGIN + 362.0;
const TAX_W: f32 = 62.0;
// Entries under a line.
const ENTRY_DATE: f32 = MARGIN + 12.0;
const ENTRY_PERSON: f32 = MARGIN + 66.0;
const ENTRY_PERSON_W: f32 = 120.0;
const ENTRY_HOURS_RIGHT: f32 = MARGIN + 232.0;
const ENTRY_NOTE: f32 = MARGIN + 242.0;
const ENTRY_NOTE_W: f32 = RIGHT - ENTRY_NOTE;

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Regular,
    Bold,
    /// The VOID stamp: bold and red.
    Stamp,
}

enum Op {
    Text {
        x: f32,
        /// Baseline.
        y: f32,
        size: f32,
        style: Style,
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
    },
}

/// Where a column's text goes: from its left edge, or up to its right edge.
#[derive(Clone, Copy)]
enum At {
    Left(f32),
    Right(f32),
}

/// One column of a table row, already wrapped.
struct Column {
    at: At,
    lines: Vec<String>,
}

impl Column {
    fn left(x: f32, lines: Vec<String>) -> Column {
        Column {
            at: At::Left(x),
            lines,
        }
    }

    /// A right-aligned figure: one line, never wrapped.
    fn right(x: f32, text: String) -> Column {
        Column {
            at: At::Right(x),
            lines: vec![text],
        }
    }
}

/// One face: what krilla embeds, and what we measure text with.
struct Face {
    pdf: Font,
    metrics: FontRef<'static>,
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn load() -> Result<Fonts, DocumentError> {
        let face = |bytes: &'static [u8]| -> Result<Face, DocumentError> {
            let unreadable = || DocumentError::Pdf("the embedded font could not be read".into());
            Ok(Face {
                pdf: Font::new(bytes.into(), 0).ok_or_else(unreadable)?,
                metrics: FontRef::new(bytes).map_err(|_| unreadable())?,
            })
        };
        Ok(Fonts {
            regular: face(dejavu::sans::regular())?,
            bold: face(dejavu::sans::bold())?,
        })
    }

    fn face(&self, style: Style) -> &Face {
        match style {
            Style::Regular => &self.regular,
            Style::Bold | Style::Stamp => &self.bold,
        }
    }

    /// The advance width of each character, in points at `size`.
    fn widths(&self, size: f32, style: Style) -> impl Fn(char) -> f32 + '_ {
        let face = &self.face(style).metrics;
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::new(size), LocationRef::default());
        move |c| {
            metrics
                .advance_width(charmap.map(c).unwrap_or_default())
                .unwrap_or(size * 0.6)
        }
    }

    fn width(&self, text: &str, size: f32, style: Style) -> f32 {
        let w = self.widths(size, style);
        text.chars().map(w).sum()
    }

    /// Breaks `text` into lines no wider than `width`: at spaces, inside a
    /// word only when the word alone is too wide, and at every newline.
    /// Widths are summed as it goes, so a long text costs linear time.
    fn wrap(&self, text: &str, width: f32, size: f32, style: Style) -> Vec<String> {
        let w = self.widths(size, style);
        let space = w(' ');
        let mut out = Vec::new();
        for paragraph in text.split('\n') {
            let clean: String = paragraph
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in clean.split_whitespace() {
                let word_w: f32 = word.chars().map(&w).sum();
                if line.is_empty() && word_w <= width {
                    line.push_str(word);
                    line_w = word_w;
                    continue;
                }
                if !line.is_empty() && line_w + space + word_w <= width {
                    line.push(' ');
                    line.push_str(word);
                    line_w += space + word_w;
                    continue;
                }
                if !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                for ch in word.chars() {
                    let ch_w = w(ch);
                    if !line.is_empty() && line_w + ch_w > width {
                        out.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push(ch);
                    line_w += ch_w;
                }
            }
            out.push(line);
        }
        // Trailing blank paragraphs print nothing.
        while out.len() > 1 && out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out
    }
}

fn line_height(size: f32) -> f32 {
    size * 1.4
}

/// Text whose first line's top is at `top`.
fn push_text(ops: &mut Vec<Op>, x: f32, top: f32, size: f32, style: Style, text: &str) {
    if text.is_empty() {
        return;
    }
    ops.push(Op::Text {
        x,
        y: top + size,
        size,
        style,
        text: text.to_owned(),
    });
}

/// Lays the document out top to bottom, opening a new page when the next
/// block does not fit.
struct Layout<'a> {
    fonts: &'a Fonts,
    doc: &'a InvoiceDocument,
    pages: Vec<Vec<Op>>,
    /// Top of the next row on the current page.
    y: f32,
    /// While the lines table runs, a new page repeats its header.
    in_table: bool,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Fonts, doc: &'a InvoiceDocument) -> Self {
        Layout {
            fonts,
            doc,
            pages: vec![Vec::new()],
            y: MARGIN,
            in_table: false,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text_at(&mut self, x: f32, top: f32, size: f32, style: Style, text: &str) {
        push_text(self.ops(), x, top, size, style, text);
    }

    fn text_right(&mut self, right: f32, top: f32, size: f32, style: Style, text: &str) {
        let w = self.fonts.width(text, size, style);
        self.text_at(right - w, top, size, style, text);
    }

    fn rule(&mut self, y: f32, width: f32) {
        self.ops().push(Op::Rule {
            x1: MARGIN,
            x2: RIGHT,
            y,
            width,
        });
    }

    /// Moves to a new page unless `height` more still fits on this one.
    fn need(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
        let head = format!("{} {} (continued)", title(self.doc), self.doc.number);
        self.text_at(MARGIN, self.y, BODY, Style::Bold, &head);
        if self.doc.void {
            self.text_right(RIGHT, self.y, BODY, Style::Stamp, "VOID");
        }
        self.y += line_height(BODY) + 8.0;
        if self.in_table {
            self.table_header();
        }
    }

    /// Wrapped text across the full width, moving down as it goes.
    fn paragraph(&mut self, text: &str, size: f32, style: Style) {
        for line in self.fonts.wrap(text, RIGHT - MARGIN, size, style) {
            self.need(line_height(size));
            let top = self.y;
            self.text_at(MARGIN, top, size, style, &line);
            self.y += line_height(size);
        }
    }

    /// A party's block in a column; returns where it ends.
    fn party(&mut self, x: f32, top: f32, width: f32, label: &str, p: &super::Party) -> f32 {
        let mut y = top;
        if !label.is_empty() {
            self.text_at(x, y, SMALL, Style::Bold, label);
            y += line_height(SMALL);
        }
        for l in self.fonts.wrap(&p.name, width, 11.0, Style::Bold) {
            self.text_at(x, y, 11.0, Style::Bold, &l);
            y += line_height(11.0);
        }
        for detail in party_lines(p) {
            for l in self.fonts.wrap(&detail, width, BODY, Style::Regular) {
                self.text_at(x, y, BODY, Style::Regular, &l);
                y += line_height(BODY);
            }
        }
        y
    }

    fn header(&mut self) {
        let doc = self.doc;
        let top = self.y;
        let seller_end = self.party(MARGIN, top, 250.0, "", &doc.seller);

        let x = MARGIN + 290.0;
        let label_w = 78.0;
        let mut y = top;
        self.text_at(x, y, 20.0, Style::Bold, title(doc));
        if doc.void {
            self.text_right(RIGHT, y, 20.0, Style::Stamp, "VOID");
        }
        y += line_height(20.0) + 4.0;
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
        facts.push(("Currency", doc.currency.code().to_owned()));
        for (label, value) in facts {
            self.text_at(x, y, BODY, Style::Bold, label);
            for l in self
                .fonts
                .wrap(&value, RIGHT - x - label_w, BODY, Style::Regular)
            {
                self.text_at(x + label_w, y, BODY, Style::Regular, &l);
                y += line_height(BODY);
            }
        }
        self.y = seller_end.max(y) + 18.0;

        let top = self.y;
        self.y = self.party(MARGIN, top, 280.0, "BILL TO", &doc.buyer) + 12.0;

        if let DocumentKind::CreditNote {
            invoice_number,
            invoice_issue_date,
            reason,
        } = &doc.kind
        {
            self.paragraph(
                &format!(
                    "This credit note amends invoice {invoice_number} of {invoice_issue_date}."
                ),
                BODY,
                Style::Regular,
            );
            self.paragraph(&format!("Reason: {reason}"), BODY, Style::Regular);
            self.y += 8.0;
        }
    }

    fn table_header(&mut self) {
        let top = self.y;
        self.text_at(COL_DESC, top, BODY, Style::Bold, "Description");
        self.text_right(COL_QTY_RIGHT, top, BODY, Style::Bold, "Quantity");
        self.text_right(COL_PRICE_RIGHT, top, BODY, Style::Bold, "Unit price");
        self.text_at(COL_TAX, top, BODY, Style::Bold, "Tax");
        self.text_right(RIGHT, top, BODY, Style::Bold, "Amount");
        self.y += line_height(BODY) + 2.0;
        let y = self.y - 3.0;
        self.rule(y, 0.8);
    }

    fn lines(&mut self) {
        self.need(3.0 * line_height(BODY));
        self.in_table = true;
        self.table_header();
        let currency = self.doc.currency;
        for line in &self.doc.lines {
            self.line(line, currency);
        }
        self.in_table = false;
    }

    /// Draws side-by-side columns of wrapped text row by row. A block that
    /// fits on a page is kept together; a taller one (a very long
    /// description) continues on the next page instead of running off this one.
    fn columns(&mut self, size: f32, pad: f32, cols: Vec<Column>) {
        let rows = cols.iter().map(|c| c.lines.len()).max().unwrap_or(0);
        let lh = line_height(size);
        let height = rows as f32 * lh + pad;
        if height < BOTTOM - MARGIN - 40.0 {
            self.need(height);
        } else {
            self.need(lh + pad);
        }
        self.y += pad;
        // Place the rows first, then write each column's text in one run, so
        // a wrapped description reads on in order when the text is copied.
        let mut placed = Vec::with_capacity(rows);
        for _ in 0..rows {
            if self.y + lh > BOTTOM {
                self.new_page();
            }
            placed.push((self.pages.len() - 1, self.y));
            self.y += lh;
        }
        for c in &cols {
            for (text, (page, top)) in c.lines.iter().zip(&placed) {
                let x = match c.at {
                    At::Left(x) => x,
                    At::Right(x) => x - self.fonts.width(text, size, Style::Regular),
                };
                if let Some(ops) = self.pages.get_mut(*page) {
                    push_text(ops, x, *top, size, Style::Regular, text);
                }
            }
        }
    }

    fn line(&mut self, line: &DocumentLine, currency: agencyops_domain::Currency) {
        let wrap =
            |text: &str, width: f32, size: f32| self.fonts.wrap(text, width, size, Style::Regular);
        let cols = vec![
            Column::left(COL_DESC, wrap(&line.description, DESC_W, BODY)),
            Column::right(COL_QTY_RIGHT, quantity_with_unit(line.quantity, line.unit)),
            Column::right(COL_PRICE_RIGHT, money(line.unit_price, currency)),
            Column::left(COL_TAX, wrap(&line.tax_codes.join(", "), TAX_W, BODY)),
            Column::right(RIGHT, money(line.amount, currency)),
        ];
        self.columns(BODY, 2.0, cols);

        if !line.adjustment.is_zero() {
            let what = if line.adjustment.is_sign_negative() {
                "Write-down"
            } else {
                "Write-up"
            };
            let text = format!("{what}: {}", money(line.adjustment, currency));
            self.columns(SMALL, 0.0, vec![Column::left(ENTRY_DATE, vec![text])]);
        }

        for entry in &line.entries {
            let cols = vec![
                Column::left(ENTRY_DATE, vec![entry.date.to_string()]),
                Column::left(ENTRY_PERSON, wrap(&entry.person, ENTRY_PERSON_W, SMALL)),
                Column::right(
                    ENTRY_HOURS_RIGHT,
                    format!("{} h", super::quantity(entry.hours)),
                ),
                Column::left(ENTRY_NOTE, wrap(&entry.note, ENTRY_NOTE_W, SMALL)),
            ];
            self.columns(SMALL, 0.0, cols);
        }
        self.y += 3.0;
        let y = self.y;
        self.rule(y, 0.3);
    }

    fn totals(&mut self) {
        let doc = self.doc;
        let c = doc.currency;
        let label_x = MARGIN + 250.0;
        let taxable_right = MARGIN + 400.0;
        let mut rows: Vec<(String, Option<String>, String, Style)> = vec![(
            "Subtotal".into(),
            None,
            money(doc.line_total, c),
            Style::Regular,
        )];
        if !doc.discount_total.is_zero() {
            rows.push((
                "Discount".into(),
                None,
                money(-doc.discount_total, c),
                Style::Regular,
            ));
            rows.push((
                "Net total".into(),
                None,
                money(doc.tax_exclusive, c),
                Style::Regular,
            ));
        }
        for t in &doc.tax_breakdown {
            rows.push((
                t.name.clone(),
                Some(format!("on {}", money(t.taxable, c))),
                money(t.amount, c),
                Style::Regular,
            ));
        }
        rows.push((
            "Tax total".into(),
            None,
            money(doc.tax_total, c),
            Style::Regular,
        ));
        rows.push((
            format!("Total ({})", c.code()),
            None,
            money(doc.total, c),
            Style::Bold,
        ));
        rows.push((
            "Paid".into(),
            None,
            money(doc.amount_paid, c),
            Style::Regular,
        ));
        rows.push((
            "Credited".into(),
            None,
            money(doc.amount_credited, c),
            Style::Regular,
        ));
        rows.push((
            format!("Balance due ({})", c.code()),
            None,
            money(doc.balance_due, c),
            Style::Bold,
        ));

        self.y += 8.0;
        let heights: Vec<Vec<String>> = rows
            .iter()
            .map(|(label, _, _, style)| self.fonts.wrap(label, 140.0, BODY, *style))
            .collect();
        let total_h: f32 = heights
            .iter()
            .map(|h| h.len() as f32 * line_height(BODY) + 2.0)
            .sum();
        // Keep the totals together when they fit on one page at all.
        if total_h < BOTTOM - MARGIN - 40.0 {
            self.need(total_h);
        }
        for ((_, taxable, value, style), label) in rows.iter().zip(heights) {
            self.need(label.len() as f32 * line_height(BODY));
            let top = self.y;
            if *style == Style::Bold {
                self.ops().push(Op::Rule {
                    x1: label_x,
                    x2: RIGHT,
                    y: top - 1.0,
                    width: 0.5,
                });
            }
            for (i, l) in label.iter().enumerate() {
                self.text_at(label_x, top + i as f32 * line_height(BODY), BODY, *style, l);
            }
            if let Some(t) = taxable {
                self.text_right(taxable_right, top, BODY, Style::Regular, t);
            }
            self.text_right(RIGHT, top, BODY, *style, value);
            self.y += label.len() as f32 * line_height(BODY) + 2.0;
        }
    }

    fn closing(&mut self) {
        let doc = self.doc;
        self.y += 14.0;
        // A credit note asks for no payment, so it states no terms.
        if doc.kind == DocumentKind::Invoice {
            self.need(line_height(BODY));
            self.paragraph(&payment_terms(doc), BODY, Style::Bold);
        }
        if let Some(p) = doc
            .payment_instructions
            .as_deref()
            .filter(|p| !p.trim().is_empty())
        {
            self.y += 6.0;
            self.need(2.0 * line_height(BODY));
            self.paragraph("Payment instructions", BODY, Style::Bold);
            self.paragraph(p, BODY, Style::Regular);
        }
        if let Some(n) = doc.notes.as_deref().filter(|n| !n.trim().is_empty()) {
            self.y += 6.0;
            self.need(2.0 * line_height(BODY));
            self.paragraph("Notes", BODY, Style::Bold);
            self.paragraph(n, BODY, Style::Regular);
        }
    }
}

/// Renders the document as a PDF.
pub fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    let fonts = Fonts::load()?;
    let mut layout = Layout::new(&fonts, doc);
    layout.header();
    layout.lines();
    layout.totals();
    layout.closing();
    let pages = layout.pages;

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("{} {}", title(doc), doc.number))
            .creator("AgencyOps".to_owned()),
    );
    let count = pages.len();
    for (i, ops) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| DocumentError::Pdf("invalid page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let footer = format!(
            "{} {}{} · page {} of {}",
            title(doc),
            doc.number,
            if doc.void { " · VOID" } else { "" },
            i + 1,
            count
        );
        let footer = Op::Text {
            x: MARGIN,
            y: PAGE_H - MARGIN + SMALL,
            size: SMALL,
            style: Style::Regular,
            text: footer,
        };
        for op in ops.iter().chain([&footer]) {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    style,
                    text,
                } => {
                    let color = match style {
                        Style::Stamp => rgb::Color::new(200, 30, 30),
                        _ => rgb::Color::new(20, 20, 20),
                    };
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill {
                        paint: color.into(),
                        ..Fill::default()
                    }));
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        fonts.face(*style).pdf.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rule { x1, x2, y, width } => {
                    let mut path = PathBuilder::new();
                    path.move_to(*x1, *y);
                    path.line_to(*x2, *y);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(140, 140, 140).into(),
                            width: *width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| DocumentError::Pdf(e.to_string()))
}
