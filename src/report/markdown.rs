//! Markdown output: an audit report meant to replace a hand-written "API access audit" — what uses
//! the service, which of those uses Cloudflare Access on the public domain affects, what to change,
//! and what to do next. Every sentence is computed from the findings and the rules, so the report is
//! deterministic (no timestamp unless [`RenderOptions::date`] is set).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::RenderOptions;
use crate::engine::classify::Group;
use crate::engine::finding::{Finding, Language, Report};
use crate::rules::{RuleSet, Service};

/// How many distinct URLs an entry lists before "and N more".
const MAX_URLS: usize = 5;
/// Longest container command shown verbatim.
const MAX_COMMAND: usize = 100;

pub fn render(report: &Report, rules: &RuleSet, opts: &RenderOptions) -> String {
    let svc = rules.primary();
    let ctx = Ctx::new(report, svc, &opts.domains);
    let mut out = String::new();
    header(&mut out, &ctx, opts);
    out.push_str(&mermaid(report, rules, &ctx.domain_list));
    summary(&mut out, &ctx);
    local_section(&mut out, &ctx);
    remote_section(&mut out, &ctx);
    service_section(&mut out, &ctx);
    unresolved_section(&mut out, &ctx);
    sources_section(&mut out, &ctx);
    recommendations(&mut out, &ctx);
    impact(&mut out, &ctx);
    next_steps(&mut out, &ctx);
    diagnostics(&mut out, &ctx);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// What every section needs: the report, the primary service, and a few derived values.
struct Ctx<'a> {
    report: &'a Report,
    svc: &'a Service,
    /// The public domains the report talks about, and where they come from.
    domain_list: Vec<String>,
    domain_source: DomainSource,
    /// [`Self::domain_list`], code-formatted and joined ("the public domain" when there is none).
    domains: String,
}

/// Where the report's public domains come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DomainSource {
    /// `--domain`, `protected-domains` in the config file, or `domains` of a rule file.
    Configured,
    /// None is configured: the remote hosts the scan found.
    Found,
    /// None is configured and the scan found no remote host.
    None,
}

/// The public domains a report names: the configured ones, else the remote hosts of the service
/// the scan found, else none — never a domain that is in neither.
fn report_domains(
    report: &Report,
    svc: &Service,
    configured: &[String],
) -> (Vec<String>, DomainSource) {
    let mut configured: Vec<String> = configured.to_vec();
    for d in &svc.domains {
        if !configured.contains(d) {
            configured.push(d.clone());
        }
    }
    if !configured.is_empty() {
        return (configured, DomainSource::Configured);
    }
    let found: Vec<String> = distinct(
        report
            .findings
            .iter()
            .filter(|f| f.group == Group::Remote && f.service == svc.id)
            .filter_map(|f| f.host.as_deref()),
    )
    .into_iter()
    .map(str::to_string)
    .collect();
    if found.is_empty() {
        (found, DomainSource::None)
    } else {
        (found, DomainSource::Found)
    }
}

impl<'a> Ctx<'a> {
    fn new(report: &'a Report, svc: &'a Service, configured: &[String]) -> Ctx<'a> {
        let (domain_list, domain_source) = report_domains(report, svc, configured);
        let domains = if domain_list.is_empty() {
            "the public domain".to_string()
        } else {
            join_and(&domain_list.iter().map(|d| code(d)).collect::<Vec<_>>())
        };
        Ctx {
            report,
            svc,
            domain_list,
            domain_source,
            domains,
        }
    }

    fn name(&self) -> &str {
        &self.svc.name
    }

    fn of(&self, group: Group) -> Vec<&'a Finding> {
        self.report
            .findings
            .iter()
            .filter(|f| f.group == group)
            .collect()
    }

    fn is_vendored(&self, path: &str) -> bool {
        self.svc
            .report
            .vendored
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    }

    /// The first public domain as an `https://` URL, code-formatted.
    fn domain_url(&self) -> String {
        match self.domain_list.first() {
            Some(d) => code(&format!("https://{d}")),
            None => "the public `https://` domain".to_string(),
        }
    }

    /// "the `A`, `B` headers" / "the `C` cookie" / "an Access credential".
    fn credential_phrase(&self) -> String {
        let headers: Vec<String> = self.svc.access.headers.iter().map(|h| code(h)).collect();
        let cookies: Vec<String> = self.svc.access.cookies.iter().map(|c| code(c)).collect();
        let h = match headers.len() {
            0 => None,
            1 => Some(format!("the {} header", headers[0])),
            _ => Some(format!(
                "the Access credential headers ({}, whichever the token uses)",
                headers.join(", ")
            )),
        };
        let c = match cookies.len() {
            0 => None,
            1 => Some(format!("the {} cookie", cookies[0])),
            _ => Some(format!("one of the cookies {}", cookies.join(", "))),
        };
        match (h, c) {
            (Some(h), Some(c)) => format!("{h} or {c}"),
            (Some(h), None) => h,
            (None, Some(c)) => c,
            (None, None) => "a Cloudflare Access credential".to_string(),
        }
    }

    /// The env vars the token lives in, code-formatted: the same names the helper
    /// (`init-helper`) reads and `check --fix` inserts, all from the rules.
    fn token_env(&self) -> String {
        let spec = crate::remedy::HelperSpec::from_service(self.svc);
        format!(
            "{} and {} (or {} for a single access token)",
            code(&spec.id_env),
            code(&spec.secret_env),
            code(&spec.token_env)
        )
    }

    /// The helper file (code-formatted) and its functions, if the rules name one.
    fn helper(&self) -> Option<String> {
        let file = self.svc.helpers.files.first()?;
        let mut s = code(file);
        if !self.svc.helpers.functions.is_empty() {
            let fns: Vec<String> = self
                .svc
                .helpers
                .functions
                .iter()
                .map(|f| code(&format!("{f}()")))
                .collect();
            let _ = write!(s, " ({})", fns.join(", "));
        }
        Some(s)
    }

    fn helper_present(&self) -> bool {
        self.report
            .findings
            .iter()
            .any(|f| self.svc.helpers.files.contains(&f.path))
    }
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

