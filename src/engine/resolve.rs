//! From one file's [`FileFacts`] to its [`Finding`]s: evaluate every candidate, keep those that are a
//! service address, decide which expression is *the* finding (the one that builds the address where
//! it is used; a base bound to a name and used inside another address is folded into that one), and
//! work out where the host came from and whether the request carries an Access credential.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::engine::address::{self, Address};
use crate::engine::classify::{classify_host, Group};
use crate::engine::credential;
use crate::engine::finding::{Evidence, Finding, Language};
use crate::engine::ir::{Candidate, FileFacts, Pos, Sink, SinkKind, StrExpr, Use};
use crate::engine::project::{FileContext, Project};
use crate::engine::solve::HOLE_OPEN;
use crate::engine::solve::{EnvOverride, Evaluator, SourceKind, Value};
use crate::rules::{RuleSet, Service};

/// What the caller knows about the file.
pub struct FileInfo<'a> {
    pub path: &'a str,
    pub language: Language,
    pub evidence: Evidence,
}

struct Hit<'a> {
    cand: &'a Candidate,
    value: Value,
    addr: Address,
    service: &'a Service,
    /// Recognised by its API path alone (no port, host or domain of the service).
    by_path: bool,
}

/// One file's findings, and what the scan needs to fold definitions across files.
#[derive(Debug, Default)]
pub struct Resolved {
    pub findings: Vec<Finding>,
    /// Positions of findings that another file may build on (a binding reported at its definition,
    /// an argument passed to another module's function): folded away when one does.
    pub definitions: Vec<Pos>,
    /// Bindings of other files that this file's findings were built from: (report path, position).
    pub external_uses: Vec<(String, Pos)>,
}

/// Resolve the findings of one file on its own.
pub fn findings(facts: &FileFacts, rules: &RuleSet, info: &FileInfo) -> Vec<Finding> {
    resolve(facts, rules, info, None).findings
}

