//! The crate's one integration test binary: the shared corpus, property
//! tests and MLLP over real loopback sockets.

#[path = "hl7v2/corpus.rs"]
mod corpus;
#[path = "hl7v2/fhir_corpus.rs"]
mod fhir_corpus;
#[path = "hl7v2/fhir_values.rs"]
mod fhir_values;
#[path = "hl7v2/mllp.rs"]
mod mllp;
#[path = "hl7v2/outbound.rs"]
mod outbound;
#[path = "hl7v2/props.rs"]
mod props;