fn header(out: &mut String, ctx: &Ctx, opts: &RenderOptions) {
    let _ = writeln!(out, "# {} API Access Audit\n", ctx.name());
    if let Some(date) = &opts.date {
        let _ = writeln!(out, "**Date:** {date}\n");
    }
    let target = if opts.target.is_empty() {
        "."
    } else {
        opts.target.as_str()
    };
    let _ = writeln!(
        out,
        "**Scope:** {} ({} scanned)\n",
        code(target),
        count(ctx.report.summary.files_scanned, "file", "files")
    );
    let _ = writeln!(
        out,
        "**Purpose:** list every place the code talks to {} and say what changes for each one before Cloudflare Access is enabled on {}.\n",
        ctx.name(),
        ctx.domains
    );
    let how = match ctx.domain_source {
        DomainSource::Configured => None,
        DomainSource::Found => Some(
            "the remote hosts the scan found; no protected domain is configured (set `protected-domains` in `access-audit.toml` or pass `--domain`)",
        ),
        DomainSource::None => Some(
            "none configured and no remote host found; set `protected-domains` in `access-audit.toml` (or `[tool.access-audit]` in `pyproject.toml`) or pass `--domain`",
        ),
    };
    if let Some(how) = how {
        let _ = writeln!(out, "**Protected domain:** {how}.\n");
    }
}

/// A Mermaid `flowchart LR` (GitHub renders it) of who talks to the service how: one node per
/// non-empty group with its file and use counts, an edge to the service — remote uses through a
/// "Cloudflare Tunnel + Access" node — and the untokenized remote uses in red. Empty without
/// findings.
fn mermaid(report: &Report, rules: &RuleSet, domains: &[String]) -> String {
    if report.findings.is_empty() {
        return String::new();
    }
    let svc = rules.primary();
    let stats = |keep: &dyn Fn(&Finding) -> bool| {
        let fs: Vec<&Finding> = report.findings.iter().filter(|f| keep(f)).collect();
        let files = distinct(fs.iter().map(|f| f.path.as_str())).len();
        (files, fs.len())
    };
    let label = |title: &str, (files, uses): (usize, usize)| {
        format!(
            "\"{}<br/>{} · {}\"",
            mermaid_text(title),
            count(files, "file", "files"),
            count(uses, "use", "uses")
        )
    };
    let mut nodes = String::new();
    let mut edges = String::new();
    let mut edge_count = 0usize;
    let mut red_edges: Vec<usize> = Vec::new();
    let mut edge = |edges: &mut String, line: String| {
        let _ = writeln!(edges, "    {line}");
        edge_count += 1;
        edge_count - 1
    };
    let _ = writeln!(nodes, "    svc[(\"{}\")]", mermaid_text(svc.name.as_str()));
    let direct: [(Group, &str, &str, &str); 4] = [
        (Group::Local, "g_local", "Local scripts", "loopback"),
        (
            Group::DockerNetwork,
            "g_docker",
            "Docker network",
            "service name",
        ),
        (
            Group::ContainerExec,
            "g_exec",
            "Container exec",
            "docker exec",
        ),
        (
            Group::PrivateNetwork,
            "g_private",
            "Private network",
            "LAN / VPN",
        ),
    ];
    for (group, id, title, how) in direct {
        let st = stats(&|f: &Finding| f.group == group);
        if st.1 > 0 {
            let _ = writeln!(nodes, "    {id}[{}]", label(title, st));
            edge(
                &mut edges,
                format!("{id} -->|\"{}\"| svc", mermaid_text(how)),
            );
        }
    }
    let tokenized = stats(&|f: &Finding| f.group == Group::Remote && f.tokenized);
    let untokenized = stats(&|f: &Finding| f.breaks());
    if tokenized.1 + untokenized.1 > 0 {
        let domain = if domains.is_empty() {
            String::new()
        } else {
            format!("<br/>{}", mermaid_text(&domains.join(", ")))
        };
        let _ = writeln!(
            nodes,
            "    access{{{{\"Cloudflare Tunnel + Access{domain}\"}}}}"
        );
        if tokenized.1 > 0 {
            let _ = writeln!(
                nodes,
                "    g_remote_ok[{}]",
                label("Remote, with Access token", tokenized)
            );
            edge(
                &mut edges,
                format!("g_remote_ok -->|\"{} tokenized\"| access", tokenized.1),
            );
        }
        if untokenized.1 > 0 {
            let _ = writeln!(
                nodes,
                "    g_remote_bad[{}]",
                label("Remote, no token", untokenized)
            );
            let i = edge(
                &mut edges,
                format!(
                    "g_remote_bad -->|\"{} untokenized — {}\"| access",
                    untokenized.1,
                    if untokenized.1 == 1 {
                        "breaks"
                    } else {
                        "break"
                    }
                ),
            );
            red_edges.push(i);
        }
        edge(&mut edges, "access --> svc".to_string());
    }
    let unresolved = stats(&|f: &Finding| f.group == Group::Unresolved);
    if unresolved.1 > 0 {
        let _ = writeln!(
            nodes,
            "    g_unresolved[{}]",
            label("Unresolved", unresolved)
        );
        edge(
            &mut edges,
            "g_unresolved -.->|\"known at run time\"| svc".to_string(),
        );
    }
    let mut out = String::from("```mermaid\nflowchart LR\n");
    out.push_str(&nodes);
    out.push_str(&edges);
    if !red_edges.is_empty() {
        out.push_str("    classDef breaks fill:#fdd,stroke:#c00,stroke-width:2px,color:#900\n");
        out.push_str("    class g_remote_bad breaks\n");
        for i in red_edges {
            let _ = writeln!(
                out,
                "    linkStyle {i} stroke:#c00,stroke-width:2px,color:#c00"
            );
        }
    }
    out.push_str("```\n\n");
    out
}

