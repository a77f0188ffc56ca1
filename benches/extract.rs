//! Micro-benchmarks (criterion) of the extractors and the resolver, to catch regressions.
//!
//! Inputs: three files of `fixtures/audit-demo` (two Python clients, the Rust client) and a synthetic
//! ~2,000-line Python module that mixes ComfyUI clients with ordinary code (the common case in a
//! monorepo: most lines are not addresses).
//!
//! Run with `cargo bench --bench extract` (add `-- --quick` for a fast pass).

use std::fmt::Write as _;
use std::hint::black_box;

use access_audit::engine::finding::{Evidence, Language};
use access_audit::engine::lower;
use access_audit::engine::resolve::{self, FileInfo};
use access_audit::engine::scan;
use access_audit::rules::RuleSet;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const PY_CLIENT: &str = include_str!("../fixtures/audit-demo/utils/comfyui_api_client.py");
const PY_SAMPLE: &str =
    include_str!("../fixtures/audit-demo/02-compute/data/comfyui/sample_api_call.py");
const RS_CLIENT: &str = include_str!("../fixtures/audit-demo/rust-client/src/main.rs");

/// A deterministic Python module of about `lines` lines: blocks of plain code (classes, loops,
/// comprehensions, docstrings) with a ComfyUI client function every few blocks, using the forms the
/// resolver has to follow (constants, f-strings, `%`, `.format`, env defaults, sessions with headers).
fn synthetic_python(lines: usize) -> String {
    let mut s = String::from(
        "\"\"\"Synthetic module for the access-audit micro-benchmarks.\"\"\"\n\
         import json\nimport os\nimport requests\nimport websocket\n\n\
         COMFYUI_HOST = os.environ.get(\"COMFYUI_HOST\", \"127.0.0.1\")\n\
         COMFYUI_PORT = 8188\n\
         BASE_URL = f\"http://{COMFYUI_HOST}:{COMFYUI_PORT}\"\n\
         REMOTE = \"https://comfyui.datacrew.space\"\n\
         HEADERS = {\"CF-Access-Client-Id\": os.environ[\"CF_ACCESS_CLIENT_ID\"],\n\
         \x20          \"CF-Access-Client-Secret\": os.environ[\"CF_ACCESS_CLIENT_SECRET\"]}\n\n",
    );
    let mut i = 0usize;
    while s.lines().count() < lines {
        let _ = write!(
            s,
            "\n\nclass Worker{i}:\n\
             \x20   \"\"\"Worker number {i}; holds a queue and a cache.\"\"\"\n\n\
             \x20   def __init__(self, size={i}):\n\
             \x20       self.size = size\n\
             \x20       self.items = [x * 2 for x in range(size) if x % 3]\n\
             \x20       self.cache = {{k: str(k) for k in range(10)}}\n\n\
             \x20   def total(self):\n\
             \x20       acc = 0\n\
             \x20       for item in self.items:\n\
             \x20           if item > 10:\n\
             \x20               acc += item\n\
             \x20           else:\n\
             \x20               acc -= 1\n\
             \x20       return acc\n\n\
             \x20   def describe(self):\n\
             \x20       return \"worker %d has %d items\" % ({i}, len(self.items))\n"
        );
        match i % 4 {
            0 => {
                let _ = write!(
                    s,
                    "\n\ndef queue_prompt_{i}(workflow):\n\
                     \x20   r = requests.post(f\"{{BASE_URL}}/prompt\", json={{\"prompt\": workflow}}, timeout=30)\n\
                     \x20   r.raise_for_status()\n\
                     \x20   return r.json()[\"prompt_id\"]\n"
                );
            }
            1 => {
                let _ = write!(
                    s,
                    "\n\ndef history_{i}(prompt_id):\n\
                     \x20   url = REMOTE + \"/history/\" + prompt_id\n\
                     \x20   return requests.get(url, headers=HEADERS, timeout=30).json()\n"
                );
            }
            2 => {
                let _ = write!(
                    s,
                    "\n\ndef listen_{i}(client_id):\n\
                     \x20   ws = websocket.WebSocket()\n\
                     \x20   ws.connect(\"ws://{{}}:{{}}/ws?clientId={{}}\".format(COMFYUI_HOST, COMFYUI_PORT, client_id))\n\
                     \x20   return json.loads(ws.recv())\n"
                );
            }
            _ => {
                let _ = write!(
                    s,
                    "\n\ndef other_service_{i}():\n\
                     \x20   # not ComfyUI: must not be a finding\n\
                     \x20   return requests.get(\"http://localhost:11434/api/tags\").json()\n"
                );
            }
        }
        i += 1;
    }
    s
}

