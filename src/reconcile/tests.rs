use super::*;

struct Counted(u64, u64);

impl Report for Counted {
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("done", self.0), ("failed", self.1)]
    }

    fn failures(&self) -> u64 {
        self.1
    }
}

#[test]
fn a_pass_fails_when_a_part_failed_or_left_something_unmended() {
    let ok = || -> PartResult { Ok(Box::new(Counted(2, 0))) };
    let unmended = || -> PartResult { Ok(Box::new(Counted(1, 1))) };
    let cases: Vec<(Summary, bool, &str)> = vec![
        (
            Summary {
                parts: vec![(Part::Tasks, ok()), (Part::Webhooks, ok())],
            },
            false,
            "tasks: done=2 failed=0\nwebhooks: done=2 failed=0\n",
        ),
        (
            Summary {
                parts: vec![(Part::Webhooks, unmended())],
            },
            true,
            "webhooks: done=1 failed=1\n",
        ),
        (
            Summary {
                parts: vec![(Part::Drift, Err(ReconcileError::NotBuilt("drift")))],
            },
            true,
            "drift: failed: drift reconciliation is not built yet\n",
        ),
        (Summary { parts: vec![] }, false, ""),
    ];
    for (summary, failed, text) in cases {
        assert_eq!(summary.failed(), failed, "{text}");
        assert_eq!(summary.to_string(), text);
    }
}

#[test]
fn intervals_are_seconds_or_have_a_unit_and_zero_or_off_turn_the_pass_off() {
    let minutes = |m: u64| Interval(Some(Duration::from_secs(m * 60)));
    let cases = [
        ("5m", Ok(minutes(5))),
        ("300", Ok(minutes(5))),
        ("300s", Ok(minutes(5))),
        ("1h", Ok(minutes(60))),
        ("0", Ok(Interval::OFF)),
        ("0m", Ok(Interval::OFF)),
        ("off", Ok(Interval::OFF)),
        ("OFF", Ok(Interval::OFF)),
        ("5 minutes", Err(())),
        ("m", Err(())),
        ("-1", Err(())),
        ("", Err(())),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<Interval>().map_err(|_| ()), expected, "{text}");
    }
}