/// Resolve the findings of one file, with the project around it (imports, env values, compose).
pub fn resolve(
    facts: &FileFacts,
    rules: &RuleSet,
    info: &FileInfo,
    ctx: Option<&FileContext>,
) -> Resolved {
    let evaluator = |env: Vec<EnvOverride>| {
        let ev = Evaluator::new(facts).with_env(env);
        match ctx {
            Some(c) => ev.with_external(c),
            None => ev,
        }
    };
    let ev = evaluator(Vec::new());
    let mut hits: Vec<Hit> = Vec::new();
    let generic = Evaluator::new(facts).without_call_sites();
    let generic = match ctx {
        Some(c) => generic.with_external(c),
        None => generic,
    };
    for cand in &facts.candidates {
        let first_hit = hits.len();
        // Every value it can take — only for an expression shaped like an address on its own
        // (most strings a program builds are not, and following their parameters into callers
        // and other modules would be wasted work).
        let shape = generic.eval(&cand.expr, cand.scope, cand.pos);
        let values = if shape.text.contains("://") || address::parse(&shape.text).is_some() {
            ev.eval_all(&cand.expr, cand.scope, cand.pos)
        } else {
            vec![shape]
        };
        let value = merged_sources(&values);
        // Env vars given values by env files / compose / manifests: one finding per value.
        let mut replaced = false;
        if let Some(c) = ctx {
            let mut vars: Vec<(&str, bool)> = Vec::new();
            for s in value.sources.iter().filter(|s| s.kind == SourceKind::Env) {
                if !vars.iter().any(|(v, _)| *v == s.name) && vars.len() < 2 {
                    vars.push((&s.name, s.has_default));
                }
            }
            // Every combination of the known values of (at most two) env vars: `HOST` and
            // `PORT` from one compose file give whole addresses.
            let mut combos: Vec<Vec<EnvOverride>> = vec![Vec::new()];
            for (var, has_default) in vars {
                let values = c.project.env_values(var, &c.path);
                if values.is_empty() {
                    continue;
                }
                replaced |= !has_default;
                combos = combos
                    .iter()
                    .flat_map(|combo| {
                        values.iter().map(move |o| {
                            let mut next = combo.clone();
                            next.push(o.clone());
                            next
                        })
                    })
                    .take(crate::engine::solve::MAX_VALUES)
                    .collect();
            }
            for combo in combos.into_iter().filter(|c| !c.is_empty()) {
                // Imported values read the same env values.
                let scoped = FileContext {
                    env: combo.clone(),
                    ..c.clone()
                };
                let with_env = Evaluator::new(facts).with_env(combo).with_external(&scoped);
                for v in with_env.eval_all(&cand.expr, cand.scope, cand.pos) {
                    if let Some(hit) = hit_of(cand, v, rules, c) {
                        hits.push(hit);
                    }
                }
            }
        }
        if replaced {
            continue;
        }
        // Every value a caller made was impossible (a full URL passed where the function
        // builds on a path): the function's own address, for any caller, is the finding.
        let impossible = |v: &Value| address::parse(&v.text).is_some_and(|a| !possible(&a));
        let values = if !values.is_empty() && values.iter().all(impossible) {
            vec![generic.eval(&cand.expr, cand.scope, cand.pos)]
        } else {
            values
        };
        let sink = facts.sinks.iter().find(|s| s.pos == cand.pos);
        for value in values {
            if let Some(hit) = sink.and_then(|s| sink_hit(facts, s, cand, &value, rules)) {
                hits.push(hit);
                continue;
            }
            let hit = match ctx {
                Some(c) => hit_of(cand, value, rules, c),
                None => address::parse(&value.text)
                    .filter(possible)
                    .and_then(|addr| {
                        best_service(&addr, rules, None).map(|(service, by_path)| Hit {
                            cand,
                            value,
                            addr,
                            service,
                            by_path,
                        })
                    }),
            };
            hits.extend(hit);
        }
        collapse_paths(&mut hits, first_hit, &generic);
    }
    // What sends each candidate: the request uses it reaches (through names, calls and
    // parameters), decided once per candidate.
    let mut sent: HashMap<Pos, (bool, Option<String>, bool, Option<String>)> = HashMap::default();
    for h in &hits {
        sent.entry(h.cand.pos)
            .or_insert_with(|| consumers(facts, &ev, h.cand, ctx));
    }
    // An address recognised by its API path alone is the service's only when code sends it with
    // an HTTP client; a path in a data file, or a string nobody sends, is not.
    let is_sink = |h: &Hit| facts.sinks.iter().any(|s| s.pos == h.cand.pos);
    hits.retain(|h| {
        !h.by_path
            || is_sink(h)
            || (info.evidence == Evidence::Text)
            || (info.evidence == Evidence::Ast && sent.get(&h.cand.pos).is_some_and(|s| s.2))
    });

    // Bindings folded into another address-building expression, by the position of their value
    // (a class attribute is bound under several names, `X`, `self.X`, `Class.X`, at one position).
    let mut absorbed: HashSet<Pos> = HashSet::default();
    for h in &hits {
        let mut refs = Vec::new();
        h.cand.expr.refs(&mut refs);
        for r in refs {
            // Follow bare aliases (`self.x` → `x`) to the binding that builds the value.
            let (mut name, mut scope, mut at) = (r, h.cand.scope, h.cand.pos);
            for _ in 0..8 {
                let Some(b) = ev.lookup(name, scope, at) else {
                    break;
                };
                if b.pos == h.cand.pos || !absorbed.insert(b.pos) {
                    break;
                }
                match &b.value {
                    StrExpr::Ref(next) => (name, scope, at) = (next.as_str(), b.scope, b.pos),
                    _ => break,
                }
            }
        }
    }

    // A string that reaches another address-building expression (an argument passed to a
    // parameter, a list element a loop runs over) is part of that address, not one of its own.
    let mut built_into: HashSet<Pos> = HashSet::default();
    for h in &hits {
        for s in &h.value.sources {
            if let (None, Some(p)) = (&s.file, s.pos) {
                if p != h.cand.pos {
                    built_into.insert(p);
                }
            }
        }
    }
    let mut out = Resolved::default();
    let mut seen: HashSet<(Pos, String)> = HashSet::default();
    for h in &hits {
        if h.cand.bound_to.is_some() && absorbed.contains(&h.cand.pos) {
            continue;
        }
        if built_into.contains(&h.cand.pos) {
            continue;
        }
        // The same address at the same place from two sources (a code default and an `.env`
        // value that equals it) is one finding: the one that names the env var wins (first).
        if !seen.insert((h.cand.pos, h.addr.url.clone())) {
            continue;
        }
        // Bindings (and arguments passed on) that other files may build on.
        out.definitions.push(h.cand.pos);
        for s in &h.value.sources {
            if let (Some(file), Some(pos)) = (&s.file, s.pos) {
                out.external_uses.push((file.clone(), pos));
            }
        }
        // The env file entry that gave the value is used here (column 0: the whole line).
        if let Some((file, line)) = h
            .value
            .env_source
            .as_deref()
            .and_then(|e| e.rsplit_once(':'))
        {
            if let Ok(line) = line.parse() {
                out.external_uses
                    .push((file.to_string(), Pos { line, column: 0 }));
            }
        }
        out.findings.push(finding(facts, &ev, h, info, ctx));
    }
    for e in &facts.execs {
        let Some(service) = rules.services.iter().find(|s| {
            s.containers
                .as_ref()
                .is_some_and(|re| re.is_match(&e.container))
        }) else {
            continue;
        };
        out.findings.push(Finding {
            path: info.path.to_string(),
            line: e.pos.line,
            column: e.pos.column,
            url: None,
            scheme: None,
            host: Some(e.container.clone()),
            port: None,
            group: Group::ContainerExec,
            tokenized: false,
            service: service.id.clone(),
            language: info.language,
            evidence: info.evidence,
            client: Some("docker exec".to_string()),
            function: e.function.clone(),
            env_var: None,
            defined_at: None,
            command: Some(e.command.clone()),
            env_source: None,
            cell: None,
            cli_arg: None,
            auth: None,
        });
    }
    out
}

