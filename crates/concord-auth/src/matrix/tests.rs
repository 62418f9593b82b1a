//! The matrix in code and in `docs/security.md` must be the same table.

use super::*;

const DOC: &str = include_str!("../../../../docs/security.md");

/// The markdown table rows between `<!-- NAME:begin -->` and `<!-- NAME:end -->`,
/// as trimmed cells, without the header and separator rows.
fn table(name: &str) -> Vec<Vec<String>> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = DOC.find(&begin).expect("table start marker") + begin.len();
    let stop = DOC[start..].find(&end).expect("table end marker") + start;
    DOC[start..stop]
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

#[test]
fn documented_matrix_equals_code() {
    let rows = table("matrix");
    assert_eq!(rows.len(), MatrixRow::all().len(), "one doc row per role");
    let mut cells = 0;
    for (doc_row, row) in rows.iter().zip(MatrixRow::all()) {
        assert_eq!(doc_row[0], row.code(), "row order");
        assert_eq!(doc_row.len(), 1 + Category::ALL.len());
        for (cell, category) in doc_row[1..].iter().zip(Category::ALL) {
            assert_eq!(
                cell,
                &permitted(row, category).to_string(),
                "{} × {}",
                row.code(),
                category.code()
            );
            cells += 1;
        }
    }
    println!("permission matrix: {cells} cells agree with docs/security.md");
}

#[test]
fn documented_categories_equal_code() {
    let rows = table("categories");
    assert_eq!(rows.len(), Category::ALL.len());
    for (doc_row, category) in rows.iter().zip(Category::ALL) {
        assert_eq!(doc_row[0], category.code());
        let listed: Vec<&str> = doc_row[1]
            .split(',')
            .map(|s| s.trim().trim_matches('`'))
            .filter(|s| !s.is_empty())
            .collect();
        if category == Category::Clinical {
            assert!(doc_row[1].contains("every other"), "clinical is the rest");
        } else {
            assert_eq!(listed, category.members(), "{}", category.code());
        }
    }
}

#[test]
fn every_listed_type_is_an_r4_resource_type() {
    for category in Category::ALL {
        for t in category.members() {
            assert!(concord_fhir::is_resource_type(t), "{t}");
        }
    }
    assert_eq!(category_of("Observation"), Category::Clinical);
    assert_eq!(category_of("Patient"), Category::Demographics);
    assert_eq!(category_of("AuditEvent"), Category::Audit);
}

#[test]
fn least_privilege_properties() {
    for row in MatrixRow::all() {
        // Nobody deletes or changes audit records.
        let audit = permitted(row, Category::Audit);
        assert!(!audit.has('c') && !audit.has('u') && !audit.has('d'));
    }
    // System administrators see no patient data.
    for cat in [
        Category::Demographics,
        Category::Clinical,
        Category::Financial,
    ] {
        assert!(permitted(MatrixRow::Staff(Role::SystemAdmin), cat).is_empty());
    }
    // Patients and proxies never write through the matrix.
    for cat in Category::ALL {
        let p = permitted(MatrixRow::Patient, cat);
        assert!(!p.has('c') && !p.has('u') && !p.has('d'));
    }
}
