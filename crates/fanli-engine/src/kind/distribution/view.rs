//! What an operator and a member see of a distribution mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::Money;
use crate::view::{Fields, Figure};

/// What order budgets did not allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistributionView {
    /// Gone back to the platform.
    pub returned: Money,
}

impl Figures for DistributionView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("returned"), Figure::Money(self.returned));
    }

    fn text(&self) -> String {
        format!("{} returned to the platform", self.returned)
    }
}

/// A member's commissions: what the standing's `received` and `owed` say, nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commissions;

impl Figures for Commissions {
    fn write<F: Fields>(&self, _out: &mut F) {}

    fn text(&self) -> String {
        "commissions".to_owned()
    }

    fn shown(&self) -> bool {
        false
    }
}
