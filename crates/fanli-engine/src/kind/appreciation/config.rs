//! An appreciation mechanism's settings: its plan keys and its compliance rules.

use crate::findings::{Findings, Level};
use crate::keys::{Reader, Table};
use crate::kind::{Lowered, Settings};
use crate::num::Rate;

/// Settings of an appreciation mechanism.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct AppreciationConfig {
    /// The share of the funding minted as points value.
    pub mint_ratio: Rate,
    /// The price while no points are outstanding, in yuan per point (positive).
    pub initial_price: Rate,
    /// The share of a sale that stays in the pool (below 1).
    pub sell_fee: Rate,
    /// A member whose points are worth this multiple of their spend is sold out; `None`: never.
    pub exit_multiple: Option<Rate>,
}

impl Settings for AppreciationConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let mint_ratio = r.required(t, "mint_ratio", |r, v, k| {
            r.rate(v, k, Rate::from_units(1)..=Rate::from_units(10_000_000_000), "above 0 and at most 10")
        });
        let initial_price = r.optional(t, "initial_price", |r, v, k| {
            r.rate(
                v,
                k,
                Rate::from_units(100_000)..=Rate::from_units(1_000_000_000_000),
                "between 0.0001 and 1000",
            )
        });
        let sell_fee = r.optional(t, "sell_fee", |r, v, k| {
            r.rate(v, k, Rate::ZERO..=Rate::from_units(999_999_999), "at least 0 and below 1")
        });
        let exit_multiple = r.optional(t, "exit_multiple", |r, v, k| {
            r.rate(
                v,
                k,
                Rate::from_units(1)..=Rate::from_units(1_000_000_000_000),
                "above 0 and at most 1000",
            )
        });
        Some(AppreciationConfig {
            mint_ratio: mint_ratio?,
            initial_price: initial_price.or(Rate::ONE)?,
            sell_fee: sell_fee.or(Rate::ZERO)?,
            exit_multiple: exit_multiple.maybe()?,
        })
    }

    fn check(&self, f: &mut Findings<'_>) {
        let a = self;
        if a.exit_multiple.is_none() {
            f.push(
                Level::Warning,
                "no-forced-exit",
                f.table(),
                "消费增值没有出局倍数：积分无上限增值，早期参与者的收益由后来者承担。".to_owned(),
                "appreciation without exit_multiple: points appreciate without limit and early \
                 members' gains are paid by later ones"
                    .to_owned(),
                "set exit_multiple (2 or 3 in the seeds)".to_owned(),
            );
        }
        if let Some(multiple) = a.exit_multiple
            && (multiple < Rate::ONE || multiple > Rate::from_units(10 * Rate::ONE.units()))
        {
            let (zh, en) = if multiple < Rate::ONE {
                (
                    format!("出局倍数 {multiple} 小于 1：会员在积分价值低于其消费时就被强制卖出，必然亏损。"),
                    format!(
                        "exit_multiple is {multiple}, below 1: members are sold out while their points \
                         are worth less than they spent, a certain loss"
                    ),
                )
            } else {
                (
                    format!("出局倍数 {multiple} 过高：几乎没有人会出局，相当于没有出局机制。"),
                    format!(
                        "exit_multiple is {multiple}: hardly anyone will ever exit, which is almost no \
                         forced exit at all"
                    ),
                )
            };
            f.push(
                Level::Warning,
                "odd-exit-multiple",
                f.key("exit_multiple"),
                zh,
                en,
                "use an exit_multiple between 1 and 10 (2 or 3 in the seeds)".to_owned(),
            );
        }
        if a.mint_ratio > Rate::ONE {
            let ratio = a.mint_ratio;
            f.push(
                Level::Warning,
                "mint-above-one",
                f.key("mint_ratio"),
                format!("mint_ratio 为 {ratio}，大于 1：发行的积分价值超过入池资金，价格会下跌。"),
                format!(
                    "mint_ratio is {ratio}, above 1: points are minted for more than the cash that \
                     enters the pool, so the price can fall"
                ),
                "keep mint_ratio at or below 1".to_owned(),
            );
        }
    }

    fn assert_valid(&self) {
        let a = self;
        assert!(a.initial_price > Rate::ZERO, "initial_price is positive");
        assert!(a.sell_fee < Rate::ONE, "sell_fee is below 1");
        assert!(a.exit_multiple.is_none_or(|x| x > Rate::ZERO), "exit_multiple > 0");
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().same(&old.mint_ratio, &self.mint_ratio);
        l.lower(&old.sell_fee, &self.sell_fee).0
    }

    fn reduces(&self, old: &Self) -> Option<&'static str> {
        // A mint ratio above 1 mints points that no funding pays for: the price of the points
        // members hold would fall.
        (self.mint_ratio > Rate::ONE && self.mint_ratio > old.mint_ratio)
            .then_some("a mint_ratio above 1 lowers the price of the points they hold")
    }

    fn fixed(&self, old: &Self) -> Option<&'static str> {
        // Each holder's exit price is set from the multiple when they buy.
        (self.exit_multiple != old.exit_multiple).then_some("exit_multiple (the exit prices members hold)")
    }
}
