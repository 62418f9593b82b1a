fn main() {
    for a in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&a).unwrap_or(a);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for i in concord_validation::validate_resource(&v) {
            println!("{:?} {} @ {:?}", i.severity, i.diagnostics, i.expression);
        }
    }
}
