//! The pages' languages: Simplified Chinese by default, English by choice, with Fluent
//! (`fluent-bundle`) messages in `web/locales/zh-CN.ftl` and `web/locales/en.ftl`, compiled into
//! the binary and parsed once.
//!
//! **Which language a request gets** ([`Lang`] as an extractor), first rule that says:
//! 1. `?lang=zh` or `?lang=en` in the URL (a link can pin a language; the pages' 中文/English
//!    switch is such a link, and [`remember`] then keeps the choice in the `fanli_lang` cookie);
//! 2. the `fanli_lang` cookie (`zh` or `en`), set by that switch;
//! 3. `Accept-Language`: the first language the browser prefers (highest `q`, ties in order)
//!    that is Chinese (`zh…`) or English (`en…`);
//! 4. otherwise Chinese.
//!
//! **Using it in a page**: take `lang: Lang` as a handler's argument, then `tr!(lang, "id")` or
//! `tr!(lang, "id", name = value)` for a message; [`Lang::name`] for an engine id's display name
//! (`kind-appreciation` → 消费增值, `event-close_day` → 日结, `rule-mint` → 铸造积分): the id
//! itself when no name is written, so a new id shows, raw, rather than nothing. Every message is
//! in both files (a test checks it, and that every `tr!` id the pages use exists).
//! [`Lang::t`] (two literals) is the older way of the member page, kept until it moves here.

use std::sync::LazyLock;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// `tr!(lang, "id")`, `tr!(lang, "id", name = value, …)`: message `id` in `lang`, the values
/// (anything that converts to a Fluent value: text, numbers) put in its `{ $name }`s.
macro_rules! tr {
    ($lang:expr, $id:literal) => {
        $lang.tr($id)
    };
    ($lang:expr, $id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $lang.tr_args($id, &[$((stringify!($name), ::fluent_bundle::FluentValue::from($value))),+])
    };
}
pub(crate) use tr;

/// A page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Simplified Chinese, the default.
    Zh,
    /// English.
    En,
}

/// The cookie that keeps a language chosen with `?lang=`.
pub(crate) const COOKIE: &str = "fanli_lang";

type Bundle = FluentBundle<FluentResource>;

const ZH_FTL: &str = include_str!("locales/zh-CN.ftl");
const EN_FTL: &str = include_str!("locales/en.ftl");

static ZH: LazyLock<Bundle> = LazyLock::new(|| bundle("zh-CN", ZH_FTL));
static EN: LazyLock<Bundle> = LazyLock::new(|| bundle("en", EN_FTL));