/// Text for a quoted Mermaid label: quotes, angle brackets and `#` as entity codes, no line breaks.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn summary(out: &mut String, ctx: &Ctx) {
    let s = &ctx.report.summary;
    out.push_str("## Summary\n\n");
    let addresses = s.findings - s.container_exec;
    let mut p = String::new();
    if s.findings == 0 {
        let _ = write!(
            p,
            "The scan found no {} address in the {} it read.",
            ctx.name(),
            count(s.files_scanned, "file", "files")
        );
    } else {
        let _ = write!(
            p,
            "The scan found {} {} {}",
            addresses,
            ctx.name(),
            if addresses == 1 {
                "address"
            } else {
                "addresses"
            }
        );
        if s.container_exec > 0 {
            let exec = count(
                s.container_exec,
                "container exec site",
                "container exec sites",
            );
            let _ = write!(p, " and {exec}");
        }
        let _ = write!(
            p,
            " in {}{} ({} scanned). By group: {} local, {} docker-network, {} private-network, \
             {} container-exec, {} remote ({} tokenized, {} untokenized) and {} unresolved.",
            count(s.files_with_findings, "file", "files"),
            file_kinds(&ctx.report.findings),
            s.files_scanned,
            s.local,
            s.docker_network,
            s.private_network,
            s.container_exec,
            s.remote,
            s.remote_tokenized,
            s.remote_untokenized,
            s.unresolved
        );
    }
    if s.remote_untokenized == 0 {
        p.push_str(" Verdict: **No breaking changes expected** when Cloudflare Access is enabled");
        if s.remote == 0 {
            let _ = write!(
                p,
                ": nothing reaches {} through {} today",
                ctx.name(),
                ctx.domains
            );
        } else {
            p.push_str(": every remote use already sends an Access credential");
        }
        if s.unresolved > 0 {
            let _ = write!(
                p,
                ". {} still need checking, because their host is only known at run time \
                 and could be the public domain",
                count(s.unresolved, "unresolved address", "unresolved addresses")
            );
        }
        p.push('.');
    } else {
        let files = distinct(
            ctx.report
                .findings
                .iter()
                .filter(|f| f.breaks())
                .map(|f| code(&f.path)),
        );
        let _ = write!(
            p,
            " Verdict: **{} will break** when Cloudflare Access is enabled, because {} \
             no Access credential: in {}.",
            count(s.remote_untokenized, "remote use", "remote uses"),
            if s.remote_untokenized == 1 {
                "it sends"
            } else {
                "they send"
            },
            join_and(&files)
        );
        if s.unresolved > 0 {
            let _ = write!(
                p,
                " In addition, {} must be checked by hand.",
                count(s.unresolved, "unresolved address", "unresolved addresses")
            );
        }
    }
    if s.diagnostics > 0 {
        let _ = write!(
            p,
            " {} could not be fully analysed (see Diagnostics).",
            count(s.diagnostics, "file", "files")
        );
    }
    out.push_str(&p);
    out.push_str("\n\n");
}

fn local_section(out: &mut String, ctx: &Ctx) {
    out.push_str("## Local Access Scripts (UNAFFECTED)\n\n");
    let files = by_file(
        ctx.report
            .findings
            .iter()
            .filter(|f| matches!(f.group, Group::Local | Group::ContainerExec)),
    );
    if files.is_empty() {
        let _ = writeln!(
            out,
            "No file reaches {} through a loopback address or by running commands in its container.\n",
            ctx.name()
        );
        return;
    }
    let _ = writeln!(
        out,
        "These files reach {} on the local machine (loopback) or run commands directly inside its container. Neither path goes through {}, so they keep working as they are.\n",
        ctx.name(),
        ctx.domains
    );
    let (vendored, team): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(path, _)| ctx.is_vendored(path));
    if !team.is_empty() {
        out.push_str("### Team scripts\n\n");
        for (i, (path, fs)) in team.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. **{}** ({})",
                i + 1,
                code(basename(path)),
                language(fs)
            );
            let urls = distinct(
                fs.iter()
                    .filter(|f| f.group == Group::Local)
                    .filter_map(|f| f.url.as_deref())
                    .map(code),
            );
            if !urls.is_empty() {
                let _ = writeln!(out, "   - URL: {}", limited(&urls, MAX_URLS));
            }
            let containers = containers(fs);
            if !containers.is_empty() {
                let _ = writeln!(
                    out,
                    "   - Uses direct container access ({})",
                    containers.join(", ")
                );
            }
            out.push_str("   - Status: ✅ No changes needed\n");
            let _ = writeln!(out, "   - Location: {} {}", code(path), lines_label(fs));
        }
        out.push('\n');
    }
    if !vendored.is_empty() {
        out.push_str("### Vendored and example code\n\n");
        for (path, fs) in &vendored {
            let mut uses = Vec::new();
            let hosts = distinct(
                fs.iter()
                    .filter(|f| f.group == Group::Local)
                    .map(|f| code(&host_port(f))),
            );
            if !hosts.is_empty() {
                uses.push(format!("uses {}", limited(&hosts, MAX_URLS)));
            }
            let containers = containers(fs);
            if !containers.is_empty() {
                uses.push(format!("runs {}", containers.join(", ")));
            }
            let _ = writeln!(
                out,
                "- {} — {} {}",
                code(path),
                uses.join("; "),
                lines_label(fs)
            );
        }
        out.push_str("\nUpstream or vendored code: nothing to change here either.\n\n");
    }
}

