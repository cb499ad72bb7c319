//! The `settings:` section: the mass-removal brake and expiry reminders, with defaults.

use std::time::Duration;

use serde::Deserialize;

use crate::rules::grant::is_numeric_id;

/// Settings from the rule files; every field has a default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleSettings {
    pub brake: BrakeSettings,
    pub reminder: ReminderSettings,
}

/// Hold removals for confirmation when more than `max_people`, or more than `max_percent` of
/// the people on record, would lose access within `window`.
#[derive(Clone, Debug, PartialEq)]
pub struct BrakeSettings {
    pub max_people: usize,
    pub max_percent: f64,
    pub window: Duration,
}

/// Remind `before` a time-bound share ends, with a task in `list_id` when given.
#[derive(Clone, Debug, PartialEq)]
pub struct ReminderSettings {
    pub before: Duration,
    pub list_id: Option<String>,
}

impl Default for BrakeSettings {
    fn default() -> BrakeSettings {
        BrakeSettings {
            max_people: 10,
            max_percent: 5.0,
            window: Duration::from_secs(10 * 60),
        }
    }
}

impl Default for ReminderSettings {
    fn default() -> ReminderSettings {
        ReminderSettings {
            before: Duration::from_secs(7 * DAY),
            list_id: None,
        }
    }
}

const DAY: u64 = 24 * 60 * 60;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    #[serde(default)]
    brake: RawBrake,
    #[serde(default)]
    reminder: RawReminder,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrake {
    max_people: Option<usize>,
    max_percent: Option<f64>,
    window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminder {
    before: Option<String>,
    list_id: Option<String>,
}

/// A setting that is out of range: its path under `settings` and the reason.
pub type SettingError = (&'static [&'static str], String);

impl RawSettings {
    /// Checks the values and fills in the defaults.
    pub fn resolve(self) -> Result<RuleSettings, SettingError> {
        let defaults = RuleSettings::default();

        let max_percent = self.brake.max_percent.unwrap_or(defaults.brake.max_percent);
        if !(max_percent > 0.0 && max_percent <= 100.0) {
            let reason = "`max_percent` must be more than 0 and at most 100".to_owned();
            return Err((&["brake", "max_percent"], reason));
        }
        let window = match self.brake.window {
            Some(text) => parse_duration(&text).map_err(|e| (&["brake", "window"][..], e))?,
            None => defaults.brake.window,
        };
        let before = match self.reminder.before {
            Some(text) => parse_duration(&text).map_err(|e| (&["reminder", "before"][..], e))?,
            None => defaults.reminder.before,
        };

        let list_id = self.reminder.list_id.map(|id| id.trim().to_owned());
        if let Some(id) = list_id.as_deref().filter(|id| !is_numeric_id(id)) {
            let reason = format!("`list_id` must be a numeric ClickUp id, not `{id}`");
            return Err((&["reminder", "list_id"], reason));
        }

        Ok(RuleSettings {
            brake: BrakeSettings {
                max_people: self.brake.max_people.unwrap_or(defaults.brake.max_people),
                max_percent,
                window,
            },
            reminder: ReminderSettings { before, list_id },
        })
    }
}

/// Parses `30s`, `10m`, `12h`, `7d`, `2w` and sums like `1h30m`; zero is refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let refused = || format!("`{text}` is not a duration such as 30s, 10m, 12h, 7d or 1h30m");
    let mut seconds: u64 = 0;
    let mut digits = String::new();

    for character in text.trim().chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 60 * 60,
            'd' => DAY,
            'w' => 7 * DAY,
            _ => return Err(refused()),
        };
        let amount: u64 = digits.parse().map_err(|_| refused())?;
        seconds = amount
            .checked_mul(unit)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(refused)?;
        digits.clear();
    }

    match (digits.is_empty(), seconds) {
        (false, _) | (true, 0) => Err(refused()),
        (true, seconds) => Ok(Duration::from_secs(seconds)),
    }
}
