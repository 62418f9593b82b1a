//! A search, lowered for the store: which resources (types, conditions over
//! the index tables), in which order, which page. `concord-search` builds it
//! from a query string; each backend renders it as SQL of its dialect. No SQL
//! here — only the names of the index tables and columns both backends share.

/// The index table a condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexTable {
    Token,
    String,
    Date,
    Reference,
    Quantity,
    Number,
    Uri,
    Composite,
}

/// A column of an index table (each table has only some of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// token, quantity: the system (NULL when the value has none).
    System,
    /// token, quantity: the code.
    Code,
    /// string: normalized (lowercase, no accents, single spaces).
    ValueNorm,
    /// string: as written.
    ValueExact,
    /// date: inclusive instant range, ms.
    Low,
    High,
    /// reference.
    TargetType,
    TargetId,
    Url,
    /// number, quantity: the number; uri, composite: the text.
    Value,
    /// composite: the value of its number or quantity component.
    Number,
}

/// A value bound into a query.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Real(f64),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A test on one index row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowTest {
    Cmp(Column, CmpOp, SqlValue),
    IsNull(Column),
    /// Text starts with the prefix (as written, case-sensitive).
    StartsWith(Column, String),
    /// Text contains the needle.
    Contains(Column, String),
    /// Text matches a pattern where `*` stands for any run of characters.
    Like(Column, Vec<LikePart>),
    In(Column, Vec<SqlValue>),
    And(Vec<RowTest>),
    Or(Vec<RowTest>),
    Not(Box<RowTest>),
}

/// A piece of a [`RowTest::Like`] pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LikePart {
    Literal(String),
    AnyRun,
}

/// A condition on the resources searched (the "current" resource of its
/// level: the searched type, a chain's target, a `_has` source).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `_id`: the id is one of these.
    Id(Vec<String>),
    /// `_lastUpdated`: a test on the last-updated instant (ms); columns
    /// `Low`/`High` both stand for it.
    LastUpdated(RowTest),
    /// A row of `table` with `param` passes `test` (`negate`: no such row).
    Row {
        table: IndexTable,
        param: String,
        test: RowTest,
        negate: bool,
    },
    /// `:missing`: whether any row of `table` with `param` exists.
    Present {
        table: IndexTable,
        param: String,
        present: bool,
    },
    /// Chaining: a reference `param` points at a resource of one of
    /// `target_types` meeting every inner condition.
    Chain {
        param: String,
        target_types: Vec<String>,
        inner: Vec<Condition>,
    },
    /// Reverse chaining (`_has`): a `source_type` resource meeting every
    /// inner condition references this one through `param`.
    Has {
        source_type: String,
        param: String,
        inner: Vec<Condition>,
    },
    /// The resource is referenced through `param` (any reference parameter
    /// when `None`) by one of `sources` (`_include`).
    ReferencedBy {
        param: Option<String>,
        sources: Vec<(String, String)>,
    },
    /// The resource references one of `targets` through `param` (any when
    /// `None`) (`_revinclude`).
    References {
        param: Option<String>,
        targets: Vec<(String, String)>,
    },
    /// Full text (`_text`: `narrative`, `_content`: the resource's text): every
    /// word appears; with no words, the resource has any text at all.
    FullText { narrative: bool, words: Vec<String> },
    /// Member of the compartment `compartment_type/compartment_id`.
    Compartment {
        compartment_type: String,
        compartment_id: String,
    },
    /// Member of some compartment of `compartment_type`, whatever its id
    /// (negated: the resource belongs to no such compartment, e.g. a
    /// `Schedule` of a practitioner only).
    InCompartmentOfType { compartment_type: String },
    /// The resource is of one of these types (access confinement of a
    /// search over several types).
    Types(Vec<String>),
    /// Any of these holds.
    Any(Vec<Condition>),
    /// All of these hold.
    All(Vec<Condition>),
    /// This does not hold.
    Not(Box<Condition>),
    /// Nothing matches (a value that can never match, e.g. an empty OR list).
    Never,
    /// Every live resource matches.
    Always,
}