fn remote_section(out: &mut String, ctx: &Ctx) {
    out.push_str("## Remote Access Scripts (REQUIRES TOKEN)\n\n");
    let remote = ctx.of(Group::Remote);
    if remote.is_empty() {
        out.push_str("**Current status:** ⚠️ **NONE FOUND**\n\n");
        let _ = writeln!(
            out,
            "No script calls {} through {} or through any other public domain or address.\n",
            ctx.name(),
            ctx.domains
        );
        out.push_str("**Future remote access:**\n\n");
    } else {
        let s = &ctx.report.summary;
        let _ = writeln!(
            out,
            "{} through the public internet ({} tokenized, {} untokenized). Once Access is on, only the tokenized ones get through.\n",
            count(s.remote, "use reaches the service", "uses reach the service"),
            s.remote_tokenized,
            s.remote_untokenized
        );
        out.push_str("| File | Line | URL | Client | Function | Status |\n");
        out.push_str("|------|------|-----|--------|----------|--------|\n");
        for f in &remote {
            let status = if f.tokenized {
                "✅ tokenized"
            } else {
                "❌ untokenized — breaks"
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&code(&f.path)),
                line_of(f),
                cell(&code(f.url.as_deref().unwrap_or("?"))),
                cell(f.client.as_deref().unwrap_or("-")),
                cell(
                    &f.function
                        .as_deref()
                        .map(code)
                        .unwrap_or_else(|| "-".to_string())
                ),
                status
            );
        }
        out.push('\n');
        let insecure: Vec<&&Finding> = remote.iter().filter(|f| is_insecure(f)).collect();
        if !insecure.is_empty() {
            let locs: Vec<String> = insecure
                .iter()
                .map(|f| {
                    format!(
                        "{} ({})",
                        code(&at(f)),
                        code(f.scheme.as_deref().unwrap_or("http"))
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "**Insecure scheme:** {} {} an unencrypted `http://` or `ws://` URL to a public host. Switch to `https://` / `wss://`: a credential sent in clear text can be read on the way, and Cloudflare redirects or refuses plain requests.\n",
                join_and(&locs),
                if insecure.len() == 1 { "uses" } else { "use" }
            );
        }
        out.push_str("**Every remote use:**\n\n");
    }
    let _ = writeln!(
        out,
        "- Any script calling {} must send, with every request (HTTP and WebSocket alike), {}.",
        ctx.domain_url(),
        ctx.credential_phrase()
    );
    let _ = writeln!(
        out,
        "- Keep the service token in the environment variables {}, never in the code.\n",
        ctx.token_env()
    );
}

fn service_section(out: &mut String, ctx: &Ctx) {
    out.push_str("## Service-to-Service Communication\n\n");

    out.push_str("### Docker network\n\n");
    let docker = by_file(ctx.of(Group::DockerNetwork));
    if docker.is_empty() {
        let _ = writeln!(
            out,
            "No service reaches {} by its Docker container or compose name.\n",
            ctx.name()
        );
    } else {
        for (path, fs) in &docker {
            let urls = distinct(fs.iter().filter_map(|f| f.url.as_deref()).map(code));
            let _ = write!(
                out,
                "- {} {}: {}",
                code(path),
                lines_label(fs),
                limited(&urls, MAX_URLS)
            );
            let envs = distinct(fs.iter().filter_map(|f| f.env_var.as_deref()).map(code));
            if !envs.is_empty() {
                let _ = write!(out, " (overridable through {})", join_and(&envs));
            }
            out.push('\n');
        }
        out.push_str("- Status: ✅ No changes needed: these calls stay on the Docker network and bypass the Cloudflare Tunnel entirely.\n\n");
    }

    out.push_str("### Container exec\n\n");
    let exec = ctx.of(Group::ContainerExec);
    if exec.is_empty() {
        out.push_str("No code runs commands inside the container with `docker exec`.\n\n");
    } else {
        for f in &exec {
            let _ = write!(
                out,
                "- {} — container {}",
                code(&at(f)),
                code(f.host.as_deref().unwrap_or("?"))
            );
            if let Some(cmd) = f.command.as_deref().filter(|c| !c.is_empty()) {
                let _ = write!(out, ": {}", code(&truncate(cmd, MAX_COMMAND)));
            }
            out.push('\n');
        }
        out.push_str("- Status: ✅ No changes needed: `docker exec` talks to the Docker daemon, not to the public domain.\n\n");
    }

    let private = by_file(ctx.of(Group::PrivateNetwork));
    if !private.is_empty() {
        out.push_str("### Private network\n\n");
        for (path, fs) in &private {
            let urls = distinct(fs.iter().filter_map(|f| f.url.as_deref()).map(code));
            let _ = writeln!(
                out,
                "- {} {}: {}",
                code(path),
                lines_label(fs),
                limited(&urls, MAX_URLS)
            );
        }
        let _ = writeln!(
            out,
            "- Status: ⚠️ Unaffected today: these LAN / Tailscale addresses do not go through the tunnel. They would break if this traffic were later routed through {}.\n",
            ctx.domains
        );
    }

    out.push_str("### External services\n\n");
    let s = &ctx.report.summary;
    if s.remote == 0 {
        let _ = writeln!(
            out,
            "No external service calls the API through the public domain. One that does in the future needs the service token.\n"
        );
    } else {
        let files = distinct(ctx.of(Group::Remote).iter().map(|f| f.path.clone()));
        let _ = writeln!(
            out,
            "{} in {} reach the API through the public domain: {} tokenized, {} untokenized (see Remote Access Scripts).\n",
            count(s.remote, "remote use", "remote uses"),
            count(files.len(), "file", "files"),
            s.remote_tokenized,
            s.remote_untokenized
        );
    }
}

fn unresolved_section(out: &mut String, ctx: &Ctx) {
    out.push_str("## Unresolved Addresses\n\n");
    let unresolved = ctx.of(Group::Unresolved);
    if unresolved.is_empty() {
        out.push_str("Every address was resolved statically.\n\n");
        return;
    }
    let _ = writeln!(
        out,
        "The host of {} is only known at run time, so the scan cannot tell whether {} local, internal or public.\n",
        count(unresolved.len(), "address", "addresses"),
        if unresolved.len() == 1 { "it is" } else { "they are" }
    );
    out.push_str("| File | Line | Address | Set by |\n");
    out.push_str("|------|------|---------|--------|\n");
    for f in &unresolved {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&code(&f.path)),
            line_of(f),
            cell(&code(f.url.as_deref().unwrap_or("?"))),
            cell(&set_by(f))
        );
    }
    let _ = writeln!(
        out,
        "\nCheck what each of these resolves to in every deployment: any that points at {} needs the service token.\n",
        ctx.domains
    );
}

