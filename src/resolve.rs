//! From one file's [`FileFacts`] to its [`Finding`]s: evaluate every candidate, keep those that are a
//! service address, decide which expression is *the* finding (the one that builds the address where
//! it is used; a base bound to a name and used inside another address is folded into that one), and
//! work out where the host came from and whether the request carries an Access credential.

use std::collections::HashSet;

use crate::address::{self, Address};
use crate::classify::{classify_host, Group};
use crate::eval::{Evaluator, SourceKind, Value};
use crate::finding::{Evidence, Finding, Language};
use crate::ir::{Candidate, FileFacts, Pos, StrExpr};
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

/// Resolve the findings of one file.
pub fn findings(facts: &FileFacts, rules: &RuleSet, info: &FileInfo) -> Vec<Finding> {
    let ev = Evaluator::new(facts);
    let mut hits: Vec<Hit> = Vec::new();
    for cand in &facts.candidates {
        let value = ev.eval(&cand.expr, cand.scope, cand.pos);
        let Some(addr) = address::parse(&value.text) else {
            continue;
        };
        let Some(service) = best_service(&addr, rules) else {
            continue;
        };
        hits.push(Hit {
            cand,
            value,
            addr,
            service,
        });
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

    let mut out = Vec::new();
    for h in &hits {
        if h.cand.bound_to.is_some() && absorbed.contains(&h.cand.pos) {
            continue;
        }
        out.push(finding(facts, &ev, h, info));
    }
    for e in &facts.execs {
        let Some(service) = rules.services.iter().find(|s| {
            s.containers
                .as_ref()
                .is_some_and(|re| re.is_match(&e.container))
        }) else {
            continue;
        };
        out.push(Finding {
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

fn best_service<'r>(addr: &Address, rules: &'r RuleSet) -> Option<&'r Service> {
    let mut best: Option<(&Service, address::Match)> = None;
    for s in &rules.services {
        if let Some(m) = address::matches(addr, s) {
            let rank = |m: address::Match| match m {
                address::Match::Host => 0,
                address::Match::Port => 1,
                address::Match::Path => 2,
            };
            if best.is_none_or(|(_, b)| rank(m) < rank(b)) {
                best = Some((s, m));
            }
        }
    }
    best.map(|(s, _)| s)
}

fn finding(facts: &FileFacts, ev: &Evaluator, h: &Hit, info: &FileInfo) -> Finding {
    let group = classify_host(h.addr.host.as_deref(), h.service);
    let (tokenized, client) = consumers(facts, ev, h.cand);
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
        .find_map(|s| s.pos.filter(|p| p.line != h.cand.pos.line))
        .map(|p| format!("{}:{}", info.path, p.line));
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
        env_source: None,
        cell: None,
    }
}

/// Does every request made with this candidate carry a credential, and which client makes it?
///
/// The consumers are the call the expression is passed to directly, or — when it is bound to a name —
/// every call or statement that passes that name (or a name derived from it) along.
fn consumers(facts: &FileFacts, ev: &Evaluator, cand: &Candidate) -> (bool, Option<String>) {
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
    let tokenized = uses.iter().any(|u| u.credentialed);
    let client = uses.iter().find_map(|u| u.client.clone());
    (tokenized, client)
}
