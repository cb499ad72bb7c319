//! One area of `access_requests.areas`, checked: its object, levels, durations, expressions,
//! steps, timeout and where it is decided.

use serde::Deserialize;

use super::{invalid, nearest, HERE};
use crate::rules::{
    approval::{describe, ApprovalStep, ApproverRef, Area, DecideIn, OnTimeout, Timeout},
    expr::{Cel, Expr, Scope},
    file::{mapping::object_of, parse_duration, RulesError, Source, Step},
    grant::Level,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArea {
    name: String,
    object: RawObject,
    #[serde(default)]
    levels: Vec<Level>,
    max_duration: Option<String>,
    may_ask: Option<String>,
    #[serde(default)]
    approvers: Vec<String>,
    #[serde(default)]
    steps: Vec<RawStep>,
    timeout: Option<RawTimeout>,
    decide_in: DecideIn,
    iam_prd: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObject {
    space: Option<String>,
    folder: Option<String>,
    list: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: String,
    approvers: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeout {
    remind_after: String,
    after: String,
    then: RawThen,
    #[serde(default)]
    escalate_to: Vec<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawThen {
    Escalate,
    Expire,
}

/// The path of the name of `areas[index]`.
pub fn name_path(index: usize) -> [Step<'static>; 4] {
    [
        HERE,
        Step::Key("areas"),
        Step::Index(index),
        Step::Key("name"),
    ]
}

/// An error about the area at `areas[index]`, placed at `rest` inside it.
pub fn error(
    source: &Source,
    index: usize,
    name: &str,
    rest: &[Step<'static>],
    reason: String,
) -> RulesError {
    let at = nearest(source, &Checker::path_of(index, rest));
    let area = name.to_owned();
    RulesError::Area { at, area, reason }
}

impl RawArea {
    /// Checks the area written at `areas[index]` of `source`.
    pub fn check(self, source: &Source, index: usize, cel: &Cel) -> Result<Area, RulesError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            let reason = "an area needs a non-empty `name`".to_owned();
            return Err(invalid(source, &name_path(index), reason));
        }
        let checker = Checker {
            source,
            index,
            name,
            cel,
        };

        let object = &self.object;
        let ids = [&object.space, &object.folder, &object.list].map(Option::as_deref);
        let object = object_of("an `object`", ids).map_err(|(key, reason)| {
            let at: Vec<Step> = [Step::Key("object")]
                .into_iter()
                .chain(key.map(Step::Key))
                .collect();
            checker.fail(&at, reason)
        })?;

        let mut levels: Vec<Level> = Vec::new();
        for level in self.levels {
            if !levels.contains(&level) {
                levels.push(level);
            }
        }
        if levels.is_empty() {
            let reason = "an area needs at least one level in `levels`";
            return Err(checker.fail(&[Step::Key("levels")], reason));
        }
        let max_duration = self.max_duration.as_deref();
        let max_duration =
            max_duration.map(|text| checker.duration(&[Step::Key("max_duration")], text));

        let may_ask = self
            .may_ask
            .as_deref()
            .map(|text| checker.compile(&[Step::Key("may_ask")], "`may_ask`", text));
        let approvers = checker.approvers(&[Step::Key("approvers")], &self.approvers)?;
        let steps = checker.steps(self.steps)?;
        let timeout = self
            .timeout
            .map(|timeout| checker.timeout(timeout))
            .transpose()?;

        let iam_prd = self.iam_prd.map(|prd| prd.trim().to_owned());
        if iam_prd.as_deref() == Some("") {
            return Err(checker.fail(&[Step::Key("iam_prd")], "`iam_prd` must not be empty"));
        }
        if self.decide_in == DecideIn::Iam && iam_prd.is_none() {
            return Err(checker.fail(
                &[Step::Key("decide_in")],
                "`decide_in: iam` needs an `iam_prd`",
            ));
        }
        let escalates = timeout
            .as_ref()
            .is_some_and(|t| matches!(t.then, OnTimeout::Escalate { .. }));
        if self.decide_in == DecideIn::Iam && escalates {
            return Err(checker.fail(
                &[Step::Key("timeout")],
                "`decide_in: iam` cannot escalate: the IAM's workflow chooses its approvers; use `then: expire`",
            ));
        }

        Ok(Area {
            name: checker.name,
            object,
            levels,
            max_duration: max_duration.transpose()?,
            decide_in: self.decide_in,
            iam_prd,
            steps,
            timeout,
            approvers,
            may_ask: may_ask.transpose()?,
        })
    }
}

/// Checks the parts of one area, placing each failure on its node.
struct Checker<'s, 'a> {
    source: &'s Source<'a>,
    index: usize,
    name: String,
    cel: &'s Cel,
}

impl Checker<'_, '_> {
    fn path_of(index: usize, rest: &[Step<'static>]) -> Vec<Step<'static>> {
        let area = [HERE, Step::Key("areas"), Step::Index(index)];
        area.into_iter().chain(rest.iter().copied()).collect()
    }

    fn fail(&self, rest: &[Step<'static>], reason: impl Into<String>) -> RulesError {
        error(self.source, self.index, &self.name, rest, reason.into())
    }

    fn compile(&self, rest: &[Step<'static>], what: &str, text: &str) -> Result<Expr, RulesError> {
        self.cel
            .compile_in(text, Scope::Area)
            .map_err(|error| RulesError::Area {
                at: self
                    .source
                    .expr_pos(&Checker::path_of(self.index, rest), &error),
                area: self.name.clone(),
                reason: format!("{what} does not compile: {error}"),
            })
    }

    fn duration(&self, rest: &[Step<'static>], text: &str) -> Result<chrono::Duration, RulesError> {
        let parsed = parse_duration(text).and_then(|duration| {
            chrono::Duration::from_std(duration).map_err(|_| format!("`{text}` is too long"))
        });
        parsed.map_err(|reason| self.fail(rest, reason))
    }

    /// Approvers as written (emails, `group:<name>` or IAM ids), trimmed, each once.
    fn approvers(&self, rest: &[Step<'static>], raw: &[String]) -> Result<Vec<String>, RulesError> {
        let mut approvers: Vec<String> = Vec::new();
        for (index, text) in raw.iter().enumerate() {
            if ApproverRef::parse(text).is_none() {
                let at: Vec<Step> = rest.iter().copied().chain([Step::Index(index)]).collect();
                return Err(self.fail(&at, "an approver must not be empty"));
            }
            let text = text.trim().to_owned();
            if !approvers.contains(&text) {
                approvers.push(text);
            }
        }
        Ok(approvers)
    }

    /// At least one step, names unique (case-insensitively), approvers compiled.
    fn steps(&self, raw: Vec<RawStep>) -> Result<Vec<ApprovalStep>, RulesError> {
        if raw.is_empty() {
            let reason = "an area needs at least one step in `steps`";
            return Err(self.fail(&[Step::Key("steps")], reason));
        }

        let mut steps: Vec<ApprovalStep> = Vec::with_capacity(raw.len());
        for (index, step) in raw.into_iter().enumerate() {
            let here = [Step::Key("steps"), Step::Index(index)];
            let name = step.name.trim().to_owned();
            if name.is_empty() {
                let reason = "a step needs a non-empty `name`";
                return Err(self.fail(&[here[0], here[1], Step::Key("name")], reason));
            }
            if steps
                .iter()
                .any(|known| known.name.to_lowercase() == name.to_lowercase())
            {
                let reason = format!("step `{name}` is named twice");
                return Err(self.fail(&[here[0], here[1], Step::Key("name")], reason));
            }

            let what = format!("step `{name}`: `approvers`");
            let approvers = self.compile(
                &[here[0], here[1], Step::Key("approvers")],
                &what,
                &step.approvers,
            )?;
            steps.push(ApprovalStep { name, approvers });
        }
        Ok(steps)
    }

    fn timeout(&self, raw: RawTimeout) -> Result<Timeout, RulesError> {
        let at = |key| [Step::Key("timeout"), Step::Key(key)];
        let remind_after = self.duration(&at("remind_after"), &raw.remind_after)?;
        let after = self.duration(&at("after"), &raw.after)?;
        if remind_after >= after {
            let (remind, after) = (describe(remind_after), describe(after));
            let reason =
                format!("`remind_after` ({remind}) must be shorter than `after` ({after})");
            return Err(self.fail(&at("remind_after"), reason));
        }

        let escalate_to = self.approvers(&at("escalate_to"), &raw.escalate_to)?;
        let then = match (raw.then, escalate_to.is_empty()) {
            (RawThen::Escalate, false) => OnTimeout::Escalate { to: escalate_to },
            (RawThen::Escalate, true) => {
                return Err(self.fail(&at("then"), "`then: escalate` needs `escalate_to`"));
            }
            (RawThen::Expire, true) => OnTimeout::Expire,
            (RawThen::Expire, false) => {
                let reason = "`escalate_to` is only for `then: escalate`";
                return Err(self.fail(&at("escalate_to"), reason));
            }
        };
        Ok(Timeout {
            remind_after,
            after,
            then,
        })
    }
}
