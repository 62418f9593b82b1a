//! What an HTTP request is, in audit terms: category, interaction (the BALP
//! subtype), action, the resource touched, the query and the patient named
//! by the URL. Decided from the method and the matched route only.

use axum::http::Method;
use concord_core::audit::{Action, Category};

/// How the response body is kept for the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    Nothing,
    /// The resource in the response (for its patients).
    ResponseResource,
    /// Request and response Bundles (one event per entry).
    Bundle,
    /// The sign-in or token form (for the username / client id).
    Form,
    /// A break-the-glass request (for the reason given).
    Reason,
}

/// The audit view of one request.
#[derive(Debug, Clone)]
pub struct Classified {
    pub category: Category,
    pub interaction: &'static str,
    pub action: Action,
    pub resource: Option<String>,
    pub query: Option<String>,
    pub operation: Option<String>,
    pub patients: Vec<String>,
    pub capture: Capture,
}

impl Classified {
    fn rest(interaction: &'static str, action: Action) -> Classified {
        Classified {
            category: Category::Rest,
            interaction,
            action,
            resource: None,
            query: None,
            operation: None,
            patients: Vec::new(),
            capture: Capture::Nothing,
        }
    }
}

/// Paths that are not audited: liveness, capabilities, discovery and keys —
/// public, and without patient data.
pub fn unaudited(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/metadata" | "/auth/jwks" | "/$ledger-public-key"
    ) || path.starts_with("/.well-known/")
}

fn patient_of(rtype: &str, id: &str) -> Vec<String> {
    if rtype == "Patient" {
        vec![id.to_string()]
    } else {
        Vec::new()
    }
}

/// Classifies a request by method, matched route and path segments.
pub fn classify(
    method: &Method,
    route: &str,
    segments: &[&str],
    query: Option<&str>,
) -> Classified {
    let seg = |i: usize| segments.get(i).copied().unwrap_or("");
    let query_text = query.filter(|q| !q.is_empty()).map(str::to_string);
    let m = method.as_str();
    match route {
        "/auth/login" => Classified {
            category: Category::Login,
            capture: Capture::Form,
            ..Classified::rest("login", Action::Execute)
        },
        "/auth/token" => Classified {
            category: Category::TokenIssue,
            capture: Capture::Form,
            ..Classified::rest("token", Action::Execute)
        },
        "/auth/revoke" => Classified {
            category: Category::Logout,
            ..Classified::rest("logout", Action::Execute)
        },
        "/{rtype}/{id}" => {
            let (interaction, action) = match m {
                "GET" | "HEAD" => ("read", Action::Read),
                "PUT" => ("update", Action::Update),
                "PATCH" => ("patch", Action::Update),
                "DELETE" => ("delete", Action::Delete),
                _ => ("operation", Action::Execute),
            };
            let mut patients = patient_of(seg(0), seg(1));
            let capture = if patients.is_empty() && action != Action::Delete {
                Capture::ResponseResource
            } else {
                Capture::Nothing
            };
            if seg(0) == "Patient" && action == Action::Delete {
                patients = vec![seg(1).to_string()];
            }
            Classified {
                resource: Some(format!("{}/{}", seg(0), seg(1))),
                patients,
                capture,
                ..Classified::rest(interaction, action)
            }
        }
        "/{rtype}/{id}/_history/{vid}" => {
            let patients = patient_of(seg(0), seg(1));
            Classified {
                resource: Some(format!("{}/{}/_history/{}", seg(0), seg(1), seg(3))),
                capture: if patients.is_empty() {
                    Capture::ResponseResource
                } else {
                    Capture::Nothing
                },
                patients,
                ..Classified::rest("vread", Action::Read)
            }
        }
        "/{rtype}/{id}/_history/{vid}/$ledger-proof" => Classified {
            resource: Some(format!("{}/{}/_history/{}", seg(0), seg(1), seg(3))),
            operation: Some("$ledger-proof".into()),
            patients: patient_of(seg(0), seg(1)),
            ..Classified::rest("operation", Action::Execute)
        },
        "/{rtype}/{id}/_history" => Classified {
            resource: Some(format!("{}/{}", seg(0), seg(1))),
            query: query_text,
            patients: patient_of(seg(0), seg(1)),
            ..Classified::rest("history-instance", Action::Read)
        },
        "/{rtype}/_history" => Classified {
            query: query_text,
            ..Classified::rest("history-type", Action::Read)
        },
        "/_history" => Classified {
            query: query_text,
            ..Classified::rest("history-system", Action::Read)
        },
        "/{rtype}" => match m {
            "POST" => Classified {
                capture: Capture::ResponseResource,
                ..Classified::rest("create", Action::Create)
            },
            "PUT" => Classified {
                query: query_text,
                capture: Capture::ResponseResource,
                ..Classified::rest("update", Action::Update)
            },
            "DELETE" => Classified {
                query: query_text,
                ..Classified::rest("delete", Action::Delete)
            },
            _ => Classified {
                query: Some(format!("{}?{}", seg(0), query.unwrap_or(""))),
                ..Classified::rest("search-type", Action::Read)
            },
        },
        "/{rtype}/_search" => Classified {
            query: Some(format!("{}?{}", seg(0), query.unwrap_or(""))),
            ..Classified::rest("search-type", Action::Read)
        },
        "/" if m == "POST" => Classified {
            capture: Capture::Bundle,
            ..Classified::rest("transaction", Action::Execute)
        },
        "/" | "/_search" => Classified {
            query: Some(format!("?{}", query.unwrap_or(""))),
            ..Classified::rest("search-system", Action::Read)
        },
        "/Patient/{id}/$access-log" => Classified {
            operation: Some("$access-log".into()),
            patients: vec![seg(1).to_string()],
            resource: Some(format!("Patient/{}", seg(1))),
            ..Classified::rest("operation", Action::Execute)
        },
        "/{ctype}/{cid}/{rtype}" => {
            let patients = patient_of(seg(0), seg(1));
            if seg(2).starts_with('$') {
                // Emergency access and record exports are their own BALP
                // categories (ONC 170.315(d)(2) lists both).
                let (category, capture) = match (m, seg(2)) {
                    ("POST", "$break-glass") => (Category::Emergency, Capture::Reason),
                    ("GET" | "POST", "$everything") => (Category::Export, Capture::Nothing),
                    _ => (Category::Rest, Capture::Nothing),
                };
                Classified {
                    category,
                    capture,
                    operation: Some(seg(2).to_string()),
                    resource: Some(format!("{}/{}", seg(0), seg(1))),
                    patients,
                    query: query_text,
                    ..Classified::rest("operation", Action::Execute)
                }
            } else {
                Classified {
                    query: Some(format!(
                        "{}/{}/{}?{}",
                        seg(0),
                        seg(1),
                        seg(2),
                        query.unwrap_or("")
                    )),
                    patients,
                    ..Classified::rest("search-type", Action::Read)
                }
            }
        }
        _ => Classified {
            operation: segments
                .iter()
                .find(|s| s.starts_with('$'))
                .map(|s| s.to_string())
                .or_else(|| Some(format!("{m} /{}", segments.join("/")))),
            ..Classified::rest("operation", Action::Execute)
        },
    }
}
