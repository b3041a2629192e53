//! Reading a plan: its own keys, each mechanism's common keys, and each kind's keys through
//! its `read` ([`crate::kind::Kind::read`]), all with one [`Reader`].

use super::{
    AntifraudConfig, Burst, FundingBase, MechanismConfig, Package, Plan, Quiet, VoteConfig, VoteWeight,
    WithdrawalConfig,
};
use crate::keys::{KeyLines, PlanErrors, Reader, Value};
use crate::kind::KindConfig;
use crate::num::{Money, Rate};
use crate::time::UtcOffset;

/// Reads a plan from its tree (the file's root table), and says where each key is.
pub fn read_plan(root: &Value) -> Result<(Plan, KeyLines), PlanErrors> {
    let mut r = Reader::default();
    let plan = r.plan(root);
    let (errors, lines) = r.finish_reading();
    match plan {
        Some(plan) if errors.is_empty() => Ok((plan, lines)),
        _ => Err(PlanErrors(errors)),
    }
}

/// The plan's own keys, and each mechanism's.
impl Reader {
    fn plan(&mut self, root: &Value) -> Option<Plan> {
        let mut t = self.root(root)?;
        let name = self.required(&mut t, "name", Reader::string);
        let settle_after_days =
            self.required(&mut t, "settle_after_days", |r, v, k| r.integer(v, k, 0..=365));
        let timezone = self.optional(&mut t, "timezone", Reader::timezone).or(UtcOffset::CHINA);
        let margin_rate = self.optional(&mut t, "margin_rate", |r, v, k| {
            r.rate(v, k, Rate::from_units(1)..=Rate::ONE, "between 0 and 1")
        });
        let pause = self.optional(&mut t, "pause_when_underfunded", Reader::boolean).or(false);
        let clawback = self.optional(&mut t, "clawback", Reader::boolean).or(false);
        let notice_days = self.optional(&mut t, "notice_days", |r, v, k| r.integer(v, k, 0..=365)).or(7);
        let mechanisms =
            self.required(&mut t, "mechanism", |r, v, k| r.mechanisms(v, k, pause.unwrap_or(false)));
        let packages = self.optional(&mut t, "package", |r, v, k| {
            r.tables(v, k, "[[package]] with name, price and value", |r, t| {
                let name = r.required(t, "name", Reader::string);
                let price = r.required(t, "price", |r, v, k| r.positive_money(v, k));
                let value = r.required(t, "value", |r, v, k| r.money(v, k));
                Some(Package { name: name?, price: price?, value: value? })
            })
        });
        let antifraud = self.optional(&mut t, "antifraud", Reader::antifraud);
        let vote = self.optional(&mut t, "vote", Reader::vote);
        let withdrawal = self.optional(&mut t, "withdrawal", |r, v, k| {
            r.withdrawal(v, k, mechanisms.as_ref().map_or(&[][..], Vec::as_slice))
        });
        self.finish(t);
        Some(Plan {
            name: name?,
            settle_after_days: settle_after_days? as u32,
            timezone: timezone?,
            margin_rate: margin_rate.maybe()?,
            mechanisms: mechanisms?,
            clawback: clawback?,
            notice_days: notice_days? as u32,
            packages: packages.or(Vec::new())?,
            antifraud: antifraud.maybe()?,
            withdrawal: withdrawal.maybe()?,
            vote: vote.maybe()?,
        })
    }

    /// `pause` is the plan's `pause_when_underfunded`, which a mechanism may override.
    fn mechanisms(&mut self, value: &Value, key: &str, pause: bool) -> Option<Vec<MechanismConfig>> {
        let Some(array) = value.as_array() else {
            self.error(value.line, key, "must be an array of tables: write each as [[mechanism]]");
            return None;
        };
        if array.is_empty() {
            self.error(value.line, key, "is empty: a plan needs at least one mechanism");
            return None;
        }
        let mut ids = Vec::new();
        let mechanisms: Vec<_> =
            array.iter().enumerate().map(|(i, item)| self.mechanism(item, i, &mut ids, pause)).collect();
        mechanisms.into_iter().collect()
    }

    /// One `[[mechanism]]`; `ids` are the ids of the ones before it.
    fn mechanism(
        &mut self,
        value: &Value,
        index: usize,
        ids: &mut Vec<String>,
        pause: bool,
    ) -> Option<MechanismConfig> {
        // Name the mechanism by its id in every message, once it is known.
        let mut t = self.table(value, format!("mechanism[{}]", index + 1), "must be a table")?;
        let id = self.required(&mut t, "id", |r, v, k| {
            let id = r.id(v, k)?;
            if ids.contains(&id) {
                r.error(
                    v.line,
                    &format!("mechanism.{id}.id"),
                    "is used by an earlier mechanism: ids must be unique",
                );
                return None;
            }
            ids.push(id.clone());
            Some(id)
        });
        if let Some(id) = &id {
            t.path = format!("mechanism.{id}");
        }
        let kinds = KindConfig::names();
        let kind = self.required(&mut t, "kind", |r, v, k| r.choice(v, k, &kinds));
        let read_rate =
            |r: &mut Reader, v: &Value, k: &str| r.rate(v, k, Rate::ZERO..=Rate::ONE, "between 0 and 1");
        let funding_rate = match kind {
            Some(kind) if KindConfig::funding_optional(kind) => {
                self.optional(&mut t, "funding_rate", read_rate).or(Rate::ZERO)
            }
            _ => self.required(&mut t, "funding_rate", read_rate),
        };
        let funding_base = self
            .optional(&mut t, "funding_base", |r, v, k| {
                Some(match r.choice(v, k, &["amount", "profit"])? {
                    "profit" => FundingBase::Profit,
                    _ => FundingBase::Amount,
                })
            })
            .or(FundingBase::Amount);
        let pause = self.optional(&mut t, "pause_when_underfunded", Reader::boolean).or(pause);
        let name = self.optional(&mut t, "name", Reader::display_name);
        // Without a kind, its keys cannot be told from unknown ones: report nothing more.
        let kind = KindConfig::read(kind?, self, &mut t);
        self.finish(t);
        Some(MechanismConfig {
            id: id?,
            name: name.maybe()?,
            funding_rate: funding_rate?,
            funding_base: funding_base?,
            pause_when_underfunded: pause?,
            kind: kind?,
        })
    }

