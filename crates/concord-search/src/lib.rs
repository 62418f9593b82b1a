//! FHIR R4 search, the pure half: which SearchParameters exist for each
//! resource type ([`registry`]), the index rows a resource version produces
//! ([`extract::index_rows`]) and the typed form of a search query string
//! ([`query::parse`]). No IO and no SQL: the store backends turn a
//! [`query::SearchQuery`] into SQL over the rows written here.
#![forbid(unsafe_code)]

pub mod datetime;
pub mod extract;
pub mod normalize;
pub mod plan;
pub mod query;
pub mod registry;
pub mod ucum;
mod union_params;

pub use extract::{compartment_rows, index_rows};
pub use query::{parse, Handling, SearchQuery};
pub use registry::{ParamType, SearchParamDef};
