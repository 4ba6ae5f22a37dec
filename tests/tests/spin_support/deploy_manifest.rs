//! `deploy/spinapp.yaml`, the SpinKube manifest, held against the real
//! `plugin/spin/spin.toml`: read with a YAML parser, it must give every
//! required variable, each secret through a Kubernetes Secret (never as a
//! value in the manifest), run two or more replicas and put the `default`
//! key-value store on Redis. Included by `tests/tests/spin.rs`.

use yaml_rust2::{Yaml, YamlLoader};

fn read_yaml(path: &str) -> Yaml {
    let text = std::fs::read_to_string(ticketing_tests::workspace_root().join(path)).unwrap();
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
        .remove(0)
}

/// `(name, required, secret)` of every application variable of spin.toml.
fn declared() -> Vec<(String, bool, bool)> {
    let path = ticketing_tests::workspace_root().join("plugin/spin/spin.toml");
    let manifest: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    manifest["variables"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(name, v)| {
            let flag = |k: &str| v.get(k).and_then(toml::Value::as_bool) == Some(true);
            (name.clone(), flag("required"), flag("secret"))
        })
        .collect()
}

/// The `secretKeyRef` of a `valueFrom`, as (secret name, key).
fn secret_ref(item: &Yaml) -> Option<(String, String)> {
    let r = &item["valueFrom"]["secretKeyRef"];
    Some((
        r["name"].as_str()?.to_string(),
        r["key"].as_str()?.to_string(),
    ))
}

#[test]
fn the_spinkube_manifest_gives_every_variable_and_takes_secrets_from_a_secret() {
    let app = read_yaml("deploy/spinapp.yaml");
    assert_eq!(app["kind"].as_str(), Some("SpinApp"));
    let spec = &app["spec"];
    assert!(spec["replicas"].as_i64().unwrap() >= 2, "replicas");
    let given: Vec<&Yaml> = spec["variables"]
        .as_vec()
        .expect("spec.variables")
        .iter()
        .collect();
    let declared = declared();
    let mut refs = Vec::new();
    for item in &given {
        let name = item["name"].as_str().expect("a variable has a name");
        let (_, _, secret) = declared
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("`{name}` is not a variable of spin.toml"));
        match secret_ref(item) {
            Some(r) => refs.push(r),
            None => assert!(!secret, "the secret `{name}` is written in the manifest"),
        }
    }
    for (name, required, _) in &declared {
        assert!(
            !required || given.iter().any(|v| v["name"].as_str() == Some(name)),
            "the required variable `{name}` is not given"
        );
    }
    let stores = spec["runtimeConfig"]["keyValueStores"]
        .as_vec()
        .expect("keyValueStores");
    let default = stores
        .iter()
        .find(|s| s["name"].as_str() == Some("default"))
        .expect("the default store");
    assert_eq!(default["type"].as_str(), Some("redis"));
    let url = default["options"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|o| o["name"].as_str() == Some("url"))
        .expect("the Redis url");
    refs.push(secret_ref(url).expect("the Redis URL (it holds the password) comes from a Secret"));

    // The example Secret holds every key the manifest reads.
    let secret = read_yaml("deploy/secret.example.yaml");
    assert_eq!(secret["kind"].as_str(), Some("Secret"));
    let name = secret["metadata"]["name"].as_str().unwrap();
    for (secret_name, key) in refs {
        assert_eq!(secret_name, name);
        assert!(
            secret["stringData"][key.as_str()].as_str().is_some(),
            "the Secret has no `{key}`"
        );
    }
}