fn recommendations(out: &mut String, ctx: &Ctx) {
    out.push_str("## Recommendations\n\n");
    let mut n = 0;
    let mut item = |out: &mut String, title: &str, bullets: &[String]| {
        n += 1;
        let _ = writeln!(out, "{n}. **{title}**");
        for b in bullets {
            let _ = writeln!(out, "   - {b}");
        }
    };

    let helper = match ctx.helper() {
        Some(h) => format!("Go through the helper {h}, which adds the Access credential"),
        None => format!(
            "Go through one shared helper that adds {}",
            ctx.credential_phrase()
        ),
    };
    item(
        out,
        "For new remote scripts:",
        &[
            helper,
            format!("Store the service token in `.env` as {}, or in a secrets manager such as Infisical in production", ctx.token_env()),
            "Never hard-code the token in a script or commit it".to_string(),
        ],
    );

    let local: Vec<&Finding> = ctx.of(Group::Local);
    let team: Vec<&Finding> = local
        .iter()
        .copied()
        .filter(|f| !ctx.is_vendored(&f.path))
        .collect();
    let preferred = if team.is_empty() { &local } else { &team };
    let mut origins = distinct(preferred.iter().map(|f| code(&origin(f))));
    if origins.is_empty() {
        origins.push(code(&format!(
            "http://localhost:{}",
            ctx.svc.ports.first().copied().unwrap_or(80)
        )));
    }
    item(
        out,
        "For local development:",
        &[
            format!("Keep using {}", limited(&origins, MAX_URLS)),
            "No authentication needed; works unchanged".to_string(),
        ],
    );

    let mut docker = distinct(
        ctx.of(Group::DockerNetwork)
            .into_iter()
            .map(origin)
            .map(|o| code(&o)),
    );
    if docker.is_empty() {
        let host = ctx
            .svc
            .hosts
            .first()
            .map(String::as_str)
            .unwrap_or("service");
        docker.push(code(&match ctx.svc.ports.first() {
            Some(p) => format!("http://{host}:{p}"),
            None => format!("http://{host}"),
        }));
    }
    item(
        out,
        "For service-to-service calls:",
        &[
            format!("Use Docker network names ({})", limited(&docker, MAX_URLS)),
            "No authentication needed".to_string(),
            "Faster than a round trip through Cloudflare, and unaffected by Access".to_string(),
        ],
    );

    let breaking: Vec<&Finding> = ctx.report.findings.iter().filter(|f| f.breaks()).collect();
    if !breaking.is_empty() {
        let headers: Vec<String> = ctx.svc.access.headers.iter().map(|h| code(h)).collect();
        let add = if headers.is_empty() {
            ctx.credential_phrase()
        } else {
            format!("the {} headers", headers.join(" / "))
        };
        let fix = match ctx.svc.helpers.files.first() {
            Some(h) => format!("route it through {} or add {add}", code(h)),
            None => format!("add {add}"),
        };
        let bullets: Vec<String> = breaking
            .iter()
            .map(|f| {
                let svc = (f.service == ctx.svc.id).then_some(ctx.svc);
                let suggestion = match svc {
                    Some(svc) => {
                        crate::remedy::suggestion(f.client.as_deref(), f.language, Some(svc))
                    }
                    None => fix.clone(),
                };
                let mut b = format!(
                    "{} ({}): {suggestion}",
                    code(&at(f)),
                    code(f.url.as_deref().unwrap_or("?"))
                );
                if is_insecure(f) {
                    b.push_str("; also switch to `https://` / `wss://`");
                }
                b
            })
            .collect();
        item(out, "Fix before enabling Access:", &bullets);
    }

    let unresolved = ctx.of(Group::Unresolved);
    if !unresolved.is_empty() {
        let mut bullets: Vec<String> =
            distinct(unresolved.iter().filter_map(|f| f.env_var.as_deref()))
                .into_iter()
                .map(|e| format!("Check the value of {} in every environment", code(e)))
                .collect();
        for f in unresolved.iter().filter(|f| f.env_var.is_none()) {
            bullets.push(format!(
                "Check what callers pass to {} (command-line argument / parameter)",
                code(&at(f))
            ));
        }
        item(out, "Verify unresolved addresses:", &bullets);
    }
    out.push('\n');
}

fn impact(out: &mut String, ctx: &Ctx) {
    let s = &ctx.report.summary;
    let files_of = |groups: &[Group]| {
        distinct(
            ctx.report
                .findings
                .iter()
                .filter(|f| groups.contains(&f.group))
                .map(|f| f.path.clone()),
        )
        .len()
    };
    out.push_str("## Impact Assessment\n\n### Before Cloudflare Access\n\n");
    let _ = writeln!(
        out,
        "- ✅ All {} with a {} address work",
        count(s.files_with_findings, "script", "scripts"),
        ctx.name()
    );
    out.push_str("- ✅ No authentication required, locally or remotely\n\n");

    out.push_str("### After Cloudflare Access\n\n");
    let _ = writeln!(
        out,
        "- ✅ Local scripts unchanged ({} in {})",
        count(s.local, "use", "uses"),
        count(files_of(&[Group::Local]), "file", "files")
    );
    let _ = writeln!(
        out,
        "- ✅ Service-to-service unchanged ({}, {})",
        count(
            s.docker_network,
            "docker-network use",
            "docker-network uses"
        ),
        count(
            s.container_exec,
            "container-exec site",
            "container-exec sites"
        )
    );
    if s.private_network > 0 {
        let _ = writeln!(
            out,
            "- ✅ Private-network uses unchanged while they bypass the tunnel ({})",
            count(s.private_network, "use", "uses")
        );
    }
    let _ = writeln!(
        out,
        "- ✅ Browser access to {} requires signing in with the identity provider configured in Access (e.g. Google OAuth)",
        ctx.domains
    );
    if s.remote_tokenized > 0 {
        let _ = writeln!(
            out,
            "- ✅ Tokenized remote uses keep working ({})",
            s.remote_tokenized
        );
    }
    if s.remote_untokenized > 0 {
        let _ = writeln!(
            out,
            "- ❌ Untokenized remote uses BREAK ({} in {})",
            s.remote_untokenized,
            count(
                distinct(
                    ctx.report
                        .findings
                        .iter()
                        .filter(|f| f.breaks())
                        .map(|f| f.path.clone())
                )
                .len(),
                "file",
                "files"
            )
        );
    }
    if s.remote == 0 {
        out.push_str("- ⚠️ No remote script exists yet; any future one needs the service token\n");
    }
    if s.unresolved > 0 {
        let _ = writeln!(
            out,
            "- ⚠️ Unresolved addresses depend on the deployment ({})",
            s.unresolved
        );
    }
    out.push('\n');
}

