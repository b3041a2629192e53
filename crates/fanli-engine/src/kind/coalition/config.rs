//! A coalition mechanism's settings: its plan keys.

use crate::headroom::{Growth, up};
use crate::keys::{Reader, Table};
use crate::kind::{Lowered, Settings};
use crate::num::{Money, Rate};

/// Settings of a coalition mechanism (跨行业).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct CoalitionConfig {
    /// The partners, each with its own earn rate.
    pub partners: Vec<Partner>,
    /// What one point is worth between partners.
    pub point_cost: Money,
}

/// A coalition partner.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Partner {
    /// Its id, as orders and redemptions name it.
    pub id: String,
    /// Points per yuan of its settled orders.
    pub earn_per_yuan: Rate,
    /// An extra share of those points (0.5: 50% more).
    pub bonus: Rate,
}

impl Settings for CoalitionConfig {
    /// Coalition points need no pool unless they are cashed out.
    const FUNDING_OPTIONAL: bool = true;

    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let partners = r.required(t, "partners", |r, v, k| {
            let example = "{ id = \"bank\", earn_per_yuan = \"0.1\", bonus = \"0.5\" }";
            let partners = r.tables(v, k, example, |r, t| {
                let id = r.required(t, "id", Reader::id);
                let earn = r.required(t, "earn_per_yuan", |r, v, k| {
                    r.rate(v, k, Rate::ZERO..=Rate::from_units(100_000_000_000), "between 0 and 100")
                });
                let bonus = r
                    .optional(t, "bonus", |r, v, k| {
                        r.rate(v, k, Rate::ZERO..=Rate::from_units(10_000_000_000), "between 0 and 10")
                    })
                    .or(Rate::ZERO);
                Some(Partner { id: id?, earn_per_yuan: earn?, bonus: bonus? })
            })?;
            let twice =
                partners.iter().enumerate().find(|(i, p)| partners[..*i].iter().any(|o| o.id == p.id));
            if let Some((_, dup)) = twice {
                r.error(v.line, k, format!("lists `{}` twice: orders name partners by id", dup.id));
                return None;
            }
            Some(partners)
        });
        let point_cost = r.required(t, "point_cost", |r, v, k| r.money(v, k));
        Some(CoalitionConfig { partners: partners?, point_cost: point_cost? })
    }

    fn assert_valid(&self) {
        let c = self;
        assert!(!c.partners.is_empty(), "a coalition has partners");
        for (i, p) in c.partners.iter().enumerate() {
            assert!(c.partners[..i].iter().all(|o| o.id != p.id), "partner ids are unique");
        }
    }

    /// The most generous partner's points per yuan, bonus included, in 1/10000 points.
    fn growth(&self) -> Growth {
        let c = self;
        let per_fen = c.partners.iter().map(|p| up(up(100, p.earn_per_yuan), Rate::ONE + p.bonus)).max();
        Growth { per_fen: 1 + per_fen.unwrap_or(0), per_order: 0, per_largest: 0 }
    }

    fn lowers(&self, old: &Self) -> bool {
        let earns_less = old.partners.iter().zip(&self.partners).any(|(o, n)| {
            Lowered::default().higher(&o.earn_per_yuan, &n.earn_per_yuan).higher(&o.bonus, &n.bonus).0
        });
        Lowered(earns_less).same(&old.point_cost, &self.point_cost).0
    }

    fn fixed(&self, old: &Self) -> Option<&'static str> {
        // Orders and the settlement report name partners by their place in the list: new
        // partners may join at its end.
        let kept = self.partners.len() >= old.partners.len()
            && old.partners.iter().zip(&self.partners).all(|(o, n)| o.id == n.id);
        (!kept).then_some("partners (a partner may be added at the end, none removed or moved)")
    }
}
