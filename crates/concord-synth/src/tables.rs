//! The curated tables in `data/` (each file names its source in its
//! header), parsed once. A malformed row is a bug in the shipped data, so
//! parsing panics with the file and line; a unit test parses them all.

use std::sync::OnceLock;

const CONDITIONS: &str = include_str!("../data/conditions.tsv");
const MEDICATIONS: &str = include_str!("../data/medications.tsv");
const LABS: &str = include_str!("../data/labs.tsv");
const IMMUNIZATIONS: &str = include_str!("../data/immunizations.tsv");
const ALLERGIES: &str = include_str!("../data/allergies.tsv");
const NAMES: &str = include_str!("../data/names.tsv");

pub struct Condition {
    pub key: &'static str,
    pub icd10: &'static str,
    pub icd10_display: &'static str,
    pub snomed: &'static str,
    pub snomed_display: &'static str,
    pub chronic: bool,
    pub min_age: i64,
    pub weight: u32,
    pub labs: &'static str,
}

pub struct Medication {
    pub condition: &'static str,
    pub rxnorm: &'static str,
    pub display: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Any,
    Male,
    Female,
}

pub struct Lab {
    pub panel: &'static str,
    pub loinc: &'static str,
    pub display: &'static str,
    pub unit: &'static str,
    pub sex: Sex,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub high_exclusive: bool,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub normal_source: &'static str,
}

pub struct Vaccine {
    pub cvx: &'static str,
    pub display: &'static str,
    pub min_age: i64,
}

pub struct Coded {
    pub code: &'static str,
    pub display: &'static str,
    pub category: &'static str,
}

pub struct Tables {
    pub conditions: Vec<Condition>,
    pub medications: Vec<Medication>,
    pub labs: Vec<Lab>,
    pub vaccines: Vec<Vaccine>,
    pub allergies: Vec<Coded>,
    pub reactions: Vec<Coded>,
    pub surnames: Vec<&'static str>,
    pub male_names: Vec<&'static str>,
    pub female_names: Vec<&'static str>,
}

/// Data rows: not comments, not the column header, split on tabs.
fn rows(file: &'static str, text: &'static str, columns: usize) -> Vec<Vec<&'static str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .enumerate()
        .map(|(n, line)| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                cells.len(),
                columns,
                "{file}: data row {} has {} columns, not {columns}",
                n + 1,
                cells.len()
            );
            cells
        })
        .collect()
}

fn number(file: &str, cell: &str) -> Option<f64> {
    if cell == "-" {
        return None;
    }
    Some(
        cell.parse()
            .unwrap_or_else(|_| panic!("{file}: {cell:?} is not a number")),
    )
}

fn parse() -> Tables {
    let conditions = rows("conditions.tsv", CONDITIONS, 9)
        .into_iter()
        .map(|c| Condition {
            key: c[0],
            icd10: c[1],
            icd10_display: c[2],
            snomed: c[3],
            snomed_display: c[4],
            chronic: c[5] == "chronic",
            min_age: number("conditions.tsv", c[6]).unwrap_or(0.0) as i64,
            weight: number("conditions.tsv", c[7]).unwrap_or(0.0) as u32,
            labs: c[8],
        })
        .collect();
    let medications = rows("medications.tsv", MEDICATIONS, 3)
        .into_iter()
        .map(|c| Medication {
            condition: c[0],
            rxnorm: c[1],
            display: c[2],
        })
        .collect();
    let labs = rows("labs.tsv", LABS, 12)
        .into_iter()
        .map(|c| Lab {
            panel: c[0],
            loinc: c[1],
            display: c[2],
            unit: c[3],
            sex: match c[4] {
                "male" => Sex::Male,
                "female" => Sex::Female,
                _ => Sex::Any,
            },
            low: number("labs.tsv", c[5]),
            high: number("labs.tsv", c[6]),
            high_exclusive: c[7] == "yes",
            critical_low: number("labs.tsv", c[8]),
            critical_high: number("labs.tsv", c[9]),
            normal_source: c[10],
        })
        .collect();
    let vaccines = rows("immunizations.tsv", IMMUNIZATIONS, 4)
        .into_iter()
        .map(|c| Vaccine {
            cvx: c[0],
            display: c[1],
            min_age: number("immunizations.tsv", c[3]).unwrap_or(0.0) as i64,
        })
        .collect();
    let (mut allergies, mut reactions) = (Vec::new(), Vec::new());
    for c in rows("allergies.tsv", ALLERGIES, 4) {
        let coded = Coded {
            code: c[1],
            display: c[2],
            category: c[3],
        };
        if c[0] == "reaction" {
            reactions.push(coded);
        } else {
            allergies.push(coded);
        }
    }
    let (mut surnames, mut male_names, mut female_names) = (Vec::new(), Vec::new(), Vec::new());
    for c in rows("names.tsv", NAMES, 2) {
        match c[0] {
            "surname" => surnames.push(c[1]),
            "male" => male_names.push(c[1]),
            _ => female_names.push(c[1]),
        }
    }
    Tables {
        conditions,
        medications,
        labs,
        vaccines,
        allergies,
        reactions,
        surnames,
        male_names,
        female_names,
    }
}

pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(parse)
}

/// Where each MedlinePlus reference range comes from (the `normal_source` column).
pub fn range_source_url(source: &str) -> &'static str {
    match source {
        "BMP" => "https://medlineplus.gov/ency/article/003462.htm",
        "CBC" => "https://medlineplus.gov/ency/article/003642.htm",
        "PLT" => "https://medlineplus.gov/ency/article/003647.htm",
        "A1C" => "https://medlineplus.gov/ency/article/003640.htm",
        _ => "https://medlineplus.gov/cholesterollevelswhatyouneedtoknow.html",
    }
}

/// The vaccine with this CVX code (the table holds every code the generator uses).
pub fn vaccine(cvx: &str) -> Option<&'static Vaccine> {
    tables().vaccines.iter().find(|v| v.cvx == cvx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_and_links() {
        let t = tables();
        assert!(t.conditions.len() >= 20);
        for m in &t.medications {
            assert!(
                t.conditions.iter().any(|c| c.key == m.condition),
                "medication {} names an unknown condition",
                m.rxnorm
            );
        }
        for l in &t.labs {
            assert!(
                l.low.is_some() || l.high.is_some(),
                "{} has no range",
                l.loinc
            );
        }
        assert!(t.labs.iter().any(|l| l.critical_high.is_some()));
        assert!(!t.vaccines.is_empty() && !t.allergies.is_empty() && !t.reactions.is_empty());
        assert!(t.surnames.len() >= 40 && t.female_names.len() >= 20);
    }
}