    /// `[withdrawal]`; `mechanisms` are the plan's, which `fee_to` must name one of.
    fn withdrawal(
        &mut self,
        value: &Value,
        key: &str,
        mechanisms: &[MechanismConfig],
    ) -> Option<WithdrawalConfig> {
        let mut t = self.subtable(value, key, "[withdrawal] with fee_rate = \"0.05\", min = \"10.00\", …")?;
        let fee_rate = self
            .optional(&mut t, "fee_rate", |r, v, k| r.rate(v, k, Rate::ZERO..=Rate::ONE, "between 0 and 1"));
        let fee_to = self.optional(&mut t, "fee_to", |r, v, k| {
            let id = r.id(v, k)?;
            if !mechanisms.iter().any(|m| m.id == id) {
                r.error(v.line, k, format!("names no mechanism of the plan: `{id}`"));
                return None;
            }
            Some(id)
        });
        let min = self.optional(&mut t, "min", |r, v, k| r.positive_money(v, k));
        let max_per_day = self.optional(&mut t, "max_per_day", |r, v, k| r.positive_money(v, k));
        let review_above = self.optional(&mut t, "review_above", |r, v, k| r.money(v, k));
        self.finish(t);
        Some(WithdrawalConfig {
            fee_rate: fee_rate.or(Rate::ZERO)?,
            fee_to: fee_to.maybe()?,
            min: min.or(Money::from_fen(1))?,
            max_per_day: max_per_day.maybe()?,
            review_above: review_above.maybe()?,
        })
    }

    fn vote(&mut self, value: &Value, key: &str) -> Option<VoteConfig> {
        let mut t = self.subtable(value, key, "[vote] with days = 7, quorum = \"0.20\", …")?;
        let days = self.required(&mut t, "days", |r, v, k| r.integer(v, k, 1..=365).map(|n| n as u32));
        let weight = self.optional(&mut t, "weight", |r, v, k| match v.as_str() {
            Some("member") => Some(VoteWeight::Member),
            Some("spend") => Some(VoteWeight::Spend),
            _ => {
                r.error(
                    v.line,
                    k,
                    "must be \"member\" (one vote each) or \"spend\" (weighted by settled spend)",
                );
                None
            }
        });
        let share =
            |r: &mut Reader, v: &Value, k: &str| r.rate(v, k, Rate::ZERO..=Rate::ONE, "between 0 and 1");
        let quorum = self.optional(&mut t, "quorum", share);
        let majority = self.optional(&mut t, "majority", share);
        self.finish(t);
        Some(VoteConfig {
            days: days?,
            weight: weight.or(VoteWeight::Member)?,
            quorum: quorum.or(Rate::ZERO)?,
            majority: majority.or(Rate::from_units(Rate::ONE.units() / 2))?,
        })
    }

    fn antifraud(&mut self, value: &Value, key: &str) -> Option<AntifraudConfig> {
        let mut t = self.subtable(value, key, "[antifraud] with max_per_device = 3, …")?;
        let count = |r: &mut Reader, v: &Value, k: &str| r.integer(v, k, 1..=1_000_000).map(|n| n as u32);
        let max_per_device = self.optional(&mut t, "max_per_device", count).maybe();
        let max_per_phone = self.optional(&mut t, "max_per_phone", count).maybe();
        let max_per_ip = self.optional(&mut t, "max_per_ip", count).maybe();
        let shared_device = self.optional(&mut t, "shared_device", Reader::boolean).or(false);
        let rings = self.optional(&mut t, "rings", Reader::boolean).or(false);
        let burst = self.optional(&mut t, "burst", |r, v, k| {
            let mut b = r.subtable(v, k, "{ referees = 5, hours = 24 }")?;
            let referees = r.required(&mut b, "referees", count);
            let hours = r.required(&mut b, "hours", |r, v, k| r.integer(v, k, 1..=8760).map(|n| n as u32));
            r.finish(b);
            Some(Burst { referees: referees?, hours: hours? })
        });
        let quiet = self.optional(&mut t, "quiet", |r, v, k| {
            let mut q = r.subtable(v, k, "{ days = 30, max_amount = \"99.00\" }")?;
            let days = r.required(&mut q, "days", |r, v, k| r.integer(v, k, 1..=3650).map(|n| n as u32));
            let max_amount = r.required(&mut q, "max_amount", |r, v, k| r.money(v, k));
            r.finish(q);
            Some(Quiet { days: days?, max_amount: max_amount? })
        });
        self.finish(t);
        Some(AntifraudConfig {
            max_per_device: max_per_device?,
            max_per_phone: max_per_phone?,
            max_per_ip: max_per_ip?,
            shared_device: shared_device?,
            burst: burst.maybe()?,
            quiet: quiet.maybe()?,
            rings: rings?,
        })
    }
}