/// What a sort key orders by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortBy {
    Id,
    LastUpdated,
    /// Rows of `param` in `table`: the smallest `column` ascending, the
    /// largest `column_desc` descending (dates: low ascending, high
    /// descending). With `preferred`, that parameter's rows count first
    /// (quantities: the value in UCUM canonical units when it converts).
    Index {
        table: IndexTable,
        param: String,
        column: Column,
        column_desc: Column,
        preferred: Option<String>,
    },
    /// The smallest `value_norm` among the resource's string rows of
    /// `param` that pass `test`: the order of a search without `_sort` that
    /// one starts-with string value drives (`Patient?name=smi`: by the
    /// matched name, then id), so its first page can be read off the
    /// string index in order instead of sorting every match by id.
    Matched {
        param: String,
        test: RowTest,
    },
}

/// The kind of value a sort key produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Int,
    Real,
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    pub by: SortBy,
    pub descending: bool,
}

impl SortSpec {
    pub fn kind(&self) -> SortKind {
        match &self.by {
            SortBy::Id => SortKind::Text,
            SortBy::LastUpdated => SortKind::Int,
            SortBy::Matched { .. } => SortKind::Text,
            SortBy::Index { table, column, .. } => match (table, column) {
                (IndexTable::Date, _) => SortKind::Int,
                (IndexTable::Number | IndexTable::Quantity, Column::Value) => SortKind::Real,
                _ => SortKind::Text,
            },
        }
    }

    /// The value that stands for "no value": it sorts last in both directions.
    pub fn missing_value(&self) -> SqlValue {
        match (self.kind(), self.descending) {
            (SortKind::Int, false) => SqlValue::Int(i64::MAX),
            (SortKind::Int, true) => SqlValue::Int(i64::MIN),
            (SortKind::Real, false) => SqlValue::Real(1e300),
            (SortKind::Real, true) => SqlValue::Real(-1e300),
            (SortKind::Text, false) => SqlValue::Text(char::MAX.to_string()),
            (SortKind::Text, true) => SqlValue::Text(String::new()),
        }
    }
}

/// Where a page starts: strictly after (or, for a previous page, strictly
/// before) the resource with these sort values, type and id.
#[derive(Debug, Clone, PartialEq)]
pub struct PageKey {
    pub sort: Vec<SqlValue>,
    pub resource_type: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PageStart {
    First,
    After(PageKey),
    Before(PageKey),
}

/// A lowered search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    /// The types searched; empty means every type.
    pub types: Vec<String>,
    /// All must hold.
    pub conditions: Vec<Condition>,
    pub sort: Vec<SortSpec>,
    /// Page size; the store returns up to `count` hits (and says if more follow).
    pub count: usize,
    pub start: PageStart,
    /// How long the store may spend on one query of this plan before it
    /// stops it and answers [`crate::StoreError::TooCostly`] (none: no limit).
    pub budget: Option<std::time::Duration>,
}

impl SearchPlan {
    /// Every live resource of `types`, first page of `count`.
    pub fn new(types: Vec<String>, count: usize) -> SearchPlan {
        SearchPlan {
            types,
            conditions: Vec::new(),
            sort: Vec::new(),
            count,
            start: PageStart::First,
            budget: None,
        }
    }
}

/// One match: the resource and its sort values (for the next page's key).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub resource_type: String,
    pub id: String,
    pub sort: Vec<SqlValue>,
}

impl SearchHit {
    pub fn key(&self) -> PageKey {
        PageKey {
            sort: self.sort.clone(),
            resource_type: self.resource_type.clone(),
            id: self.id.clone(),
        }
    }
}

/// A page of matches in order, and whether more lie beyond it (in the
/// direction searched).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub more: bool,
}