fn rules() -> RuleSet {
    RuleSet::embedded().expect("embedded rules parse")
}

fn bench_python_extract(c: &mut Criterion) {
    let rules = rules();
    let synthetic = synthetic_python(2000);
    let mut g = c.benchmark_group("python_extract");
    for (name, src) in [
        ("comfyui_api_client.py", PY_CLIENT),
        ("sample_api_call.py", PY_SAMPLE),
        ("synthetic_2000_lines.py", synthetic.as_str()),
    ] {
        g.throughput(Throughput::Bytes(src.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), src, |b, src| {
            b.iter(|| lower::python::extract(black_box(src), &rules));
        });
    }
    g.finish();
}

fn bench_rust_extract(c: &mut Criterion) {
    let rules = rules();
    let mut g = c.benchmark_group("rust_extract");
    g.throughput(Throughput::Bytes(RS_CLIENT.len() as u64));
    g.bench_function("rust-client/main.rs", |b| {
        b.iter(|| lower::rust::extract(black_box(RS_CLIENT), &rules).expect("fixture parses"));
    });
    g.finish();
}

fn bench_resolve(c: &mut Criterion) {
    let rules = rules();
    let synthetic = synthetic_python(2000);
    let mut g = c.benchmark_group("resolve_findings");
    let inputs = [
        ("comfyui_api_client.py", Language::Python, PY_CLIENT),
        ("sample_api_call.py", Language::Python, PY_SAMPLE),
        (
            "synthetic_2000_lines.py",
            Language::Python,
            synthetic.as_str(),
        ),
        ("rust-client/main.rs", Language::Rust, RS_CLIENT),
    ];
    for (name, language, src) in inputs {
        let facts = match language {
            Language::Python => lower::python::extract(src, &rules),
            Language::Rust => lower::rust::extract(src, &rules).expect("fixture parses"),
            other => unreachable!("no {other:?} input in this benchmark"),
        };
        let info = FileInfo {
            path: name,
            language,
            evidence: Evidence::Ast,
        };
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| resolve::findings(black_box(&facts), &rules, &info));
        });
    }
    g.finish();
}

fn bench_analyze(c: &mut Criterion) {
    let rules = rules();
    let synthetic = synthetic_python(2000);
    let mut g = c.benchmark_group("scan_analyze");
    let inputs = [
        ("comfyui_api_client.py", Language::Python, PY_CLIENT),
        (
            "synthetic_2000_lines.py",
            Language::Python,
            synthetic.as_str(),
        ),
        ("rust-client/main.rs", Language::Rust, RS_CLIENT),
    ];
    for (name, language, src) in inputs {
        g.throughput(Throughput::Bytes(src.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), src, |b, src| {
            b.iter(|| scan::analyze(black_box(src), language, name, &rules, None));
        });
    }
    g.finish();
}

fn bench_prefilter(c: &mut Criterion) {
    let rules = rules();
    let prefilter = scan::Prefilter::new(&rules);
    let synthetic = synthetic_python(2000);
    let mut g = c.benchmark_group("prefilter");
    g.throughput(Throughput::Bytes(synthetic.len() as u64));
    g.bench_function("synthetic_2000_lines.py", |b| {
        b.iter(|| prefilter.may_match(black_box(synthetic.as_bytes())));
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_python_extract,
    bench_rust_extract,
    bench_resolve,
    bench_analyze,
    bench_prefilter
);
criterion_main!(benches);