/// A bundle of one locale file; the files are part of the source, parsed in the tests.
fn bundle(locale: &str, text: &str) -> Bundle {
    let resource = FluentResource::try_new(text.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("web/locales/{locale}.ftl: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![locale.parse().expect("a language tag")]);
    // No Unicode isolation marks around values: the pages are left-to-right throughout.
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).unwrap_or_else(|errors| panic!("web/locales/{locale}.ftl: {errors:?}"));
    bundle
}

impl Lang {
    /// `zh` or `en` (also `zh-CN`, `en-US`, …).
    fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request by the rules above (`query`: the URL's query string).
    pub(crate) fn of(headers: &HeaderMap, query: Option<&str>) -> Lang {
        if let Some(lang) = query_lang(query) {
            return lang;
        }
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("fanli_lang=").and_then(Lang::parse));
        if let Some(lang) = cookie {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(accepted)
            .unwrap_or(Lang::Zh)
    }

    /// Chinese unless `lang=en` (the member page's rule, until it takes [`Lang::of`]).
    pub(crate) fn from_query(query: &std::collections::HashMap<String, String>) -> Lang {
        if query.get("lang").is_some_and(|l| l == "en") { Lang::En } else { Lang::Zh }
    }

    /// The text in this language, of two given.
    pub(crate) fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// `zh-CN` or `en`, for `<html lang>`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh` or `en`, for `?lang=`.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language (the pages' switch).
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    fn bundle(self) -> &'static Bundle {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// Message `id`, or `None` when this language has none.
    fn message(self, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        let bundle = self.bundle();
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors).into_owned();
        debug_assert!(errors.is_empty(), "message {id}: {errors:?}");
        Some(text)
    }

    /// Message `id` in this language (the id itself when missing: a test keeps that from
    /// happening to the pages' messages).
    pub(crate) fn tr(self, id: &str) -> String {
        self.message(id, None).unwrap_or_else(|| id.to_owned())
    }

    /// Message `id` with its arguments.
    pub(crate) fn tr_args(self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.message(id, Some(&fluent)).unwrap_or_else(|| id.to_owned())
    }

    /// The display name of the engine's id `id` of kind `group` (message `group-id`), or the
    /// id when none is written: `name("event", "close_day")` is 日结 in Chinese.
    pub(crate) fn name(self, group: &str, id: &str) -> String {
        self.message(&format!("{group}-{id}"), None).unwrap_or_else(|| id.to_owned())
    }

    /// An anti-fraud rule's evidence (the engine writes it in English, in one of five shapes)
    /// in this language; as written when its shape is not known.
    pub(crate) fn evidence(self, text: &str) -> String {
        if self == Lang::En {
            return text.to_owned();
        }
        let contact = |kind: &str| self.name("contact", kind);
        let translated = if let Some(rest) = text.strip_prefix("shares ") {
            // "shares KIND VALUE with their referrer" / "… with their upline N levels up"
            let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some(value) = rest.strip_suffix(" with their referrer") {
                Some(tr!(self, "evidence-shares-referrer", kind = contact(kind), value = value))
            } else {
                rest.strip_suffix(" levels up").and_then(|r| r.rsplit_once(" with their upline ")).map(
                    |(value, levels)| {
                        tr!(
                            self,
                            "evidence-shares-upline",
                            kind = contact(kind),
                            value = value,
                            levels = levels
                        )
                    },
                )
            }
        } else if let Some(rest) = text.strip_prefix("the referrer's ") {
            // "the referrer's Nth referee within H hours, at most M"
            let (nth, rest) = rest.split_once("th referee within ").unwrap_or(("", ""));
            let (hours, max) = rest.split_once(" hours, at most ").unwrap_or(("", ""));
            (!nth.is_empty() && !max.is_empty())
                .then(|| tr!(self, "evidence-burst", nth = nth, hours = hours, max = max))
        } else if let Some(rest) = text.strip_prefix("one order of at most ") {
            // "one order of at most AMOUNT, then none for D days"
            rest.strip_suffix(" days")
                .and_then(|r| r.split_once(", then none for "))
                .map(|(amount, days)| tr!(self, "evidence-quiet", amount = amount, days = days))
        } else {
            // "KIND VALUE has N members, at most M"
            text.split_once(' ').and_then(|(kind, rest)| {
                let (value, rest) = rest.rsplit_once(" has ")?;
                let (count, max) = rest.split_once(" members, at most ")?;
                Some(tr!(
                    self,
                    "evidence-contact",
                    kind = contact(kind),
                    value = value,
                    count = count,
                    max = max
                ))
            })
        };
        translated.unwrap_or_else(|| text.to_owned())
    }
}

/// `lang=…` in a query string.
fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse)
}

/// The language an `Accept-Language` header prefers: the first Chinese or English tag of the
/// highest weight.
fn accepted(header: &str) -> Option<Lang> {
    let mut best: Option<(u32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default();
        // The weight in thousandths (`q=0.8` → 800); 1000 when not given.
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(1000, |q| (q.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0) * 1000.0) as u32);
        if let Some(lang) = Lang::parse(tag)
            && q > 0
            && best.is_none_or(|(b, _)| q > b)
        {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of(&parts.headers, parts.uri.query()))
    }
}

