//! Durations as operators write them (`500ms`, `10s`, `1m`, `10m`, `1h`), and the retry tiers
//! built from them (`RETRY_TIERS=10s,1m,10m,1h`).

use std::{fmt, str::FromStr, time::Duration};

/// Most tiers a deployment may configure (each is one queue).
const MAX_TIERS: usize = 10;

/// Why a duration or a tier list was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("{0:?} is not a duration (a whole number with ms, s, m or h, e.g. 10s)")]
    Unreadable(String),
    #[error("{0:?} is zero; a duration must be positive")]
    Zero(String),
    #[error("at most {MAX_TIERS} retry tiers")]
    TooMany,
    #[error("retry tiers cannot be empty")]
    Empty,
}

/// Reads `500ms`, `10s`, `1m`, `10m`, `1h` (a whole number and a unit).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let unreadable = || DurationError::Unreadable(text.to_string());
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(unreadable)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| unreadable())?;
    let millis = match unit {
        "ms" => Some(number),
        "s" => number.checked_mul(1_000),
        "m" => number.checked_mul(60_000),
        "h" => number.checked_mul(3_600_000),
        _ => None,
    }
    .filter(|ms| *ms <= u64::from(u32::MAX))
    .ok_or_else(unreadable)?;
    if millis == 0 {
        return Err(DurationError::Zero(text.to_string()));
    }
    Ok(Duration::from_millis(millis))
}

/// The shortest exact spelling of a duration (`1h`, `10m`, `10s`, `1500ms`): queue names use it.
pub fn duration_label(duration: Duration) -> String {
    let ms = duration.as_millis();
    match ms {
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

/// The delays a transiently failed message waits before each new attempt, in order; when
/// they are used up the message is dead-lettered (`retries_exhausted`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryTiers(Vec<Duration>);

impl RetryTiers {
    pub fn new(tiers: Vec<Duration>) -> Result<Self, DurationError> {
        match tiers.len() {
            0 => Err(DurationError::Empty),
            n if n > MAX_TIERS => Err(DurationError::TooMany),
            _ => Ok(Self(tiers)),
        }
    }

    pub fn tiers(&self) -> &[Duration] {
        &self.0
    }
}

impl Default for RetryTiers {
    fn default() -> Self {
        Self(
            [10, 60, 600, 3600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl FromStr for RetryTiers {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let tiers = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(tiers)
    }
}

impl fmt::Display for RetryTiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<String> = self.0.iter().map(|d| duration_label(*d)).collect();
        f.write_str(&labels.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_and_refused() {
        let cases = [
            ("500ms", Ok(Duration::from_millis(500))),
            ("10s", Ok(Duration::from_secs(10))),
            (" 1m ", Ok(Duration::from_secs(60))),
            ("1h", Ok(Duration::from_secs(3600))),
            ("0s", Err(DurationError::Zero("0s".into()))),
            ("10", Err(DurationError::Unreadable("10".into()))),
            ("s", Err(DurationError::Unreadable("s".into()))),
            ("1.5s", Err(DurationError::Unreadable("1.5s".into()))),
            ("10d", Err(DurationError::Unreadable("10d".into()))),
            ("-1s", Err(DurationError::Unreadable("-1s".into()))),
            (
                "9999999h",
                Err(DurationError::Unreadable("9999999h".into())),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), expected, "{text}");
        }
    }

    #[test]
    fn labels_are_the_shortest_exact_spelling() {
        let cases = [
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(600), "10m"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_millis(1500), "1500ms"),
        ];
        for (duration, label) in cases {
            assert_eq!(duration_label(duration), label);
        }
    }

    #[test]
    fn tier_lists_are_read_and_refused() {
        let secs = |list: &[u64]| list.iter().map(|s| Duration::from_secs(*s)).collect();
        let cases = [
            ("10s,1m,10m,1h", Ok(RetryTiers(secs(&[10, 60, 600, 3600])))),
            ("1s, 2s", Ok(RetryTiers(secs(&[1, 2])))),
            ("", Err(DurationError::Empty)),
            ("1s,x", Err(DurationError::Unreadable("x".into()))),
            (
                "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
                Err(DurationError::TooMany),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<RetryTiers>(), expected, "{text}");
        }
        assert_eq!(RetryTiers::default().to_string(), "10s,1m,10m,1h");
    }
}
