//! The location service Microsoft's clients use to find routes: OPTIONS
//! `{org}/_apis` and `{org}/_apis/{area}`, and `_apis/ResourceAreas`.

mod common;

use ado_emulator::seed;
use common::{Client, title};
use serde_json::{Value, json};

fn locations(c: &Client, path: &str) -> Vec<Value> {
    let answer = c.call("OPTIONS", &format!("{}/{path}", c.org()), None, None);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(
        body["count"].as_u64().unwrap() as usize,
        body["value"].as_array().unwrap().len()
    );
    body["value"].as_array().unwrap().clone()
}

#[test]
fn options_lists_the_locations_of_microsofts_python_client() {
    let c = Client::new();
    let all = locations(&c, "_apis");
    for l in &all {
        for key in [
            "id",
            "area",
            "resourceName",
            "routeTemplate",
            "resourceVersion",
            "minVersion",
            "maxVersion",
            "releasedVersion",
        ] {
            assert!(!l[key].is_null(), "{key} missing in {l}");
        }
    }
    let ids: Vec<&str> = all.iter().map(|l| l["id"].as_str().unwrap()).collect();
    // create, get/update, batch, WIQL, comments, attachments, projects, subscriptions.
    for id in [
        "62d3d110-0047-428c-ad3c-4fe872c91c74",
        "72c7ddf8-2cdc-4f60-90cd-ab71c14a399b",
        "908509b6-4248-4475-a1cd-829139ba419f",
        "1a9c53f7-f243-4447-b110-35ef023636e4",
        "608aac0a-32e1-4493-a863-b9cf4566d257",
        "e07b5fa4-1499-494d-a496-64b860fd64ff",
        "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
        "fc50d02a-849f-41fb-8af1-0a5216103269",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert_eq!(locations(&c, "_apis/").len(), all.len());
    let hooks = locations(&c, "_apis/hooks");
    assert!(!hooks.is_empty() && hooks.iter().all(|l| l["area"] == "hooks"));
}

/// Fills a route template as Microsoft's client does: known values in,
/// segments without a value left out.
fn fill(template: &str, l: &Value, values: &[(&str, String)]) -> String {
    let mut out = Vec::new();
    for segment in template.replace("{*", "{").split('/') {
        let mut s = segment
            .replace("{area}", l["area"].as_str().unwrap())
            .replace("{resource}", l["resourceName"].as_str().unwrap());
        for (k, v) in values {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        if !s.contains('{') {
            out.push(s);
        }
    }
    out.join("/")
}

#[test]
fn every_route_template_leads_to_a_route_the_emulator_serves() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("located")]));
    let values = [
        ("project", c.emu.project_id(seed::PROJECT).unwrap()),
        ("id", id.to_string()),
        ("workItemId", id.to_string()),
        ("type", "Bug".to_string()),
        ("publisherId", "tfs".to_string()),
        ("consumerId", "webHooks".to_string()),
    ];
    for l in locations(&c, "_apis") {
        let path = fill(l["routeTemplate"].as_str().unwrap(), &l, &values);
        let answer = c.get(&format!("{}/{path}", c.org()));
        // The fallback's VS800044 means no route: anything else (even 405
        // for a POST-only resource) means the template names a served route.
        let fallback = answer.status == 404 && answer.code() == "VS800044";
        assert!(!fallback, "{} -> {path} is not served", l["id"]);
    }
}

#[test]
fn resource_areas_point_every_area_at_the_organization() {
    let c = Client::new();
    let areas = c.get(&format!("{}/_apis/ResourceAreas", c.org()));
    assert_eq!(areas.status, 200, "{}", areas.text());
    let list = areas.json()["value"].as_array().unwrap().clone();
    let wit = list
        .iter()
        .find(|a| a["id"] == "5264459e-e5e0-4bd8-b118-0985e68a4ec5")
        .expect("wit area");
    assert_eq!(wit["locationUrl"], format!("{}/", c.org()));
    let one = c.get(&format!(
        "{}/_apis/ResourceAreas/79134c72-4a58-4b42-976c-04e7115f32bf",
        c.org()
    ));
    assert_eq!(one.json()["name"], "core");
    assert_eq!(
        c.get(&format!(
            "{}/_apis/ResourceAreas/00000000-0000-0000-0000-000000000000",
            c.org()
        ))
        .status,
        404
    );
}