/// Middleware: a request with `?lang=zh|en` has its answer keep the choice in the `fanli_lang`
/// cookie (a year; every page of this server reads it).
pub(crate) async fn remember(request: Request, next: Next) -> Response {
    let chosen = query_lang(request.uri().query());
    let secure = if super::https(request.headers()) { "; Secure" } else { "" };
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let cookie =
            format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}", lang.short());
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of a locale file.
    fn ids(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim()))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages_and_parse() {
        let (zh, en) = (ids(ZH_FTL), ids(EN_FTL));
        assert!(zh.len() > 100, "{} messages", zh.len());
        let missing_en: Vec<_> = zh.iter().filter(|id| !en.contains(id)).collect();
        let missing_zh: Vec<_> = en.iter().filter(|id| !zh.contains(id)).collect();
        assert!(
            missing_en.is_empty() && missing_zh.is_empty(),
            "en lacks {missing_en:?}; zh lacks {missing_zh:?}"
        );
        for id in zh {
            assert!(ZH.has_message(id) && EN.has_message(id), "{id}");
        }
    }

    #[test]
    fn every_message_the_pages_use_is_written() {
        let sources = [
            include_str!("console.rs"),
            include_str!("console/proposals.rs"),
            include_str!("console/withdrawals.rs"),
            include_str!("mod.rs"),
            include_str!("versions.rs"),
        ];
        let zh = ids(ZH_FTL);
        let mut used = 0;
        for source in sources {
            for call in source.split("tr!(").skip(1) {
                let Some((_, rest)) = call.split_once('"') else { continue };
                let id = rest.split('"').next().unwrap_or_default();
                used += 1;
                assert!(zh.contains(&id), "tr!(…, \"{id}\") has no message in web/locales");
            }
        }
        assert!(used > 100, "{used} uses");
    }

    /// The names an engine source file gives in `=> "name"` arms between `start` and the next
    /// `}` at the start of a line.
    fn arms<'a>(source: &'a str, start: &str) -> Vec<&'a str> {
        let body = &source[source.find(start).unwrap_or_else(|| panic!("{start}"))..];
        let body = &body[..body.find("\n    }\n").unwrap_or(body.len())];
        body.split("=> \"").skip(1).filter_map(|s| s.split('"').next()).collect()
    }

    #[test]
    fn every_event_type_ledger_rule_and_kind_has_a_chinese_name() {
        let events = arms(include_str!("../../../fanli-engine/src/event.rs"), "pub fn type_name(&self)");
        let rules = arms(include_str!("../../../fanli-engine/src/ledger.rs"), "pub fn name(self)");
        assert!(events.contains(&"close_day") && rules.contains(&"mint"), "{events:?} {rules:?}");
        for (group, ids) in [("event", events), ("rule", rules)] {
            for id in ids {
                let zh = Lang::Zh.name(group, id);
                assert!(zh != id && !zh.is_ascii(), "{group}-{id} has no Chinese name: {zh}");
                assert!(EN.has_message(&format!("{group}-{id}")), "{group}-{id} has no English name");
            }
        }
        assert_eq!(Lang::Zh.name("event", "close_day"), "日结");
        assert_eq!(Lang::En.name("event", "close_day"), "Day close");
        assert_eq!(Lang::Zh.name("rule", "mint"), "铸造积分");
        assert_eq!(Lang::Zh.name("event", "no_such_type"), "no_such_type", "an unknown id shows as is");
        for kind in [
            "appreciation",
            "refer_refund",
            "queue",
            "distribution",
            "green_points",
            "cycle",
            "ad_tasks",
            "loyalty",
            "coalition",
        ] {
            assert!(!Lang::Zh.name("kind", kind).is_ascii(), "kind-{kind}");
        }
        for rule in ["device", "phone", "ip", "shared-device", "ring", "burst", "quiet"] {
            assert!(!Lang::Zh.name("fraud", rule).is_ascii(), "fraud-{rule}");
        }
    }

    #[test]
    fn the_evidence_reads_in_chinese() {
        let zh = |text| Lang::Zh.evidence(text);
        assert_eq!(zh("device d1 has 4 members, at most 3"), "设备 d1 已有 4 名会员，上限 3");
        assert_eq!(zh("shares device phone-a with their referrer"), "与推荐人共用设备 phone-a");
        assert_eq!(zh("shares device d9 with their upline 2 levels up"), "与上 2 级的上线共用设备 d9");
        assert_eq!(
            zh("the referrer's 6th referee within 24 hours, at most 5"),
            "推荐人 24 小时内的第 6 位被推荐人，上限 5"
        );
        assert_eq!(
            zh("one order of at most 10.00, then none for 30 days"),
            "仅一笔不超过 10.00 元的订单，之后 30 天没有订单"
        );
        assert_eq!(zh("something new"), "something new", "an unknown shape shows as written");
        assert_eq!(
            Lang::En.evidence("device d1 has 4 members, at most 3"),
            "device d1 has 4 members, at most 3"
        );
    }

    #[test]
    fn the_language_is_the_querys_the_cookies_the_browsers_or_chinese() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::of(&headers, None), Lang::Zh, "Chinese by default");
        headers.insert(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9,zh-CN;q=0.8".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::En);
        headers.insert(header::ACCEPT_LANGUAGE, "fr;q=1,zh-CN;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::Zh, "the first of ours by weight");
        headers.insert(header::ACCEPT_LANGUAGE, "de,fr".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::Zh, "neither: Chinese");
        headers.insert(header::COOKIE, "fanli_console=x; fanli_lang=en".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::En, "the cookie over the browser");
        assert_eq!(Lang::of(&headers, Some("q=A&lang=zh")), Lang::Zh, "the query over the cookie");
        assert_eq!(Lang::of(&HeaderMap::new(), Some("lang=en")), Lang::En);
        assert_eq!(Lang::of(&HeaderMap::new(), Some("lang=fr")), Lang::Zh);
    }

    #[test]
    fn messages_take_their_values() {
        assert_eq!(
            tr!(Lang::Zh, "members-page", from = 51, to = 100, total = 120),
            "第 51–100 名，共 120 名"
        );
        assert_eq!(tr!(Lang::En, "members-page", from = 51, to = 100, total = 120), "51–100 of 120");
    }
}
