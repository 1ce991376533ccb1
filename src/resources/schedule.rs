//! A dataflow's schedule (`scheduleParams`): when it starts, how often it
//! runs ([`Frequency`] and an interval), whether the first run takes all
//! existing data. The one place that decides how a schedule is written on
//! the wire and how the service's answers are read back.
//!
//! [`Frequency`]: crate::Frequency

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::error::{named_enum, Error};
use crate::wire::read;

/// Smallest interval for [`Frequency::Minute`]: a flow runs at most every
/// 15 minutes.
pub const MIN_MINUTE_INTERVAL: u32 = 15;
/// Largest interval the service stores: the flow spec's schedule schema
/// types it as an integer, and Flow Service's integers are 32-bit signed
/// (`format: int32`).
const MAX_INTERVAL: u32 = i32::MAX as u32;

/// 10000-01-01T00:00:00Z in epoch seconds: start times must be before it
/// (a larger value is almost certainly milliseconds).
pub(crate) const START_TIME_LIMIT: i64 = 253_402_300_800;

/// How often a scheduled dataflow runs (with an interval, see
/// [`Schedule::every`]). A flow that runs once is [`Schedule::once`].
/// Written (`as_str`, `Display`) as the service spells it; read (`FromStr`)
/// ignoring case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Frequency {
    /// Every `interval` minutes (`interval` at least 15).
    Minute,
    /// Every `interval` hours.
    Hour,
    /// Every `interval` days.
    Day,
    /// Every `interval` weeks.
    Week,
}

named_enum! {
    /// The wire word: `minute`, `hour`, `day`, `week`.
    Frequency, str::eq_ignore_ascii_case, "must be one of minute, hour, day, week";
    Minute => "minute";
    Hour => "hour";
    Day => "day";
    Week => "week";
}

impl Frequency {
    /// The smallest interval the service takes for this frequency: 15 for
    /// minutes, 1 otherwise.
    pub fn min_interval(&self) -> u32 {
        match self {
            Frequency::Minute => MIN_MINUTE_INTERVAL,
            _ => 1,
        }
    }
}

/// A dataflow's schedule: a start time (epoch **seconds**) and either one
/// run, or a run every `interval` minutes/hours/days/weeks with or without
/// backfill. A value of this type always meets the service's rules for
/// the frequency and interval; the start time is checked when it is sent
/// (it must be after 1970 and before the year 10000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a schedule does nothing until a flow or a pipeline takes it"]
pub struct Schedule {
    start_time: i64,
    repeat: Option<Repeat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Repeat {
    frequency: Frequency,
    interval: u32,
    backfill: bool,
}

impl Schedule {
    /// One run, at `start_time` (epoch seconds). Sent as `startTime` and
    /// `frequency: "once"` only: the service refuses an interval or a
    /// backfill flag with `once`.
    pub fn once(start_time: i64) -> Schedule {
        Schedule {
            start_time,
            repeat: None,
        }
    }

    /// A run every `interval` units of `frequency`, the first at
    /// `start_time` (epoch seconds), with backfill (the first run takes the
    /// data that is already there; see
    /// [`without_backfill`](Self::without_backfill)).
    ///
    /// `interval` must be at least 15 for [`Frequency::Minute`] and at
    /// least 1 otherwise, and at most 2 147 483 647 (the service's 32-bit
    /// integer); `start_time` must be after 1970 and before the
    /// year 10000. Otherwise [`Error::InvalidInput`] names the field and
    /// the rule.
    pub fn every(frequency: Frequency, interval: u32, start_time: i64) -> Result<Schedule, Error> {
        let min = frequency.min_interval();
        if interval < min {
            return Err(Error::invalid_input(
                "interval",
                format!(
                    "must be at least {min} for frequency `{frequency}` (got {interval}): \
                     the service runs a flow at most every 15 minutes"
                ),
            ));
        }
        if interval > MAX_INTERVAL {
            return Err(Error::invalid_input(
                "interval",
                format!(
                    "must be at most {MAX_INTERVAL} (got {interval}): the service stores it \
                     as a 32-bit integer"
                ),
            ));
        }
        check_start_time("start_time", start_time)?;
        Ok(Schedule {
            start_time,
            repeat: Some(Repeat {
                frequency,
                interval,
                backfill: true,
            }),
        })
    }

