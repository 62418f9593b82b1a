use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&args[0]).unwrap_or(args[0].clone())).unwrap();
    let e = concord_fhirpath::compile(&args[1]).unwrap();
    let _ = e.evaluate(&v);
    let t = Instant::now();
    let mut out = None;
    for _ in 0..1000 {
        out = Some(format!("{:?}", e.evaluate(&v).map(|r| r.iter().map(|i| i.to_json()).collect::<Vec<_>>())));
    }
    println!("{:?} per eval: {}", t.elapsed() / 1000, out.unwrap_or_default());
}
