//! A Spin stand-in on wasmtime-wasi-http: the built Spin component serves
//! HTTP on 127.0.0.1, a new instance for every request and requests served
//! at the same time, as `spin up` does; Spin's `variables` and key-value
//! (`wasi:keyvalue` store and atomics, what the component imports) from the
//! manifest's grants on a SQLite file with Spin's schema and semantics
//! (`kv.rs`); outbound requests checked against the manifest's
//! `allowed_outbound_hosts` when they are sent (refused with
//! `HttpRequestDenied`). A request the policy allows to a host other than
//! loopback is recorded as allowed and fails as unreachable: the harness
//! never contacts anything but 127.0.0.1.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
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

use super::kv::{Kv, KvResult};
use super::manifest::{self, Grants};

mod bindings {
    wasmtime::component::bindgen!({
        path: "harness-wit",
        world: "harness",
        imports: { default: trappable },
        with: {
            "wasi:keyvalue/store.bucket": super::KvHandle,
            "wasi:keyvalue/atomics.cas": super::CasHandle,
        },
    });
}

use bindings::fermyon::spin::variables;
use bindings::wasi::keyvalue::{atomics, store as wasi_store};

/// An open key-value store (bucket) of the guest.
pub struct KvHandle {
    label: String,
}

/// A CAS operation of the guest: its key, and what `current` saw.
pub struct CasHandle {
    label: String,
    key: String,
    seen: Option<Vec<u8>>,
}

/// What the egress policy decided for one outbound request.
#[derive(Debug, Clone, PartialEq)]
pub enum Egress {
    /// Refused by `allowed_outbound_hosts`, and why.
    Denied(String),
    /// Allowed and sent (loopback).
    Sent,
    /// Allowed, but not loopback: the harness does not contact it.
    AllowedNotContacted,
}

/// What every request of one app shares.
pub struct Shared {
    grants: Grants,
    kv: Kv,
    /// Every outbound request: its URL and the decision.
    pub egress: Mutex<Vec<(String, Egress)>>,
    /// Outbound URLs refused by the allow-list.
    pub denied: Mutex<Vec<String>>,
    /// Outbound URLs sent.
    pub sent: Mutex<Vec<String>>,
    /// Requests being served right now, and the most at once.
    in_flight: AtomicUsize,
    pub most_in_flight: AtomicUsize,
    /// The component every request instantiates.
    pre: ProxyPre<State>,
}

impl Shared {
    /// The keys of the default store.
    pub fn keys(&self) -> Vec<String> {
        self.kv.keys("default").expect("the store's keys")
    }

    /// Every value of the default store, as text: to prove no secret is kept.
    pub fn dump(&self) -> String {
        self.keys()
            .into_iter()
            .map(|k| {
                let v = self.kv.get("default", &k).unwrap().unwrap_or_default();
                format!("{k}={}\n", String::from_utf8_lossy(&v))
            })
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
        let decision = match self.shared.grants.allows(&url) {
            Err(why) => Egress::Denied(why),
            Ok(()) if matches!(request.uri().host(), Some("127.0.0.1" | "localhost")) => {
                Egress::Sent
            }
            Ok(()) => Egress::AllowedNotContacted,
        };
        self.shared
            .egress
            .lock()
            .unwrap()
            .push((url.clone(), decision.clone()));
        match decision {
            Egress::Denied(_) => {
                self.shared.denied.lock().unwrap().push(url);
                Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
            }
            Egress::AllowedNotContacted => {
                Box::new(async { Err(wasmtime_wasi_http::Error::DestinationUnavailable) })
            }
            Egress::Sent => {
                self.shared.sent.lock().unwrap().push(url);
                Box::new(async move {
                    let (response, io) =
                        wasmtime_wasi_http::default_send_request(request, options).await?;
                    Ok((
                        response.map(BodyExt::boxed_unsync),
                        Box::new(io) as Deferred,
                    ))
                })
            }
        }
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

impl State {
    fn label(&self, store: &Resource<KvHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(store)?.label.clone())
    }

    /// Runs `f` on the store file with the label of the guest's handle.
    fn on<T>(
        &self,
        store: &Resource<KvHandle>,
        f: impl FnOnce(&Kv, &str) -> KvResult<T>,
    ) -> wasmtime::Result<KvResult<T>> {
        let label = self.label(store)?;
        Ok(f(&self.shared.kv, &label))
    }

    /// A new handle on the store `label`, when the manifest grants it.
    fn open_store(&mut self, label: String) -> wasmtime::Result<Option<Resource<KvHandle>>> {
        if !self.shared.grants.key_value_stores.contains(&label) {
            return Ok(None);
        }
        Ok(Some(self.table.push(KvHandle { label })?))
    }
}

impl variables::Host for State {
    fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        Ok(match self.shared.grants.variables.get(&name) {
            Some(v) => Ok(v.clone()),
            None => Err(variables::Error::Undefined(name)),
        })
    }
}

