//! Latency percentiles, process memory and process CPU time.

use std::time::Duration;

/// p-th percentile (0..=100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Peak resident memory of this process (VmHWM), in MiB, where /proc has it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU time (user + system, every thread) this process has used so far,
/// where /proc has it: `/proc/self/stat` fields 14 and 15, in clock ticks
/// of 1/100 s (Linux's `USER_HZ`).
pub fn process_cpu() -> Option<Duration> {
    parse_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// CPU time per unit of work since `before` ([`process_cpu`]), in µs: server
/// and client share the benchmark's process, so both are counted.
pub fn cpu_micros_each(before: Option<Duration>, units: usize) -> Option<f64> {
    let used = process_cpu()?.checked_sub(before?)?;
    (units > 0).then(|| used.as_secs_f64() * 1e6 / units as f64)
}

fn parse_cpu(stat: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces: count after its `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "4242 (tokio rt) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 8 0";
        assert_eq!(parse_cpu(stat), Some(Duration::from_millis(3_250)));
        assert_eq!(parse_cpu("garbage"), None);
        assert!(process_cpu().is_some());
    }

    #[test]
    fn percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(51));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
