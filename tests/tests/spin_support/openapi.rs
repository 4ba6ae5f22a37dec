//! `plugin/spin/openapi.json`, held against what the service answers: every
//! call the tests make goes through [`OpenApi::check`], which fails the test
//! when the route, the method or the status is not documented, or when the
//! body does not validate against the documented schema.

use serde_json::{Value, json};

pub struct OpenApi {
    pub doc: Value,
}

impl OpenApi {
    pub fn load() -> OpenApi {
        let path = ticketing_tests::workspace_root().join("plugin/spin/openapi.json");
        let text = std::fs::read_to_string(&path).expect("plugin/spin/openapi.json");
        OpenApi {
            doc: serde_json::from_str(&text).expect("openapi.json is JSON"),
        }
    }

    /// The documented path template `path` falls under.
    pub fn template(&self, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.doc["paths"]
            .as_object()?
            .keys()
            .find(|t| {
                let tsegs: Vec<&str> = t.trim_matches('/').split('/').collect();
                tsegs.len() == segs.len()
                    && tsegs
                        .iter()
                        .zip(&segs)
                        .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .cloned()
    }

    /// Fails unless `method path` answering `status` with `body` is documented.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let path = path.split('?').next().unwrap();
        let Some(template) = self.template(path) else {
            // Only unknown routes may be undocumented, and they answer 404.
            assert_eq!(status, 404, "{method} {path} is not in openapi.json");
            self.validate("#/components/schemas/Error", body, method, path, status);
            return;
        };
        let op = &self.doc["paths"][&template][method.to_ascii_lowercase()];
        if !op.is_object() && status == 405 {
            // A documented route called with a method it does not take.
            self.validate("#/components/schemas/Error", body, method, path, status);
            return;
        }
        assert!(
            op.is_object(),
            "{method} {template} is not in openapi.json (status {status})"
        );
        let response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which openapi.json does not list: {body}"
        );
        let schema = &response["content"]["application/json"]["schema"];
        if let Some(r) = schema["$ref"].as_str() {
            self.validate(r, body, method, path, status);
        } else {
            self.validate_inline(schema, body, method, path, status);
        }
    }

    fn validate(&self, reference: &str, body: &Value, method: &str, path: &str, status: u16) {
        self.validate_inline(&json!({ "$ref": reference }), body, method, path, status);
    }

    fn validate_inline(&self, schema: &Value, body: &Value, method: &str, path: &str, status: u16) {
        // The schema at the root of a document that also holds `components`,
        // so `#/components/schemas/...` references resolve.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::validator_for(&root).expect("the schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: the body does not fit openapi.json: {errors:?}\n{body}"
        );
    }

    /// Every documented (method, path template).
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
        out
    }
}