type WasiKv<T> = wasmtime::Result<Result<T, wasi_store::Error>>;

fn wasi_err(e: String) -> wasi_store::Error {
    wasi_store::Error::Other(e)
}

impl wasi_store::Host for State {
    fn open(&mut self, identifier: String) -> WasiKv<Resource<KvHandle>> {
        Ok(self
            .open_store(identifier)?
            .ok_or(wasi_store::Error::AccessDenied))
    }
}

/// `wasi:keyvalue/store`'s bucket.
impl wasi_store::HostBucket for State {
    fn get(&mut self, b: Resource<KvHandle>, key: String) -> WasiKv<Option<Vec<u8>>> {
        Ok(self.on(&b, |kv, l| kv.get(l, &key))?.map_err(wasi_err))
    }
    fn set(&mut self, b: Resource<KvHandle>, key: String, value: Vec<u8>) -> WasiKv<()> {
        Ok(self
            .on(&b, |kv, l| kv.set(l, &key, &value))?
            .map_err(wasi_err))
    }
    fn delete(&mut self, b: Resource<KvHandle>, key: String) -> WasiKv<()> {
        Ok(self.on(&b, |kv, l| kv.delete(l, &key))?.map_err(wasi_err))
    }
    fn exists(&mut self, b: Resource<KvHandle>, key: String) -> WasiKv<bool> {
        let found = self.on(&b, |kv, l| kv.get(l, &key))?;
        Ok(found.map(|v| v.is_some()).map_err(wasi_err))
    }
    /// Spin answers every key in one page (no cursor).
    fn list_keys(
        &mut self,
        b: Resource<KvHandle>,
        _cursor: Option<String>,
    ) -> WasiKv<wasi_store::KeyResponse> {
        let keys = self.on(&b, |kv, l| kv.keys(l))?;
        Ok(keys
            .map(|keys| wasi_store::KeyResponse { keys, cursor: None })
            .map_err(wasi_err))
    }
    fn drop(&mut self, b: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for State {
    fn increment(&mut self, b: Resource<KvHandle>, key: String, delta: i64) -> WasiKv<i64> {
        Ok(self
            .on(&b, |kv, l| kv.increment(l, &key, delta))?
            .map_err(wasi_err))
    }

    fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let op = self.table.delete(cas)?;
        match self
            .shared
            .kv
            .swap(&op.label, &op.key, op.seen.as_deref(), &value)
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // Spin hands back a fresh CAS handle to retry with.
                let retry = self.table.push(CasHandle {
                    label: op.label,
                    key: op.key,
                    seen: None,
                })?;
                Ok(Err(atomics::CasError::CasFailed(retry)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(wasi_err(e)))),
        }
    }
}

impl atomics::HostCas for State {
    fn new(&mut self, bucket: Resource<KvHandle>, key: String) -> WasiKv<Resource<CasHandle>> {
        let label = self.label(&bucket)?;
        Ok(Ok(self.table.push(CasHandle {
            label,
            key,
            seen: None,
        })?))
    }

