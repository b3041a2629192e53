//! Spreadsheet exports: members, daily pool reports and pools as CSV, for `fanli export` and
//! the console's download buttons (the simulator's `outcomes.csv`, `timeseries.csv` and
//! `sweep.csv` are written with [`Csv`] too).
//!
//! Every file is UTF-8 with a byte-order mark first, which Excel and WPS need to read Chinese
//! as Chinese rather than as Latin-1 garbage; rows end in `\n` (which both read) and the `csv` crate
//! quotes a value that holds a comma, a quote or a line break, so a member id such as `a,"b"`
//! stays one column. Money is yuan with 2 decimals (as in the state), prices 4 decimals; ids are
//! written as they are.

use fanli_engine::{Engine, Money, Timestamp, UtcOffset};

use crate::output::DailyReport;

/// The UTF-8 byte-order mark every export starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV document being written into memory: a BOM, then the rows.
pub struct Csv(csv::Writer<Vec<u8>>);

impl Csv {
    /// A document with this header row.
    pub fn new<I: IntoIterator<Item = T>, T: AsRef<[u8]>>(header: I) -> Csv {
        let writer = csv::WriterBuilder::new().from_writer(BOM.to_vec());
        let mut csv = Csv(writer);
        csv.row(header);
        csv
    }

    /// Adds a row (as many fields as the header has).
    pub fn row<I: IntoIterator<Item = T>, T: AsRef<[u8]>>(&mut self, fields: I) {
        // Writing to a Vec cannot fail, and every row has the header's number of fields.
        self.0.write_record(fields).expect("a CSV row written to memory");
    }

    /// The document's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect("a CSV document written to memory")
    }
}

/// `members.csv`: one row per member, in join order: `member, referrer, wallet, credit, spent,
/// refunded, received, owed`, then `ID_received, ID_owed` for each mechanism in plan order.
/// `received` and `owed` are the sums over the mechanisms.
pub fn members_csv(engine: &Engine) -> Vec<u8> {
    members_csv_part(engine, 0, usize::MAX)
}

/// [`members_csv`] of at most `limit` members from the `from`th (0-based, in join order), with
/// the header: a part of a tenant too large for one download.
pub fn members_csv_part(engine: &Engine, from: usize, limit: usize) -> Vec<u8> {
    let ids: Vec<&str> = engine.mechanism_views().map(|m| m.id).collect();
    let mut header: Vec<String> =
        ["member", "referrer", "wallet", "credit", "spent", "refunded", "received", "owed"]
            .map(str::to_owned)
            .to_vec();
    for id in &ids {
        header.push(format!("{id}_received"));
        header.push(format!("{id}_owed"));
    }
    let mut csv = Csv::new(&header);
    for v in engine.member_views().skip(from).take(limit) {
        let received: Money = v.mechanisms.iter().map(|m| m.received).sum();
        let owed: Money = v.mechanisms.iter().map(|m| m.owed).sum();
        let mut row = vec![
            v.name.to_owned(),
            v.referrer.unwrap_or_default().to_owned(),
            v.wallet.to_string(),
            v.credit.to_string(),
            v.spent.to_string(),
            v.refunded.to_string(),
            received.to_string(),
            owed.to_string(),
        ];
        for m in &v.mechanisms {
            row.push(m.received.to_string());
            row.push(m.owed.to_string());
        }
        csv.row(&row);
    }
    csv.finish()
}

/// `pools.csv`: one row per mechanism, in plan order: `mechanism, kind, title_zh, pool,
/// obligations, obligations_waiting, paid, price, retired` (`price` empty for a kind without
/// one; `retired` is `true` or `false`).
pub fn pools_csv(engine: &Engine) -> Vec<u8> {
    let mut csv = Csv::new([
        "mechanism",
        "kind",
        "title_zh",
        "pool",
        "obligations",
        "obligations_waiting",
        "paid",
        "price",
        "retired",
    ]);
    for m in engine.mechanism_views() {
        csv.row([
            m.id.to_owned(),
            m.kind.to_owned(),
            m.title.0.to_owned(),
            m.pool.to_string(),
            m.obligations.to_string(),
            m.obligations_waiting.to_string(),
            m.paid.to_string(),
            m.price.map(|p| p.display().to_string()).unwrap_or_default(),
            m.retired.to_string(),
        ]);
    }
    csv.finish()
}

/// `reports.csv`: the published daily pool reports ([`crate::pool_report`], read back with
/// [`DailyReport::parse`]), one row per day and mechanism: `at, mechanism, pool, obligations,
/// paid, price, chain`. `at` is the close in RFC 3339 at `offset` (the plan's `timezone`:
/// `2026-01-03T00:00:00+08:00`, where the report itself says `2026-01-02T16:00:00Z`); `chain`
/// is the audit chain's head at that line, which pins the published report to the log.
pub fn reports_csv<'r>(reports: impl IntoIterator<Item = &'r DailyReport>, offset: UtcOffset) -> Vec<u8> {
    let mut csv = Csv::new(["at", "mechanism", "pool", "obligations", "paid", "price", "chain"]);
    for report in reports {
        let at = match Timestamp::parse_rfc3339(&report.at) {
            Some(at) => at.at_offset(offset).to_string(),
            None => report.at.clone(),
        };
        for m in &report.mechanisms {
            csv.row([
                at.as_str(),
                &m.id,
                &m.pool.to_string(),
                &m.obligations.to_string(),
                &m.paid.to_string(),
                m.price.as_deref().unwrap_or_default(),
                &report.chain,
            ]);
        }
    }
    csv.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_with_a_comma_or_a_quote_stays_one_column() {
        let mut csv = Csv::new(["member", "spent"]);
        csv.row(["a,\"b\"", "1.00"]);
        csv.row(["张三", "2.00"]);
        let bytes = csv.finish();
        assert_eq!(bytes, "\u{feff}member,spent\n\"a,\"\"b\"\"\",1.00\n张三,2.00\n".as_bytes());
    }
}
