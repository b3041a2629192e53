//! How a view is written: typed figures, in order, to any output.
//!
//! Each kind's view says which figures it has and in what order (`Figures::write`); the JSON
//! document, the command line's text and the pages each implement [`Fields`] once, for every
//! kind, instead of one case per kind.

use crate::num::{Money, Points, Price};
use crate::time::Timestamp;

/// A figure of a view, typed: outputs decide how each type is shown (money to 2 places, points
/// and prices to 4, times in RFC 3339).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure<'a> {
    /// An amount of money.
    Money(Money),
    /// A number of points.
    Points(Points),
    /// A price, yuan a point.
    Price(Price),
    /// A count.
    Count(u64),
    /// A name or a phrase.
    Text(&'a str),
    /// Progress: `done` of `of` ("2 of 3").
    Of {
        /// How many are done.
        done: u64,
        /// Out of how many.
        of: u64,
    },
    /// An instant.
    Time(Timestamp),
    /// Nothing (a figure that does not apply now).
    Null,
}

impl Figure<'_> {
    /// `Money`, or `Null` for `None`.
    pub fn money(value: Option<Money>) -> Figure<'static> {
        value.map_or(Figure::Null, Figure::Money)
    }

    /// `Price`, or `Null` for `None`.
    pub fn price(value: Option<Price>) -> Figure<'static> {
        value.map_or(Figure::Null, Figure::Price)
    }

    /// `Count`, or `Null` for `None`.
    pub fn count(value: Option<u64>) -> Figure<'static> {
        value.map_or(Figure::Null, Figure::Count)
    }
}

/// A figure's name (`points`), with what a JSON document writes before its value
/// (`,"points":`) made once, when the program is compiled: millions of member lines write it.
/// Made by [`key!`](crate::key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    name: &'static str,
    json: &'static str,
}

impl Key {
    /// Use [`key!`](crate::key), which writes `json` for `name`.
    #[doc(hidden)]
    pub const fn new(name: &'static str, json: &'static str) -> Key {
        Key { name, json }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// `,"name":` as JSON bytes, or without the comma for the first member of an object.
    pub fn json(self, first: bool) -> &'static [u8] {
        let bytes = self.json.as_bytes();
        if first { &bytes[1..] } else { bytes }
    }
}

/// A [`Key`] for the figure named `$name` (a literal of letters, digits and `_`).
#[macro_export]
macro_rules! key {
    ($name:literal) => {
        $crate::view::Key::new($name, concat!(",\"", $name, "\":"))
    };
}

/// Where a view's figures go: each output implements it once.
pub trait Fields {
    /// One figure.
    fn figure(&mut self, key: Key, figure: Figure<'_>);
    /// A group of figures under one key.
    fn object(&mut self, key: Key, fill: impl FnOnce(&mut Self))
    where
        Self: Sized;
    /// A list of groups under one key, one per item.
    fn list<T>(&mut self, key: Key, items: &[T], fill: impl FnMut(&mut Self, &T))
    where
        Self: Sized;
}
