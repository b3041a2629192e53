//! Amendments on the pages: the console's plan page lists the versions, highlights the ones
//! waiting, records an amendment with an effective time and compares a new plan with the
//! tenant's state; the member page announces a coming change.

mod common;

use common::{Answer, Target, data_dir, local, request};

/// A distribution paying `rate` to the direct referrer, and a queue `q` unless `queue` is false.
fn plan(rate: &str, queue: bool) -> String {
    let mut plan = format!(
        "name = \"amend\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"dist\"\nkind = \"distribution\"\n\
         funding_rate = \"0.02\"\nlevels = [\"{rate}\"]\n"
    );
    if queue {
        plan.push_str(
            "[[mechanism]]\nid = \"q\"\nkind = \"queue\"\nfunding_rate = \"0.1\"\nrelease = \"when_funded\"\n",
        );
    }
    plan
}

fn form_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The element with `id`, from its opening tag on.
fn element<'a>(page: &'a Answer, id: &str) -> &'a str {
    let at = page.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}: {}", page.body));
    &page.body[at..]
}

/// A session of the console with the owner's `key`: (cookie, CSRF token).
fn log_in(addr: impl Target, key: &str) -> (String, String) {
    let login = request(addr, "GET", "/console/login", None, "", "");
    let cookie = login.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let marker = "name=\"login\" value=\"";
    let at = login.body.find(marker).unwrap() + marker.len();
    let token = &login.body[at..at + 64];
    let form = format!("Content-Type: application/x-www-form-urlencoded\r\nCookie: {cookie}\r\n");
    let entered = request(addr, "POST", "/console/login", None, &form, &format!("login={token}&key={key}"));
    let cookie = entered.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let page = request(addr, "GET", "/console/plan", None, &format!("Cookie: {cookie}\r\n"), "");
    let marker = "name=\"csrf\" value=\"";
    let at = page.body.find(marker).unwrap() + marker.len();
    let csrf = page.body[at..at + 64].to_owned();
    (cookie, csrf)
}

#[test]
fn the_console_records_and_lists_amendments_and_the_member_page_announces_them() {
    let dir = data_dir("amend-pages");
    let addr = &local(&dir);
    let made = request(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#);
    let key = made.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(request(addr, "PUT", "/v1/plan", Some(&key), "", &plan("0.005", true)).status, 200);
    let events = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"join\",\"member\":\"b\",\"referrer\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:02:00+08:00\",\"type\":\"order\",\"order\":\"b1\",\"member\":\"b\",\"amount\":\"1000.00\"}\n";
    assert_eq!(request(addr, "POST", "/v1/events", Some(&key), "", events).status, 200);
    let (cookie, csrf) = log_in(addr, &key);
    let post = |form: String| {
        let extra = format!("Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
        request(addr, "POST", "/console/plan", None, &extra, &form)
    };

    // The log has begun: the form has an effective-at field; one version, in force.
    let page = request(addr, "GET", "/console/plan", None, &format!("Cookie: {cookie}\r\n"), "");
    assert!(page.body.contains("id=\"effective-at\""), "{}", page.body);
    assert!(element(&page, "versions").contains("<td class=\"state\">生效中</td>"));

    // A check of a lowering: what it changes for A, from the tenant's state.
    let lower = plan("0.004", false);
    let checked = post(format!("csrf={csrf}&action=check&plan={}", form_encoded(&lower)));
    assert_eq!(checked.status, 200);
    let comparison = element(&checked, "comparison");
    assert!(comparison.contains("id=\"totals\"") && comparison.contains("id=\"changed\""), "{comparison}");
    assert!(comparison.contains("<td rowspan=\"2\">A</td>"), "A's figures change: {comparison}");

    // At once: refused for want of notice, the engine's code shown; nothing recorded.
    let refused = post(format!("csrf={csrf}&action=put&plan={}", form_encoded(&lower)));
    assert!(element(&refused, "outcome").contains("notice_too_short"), "{}", refused.body);
    let versions = request(addr, "GET", "/v1/plan/versions", Some(&key), "", "").json();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    // In the plan's time (+08:00), 2027-03-01 09:00: recorded, waiting, highlighted.
    let put =
        post(format!("csrf={csrf}&action=put&effective_at=2027-03-01T09%3A00&plan={}", form_encoded(&lower)));
    assert!(
        element(&put, "outcome").contains("已记录修订 v2，2027-03-01 09:00 (+08:00) 生效。"),
        "{}",
        put.body
    );
    let versions = request(addr, "GET", "/v1/plan/versions", Some(&key), "", "").json();
    assert_eq!(versions[1]["effective_at"], "2027-03-01T01:00:00Z");
    assert_eq!(versions[1]["state"], "waiting");
    let page = request(addr, "GET", "/console/plan", None, &format!("Cookie: {cookie}\r\n"), "");
    let listed = element(&page, "versions");
    assert!(
        listed.contains("id=\"waiting\"") && listed.contains("v2 将于 2027-03-01 09:00 (+08:00) 生效。"),
        "{listed}"
    );
    assert!(
        listed.contains("<tr class=\"waiting warn\"><td>v2</td><td class=\"state\">待生效</td>"),
        "{listed}"
    );
    let bad = post(format!("csrf={csrf}&action=put&effective_at=soon&plan={}", form_encoded(&lower)));
    assert!(element(&bad, "outcome").contains("生效时间无效：「soon」"), "{}", bad.body);
    // The same page in English, chosen in the URL.
    let english = request(addr, "GET", "/console/plan?lang=en", None, &format!("Cookie: {cookie}\r\n"), "");
    assert!(english.body.contains("<html lang=\"en\">"), "{}", english.body);
    assert!(element(&english, "versions").contains("Version 2 takes effect at 2027-03-01 09:00 (+08:00)."));

    // The member page: the coming change, when, and what it changes.
    let token = request(addr, "POST", "/v1/members/A/token", Some(&key), "", "").json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = request(addr, "GET", &format!("/m?t={token}"), None, "", "");
    let notice = element(&page, "coming");
    assert!(notice.contains("规则变更预告") && notice.contains("2027-03-01 09:00"), "{notice}");
    assert!(notice.contains("停止：q") && notice.contains("规则调整：dist"), "{notice}");
    assert!(!notice.contains("新增"), "nothing added: {notice}");
    let english = request(addr, "GET", &format!("/m?t={token}&lang=en"), None, "", "");
    assert!(element(&english, "coming").contains("Coming rule change"));
}