/// The hit for a candidate's value, if it is an address of a service (project ports count).
fn hit_of<'a>(
    cand: &'a Candidate,
    value: Value,
    rules: &'a RuleSet,
    ctx: &FileContext,
) -> Option<Hit<'a>> {
    let addr = address::parse(&value.text).filter(possible)?;
    let (service, by_path) = best_service(&addr, rules, Some(ctx.project))?;
    Some(Hit {
        cand,
        value,
        addr,
        service,
        by_path,
    })
}

fn best_service<'r>(
    addr: &Address,
    rules: &'r RuleSet,
    project: Option<&Project>,
) -> Option<(&'r Service, bool)> {
    let rank = |m: address::Match| match m {
        address::Match::Host => 0,
        address::Match::Port => 1,
        address::Match::Path => 2,
    };
    let mut best: Option<(&Service, address::Match)> = None;
    for s in &rules.services {
        let published = || {
            project.is_some_and(|p| {
                addr.port.is_some_and(|port| {
                    p.ports
                        .get(&s.id)
                        .is_some_and(|ports| ports.contains(&port))
                })
            })
        };
        let m = address::matches(addr, s).or_else(|| published().then_some(address::Match::Port));
        if let Some(m) = m {
            if best.is_none_or(|(_, b)| rank(m) < rank(b)) {
                best = Some((s, m));
            }
        }
    }
    best.map(|(s, m)| (s, m == address::Match::Path))
}

/// Values of one expression that reach the same host and port and differ only in what callers
/// put in the path (`f"{BASE}/{path}"` called with `"prompt"`, `"history/1"`, …) are one
/// finding, shown with the parameter as a hole. Different hosts stay apart.
fn collapse_paths(hits: &mut Vec<Hit>, from: usize, generic: &Evaluator) {
    if hits.len() < from + 2 {
        return;
    }
    let cand = hits[from].cand;
    let Some(g_addr) = address::parse(&generic.eval(&cand.expr, cand.scope, cand.pos).text) else {
        return;
    };
    let key = |a: &Address| (a.scheme.clone(), a.host.clone(), a.port);
    let g_key = key(&g_addr);
    let same: Vec<usize> = (from..hits.len())
        .filter(|&i| key(&hits[i].addr) == g_key && g_addr.host.is_some())
        .collect();
    if same.len() < 2 {
        return;
    }
    let keep = same[0];
    let mut value = generic.eval(&cand.expr, cand.scope, cand.pos);
    // Keep where the host came from and what sent it.
    value.env_source = hits[keep].value.env_source.clone();
    for s in &hits[keep].value.sources {
        if !value.sources.contains(s) {
            value.sources.push(s.clone());
        }
    }
    hits[keep].addr = g_addr;
    hits[keep].value = value;
    hits[keep].by_path = same.iter().all(|&i| hits[i].by_path);
    for &i in same[1..].iter().rev() {
        hits.remove(i);
    }
}

/// `args.comfy_host` → `--comfy-host`; `argv[1]` and flags stay as they are.
fn cli_flag(name: &str) -> String {
    if name.starts_with("argv[") || name.starts_with('-') {
        return name.to_string();
    }
    let field = name.rsplit('.').next().unwrap_or(name);
    format!("--{}", field.replace('_', "-"))
}

