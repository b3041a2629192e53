//! Stores, their regions and recruiters, and the regions' agents: who a distribution's regional
//! and recruiter commissions go to.

use super::Engine;
use crate::MemberId;
use crate::names::Names;
use crate::rejection::Rejection;

const NONE: u32 = u32::MAX;

/// The stores and regions named so far.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Stores {
    names: Names,
    partners: Names,
    records: Vec<StoreRecord>,
    /// Region paths ("广东/东莞"), interned: a store's region and an agent's meet here.
    regions: Names,
    /// The agent of each region path, by its index in `regions` (`NONE`: no agent yet).
    agents: Vec<u32>,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct StoreRecord {
    region: Vec<String>,
    /// The region paths of its province, city and district (`NONE` past the region's depth).
    paths: [u32; 3],
    recruiter: Option<MemberId>,
}

impl Default for StoreRecord {
    fn default() -> StoreRecord {
        StoreRecord { region: Vec::new(), paths: [NONE; 3], recruiter: None }
    }
}

impl Stores {
    /// The store's index, registering it (with no region) if it is new: an order may name a
    /// store before or without its `store` event.
    pub(crate) fn intern_store(&mut self, name: &str) -> u32 {
        let index = self.names.intern(name);
        if self.records.len() <= index as usize {
            self.records.push(StoreRecord::default());
        }
        index
    }

    fn intern_region(&mut self, path: &[&str]) -> u32 {
        let index = self.regions.intern(&path.join("/"));
        if self.agents.len() <= index as usize {
            self.agents.push(NONE);
        }
        index
    }

    /// The index of a coalition partner's name, registering it if it is new.
    pub(crate) fn intern_partner(&mut self, name: &str) -> u32 {
        self.partners.intern(name)
    }

    /// The store's name (`None` for `NONE`: no store).
    pub(crate) fn store_name(&self, store: u32) -> Option<&str> {
        (store != NONE).then(|| self.names.get(store))
    }

    /// The partner's name (`None` for `NONE`: no partner).
    pub(crate) fn partner_name(&self, partner: u32) -> Option<&str> {
        (partner != NONE).then(|| self.partners.get(partner))
    }

    /// The agents of the store's district, city and province (in that order), and its recruiter.
    pub(crate) fn payees(&self, store: u32) -> ([Option<MemberId>; 3], Option<MemberId>) {
        let Some(record) = self.records.get(store as usize) else { return ([None; 3], None) };
        let mut agents = [None; 3];
        for (depth, &region) in record.paths.iter().enumerate() {
            if region != NONE && self.agents[region as usize] != NONE {
                // paths are province, city, district; agents go district first.
                agents[2 - depth] = Some(MemberId(self.agents[region as usize]));
            }
        }
        (agents, record.recruiter)
    }
}

impl Engine {
    pub(super) fn register_store(
        &mut self,
        store: &str,
        region: &[&str],
        recruiter: Option<&str>,
    ) -> Result<(), Rejection> {
        crate::rejection::check_id("store", store)?;
        // A store may have no region yet, like one known only from its orders.
        check_region(region, 0..=3)?;
        let recruiter = recruiter.map(|name| self.member_named(name)).transpose()?;
        let stores = &mut self.stores;
        let mut paths = [NONE; 3];
        for (depth, path) in paths.iter_mut().enumerate().take(region.len()) {
            *path = stores.intern_region(&region[..=depth]);
        }
        let index = stores.intern_store(store) as usize;
        stores.records[index] =
            StoreRecord { region: region.iter().map(|s| s.to_string()).collect(), paths, recruiter };
        Ok(())
    }

    pub(super) fn register_agent(
        &mut self,
        member: &str,
        level: &str,
        region: &[&str],
    ) -> Result<(), Rejection> {
        let member = self.member_named(member)?;
        let depth = match level {
            "province" => 1,
            "city" => 2,
            "district" => 3,
            other => return Err(Rejection::UnknownLevel(other.to_owned())),
        };
        check_region(region, depth..=depth).map_err(|_| {
            let parts = ["province", "province, city", "province, city, district"][depth - 1];
            Rejection::BadRegion(format!("a {level} agent's region is [{parts}], got {region:?}"))
        })?;
        let index = self.stores.intern_region(region) as usize;
        self.stores.agents[index] = member.0;
        Ok(())
    }

    /// The agent registered for a region path, if any.
    pub fn agent(&self, region: &[&str]) -> Option<MemberId> {
        let index = self.stores.regions.find(&region.join("/"))?;
        Some(self.stores.agents[index as usize]).filter(|&a| a != NONE).map(MemberId)
    }

    /// The region and recruiter of a registered store.
    pub fn store(&self, store: &str) -> Option<(&[String], Option<MemberId>)> {
        let index = self.stores.names.find(store)? as usize;
        let record = &self.stores.records[index];
        Some((&record.region, record.recruiter))
    }
}

fn check_region(region: &[&str], parts: std::ops::RangeInclusive<usize>) -> Result<(), Rejection> {
    if !parts.contains(&region.len()) || region.iter().any(|part| part.is_empty()) {
        return Err(Rejection::BadRegion(format!(
            "a region is at most {} non-empty names (province, city, district), got {region:?}",
            parts.end()
        )));
    }
    Ok(())
}
