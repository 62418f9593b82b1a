//! FHIR REST interactions as the access decision sees them.

/// One interaction a caller asks to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    Read,
    Vread,
    /// `GET /Type/id/_history`
    HistoryInstance,
    /// `GET /Type/_history`
    HistoryType,
    Search,
    Create,
    Update,
    Patch,
    Delete,
}

impl Interaction {
    pub const ALL: [Interaction; 9] = [
        Interaction::Read,
        Interaction::Vread,
        Interaction::HistoryInstance,
        Interaction::HistoryType,
        Interaction::Search,
        Interaction::Create,
        Interaction::Update,
        Interaction::Patch,
        Interaction::Delete,
    ];

    /// The SMART v2 permission letter (`c`, `r`, `u`, `d`, `s`) that covers it.
    pub fn letter(self) -> char {
        match self {
            Interaction::Create => 'c',
            Interaction::Read | Interaction::Vread | Interaction::HistoryInstance => 'r',
            Interaction::Update | Interaction::Patch => 'u',
            Interaction::Delete => 'd',
            Interaction::Search | Interaction::HistoryType => 's',
        }
    }

    /// Whether it only reads.
    pub fn is_read(self) -> bool {
        matches!(self.letter(), 'r' | 's')
    }
}