fn next_steps(out: &mut String, ctx: &Ctx) {
    let s = &ctx.report.summary;
    out.push_str("## Next Steps\n\n");
    let mut steps: Vec<String> = Vec::new();
    if s.remote_untokenized > 0 {
        steps.push(format!(
            "Fix the {} untokenized remote {} listed under Recommendations first",
            s.remote_untokenized,
            if s.remote_untokenized == 1 {
                "use"
            } else {
                "uses"
            }
        ));
    }
    if s.unresolved > 0 {
        steps.push(format!(
            "Confirm where the {} unresolved {} point in each deployment",
            s.unresolved,
            if s.unresolved == 1 {
                "address"
            } else {
                "addresses"
            }
        ));
    }
    steps.push(format!(
        "Enable Cloudflare Access (browser authentication) for {}",
        ctx.domains
    ));
    steps.push(format!(
        "Create a service token for API access (for example {}) and add it to the Access policy",
        code(&format!("{}-api", ctx.svc.id))
    ));
    match ctx.svc.helpers.files.first() {
        Some(h) if ctx.helper_present() => steps.push(format!(
            "Use the helper {}, already present, for every remote script",
            code(h)
        )),
        Some(h) => steps.push(format!(
            "Create the helper {} that adds {}",
            code(h),
            ctx.credential_phrase()
        )),
        None => steps.push(format!(
            "Create a shared helper that adds {}",
            ctx.credential_phrase()
        )),
    }
    steps.push(format!(
        "Store the token as {} and document how remote scripts use it",
        ctx.token_env()
    ));
    steps.push(
        "Test: browser sign-in, an API call with the service token, and local scripts unchanged"
            .to_string(),
    );
    steps.push(
        "Re-run `access-audit check` in CI so a new untokenized remote use fails the build"
            .to_string(),
    );
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, step);
    }
    out.push('\n');
}