    /// The same schedule without backfill: the first run takes only the
    /// data that changed after the start time. Has no effect on a
    /// [`once`](Self::once) schedule (the service takes no backfill flag
    /// with `once`).
    pub fn without_backfill(mut self) -> Schedule {
        if let Some(r) = &mut self.repeat {
            r.backfill = false;
        }
        self
    }

    /// The first run's time, epoch seconds.
    pub fn start_time(&self) -> i64 {
        self.start_time
    }

    /// The frequency; `None` for a flow that runs once.
    pub fn frequency(&self) -> Option<Frequency> {
        self.repeat.map(|r| r.frequency)
    }

    /// The interval; `None` for a flow that runs once.
    pub fn interval(&self) -> Option<u32> {
        self.repeat.map(|r| r.interval)
    }

    /// Whether the first run takes the existing data; `None` for a flow
    /// that runs once.
    pub fn backfill(&self) -> Option<bool> {
        self.repeat.map(|r| r.backfill)
    }

    /// True for a flow that runs once.
    pub fn is_once(&self) -> bool {
        self.repeat.is_none()
    }

    /// The `scheduleParams` members, in order: `startTime`, `frequency`,
    /// then `interval` and `backfill` unless the flow runs once.
    ///
    /// THE ONE PLACE for a choice Adobe's sources disagree on: the flow
    /// spec's schedule schema (`scheduleSpec`) types `startTime` and
    /// `interval` as integers and `backfill` as a boolean, while the
    /// tutorials' examples send strings (`"startTime": "1625040887"`,
    /// `"interval": "15"`, `"backfill": "true"`). We send what the schema
    /// says: numbers and a boolean. [`Schedule::from_wire`] reads both.
    pub(crate) fn wire_members(&self) -> Vec<(&'static str, Member)> {
        // The `frequency` wire word (`once` included).
        let frequency = self.frequency().map_or("once", |f| f.as_str());
        let mut members = vec![
            ("startTime", Member::Seconds(self.start_time)),
            ("frequency", Member::Word(frequency)),
        ];
        if let Some(r) = self.repeat {
            members.push(("interval", Member::Interval(r.interval)));
            members.push(("backfill", Member::Flag(r.backfill)));
        }
        members
    }

    /// The `scheduleParams` object: [`wire_members`](Self::wire_members),
    /// in order.
    pub(crate) fn to_wire(self) -> ScheduleParams {
        ScheduleParams(self.wire_members())
    }

