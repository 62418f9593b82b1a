//! `concord fhirpath 'EXPRESSION' --input resource.json`: evaluate a FHIRPath
//! expression and print the result collection as a JSON array.

use serde_json::Value;

use crate::cli::FhirPathArgs;

pub fn run(args: FhirPathArgs) -> Result<(), String> {
    let expression = concord_fhirpath::compile(&args.expression)
        .map_err(|e| format!("invalid FHIRPath expression: {e}"))?;
    let resource: Value = match &args.input {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_slice(&text)
                .map_err(|e| format!("{} is not JSON: {e}", path.display()))?
        }
        None => Value::Null,
    };
    let items = expression
        .evaluate(&resource)
        .map_err(|e| format!("cannot evaluate: {e}"))?;
    let out: Vec<Value> = items.iter().map(|i| i.to_json()).collect();
    let text = serde_json::to_string_pretty(&Value::Array(out))
        .map_err(|e| format!("cannot print the result: {e}"))?;
    println!("{text}");
    Ok(())
}