fn diagnostics(out: &mut String, ctx: &Ctx) {
    if ctx.report.diagnostics.is_empty() {
        return;
    }
    out.push_str("## Diagnostics\n\n");
    for d in &ctx.report.diagnostics {
        let _ = writeln!(
            out,
            "- {}: {}",
            code(&d.path),
            super::escape_markdown(&d.message.replace('\n', " "))
        );
    }
    out.push('\n');
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Findings grouped by file, in path order (findings are already sorted).
fn by_file<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<(String, Vec<&'a Finding>)> {
    let mut map: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        map.entry(f.path.as_str()).or_default().push(f);
    }
    map.into_iter().map(|(p, fs)| (p.to_string(), fs)).collect()
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Inline code, safe for any value: control characters escaped, and a backtick fence longer than
/// any run of backticks in the value (so it cannot close the span and inject Markdown).
fn code(s: &str) -> String {
    let s = super::escape_control(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{s}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {s} {fence}")
    }
}

/// A table cell: no pipes, no line breaks, no control characters.
fn cell(s: &str) -> String {
    super::escape_control(&s.replace(['\n', '\r'], " ")).replace('|', "\\|")
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Comma-separated, at most `max` then "and N more".
fn limited(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

fn lines_label(fs: &[&Finding]) -> String {
    let lines = distinct(fs.iter().map(|f| line_of(f)));
    if lines.len() == 1 {
        format!("(line {})", lines[0])
    } else {
        format!("(lines {})", lines.join(", "))
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The language of a file's findings, as people name it.
fn language(fs: &[&Finding]) -> &'static str {
    match fs.first().map(|f| f.language) {
        Some(Language::Python) | None => "Python",
        Some(Language::Rust) => "Rust",
        Some(Language::Notebook) => "Jupyter notebook",
        Some(Language::Shell) => "shell script",
        Some(Language::Dockerfile) => "Dockerfile",
        Some(Language::JavaScript) => "JavaScript / TypeScript",
        Some(Language::Dotenv) => "env file",
        Some(Language::Yaml) => "YAML",
        Some(Language::Toml) => "TOML",
        Some(Language::Json) => "JSON",
    }
}

/// What kind of file a finding is in: `0` script (code), `1` config file, `2` notebook.
fn file_kind(l: Language) -> usize {
    match l {
        Language::Notebook => 2,
        Language::Dotenv | Language::Yaml | Language::Toml | Language::Json => 1,
        _ => 0,
    }
}

/// ` (7 scripts, 2 config files and 1 notebook)`: the files with findings by kind; empty when
/// they are all scripts.
fn file_kinds(findings: &[Finding]) -> String {
    let mut per_kind: [Vec<&str>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for f in findings {
        let k = file_kind(f.language);
        if !per_kind[k].contains(&f.path.as_str()) {
            per_kind[k].push(f.path.as_str());
        }
    }
    if per_kind[1].is_empty() && per_kind[2].is_empty() {
        return String::new();
    }
    let names = [
        ("script", "scripts"),
        ("config file", "config files"),
        ("notebook", "notebooks"),
    ];
    let parts: Vec<String> = per_kind
        .iter()
        .zip(names)
        .filter(|(files, _)| !files.is_empty())
        .map(|(files, (one, many))| count(files.len(), one, many))
        .collect();
    format!(": {}", join_and(&parts))
}

/// `path:line`, or `explore.ipynb[cell 3]:1` for a notebook.
fn at(f: &Finding) -> String {
    match f.cell {
        Some(c) => format!("{}[cell {c}]:{}", f.path, f.line),
        None => format!("{}:{}", f.path, f.line),
    }
}

/// The line column of a table: `12`, or `cell 3:1` for a notebook.
fn line_of(f: &Finding) -> String {
    match f.cell {
        Some(c) => format!("cell {c}:{}", f.line),
        None => f.line.to_string(),
    }
}

/// `docker exec <container>` for each distinct container, code-formatted.
fn containers(fs: &[&Finding]) -> Vec<String> {
    distinct(
        fs.iter()
            .filter(|f| f.group == Group::ContainerExec)
            .map(|f| code(&format!("docker exec {}", f.host.as_deref().unwrap_or("?")))),
    )
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `host:port` (or the host alone when no port).
fn host_port(f: &Finding) -> String {
    let host = bracket(f.host.as_deref().unwrap_or("?"));
    match f.port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// `scheme://host:port` (scheme left out when unknown).
fn origin(f: &Finding) -> String {
    match f.scheme.as_deref() {
        Some(s) => format!("{s}://{}", host_port(f)),
        None => host_port(f),
    }
}

fn is_insecure(f: &Finding) -> bool {
    matches!(f.scheme.as_deref(), Some("http" | "ws"))
        || f.url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://") || u.starts_with("ws://"))
}

/// `## Where the Addresses Come From`: for every address resolved through an env var or a constant
/// defined elsewhere, the variable and the file (and line) that gave it its value.
fn sources_section(out: &mut String, ctx: &Ctx) {
    let resolved: Vec<&Finding> = ctx
        .report
        .findings
        .iter()
        .filter(|f| {
            f.group != Group::Unresolved
                && (f.env_var.is_some()
                    || f.env_source.is_some()
                    || f.defined_at
                        .as_deref()
                        .is_some_and(|d| !d.starts_with(&format!("{}:", f.path))))
        })
        .collect();
    if resolved.is_empty() {
        return;
    }
    out.push_str("## Where the Addresses Come From\n\n");
    out.push_str("Addresses resolved through an environment variable or a constant defined in another file:\n\n");
    out.push_str("| Location | Address | Group | Env var | Value from | Defined at |\n|---|---|---|---|---|---|\n");
    for f in resolved {
        let dash = || "—".to_string();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(&at(f)),
            code(&cell(f.url.as_deref().unwrap_or(""))),
            f.group,
            f.env_var.as_deref().map_or_else(dash, code),
            f.env_source.as_deref().map_or_else(
                || if f.env_var.is_some() {
                    "the code's default".to_string()
                } else {
                    dash()
                },
                code
            ),
            f.defined_at.as_deref().map_or_else(dash, code),
        );
    }
    out.push('\n');
}

fn set_by(f: &Finding) -> String {
    let mut s = match &f.env_var {
        Some(e) => format!("env {}", code(e)),
        None => "command-line argument / parameter".to_string(),
    };
    if let Some(d) = &f.defined_at {
        let _ = write!(s, " ({})", code(d));
    }
    s
}

fn truncate(s: &str, max: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() <= max {
        s
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// `check --format markdown`: the violations as a table (for a PR comment or a job summary).
pub fn render_gate(result: &crate::gate::GateResult) -> String {
    let mut out = String::from("# access-audit check\n\n");
    let s = &result.summary;
    if s.active == 0 {
        out.push_str("✅ **No violations.**");
    } else {
        out.push_str(&format!(
            "❌ **{} violation(s)**: {} error(s), {} warning(s).",
            s.active, s.errors, s.warnings
        ));
    }
    out.push_str(&format!(
        " {} files scanned; {} suppressed inline; {} in the baseline.\n",
        s.files_scanned, s.suppressed, s.baselined
    ));
    if s.active > 0 {
        out.push_str("\n| Rule | Severity | Location | Message |\n|---|---|---|---|\n");
        for v in result.active() {
            let sev = v.severity.as_str();
            let at = match v.cell {
                Some(c) => format!("{}:cell {c}:{}", v.path, v.line),
                None => format!("{}:{}", v.path, v.line),
            };
            out.push_str(&format!(
                "| `{}` | {sev} | {} | {} |\n",
                v.rule.id(),
                cell(&code(&at)),
                cell(&crate::secrets::mask_line(&v.message))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::finding::{Diagnostic, Evidence};
    use crate::rules::RuleSet;

    fn finding(
        path: &str,
        line: u32,
        url: Option<&str>,
        host: Option<&str>,
        group: Group,
    ) -> Finding {
        let scheme = url
            .and_then(|u| u.split_once("://"))
            .map(|(s, _)| s.to_string());
        Finding {
            path: path.to_string(),
            line,
            column: 5,
            url: url.map(str::to_string),
            scheme,
            host: host.map(str::to_string),
            port: if group == Group::Remote
                || group == Group::Unresolved
                || group == Group::ContainerExec
            {
                None
            } else {
                Some(8188)
            },
            group,
            tokenized: false,
            service: "comfyui".to_string(),
            language: Language::Python,
            evidence: Evidence::Ast,
            client: Some("requests".to_string()),
            function: None,
            env_var: None,
            defined_at: None,
            command: None,
            env_source: None,
            cell: None,
            cli_arg: None,
            auth: None,
        }
    }

    fn sample(with_remote: bool) -> Report {
        let mut fs = vec![
            finding(
                "scripts/run.py",
                12,
                Some("http://localhost:8188/prompt"),
                Some("localhost"),
                Group::Local,
            ),
            finding(
                "scripts/run.py",
                30,
                Some("http://localhost:8188/history/{id}"),
                Some("localhost"),
                Group::Local,
            ),
            finding(
                "ComfyUI/script_examples/basic_api_example.py",
                42,
                Some("http://127.0.0.1:8188/prompt"),
                Some("127.0.0.1"),
                Group::Local,
            ),
            finding(
                "services/worker.py",
                26,
                Some("http://comfyui:8188/prompt"),
                Some("comfyui"),
                Group::DockerNetwork,
            ),
            {
                let mut f = finding(
                    "scripts/direct.py",
                    10,
                    None,
                    Some("comfyui"),
                    Group::ContainerExec,
                );
                f.command = Some("python main.py --cpu".to_string());
                f.client = Some("docker exec".to_string());
                f
            },
            {
                let mut f = finding(
                    "scripts/unresolved.py",
                    11,
                    Some("{COMFYUI_URL}/prompt"),
                    None,
                    Group::Unresolved,
                );
                f.env_var = Some("COMFYUI_URL".to_string());
                f
            },
        ];
        if with_remote {
            let mut f = finding(
                "scripts/remote.py",
                7,
                Some("http://comfyui.datacrew.space/prompt|x"),
                Some("comfyui.datacrew.space"),
                Group::Remote,
            );
            f.function = Some("submit".to_string());
            fs.push(f);
        }
        Report::new(
            fs,
            vec![Diagnostic {
                path: "bad.py".into(),
                message: "parse error".into(),
            }],
            20,
        )
    }

    fn opts(date: Option<&str>) -> RenderOptions {
        RenderOptions {
            date: date.map(str::to_string),
            target: "demo".to_string(),
            ..Default::default()
        }
    }

    fn md(with_remote: bool, date: Option<&str>) -> String {
        let rules = RuleSet::embedded().unwrap();
        render(&sample(with_remote), &rules, &opts(date))
    }

    #[test]
    fn sections_in_order() {
        let out = md(true, None);
        let headings = [
            "# ComfyUI API Access Audit",
            "## Summary",
            "## Local Access Scripts (UNAFFECTED)",
            "### Team scripts",
            "### Vendored and example code",
            "## Remote Access Scripts (REQUIRES TOKEN)",
            "## Service-to-Service Communication",
            "### Docker network",
            "### Container exec",
            "### External services",
            "## Unresolved Addresses",
            "## Recommendations",
            "## Impact Assessment",
            "### Before Cloudflare Access",
            "### After Cloudflare Access",
            "## Next Steps",
            "## Diagnostics",
        ];
        let mut at = 0;
        for h in headings {
            let pos = out[at..]
                .find(&format!("{h}\n"))
                .unwrap_or_else(|| panic!("{h} missing or out of order:\n{out}"));
            at += pos + h.len();
        }
        assert!(!out.contains("### Private network"), "{out}");
    }

    #[test]
    fn none_found_only_without_remote() {
        let without = md(false, None);
        assert!(without.contains("NONE FOUND"), "{without}");
        assert!(
            without.contains("No breaking changes expected"),
            "{without}"
        );
        // No domain configured and none found: the report says so and names no domain.
        assert!(
            without.contains("**Protected domain:** none configured"),
            "{without}"
        );
        assert!(!without.contains("datacrew"), "{without}");
        let rules = RuleSet::embedded().unwrap();
        let configured = RenderOptions {
            domains: vec!["comfy.mydomain.dev".to_string()],
            ..opts(None)
        };
        let named = render(&sample(false), &rules, &configured);
        assert!(named.contains("enabled on `comfy.mydomain.dev`"), "{named}");
        assert!(!named.contains("**Protected domain:**"), "{named}");
        let with = md(true, None);
        assert!(!with.contains("NONE FOUND"), "{with}");
        assert!(with.contains("**1 remote use will break**"), "{with}");
        assert!(with.contains("❌ untokenized — breaks"), "{with}");
        assert!(with.contains("prompt\\|x"), "pipe must be escaped:\n{with}");
        assert!(with.contains("**Insecure scheme:**"), "{with}");
        assert!(with.contains("Fix before enabling Access:"), "{with}");
    }

    #[test]
    fn date_only_when_given() {
        let out = md(false, None);
        assert!(!out.contains("**Date:**"), "{out}");
        let out = md(false, Some("2026-01-02"));
        assert!(out.contains("**Date:** 2026-01-02"), "{out}");
        assert_eq!(md(false, None), md(false, None));
    }

    #[test]
    fn vendored_file_listed_apart() {
        let out = md(false, None);
        let vendored_at = out.find("### Vendored and example code").unwrap();
        let remote_at = out.find("## Remote Access Scripts").unwrap();
        let file_at = out
            .find("`ComfyUI/script_examples/basic_api_example.py`")
            .unwrap();
        assert!(vendored_at < file_at && file_at < remote_at, "{out}");
        assert!(out.contains("uses `127.0.0.1:8188`"), "{out}");
        let team = &out[out.find("### Team scripts").unwrap()..vendored_at];
        assert!(team.contains("**`run.py`**"), "{team}");
        assert!(team.contains("(lines 12, 30)"), "{team}");
        assert!(team.contains("`docker exec comfyui`"), "{team}");
        assert!(!team.contains("basic_api_example"), "{team}");
    }

    #[test]
    fn mermaid_diagram_opens_the_report() {
        let with = md(true, None);
        let start = with
            .find("```mermaid\nflowchart LR\n")
            .expect("diagram block");
        assert!(start > with.find("**Scope:**").unwrap(), "{with}");
        assert!(start < with.find("## Summary").unwrap(), "{with}");
        let block = &with[start..start + with[start..].find("\n```\n").unwrap()];
        // Groups with their counts, the service, the Access hop.
        assert!(block.contains("svc[(\"ComfyUI\")]"), "{block}");
        assert!(
            block.contains("g_local[\"Local scripts<br/>2 files · 3 uses\"]"),
            "{block}"
        );
        assert!(
            block.contains("g_docker[\"Docker network<br/>1 file · 1 use\"]"),
            "{block}"
        );
        assert!(
            block.contains("g_exec[\"Container exec<br/>1 file · 1 use\"]"),
            "{block}"
        );
        assert!(
            block.contains("g_unresolved[\"Unresolved<br/>1 file · 1 use\"]"),
            "{block}"
        );
        assert!(
            !block.contains("g_private"),
            "empty groups are left out:\n{block}"
        );
        assert!(block.contains("Cloudflare Tunnel + Access"), "{block}");
        assert!(
            block.contains("g_remote_bad -->|\"1 untokenized — breaks\"| access"),
            "{block}"
        );
        assert!(block.contains("access --> svc"), "{block}");
        assert!(block.contains("classDef breaks"), "{block}");
        assert!(block.contains("class g_remote_bad breaks"), "{block}");
        // Edges: local, docker, exec, remote_bad (index 3), access, unresolved.
        assert!(block.contains("linkStyle 3 stroke:#c00"), "{block}");

        // No untokenized remote use: no red.
        let without = md(false, None);
        assert!(without.contains("```mermaid\n"), "{without}");
        for red in [
            "classDef breaks",
            "g_remote_bad",
            "linkStyle",
            "untokenized —",
        ] {
            assert!(!without.contains(red), "{red}:\n{without}");
        }
        let mut tokenized = sample(true);
        for f in &mut tokenized.findings {
            f.tokenized = true;
        }
        let rules = RuleSet::embedded().unwrap();
        let out = render(&tokenized, &rules, &opts(None));
        assert!(
            out.contains("g_remote_ok -->|\"1 tokenized\"| access"),
            "{out}"
        );
        assert!(!out.contains("classDef breaks"), "{out}");

        // No findings: no diagram.
        let empty = render(&Report::new(vec![], vec![], 3), &rules, &opts(None));
        assert!(!empty.contains("```mermaid"), "{empty}");
    }

    #[test]
    fn mermaid_labels_are_escaped() {
        assert_eq!(
            mermaid_text("a \"b\" <c> #d `e` |f\ng"),
            "a #quot;b#quot; #lt;c#gt; #35;d #96;e#96; #124;f g"
        );
    }

    #[test]
    fn unresolved_and_helper() {
        let out = md(false, None);
        assert!(
            out.contains(
                "| `scripts/unresolved.py` | 11 | `{COMFYUI_URL}/prompt` | env `COMFYUI_URL` |"
            ),
            "{out}"
        );
        assert!(
            out.contains("Create the helper `utils/comfyui_api_client.py`"),
            "{out}"
        );
        assert!(out.contains("`COMFYUI_ACCESS_TOKEN`"), "{out}");
        assert!(out.contains("- `bad.py`: parse error"), "{out}");
        let empty = render(
            &Report::new(vec![], vec![], 3),
            &RuleSet::embedded().unwrap(),
            &opts(None),
        );
        assert!(
            empty.contains("Every address was resolved statically."),
            "{empty}"
        );
        assert!(!empty.contains("## Diagnostics"), "{empty}");
        assert!(empty.contains("`http://comfyui:8188`"), "{empty}");
    }
}
