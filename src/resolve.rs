//! From one file's [`FileFacts`] to its [`Finding`]s: evaluate every candidate, keep those that are a
//! service address, decide which expression is *the* finding (the one that builds the address where
//! it is used; a base bound to a name and used inside another address is folded into that one), and
//! work out where the host came from and whether the request carries an Access credential.

use std::collections::HashSet;

use crate::address::{self, Address};
use crate::classify::{classify_host, Group};
use crate::eval::{EnvOverride, Evaluator, SourceKind, Value};
use crate::finding::{Evidence, Finding, Language};
use crate::ir::{Candidate, FileFacts, Pos, StrExpr};
use crate::project::{FileContext, Project};
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
}

/// One file's findings, and what the scan needs to fold definitions across files.
#[derive(Debug, Default)]
pub struct Resolved {
    pub findings: Vec<Finding>,
    /// Positions of findings that are a binding reported at its definition (never used in this file).
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
    let evaluator = |env: Option<EnvOverride>| {
        let ev = Evaluator::new(facts).with_env(env);
        match ctx {
            Some(c) => ev.with_external(c),
            None => ev,
        }
    };
    let ev = evaluator(None);
    let mut hits: Vec<Hit> = Vec::new();
    for cand in &facts.candidates {
        let value = ev.eval(&cand.expr, cand.scope, cand.pos);
        // Env vars given values by env files / compose / manifests: one finding per value.
        let mut replaced = false;
        if let Some(c) = ctx {
            let mut vars: Vec<(&str, bool)> = Vec::new();
            for s in value.sources.iter().filter(|s| s.kind == SourceKind::Env) {
                if !vars.iter().any(|(v, _)| *v == s.name) && vars.len() < 2 {
                    vars.push((&s.name, s.has_default));
                }
            }
            for (var, has_default) in vars {
                let values = c.project.env_values(var, &c.path);
                for o in &values {
                    let v = evaluator(Some(o.clone())).eval(&cand.expr, cand.scope, cand.pos);
                    if let Some(hit) = hit_of(cand, v, rules, c) {
                        hits.push(hit);
                    }
                }
                replaced |= !has_default && !values.is_empty();
            }
        }
        if replaced {
            continue;
        }
        let hit = match ctx {
            Some(c) => hit_of(cand, value, rules, c),
            None => address::parse(&value.text).and_then(|addr| {
                best_service(&addr, rules, None).map(|service| Hit {
                    cand,
                    value,
                    addr,
                    service,
                })
            }),
        };
        hits.extend(hit);
    }

    // Bindings folded into another address-building expression, by the position of their value
    // (a class attribute is bound under several names, `X`, `self.X`, `Class.X`, at one position).
    let mut absorbed: HashSet<Pos> = HashSet::new();
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

    let mut out = Resolved::default();
    for h in &hits {
        if h.cand.bound_to.is_some() && absorbed.contains(&h.cand.pos) {
            continue;
        }
        if h.cand.bound_to.is_some() {
            out.definitions.push(h.cand.pos);
        }
        for s in &h.value.sources {
            if let (Some(file), Some(pos)) = (&s.file, s.pos) {
                out.external_uses.push((file.clone(), pos));
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
    let addr = address::parse(&value.text)?;
    let service = best_service(&addr, rules, Some(ctx.project))?;
    Some(Hit {
        cand,
        value,
        addr,
        service,
    })
}

fn best_service<'r>(
    addr: &Address,
    rules: &'r RuleSet,
    project: Option<&Project>,
) -> Option<&'r Service> {
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
    best.map(|(s, _)| s)
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
    let (tokenized, client) = consumers(facts, ev, h.cand, ctx);
    let env_var = h
        .value
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Env)
        .map(|s| s.name.clone());
    let defined_at = h
        .value
        .sources
        .iter()
        .find_map(|s| {
            s.pos
                .filter(|p| p.line != h.cand.pos.line || s.file.is_some())
                .map(|p| (s.file.as_deref().unwrap_or(info.path), p.line))
        })
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
    }
}

/// Does every request made with this candidate carry a credential, and which client makes it?
///
/// The consumers are the call the expression is passed to directly, or — when it is bound to a name —
/// every call or statement that passes that name (or a name derived from it) along.
fn consumers(
    facts: &FileFacts,
    ev: &Evaluator,
    cand: &Candidate,
    ctx: Option<&FileContext>,
) -> (bool, Option<String>) {
    let mut uses = Vec::new();
    if let Some(u) = cand.consumer.and_then(|i| facts.uses.get(i)) {
        uses.push(u);
    }
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
        let far = Pos {
            line: u32::MAX,
            column: 0,
        };
        for u in &facts.uses {
            let passes = u.names.iter().any(|un| {
                names.iter().any(|(scope, n)| {
                    un == n
                        && ev
                            .lookup(n, u.scope, far)
                            .is_some_and(|b| b.scope == *scope)
                })
            });
            if passes {
                uses.push(u);
            }
        }
    }
    if uses.is_empty() {
        return (false, None);
    }
    // A call to a token helper defined in another module of the project counts too.
    let helper = |u: &crate::ir::Use| {
        ctx.and_then(|c| {
            u.callees
                .iter()
                .find(|callee| c.credential_fn(callee))
                .cloned()
        })
    };
    let tokenized = uses.iter().any(|u| u.credentialed || helper(u).is_some());
    let client = uses
        .iter()
        .find_map(|u| u.client.clone())
        .or_else(|| uses.iter().find_map(|u| helper(u)));
    (tokenized, client)
}