    fn current(&mut self, cas: Resource<CasHandle>) -> WasiKv<Option<Vec<u8>>> {
        let (label, key) = {
            let op = self.table.get(&cas)?;
            (op.label.clone(), op.key.clone())
        };
        let value = match self.shared.kv.get(&label, &key) {
            Ok(v) => v,
            Err(e) => return Ok(Err(wasi_err(e))),
        };
        self.table.get_mut(&cas)?.seen.clone_from(&value);
        Ok(Ok(value))
    }

    fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

/// Each Spin component file compiled once for the whole binary (the tests
/// run the one `build.rs` ships; the `spin` bench compares two).
fn pre(file: &Path) -> ProxyPre<State> {
    static PRE: OnceLock<Mutex<BTreeMap<PathBuf, ProxyPre<State>>>> = OnceLock::new();
    let mut compiled = PRE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    compiled
        .entry(file.to_path_buf())
        .or_insert_with(|| compile(file))
        .clone()
}

fn compile(file: &Path) -> ProxyPre<State> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).expect("engine");
    let component = Component::from_file(&engine, file)
        .unwrap_or_else(|e| panic!("the Spin component {} compiles: {e:?}", file.display()));
    let mut linker: Linker<State> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("WASI");
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("wasi:http");
    bindings::Harness::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).expect("Spin imports");
    let instance = linker
        .instantiate_pre(&component)
        .expect("every import of the component is one Spin grants");
    ProxyPre::new(instance).expect("the component exports wasi:http/incoming-handler")
}

fn text_response(status: u16, text: String) -> hyper::Response<HyperOutgoingBody> {
    let body: HyperOutgoingBody = Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut r = hyper::Response::new(body);
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    r
}

/// Counts a request in flight while it lives.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn new(shared: &Arc<Shared>) -> InFlight {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One request in a new instance, as Spin serves each request.
async fn serve_one(
    shared: Arc<Shared>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<HyperOutgoingBody> {
    let _in_flight = InFlight::new(&shared);
    let pre = shared.pre.clone();
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
    /// The store file this app made for itself, deleted with it.
    own_store: Option<StoreFile>,
}

/// A key-value file in the temporary directory, deleted when dropped.
pub struct StoreFile(PathBuf);

impl StoreFile {
    pub fn new() -> StoreFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        StoreFile(std::env::temp_dir().join(format!("spin-harness-{}-{n}.db", std::process::id())))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for StoreFile {
    fn default() -> Self {
        StoreFile::new()
    }
}

impl Drop for StoreFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl SpinApp {
    /// Starts the app with these application variables, on a store of its own.
    pub fn start(variables: &BTreeMap<String, String>) -> SpinApp {
        let file = StoreFile::new();
        let mut app = SpinApp::start_on(variables, file.path());
        app.own_store = Some(file);
        app
    }

    /// Starts the app on the key-value file `store`: another app on the
    /// same file is a replica sharing its store; an app started again on it
    /// is `spin up` restarted.
    pub fn start_on(variables: &BTreeMap<String, String>, store: &Path) -> SpinApp {
        SpinApp::start_component(variables, store, ticketing_tests::spin_wasm())
    }

    /// [`SpinApp::start_on`] with another build of the component.
    pub fn start_component(
        variables: &BTreeMap<String, String>,
        store: &Path,
        component: &Path,
    ) -> SpinApp {
        let grants = manifest::grants(variables);
        assert_eq!(grants.route, "/...", "the component serves every path");
        let shared = Arc::new(Shared {
            grants,
            kv: Kv::open(store),
            egress: Mutex::default(),
            denied: Mutex::default(),
            sent: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            pre: pre(component),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let served = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
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
            own_store: None,
        }
    }

    /// The most requests this app served at the same moment.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
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
