//! The Spin glue (wasm32 only): the `#[http_component]` entry point, and
//! [`Platform`] on spin-sdk's variables, key-value store and outbound HTTP.
//!
//! Key-value goes through `wasi:keyvalue@0.2.0-draft2` (`store` and
//! `atomics`), which Spin serves on the same stores as its own key-value
//! interface: it has the atomic `increment` the claims need. spin-sdk 5.2
//! wraps only `fermyon:spin/key-value` (no atomics) and reaches
//! `wasi:keyvalue` through its generated `wit` module, used here.

use ado_connector_core::env::{HttpError, HttpRequest, HttpResponse, Method as CoreMethod};
use futures::SinkExt as _;
use spin_sdk::http::conversions::TryIntoOutgoingRequest as _;
use spin_sdk::http::{ErrorCode, Method, Request, Response, SendError};
use spin_sdk::wit::wasi::keyvalue::{atomics, store};

use crate::platform::{Platform, StoreError};

struct SpinPlatform {
    store: Result<store::Bucket, StoreError>,
}

impl SpinPlatform {
    fn store(&self) -> Result<&store::Bucket, StoreError> {
        self.store.as_ref().map_err(Clone::clone)
    }
}

fn store_error(e: store::Error) -> StoreError {
    StoreError(match e {
        store::Error::NoSuchStore => "the `default` store is not configured".into(),
        store::Error::AccessDenied => {
            "the component may not open the `default` store (key_value_stores)".into()
        }
        store::Error::Other(why) => why,
    })
}

fn method(m: CoreMethod) -> Method {
    match m {
        CoreMethod::Get => Method::Get,
        CoreMethod::Head => Method::Head,
        CoreMethod::Post => Method::Post,
        CoreMethod::Put => Method::Put,
        CoreMethod::Patch => Method::Patch,
        CoreMethod::Delete => Method::Delete,
        CoreMethod::Options => Method::Options,
    }
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(o) => o.to_ascii_uppercase(),
    }
}

fn http_error(e: SendError) -> HttpError {
    match e {
        SendError::Http(ErrorCode::HttpRequestDenied) => {
            HttpError::Denied("the host is not in the component's allowed_outbound_hosts".into())
        }
        SendError::Http(
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout,
        ) => HttpError::Timeout,
        SendError::Http(ErrorCode::HttpResponseBodySize(_)) => HttpError::TooLarge,
        other => HttpError::Transport(other.to_string()),
    }
}

impl Platform for SpinPlatform {
    fn variable(&self, name: &str) -> Option<String> {
        spin_sdk::variables::get(name).ok()
    }

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.store()?.get(key).map_err(store_error)
    }

    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.store()?.set(key, value).map_err(store_error)
    }

    fn kv_delete(&self, key: &str) -> Result<(), StoreError> {
        self.store()?.delete(key).map_err(store_error)
    }

    fn kv_increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        atomics::increment(self.store()?, key, delta).map_err(store_error)
    }

    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let body = request.body;
        let (outgoing, _empty) = Request::builder()
            .method(method(request.method))
            .uri(request.url)
            .headers(request.headers)
            .build()
            .try_into_outgoing_request()
            .map_err(|e| HttpError::Other(format!("the request cannot be built: {e}")))?;
        // The body is written while the response is awaited: a request Spin
        // refuses (allowed_outbound_hosts) then fails with its error code
        // instead of a closed body stream.
        let mut sink = outgoing.take_body();
        let upload = async move {
            let written = sink.send(body).await;
            drop(sink); // finishes the body
            written
        };
        let (response, _upload) = spin_sdk::http::run(futures::future::join(
            spin_sdk::http::send::<_, Response>(outgoing),
            upload,
        ));
        let response = response.map_err(http_error)?;
        Ok(HttpResponse {
            status: *response.status(),
            headers: response
                .headers()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: response.into_body(),
        })
    }
}

// The export glue `http_component` generates is the only unsafe code, and it is spin-sdk's.
#[allow(unsafe_code)]
mod entry {
    use spin_sdk::http::{Request, Response};
    use spin_sdk::wit::wasi::keyvalue::store;

    use super::{SpinPlatform, method_name};
    use crate::platform::ApiRequest;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> Response {
        let platform = SpinPlatform {
            store: store::open("default").map_err(super::store_error),
        };
        let api = ApiRequest {
            method: method_name(req.method()),
            path: req.path().to_string(),
            query: req.query().to_string(),
            headers: req
                .headers()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: req.body().to_vec(),
        };
        let answer = crate::routes::handle(&platform, &api);
        let mut builder = Response::builder();
        builder.status(answer.status).headers(answer.headers);
        builder.body(answer.body).build()
    }
}
