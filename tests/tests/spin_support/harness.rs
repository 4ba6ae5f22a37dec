//! A Spin stand-in on wasmtime-wasi-http: the built Spin component serves
//! HTTP on 127.0.0.1, with Spin's `variables` and `key-value` imports from
//! the manifest's grants and an in-memory store, and its outbound requests
//! checked against the manifest's `allowed_outbound_hosts` (refused with
//! `HttpRequestDenied` otherwise, and never sent beyond loopback).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{
    RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use super::manifest::{self, Grants};

mod bindings {
    wasmtime::component::bindgen!({
        path: "harness-wit",
        world: "harness",
        imports: { default: trappable },
        with: { "fermyon:spin/key-value.store": super::KvHandle },
    });
}

use bindings::fermyon::spin::{key_value, variables};

/// An open key-value store of the guest.
pub struct KvHandle {
    label: String,
}

/// What every request of one app shares.
#[derive(Default)]
pub struct Shared {
    grants: Option<Grants>,
    /// label → key → value.
    kv: Mutex<HashMap<String, BTreeMap<String, Vec<u8>>>>,
    /// Outbound URLs refused by the allow-list.
    pub denied: Mutex<Vec<String>>,
    /// Outbound URLs sent.
    pub sent: Mutex<Vec<String>>,
}

impl Shared {
    fn grants(&self) -> &Grants {
        self.grants.as_ref().expect("grants")
    }

    /// The keys of the default store.
    pub fn keys(&self) -> Vec<String> {
        let kv = self.kv.lock().unwrap();
        kv.get("default")
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every value of every store, as text: to prove no secret is kept.
    pub fn dump(&self) -> String {
        let kv = self.kv.lock().unwrap();
        kv.values()
            .flat_map(|m| m.iter())
            .map(|(k, v)| format!("{k}={}\n", String::from_utf8_lossy(v)))
            .collect()
    }
}

struct Hooks {
    shared: Arc<Shared>,
}

type Deferred = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Deferred,
    ) -> Box<
        dyn Future<Output = Result<(http::Response<WasiBody>, Deferred), wasmtime_wasi_http::Error>>
            + Send,
    > {
        drop(fut);
        let url = request.uri().to_string();
        let allowed = manifest::origin(&url)
            .is_some_and(|o| self.shared.grants().allowed_outbound.contains(&o));
        let loopback = matches!(request.uri().host(), Some("127.0.0.1" | "localhost"));
        if !allowed || !loopback {
            self.shared.denied.lock().unwrap().push(url);
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        self.shared.sent.lock().unwrap().push(url);
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Deferred,
            ))
        })
    }
}

struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Hooks,
    shared: Arc<Shared>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl variables::Host for State {
    fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        Ok(match self.shared.grants().variables.get(&name) {
            Some(v) => Ok(v.clone()),
            None => Err(variables::Error::Undefined(name)),
        })
    }
}

impl key_value::Host for State {}

impl key_value::HostStore for State {
    fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvHandle>, key_value::Error>> {
        if !self.shared.grants().key_value_stores.contains(&label) {
            return Ok(Err(key_value::Error::AccessDenied));
        }
        Ok(Ok(self.table.push(KvHandle { label })?))
    }

    fn get(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        let kv = self.shared.kv.lock().unwrap();
        Ok(Ok(kv.get(&label).and_then(|m| m.get(&key)).cloned()))
    }

    fn set(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        let mut kv = self.shared.kv.lock().unwrap();
        kv.entry(label).or_default().insert(key, value);
        Ok(Ok(()))
    }

    fn delete(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        let mut kv = self.shared.kv.lock().unwrap();
        kv.entry(label).or_default().remove(&key);
        Ok(Ok(()))
    }

    fn exists(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, key_value::Error>> {
        Ok(self.get(store, key)?.map(|v| v.is_some()))
    }

    fn get_keys(
        &mut self,
        store: Resource<KvHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        let kv = self.shared.kv.lock().unwrap();
        Ok(Ok(kv
            .get(&label)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()))
    }

    fn drop(&mut self, store: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

/// The Spin component compiled once per test binary.
fn pre() -> &'static ProxyPre<State> {
    static PRE: OnceLock<ProxyPre<State>> = OnceLock::new();
    PRE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).expect("engine");
        let component = Component::from_file(&engine, ticketing_tests::spin_wasm())
            .expect("the Spin component compiles");
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("WASI");
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("wasi:http");
        bindings::Harness::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .expect("Spin imports");
        let instance = linker
            .instantiate_pre(&component)
            .expect("every import of the component is one Spin grants");
        ProxyPre::new(instance).expect("the component exports wasi:http/incoming-handler")
    })
}

fn text_response(status: u16, text: String) -> hyper::Response<HyperOutgoingBody> {
    let body: HyperOutgoingBody = Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut r = hyper::Response::new(body);
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    r
}

async fn serve_one(
    shared: Arc<Shared>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<HyperOutgoingBody> {
    let pre = pre().clone();
    let mut store = Store::new(
        pre.engine(),
        State {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: Hooks {
                shared: shared.clone(),
            },
            shared,
        },
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    let prepared = (|| {
        let req = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(tx)?;
        wasmtime::Result::<_>::Ok((req, out))
    })();
    let (req, out) = match prepared {
        Ok(p) => p,
        Err(e) => return text_response(500, format!("harness: {e:?}")),
    };
    let task = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, req, out)
            .await
    });
    match rx.await {
        Ok(Ok(response)) => response,
        Ok(Err(code)) => text_response(500, format!("guest error: {code:?}")),
        Err(_) => {
            let why = match task.await {
                Ok(Ok(())) => "the guest set no response".to_string(),
                Ok(Err(e)) => format!("the guest trapped: {e:?}"),
                Err(e) => format!("the guest task failed: {e}"),
            };
            text_response(500, why)
        }
    }
}

/// A running Spin app on 127.0.0.1.
pub struct SpinApp {
    pub shared: Arc<Shared>,
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SpinApp {
    /// Starts the app with these application variables.
    pub fn start(variables: &BTreeMap<String, String>) -> SpinApp {
        let grants = manifest::grants(variables);
        assert_eq!(grants.route, "/...", "the component serves every path");
        let shared = Arc::new(Shared {
            grants: Some(grants),
            ..Shared::default()
        });
        pre();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let served = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let (socket, _) = tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => match accepted {
                            Ok(a) => a,
                            Err(_) => continue,
                        },
                    };
                    let shared = served.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            async move {
                                Ok::<_, std::convert::Infallible>(serve_one(shared, req).await)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(wasmtime_wasi_http::io::TokioIo::new(socket), service)
                            .await;
                    });
                }
            });
        });
        SpinApp {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SpinApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