/// A sink argument's value as the service's address: anything passed to a client library of the
/// service (unresolved when it is not known), or the base URL of an HTTP client object through
/// which the service's API paths are requested.
fn sink_hit<'a>(
    facts: &FileFacts,
    sink: &Sink,
    cand: &'a Candidate,
    value: &Value,
    rules: &'a RuleSet,
) -> Option<Hit<'a>> {
    let service = match &sink.kind {
        SinkKind::Client(id) => rules.services.iter().find(|s| s.id == *id)?,
        SinkKind::Base(object) => rules.services.iter().find(|s| {
            facts.object_paths.iter().any(|(o, path)| {
                o == object
                    && s.paths.iter().any(|p| {
                        path.strip_prefix(p.as_str()).is_some_and(|rest| {
                            rest.is_empty() || rest.starts_with(['/', '?', '{', '#'])
                        })
                    })
            })
        })?,
    };
    let addr = match address::parse(&value.text) {
        Some(a) => a,
        // `ComfyUIClient(sys.argv[1])`: an address known only at run time.
        None if matches!(sink.kind, SinkKind::Client(_)) && value.text.starts_with(HOLE_OPEN) => {
            Address {
                scheme: None,
                host: None,
                port: None,
                path: String::new(),
                url: value.display(),
                host_hole: true,
            }
        }
        None => return None,
    };
    Some(Hit {
        cand,
        value: value.clone(),
        addr,
        service,
        by_path: false,
    })
}

/// An address a request can have: not a whole URL pasted into another one's path
/// (`f"{BASE}/{path}"` where a caller passes a full URL as `path` takes the other branch).
fn possible(addr: &Address) -> bool {
    !addr.path.split('?').next().unwrap_or("").contains("://")
}

/// The byte offset of the host in an evaluated address (after the scheme and any user info).
fn host_offset(text: &str) -> usize {
    let start = text.find("://").map_or(0, |i| i + 3);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    text[start..end].rfind('@').map_or(start, |i| start + i + 1)
}

/// The sources of every value, for the env vars a candidate reads.
fn merged_sources(values: &[Value]) -> Value {
    let mut out = Value::default();
    for v in values {
        out.sources.extend(v.sources.iter().cloned());
    }
    out
}

fn finding(
    facts: &FileFacts,
    ev: &Evaluator,
    h: &Hit,
    info: &FileInfo,
    ctx: Option<&FileContext>,
) -> Finding {
    let mut group = classify_host(h.addr.host.as_deref(), h.service);
    // Compose service and container names stay on the Docker network.
    if let (Some(c), Some(host)) = (ctx, &h.addr.host) {
        if c.project.hosts.contains(host) {
            group = Group::DockerNetwork;
        }
    }
    let (tokenized, client, _, auth) = consumers(facts, ev, h.cand, ctx);
    // The command-line argument the address comes from: `--host` for argparse / click / clap
    // fields, `argv[1]` for positional reads.
    let host_at = host_offset(&h.value.text);
    let cli = || {
        h.value
            .sources
            .iter()
            .filter(|s| s.kind == SourceKind::CliArg)
    };
    let cli_arg = cli()
        .find(|s| s.span.0 <= host_at && host_at < s.span.1)
        .or_else(|| cli().next())
        .map(|s| cli_flag(&s.name));
    // An Access credential matters only where Access may be: on a remote address, or one whose
    // host is only known at run time.
    let tokenized = tokenized && matches!(group, Group::Remote | Group::Unresolved);
    let env_var = h
        .value
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Env)
        .map(|s| s.name.clone());
    let elsewhere = |s: &&crate::engine::solve::Source| {
        s.pos
            .is_some_and(|p| p.line != h.cand.pos.line || s.file.is_some())
    };
    // Where the host came from: the innermost source whose text holds the host's first byte;
    // else the first source on another line.
    let defined_at = h
        .value
        .sources
        .iter()
        .filter(elsewhere)
        .filter(|s| s.span.0 <= host_at && host_at < s.span.1)
        .rev()
        .min_by_key(|s| s.span.1 - s.span.0)
        .or_else(|| h.value.sources.iter().find(elsewhere))
        .and_then(|s| Some((s.file.as_deref().unwrap_or(info.path), s.pos?.line)))
        .map(|(file, line)| format!("{file}:{line}"));
    Finding {
        path: info.path.to_string(),
        line: h.cand.pos.line,
        column: h.cand.pos.column,
        url: Some(h.addr.url.clone()),
        scheme: h.addr.scheme.clone(),
        host: h.addr.host.clone(),
        port: h.addr.port,
        group,
        tokenized,
        service: h.service.id.clone(),
        language: info.language,
        evidence: info.evidence,
        client,
        function: h.cand.function.clone(),
        env_var,
        defined_at,
        command: None,
        env_source: h.value.env_source.clone(),
        cell: None,
        cli_arg,
        auth,
    }
}