    /// Reads `scheduleParams` leniently (numbers or numeric strings, a
    /// boolean or `"true"`/`"false"`, any case for the frequency). `None`
    /// when it is not a schedule by the service's rules (an unknown
    /// frequency, an interval below the minimum, `once` with an
    /// interval or backfill). A missing `backfill` is `true`, the schema's
    /// default.
    pub(crate) fn from_wire(v: &Value) -> Option<Schedule> {
        let o = v.as_object()?;
        let present = |k: &str| o.get(k).is_some_and(|v| !v.is_null());
        // The start time is kept as the service holds it, even one this
        // crate would not send (milliseconds, say, or none at all: 0): it
        // is set at creation and never compared, so an odd one must not
        // hide the rest of the schedule.
        let start_time = o.get("startTime").and_then(read::int).unwrap_or(0);
        let word = o.get("frequency")?.as_str()?;
        if word.eq_ignore_ascii_case("once") {
            if present("interval") || present("backfill") {
                return None;
            }
            return Some(Schedule::once(start_time));
        }
        // `once` is not a frequency: it is `Schedule::once`, read above.
        let frequency: Frequency = word.parse().ok()?;
        let interval = u32::try_from(read::int(o.get("interval")?)?).ok()?;
        let mut schedule = Schedule::every(frequency, interval, 1).ok()?;
        schedule.start_time = start_time;
        match o.get("backfill").filter(|b| !b.is_null()) {
            Some(b) if !read::bool(b)? => Some(schedule.without_backfill()),
            _ => Some(schedule),
        }
    }
}

/// The value of one `scheduleParams` member, as sent: numbers and a
/// boolean (see [`Schedule::wire_members`]), each serialized as itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum Member {
    /// `startTime`, epoch seconds.
    Seconds(i64),
    /// `frequency`.
    Word(&'static str),
    /// `interval`.
    Interval(u32),
    /// `backfill`.
    Flag(bool),
}

/// The `scheduleParams` object of a request body.
#[derive(Debug)]
pub(crate) struct ScheduleParams(Vec<(&'static str, Member)>);

impl Serialize for ScheduleParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

/// A start time the service takes: epoch seconds after 1970 and before the
/// year 10000.
pub(crate) fn check_start_time(field: &str, start_time: i64) -> Result<(), Error> {
    if !(1..START_TIME_LIMIT).contains(&start_time) {
        return Err(Error::invalid_input(
            field,
            format!(
                "must be epoch seconds after 1970 and before the year 10000 (got {start_time}; \
                 milliseconds are 1000 times too large)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_rule(e: Error) -> (String, String) {
        match e {
            Error::InvalidInput { field, rule } => (field, rule),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn frequency_words_are_lower_case_and_parse_in_any_case() {
        for f in [
            Frequency::Minute,
            Frequency::Hour,
            Frequency::Day,
            Frequency::Week,
        ] {
            assert_eq!(f.as_str().parse::<Frequency>().ok(), Some(f));
            assert_eq!(f.as_str().to_uppercase().parse::<Frequency>().ok(), Some(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!("Hour".parse::<Frequency>().ok(), Some(Frequency::Hour));
        assert_eq!("once".parse::<Frequency>().ok(), None);
        assert_eq!("hourly".parse::<Frequency>().ok(), None);
        assert_eq!("".parse::<Frequency>().ok(), None);
    }

    #[test]
    fn interval_rules_name_the_field_and_the_rule() {
        let (field, rule) = field_rule(Schedule::every(Frequency::Minute, 14, 1).unwrap_err());
        assert_eq!(field, "interval");
        assert!(
            rule.contains("at least 15") && rule.contains("minute"),
            "{rule}"
        );
        assert!(Schedule::every(Frequency::Minute, 15, 1).is_ok());
        for f in [Frequency::Hour, Frequency::Day, Frequency::Week] {
            let (field, rule) = field_rule(Schedule::every(f, 0, 1).unwrap_err());
            assert_eq!(field, "interval");
            assert!(rule.contains("at least 1"), "{rule}");
            assert!(Schedule::every(f, 1, 1).is_ok());
        }
        assert!(Schedule::every(Frequency::Week, 2_147_483_647, 1).is_ok());
        for too_big in [2_147_483_648, u32::MAX] {
            let (field, rule) =
                field_rule(Schedule::every(Frequency::Week, too_big, 1).unwrap_err());
            assert_eq!(field, "interval");
            assert!(rule.contains("at most 2147483647"), "{rule}");
        }
        let (field, _) = field_rule(Schedule::every(Frequency::Hour, 1, 0).unwrap_err());
        assert_eq!(field, "start_time");
        let (field, rule) =
            field_rule(Schedule::every(Frequency::Hour, 1, 1_764_230_400_000).unwrap_err());
        assert_eq!(field, "start_time");
        assert!(rule.contains("milliseconds"), "{rule}");
    }

    #[test]
    fn once_has_no_interval_and_no_backfill() {
        let once = Schedule::once(1_764_230_400);
        assert!(once.is_once());
        assert_eq!(
            (once.frequency(), once.interval(), once.backfill()),
            (None, None, None)
        );
        assert_eq!(once.without_backfill(), once);
        assert_eq!(
            serde_json::to_value(once.to_wire()).unwrap(),
            json!({"startTime": 1_764_230_400, "frequency": "once"})
        );
    }

    #[test]
    fn every_sends_numbers_and_a_boolean() {
        let s = Schedule::every(Frequency::Hour, 1, 1_764_230_400).unwrap();
        assert_eq!(s.backfill(), Some(true));
        assert_eq!(
            serde_json::to_value(s.to_wire()).unwrap(),
            json!({"startTime": 1_764_230_400, "frequency": "hour", "interval": 1, "backfill": true})
        );
        let s = s.without_backfill();
        assert_eq!(s.backfill(), Some(false));
        assert_eq!(
            serde_json::to_value(s.to_wire()).unwrap()["backfill"],
            json!(false)
        );
        assert_eq!(s.start_time(), 1_764_230_400);
        assert_eq!(s.interval(), Some(1));
        assert_eq!(s.frequency(), Some(Frequency::Hour));
    }

    #[test]
    fn answers_are_read_as_strings_or_numbers() {
        let want = Schedule::every(Frequency::Minute, 15, 1_625_040_887)
            .unwrap()
            .without_backfill();
        for v in [
            json!({"startTime": 1_625_040_887, "frequency": "minute", "interval": 15, "backfill": false}),
            json!({"startTime": "1625040887", "frequency": "MINUTE", "interval": "15", "backfill": "false"}),
        ] {
            assert_eq!(Schedule::from_wire(&v), Some(want), "{v}");
        }
        // backfill defaults to true; once stays once.
        let v = json!({"startTime": 5, "frequency": "day", "interval": 2});
        assert_eq!(Schedule::from_wire(&v).unwrap().backfill(), Some(true));
        let v = json!({"startTime": "5", "frequency": "once"});
        assert_eq!(Schedule::from_wire(&v), Some(Schedule::once(5)));
        // Not a schedule by the rules: None, never a panic.
        for v in [
            json!(null),
            json!([]),
            json!("hour"),
            json!({}),
            json!({"startTime": 1, "frequency": "hourly", "interval": 1}),
            json!({"startTime": 1, "frequency": 3, "interval": 1}),
            json!({"startTime": 1, "frequency": "hour"}),
            json!({"startTime": 1, "frequency": "hour", "interval": 0}),
            json!({"startTime": 1, "frequency": "minute", "interval": 14}),
            json!({"startTime": 1, "frequency": "hour", "interval": -1}),
            json!({"startTime": 1, "frequency": "hour", "interval": 4_294_967_296_i64}),
            json!({"startTime": 1, "frequency": "hour", "interval": 1, "backfill": "maybe"}),
            json!({"startTime": 1, "frequency": "once", "interval": 1}),
            json!({"startTime": 1, "frequency": "once", "backfill": true}),
        ] {
            assert_eq!(Schedule::from_wire(&v), None, "{v}");
        }
        // An odd start time (missing, zero, negative, milliseconds,
        // garbled) does not hide the rest: it is kept as 0 or as sent, and
        // never compared.
        for (v, start) in [
            (json!({"frequency": "hour", "interval": 1}), 0),
            (
                json!({"startTime": 0, "frequency": "hour", "interval": 1}),
                0,
            ),
            (
                json!({"startTime": -5, "frequency": "hour", "interval": 1}),
                -5,
            ),
            (
                json!({"startTime": 1.5, "frequency": "hour", "interval": 1}),
                0,
            ),
            (
                json!({"startTime": "soon", "frequency": "hour", "interval": 1}),
                0,
            ),
            (
                json!({"startTime": 1_764_230_400_000_i64, "frequency": "hour", "interval": 1}),
                1_764_230_400_000,
            ),
        ] {
            let s = Schedule::from_wire(&v).unwrap_or_else(|| panic!("{v}"));
            assert_eq!(
                (s.start_time(), s.frequency(), s.interval()),
                (start, Some(Frequency::Hour), Some(1)),
                "{v}"
            );
        }
        for v in [
            json!({"startTime": START_TIME_LIMIT, "frequency": "once"}),
            json!({"startTime": u64::MAX, "frequency": "once"}),
        ] {
            assert!(Schedule::from_wire(&v).is_some_and(|s| s.is_once()), "{v}");
        }
    }
}
