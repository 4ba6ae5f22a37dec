use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

use super::*;

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap()
}

fn sheet_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[test]
fn xlsx_reads_back_with_a_header_row_and_every_text_cell_as_text() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Xlsx);
    let mut book = open(&file.bytes);
    assert_eq!(book.sheet_names(), ["Findings"]);
    let range = book.worksheet_range("Findings").unwrap();
    assert_eq!(range.get_size(), (4, 9));
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header, DEFAULT_COLUMNS);
    let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(1, 0), Data::String("Critical".into()));
    assert_eq!(cell(1, 1), Data::String(CJK.into()));
    assert_eq!(cell(1, 4), Data::String(KOREAN.into()));
    assert_eq!(
        cell(3, 1),
        Data::String("Comma, \"quoted\" and\nnewline".into())
    );
    // Formula-like text is a string cell, never a formula.
    assert_eq!(cell(3, 3), Data::String(FORMULA.into()));
    assert_eq!(cell(3, 4), Data::String("+1".into()));
    assert_eq!(cell(3, 6), Data::String("@SUM(A1)".into()));
    assert_eq!(cell(3, 7), Data::String(format!("{HEBREW} and {ARABIC}")));
    assert_eq!(cell(3, 8), Data::String("scanner-a; scanner,b".into()));
    let formulas = book.worksheet_formula("Findings").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell holds a formula"
    );
}

#[test]
fn xlsx_writes_numbers_as_numbers_booleans_as_booleans_and_dates_as_dates() {
    let file = generate(
        &hostile_ticket(),
        &typed_options(AttachmentFormat::Xlsx),
        &BTreeMap::new(),
        NOW,
    )
    .unwrap();
    let mut book = open(&file.bytes);
    let range = book.worksheet_range("Findings").unwrap();
    let row: Vec<Data> = range.rows().nth(2).unwrap().to_vec();
    assert_eq!(row[9], Data::Float(7.5));
    assert_eq!(row[10], Data::Float(-1.0));
    assert_eq!(row[11], Data::Bool(true));
    let Data::DateTime(date) = &row[12] else {
        panic!("a date cell, got {:?}", row[12])
    };
    assert!(date.is_datetime());
    assert_eq!(date.to_ymd_hms_milli(), (2026, 11, 20, 9, 30, 0, 0));
}

#[test]
fn xlsx_has_an_autofilter_a_frozen_header_and_bounded_column_widths() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Xlsx);
    let book = open(&file.bytes);
    assert!(
        book.defined_names()
            .iter()
            .any(|(name, range)| name == "_xlnm._FilterDatabase" && range.contains("$A$1:$I$4")),
        "{:?}",
        book.defined_names()
    );
    let xml = sheet_xml(&file.bytes);
    assert!(xml.contains(r#"<autoFilter ref="A1:I4"/>"#), "{xml}");
    assert!(xml.contains(r#"state="frozen""#));
    // `<col min="8" max="9" width="..."/>`: one element may cover several columns.
    let attr = |col: &str, name: &str| -> f64 {
        col.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let cols: Vec<(f64, f64, f64)> = xml
        .split("<col ")
        .skip(1)
        .map(|c| (attr(c, "min"), attr(c, "max"), attr(c, "width")))
        .collect();
    assert_eq!(
        cols.iter()
            .map(|(min, max, _)| max - min + 1.0)
            .sum::<f64>(),
        9.0,
        "{xml}"
    );
    assert!(
        cols.iter().all(|(_, _, w)| (8.0..=61.0).contains(w)),
        "{cols:?}"
    );
}