/// What sends this candidate: does every request made with it carry a credential, which client
/// makes it, and does any HTTP / WebSocket request (or token helper) send it at all?
///
/// The consumers are the call the expression is passed to directly, or — when it is bound to a name —
/// every call or statement that passes that name (or a name derived from it) along. A call of a
/// function of this file is followed into the function: the requests there that pass its
/// parameters on are the consumers too.
fn consumers(
    facts: &FileFacts,
    ev: &Evaluator,
    cand: &Candidate,
    ctx: Option<&FileContext>,
) -> (bool, Option<String>, bool, Option<String>) {
    let mut uses: Vec<usize> = Vec::new();
    if let Some(u) = cand.consumer.filter(|&i| i < facts.uses.len()) {
        uses.push(u);
    }
    let far = Pos {
        line: u32::MAX,
        column: 0,
    };
    if let Some(name) = &cand.bound_to {
        let mut names: Vec<(usize, String)> = vec![(cand.scope, name.clone())];
        let mut i = 0;
        while i < names.len() && names.len() < 32 {
            let (scope, n) = names[i].clone();
            for a in &facts.aliases {
                if a.from == n
                    && a.scope == scope
                    && !names.iter().any(|(s, m)| *s == a.scope && *m == a.to)
                {
                    names.push((a.scope, a.to.clone()));
                }
            }
            i += 1;
        }
        for (j, u) in facts.uses.iter().enumerate() {
            let passes = u.names.iter().any(|un| {
                names.iter().any(|(scope, n)| {
                    un == n
                        && ev
                            .lookup(n, u.scope, far)
                            .is_some_and(|b| b.scope == *scope)
                })
            });
            if passes && !uses.contains(&j) {
                uses.push(j);
            }
        }
    }
    // The base URL of an HTTP client object: the requests made through the object.
    for sink in facts.sinks.iter().filter(|s| s.pos == cand.pos) {
        if let SinkKind::Base(object) = &sink.kind {
            let prefix = format!("{object}.");
            for (j, u) in facts.uses.iter().enumerate() {
                let sends = u.callees.iter().any(|c| {
                    c.strip_prefix(&prefix)
                        .is_some_and(|m| crate::rules::sinks().is_request_method(m))
                });
                // A local object is the one of this function; `self.client` is the instance's.
                let same_object =
                    object.starts_with("self.") || facts.scope_chain(u.scope).contains(&cand.scope);
                if sends && same_object && !uses.contains(&j) {
                    uses.push(j);
                }
            }
        }
    }
    // What a function returns is sent where its callers send the call's value.
    if uses.is_empty() && cand.bound_to.is_none() {
        let returned = |e: &StrExpr| matches!(e, StrExpr::At(p, _) if *p == cand.pos);
        for f in facts
            .functions
            .iter()
            .filter(|f| f.returns.iter().any(returned))
        {
            for c in &facts.calls {
                let reaches = ev
                    .callee(&c.callee, c.scope)
                    .is_some_and(|(g, _)| g.scope == f.scope);
                if reaches && c.use_id < facts.uses.len() && !uses.contains(&c.use_id) {
                    uses.push(c.use_id);
                }
            }
        }
    }
    // Into the functions of this file the value is passed to.
    let mut followed: HashSet<usize> = HashSet::default();
    let mut i = 0;
    while i < uses.len() && uses.len() < 64 {
        let u = &facts.uses[uses[i]];
        i += 1;
        if u.client.is_some() {
            continue;
        }
        let Some(site) = facts.calls.iter().find(|c| c.use_id == uses[i - 1]) else {
            continue;
        };
        let Some((f, offset)) = ev.callee(&site.callee, site.scope) else {
            continue;
        };
        if !followed.insert(f.scope) {
            continue;
        }
        let params = f.params.get(offset..).unwrap_or_default();
        for (j, inner) in facts.uses.iter().enumerate() {
            let inside = facts.scope_chain(inner.scope).contains(&f.scope);
            if inside && inner.names.iter().any(|n| params.contains(n)) && !uses.contains(&j) {
                uses.push(j);
            }
        }
    }
    let uses: Vec<&Use> = uses.iter().map(|&i| &facts.uses[i]).collect();
    // A call to a token helper defined in another module of the project counts too.
    let d = credential::decide(&uses, |u: &Use| {
        ctx.and_then(|c| {
            u.callees
                .iter()
                .find(|callee| c.credential_fn(callee))
                .cloned()
        })
    });
    (d.tokenized, d.client, d.sent, d.auth)
}
