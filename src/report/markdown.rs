//! Markdown output: an audit report meant to replace a hand-written "API access audit" — what uses
//! the service, which of those uses Cloudflare Access on the public domain affects, what to change,
//! and what to do next. Every sentence is computed from the findings and the rules, so the report is
//! deterministic (no timestamp unless [`RenderOptions::date`] is set).
//!
//! The prose and the section structure are in `templates/*.md.j2` (`report.md.j2` includes one
//! template per section); this module computes what they show — counts, table rows, lists of
//! code-formatted names — into the serializable [`View`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::escape::{cell, code, code_cell};
use super::template::{self, join_and};
use super::RenderOptions;
use crate::engine::classify::Group;
use crate::engine::finding::{Finding, Language, Report, Summary};
use crate::rules::{RuleSet, Service};

/// How many distinct URLs an entry lists before "and N more".
const MAX_URLS: usize = 5;
/// Longest container command shown verbatim.
const MAX_COMMAND: usize = 100;

pub fn render(report: &Report, rules: &RuleSet, opts: &RenderOptions) -> String {
    let svc = rules.primary();
    let ctx = Ctx::new(report, svc, &opts.domains);
    let mut out = template::render("report.md.j2", &View::new(&ctx, report, rules, opts));
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
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
            s.push_str(&format!(" ({})", fns.join(", ")));
        }
        Some(s)
    }

    fn helper_present(&self) -> bool {
        self.report
            .findings
            .iter()
            .any(|f| self.svc.helpers.files.contains(&f.path))
    }

    /// The distinct files of the findings `keep` keeps.
    fn files_of(&self, keep: impl Fn(&Finding) -> bool) -> Vec<&'a str> {
        distinct(
            self.report
                .findings
                .iter()
                .filter(|f| keep(f))
                .map(|f| f.path.as_str()),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// What the templates show
// ---------------------------------------------------------------------------------------------

/// The context of `report.md.j2`: every value already escaped for Markdown (code spans, cells).
#[derive(Serialize)]
struct View<'a> {
    /// The service's display name.
    name: &'a str,
    date: Option<&'a str>,
    /// What was scanned, code-formatted.
    scope: String,
    s: &'a Summary,
    /// The public domains, code-formatted and joined.
    domains: String,
    domain_source: DomainSource,
    /// The first public domain as a code-formatted `https://` URL.
    domain_url: String,
    /// What a request must send: "the `A` header or the `B` cookie".
    credential: String,
    /// The env vars the token lives in.
    token_env: String,
    diagram: Option<Diagram>,
    /// Findings minus container exec sites.
    addresses: usize,
    /// `: 7 scripts, 2 config files and 1 notebook`, or empty when all are scripts.
    file_kinds: String,
    /// The code-formatted files of the untokenized remote uses.
    breaking_files: Vec<String>,
    /// Files reaching the service on loopback or through `docker exec`, team scripts first.
    team: Vec<TeamScript>,
    vendored: Vec<VendoredFile>,
    remote: Vec<RemoteRow>,
    /// `path:line` (`scheme`) of remote uses over `http://` / `ws://`.
    insecure: Vec<String>,
    docker: Vec<FileUrls>,
    exec: Vec<ExecSite>,
    private: Vec<FileUrls>,
    remote_files: usize,
    unresolved: Vec<UnresolvedRow>,
    sources: Vec<SourceRow>,
    /// The helper file and its functions (code-formatted), if the rules name one.
    helper: Option<String>,
    /// Local origins to keep using, and Docker network origins (code-formatted, comma-separated).
    origins: String,
    docker_origins: String,
    fixes: Vec<Fix>,
    /// Env vars of unresolved addresses, and the `path:line` of those set by a parameter.
    check_env: Vec<String>,
    check_params: Vec<String>,
    local_files: usize,
    /// The rules' helper file (code-formatted) and whether the scan found it.
    helper_file: Option<String>,
    helper_present: bool,
    /// A name for the service token (`comfyui-api`), code-formatted.
    token_name: String,
    diagnostics: Vec<Diag>,
}

#[derive(Serialize)]
struct TeamScript {
    name: String,
    language: &'static str,
    urls: String,
    containers: Vec<String>,
    path: String,
    lines: String,
}

#[derive(Serialize)]
struct VendoredFile {
    path: String,
    uses: String,
    lines: String,
}

#[derive(Serialize)]
struct RemoteRow {
    path: String,
    line: String,
    url: String,
    client: String,
    function: String,
    tokenized: bool,
}

#[derive(Serialize)]
struct FileUrls {
    path: String,
    lines: String,
    urls: String,
    envs: Vec<String>,
}

#[derive(Serialize)]
struct ExecSite {
    at: String,
    container: String,
    command: Option<String>,
}

#[derive(Serialize)]
struct UnresolvedRow {
    path: String,
    line: String,
    url: String,
    set_by: String,
}

#[derive(Serialize)]
struct SourceRow {
    at: String,
    url: String,
    group: String,
    env_var: Option<String>,
    env_source: Option<String>,
    defined_at: Option<String>,
}

#[derive(Serialize)]
struct Fix {
    at: String,
    url: String,
    suggestion: String,
    insecure: bool,
}

#[derive(Serialize)]
struct Diag {
    path: String,
    message: String,
}

/// The diagram's lines: nodes, then edges (numbered from 0 as Mermaid numbers links), and the
/// edges drawn red.
#[derive(Serialize)]
struct Diagram {
    nodes: Vec<String>,
    edges: Vec<String>,
    red_edges: Vec<usize>,
}

impl<'a> View<'a> {
    fn new(
        ctx: &Ctx<'a>,
        report: &'a Report,
        rules: &RuleSet,
        opts: &'a RenderOptions,
    ) -> View<'a> {
        let s = &report.summary;
        let svc = ctx.svc;
        let target = if opts.target.is_empty() {
            "."
        } else {
            opts.target.as_str()
        };
        let (team, vendored) = local_files(ctx);
        let helper_file = svc.helpers.files.first().map(|h| code(h));
        View {
            name: &svc.name,
            date: opts.date.as_deref(),
            scope: code(target),
            s,
            domains: ctx.domains.clone(),
            domain_source: ctx.domain_source,
            domain_url: ctx.domain_url(),
            credential: ctx.credential_phrase(),
            token_env: ctx.token_env(),
            diagram: diagram(report, rules, &ctx.domain_list),
            addresses: s.findings - s.container_exec,
            file_kinds: file_kinds(&report.findings),
            breaking_files: ctx
                .files_of(Finding::breaks)
                .into_iter()
                .map(code)
                .collect(),
            team,
            vendored,
            remote: ctx.of(Group::Remote).into_iter().map(remote_row).collect(),
            insecure: ctx
                .of(Group::Remote)
                .into_iter()
                .filter(|f| is_insecure(f))
                .map(|f| {
                    format!(
                        "{} ({})",
                        code(&at(f)),
                        code(f.scheme.as_deref().unwrap_or("http"))
                    )
                })
                .collect(),
            docker: file_urls(ctx.of(Group::DockerNetwork), true),
            exec: ctx
                .of(Group::ContainerExec)
                .into_iter()
                .map(|f| ExecSite {
                    at: code(&at(f)),
                    container: code(f.host.as_deref().unwrap_or("?")),
                    command: f
                        .command
                        .as_deref()
                        .filter(|c| !c.is_empty())
                        .map(|c| code(&truncate(c, MAX_COMMAND))),
                })
                .collect(),
            private: file_urls(ctx.of(Group::PrivateNetwork), false),
            remote_files: ctx.files_of(|f| f.group == Group::Remote).len(),
            unresolved: ctx
                .of(Group::Unresolved)
                .into_iter()
                .map(|f| UnresolvedRow {
                    path: code_cell(&f.path),
                    line: line_of(f),
                    url: code_cell(f.url.as_deref().unwrap_or("?")),
                    set_by: cell(&set_by(f)),
                })
                .collect(),
            sources: sources(ctx),
            helper: ctx.helper(),
            origins: template::limited(&local_origins(ctx), MAX_URLS),
            docker_origins: template::limited(&docker_origins(ctx), MAX_URLS),
            fixes: fixes(ctx),
            check_env: distinct(
                ctx.of(Group::Unresolved)
                    .into_iter()
                    .filter_map(|f| f.env_var.as_deref()),
            )
            .into_iter()
            .map(code)
            .collect(),
            check_params: ctx
                .of(Group::Unresolved)
                .into_iter()
                .filter(|f| f.env_var.is_none())
                .map(|f| code(&at(f)))
                .collect(),
            local_files: ctx.files_of(|f| f.group == Group::Local).len(),
            helper_file,
            helper_present: ctx.helper_present(),
            token_name: code(&format!("{}-api", svc.id)),
            diagnostics: report
                .diagnostics
                .iter()
                .map(|d| Diag {
                    path: code(&d.path),
                    message: super::escape::markdown(&d.message.replace('\n', " ")),
                })
                .collect(),
        }
    }
}

/// The files reaching the service on loopback or by `docker exec`: team scripts, then vendored
/// and example code.
fn local_files(ctx: &Ctx) -> (Vec<TeamScript>, Vec<VendoredFile>) {
    let files = by_file(
        ctx.report
            .findings
            .iter()
            .filter(|f| matches!(f.group, Group::Local | Group::ContainerExec)),
    );
    let (vendored, team): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(path, _)| ctx.is_vendored(path));
    let team = team
        .iter()
        .map(|(path, fs)| TeamScript {
            name: code(basename(path)),
            language: language(fs),
            urls: template::limited(
                &distinct(
                    fs.iter()
                        .filter(|f| f.group == Group::Local)
                        .filter_map(|f| f.url.as_deref())
                        .map(code),
                ),
                MAX_URLS,
            ),
            containers: containers(fs),
            path: code(path),
            lines: lines_label(fs),
        })
        .collect();
    let vendored = vendored
        .iter()
        .map(|(path, fs)| {
            let mut uses = Vec::new();
            let hosts = distinct(
                fs.iter()
                    .filter(|f| f.group == Group::Local)
                    .map(|f| code(&host_port(f))),
            );
            if !hosts.is_empty() {
                uses.push(format!("uses {}", template::limited(&hosts, MAX_URLS)));
            }
            let containers = containers(fs);
            if !containers.is_empty() {
                uses.push(format!("runs {}", containers.join(", ")));
            }
            VendoredFile {
                path: code(path),
                uses: uses.join("; "),
                lines: lines_label(fs),
            }
        })
        .collect();
    (team, vendored)
}

fn remote_row(f: &Finding) -> RemoteRow {
    RemoteRow {
        path: code_cell(&f.path),
        line: line_of(f),
        url: code_cell(f.url.as_deref().unwrap_or("?")),
        client: cell(f.client.as_deref().unwrap_or("-")),
        function: cell(
            &f.function
                .as_deref()
                .map(code)
                .unwrap_or_else(|| "-".to_string()),
        ),
        tokenized: f.tokenized,
    }
}

/// One entry per file: its lines, its distinct URLs and (with `envs`) the env vars overriding them.
fn file_urls(findings: Vec<&Finding>, envs: bool) -> Vec<FileUrls> {
    by_file(findings)
        .iter()
        .map(|(path, fs)| FileUrls {
            path: code(path),
            lines: lines_label(fs),
            urls: template::limited(
                &distinct(fs.iter().filter_map(|f| f.url.as_deref()).map(code)),
                MAX_URLS,
            ),
            envs: if envs {
                distinct(fs.iter().filter_map(|f| f.env_var.as_deref()).map(code))
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// Local origins to keep using: the team's (else all local ones), else `localhost` on the port.
fn local_origins(ctx: &Ctx) -> Vec<String> {
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
    origins
}

/// Docker network origins found, else the first container name of the rules on its port.
fn docker_origins(ctx: &Ctx) -> Vec<String> {
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
    docker
}

/// What to change at each untokenized remote use.
fn fixes(ctx: &Ctx) -> Vec<Fix> {
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
    ctx.report
        .findings
        .iter()
        .filter(|f| f.breaks())
        .map(|f| {
            let svc = (f.service == ctx.svc.id).then_some(ctx.svc);
            Fix {
                at: code(&at(f)),
                url: code(f.url.as_deref().unwrap_or("?")),
                suggestion: match svc {
                    Some(svc) => {
                        crate::remedy::suggestion(f.client.as_deref(), f.language, Some(svc))
                    }
                    None => fix.clone(),
                },
                insecure: is_insecure(f),
            }
        })
        .collect()
}

/// For every address resolved through an env var or a constant defined elsewhere: the variable
/// and the file (and line) that gave it its value.
fn sources(ctx: &Ctx) -> Vec<SourceRow> {
    ctx.report
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
        .map(|f| SourceRow {
            at: code(&at(f)),
            url: code(&cell(f.url.as_deref().unwrap_or(""))),
            group: f.group.to_string(),
            env_var: f.env_var.as_deref().map(code),
            env_source: f.env_source.as_deref().map(code),
            defined_at: f.defined_at.as_deref().map(code),
        })
        .collect()
}

/// A Mermaid `flowchart LR` (GitHub renders it) of who talks to the service how: one node per
/// non-empty group with its file and use counts, an edge to the service — remote uses through a
/// "Cloudflare Tunnel + Access" node — and the untokenized remote uses in red. `None` without
/// findings.
fn diagram(report: &Report, rules: &RuleSet, domains: &[String]) -> Option<Diagram> {
    if report.findings.is_empty() {
        return None;
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
            template::count(files, "file", "files"),
            template::count(uses, "use", "uses")
        )
    };
    let mut d = Diagram {
        nodes: vec![format!("svc[(\"{}\")]", mermaid_text(svc.name.as_str()))],
        edges: Vec::new(),
        red_edges: Vec::new(),
    };
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
            d.nodes.push(format!("{id}[{}]", label(title, st)));
            d.edges
                .push(format!("{id} -->|\"{}\"| svc", mermaid_text(how)));
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
        d.nodes.push(format!(
            "access{{{{\"Cloudflare Tunnel + Access{domain}\"}}}}"
        ));
        if tokenized.1 > 0 {
            d.nodes.push(format!(
                "g_remote_ok[{}]",
                label("Remote, with Access token", tokenized)
            ));
            d.edges.push(format!(
                "g_remote_ok -->|\"{} tokenized\"| access",
                tokenized.1
            ));
        }
        if untokenized.1 > 0 {
            d.nodes.push(format!(
                "g_remote_bad[{}]",
                label("Remote, no token", untokenized)
            ));
            d.red_edges.push(d.edges.len());
            d.edges.push(format!(
                "g_remote_bad -->|\"{} untokenized — {}\"| access",
                untokenized.1,
                if untokenized.1 == 1 {
                    "breaks"
                } else {
                    "break"
                }
            ));
        }
        d.edges.push("access --> svc".to_string());
    }
    let unresolved = stats(&|f: &Finding| f.group == Group::Unresolved);
    if unresolved.1 > 0 {
        d.nodes
            .push(format!("g_unresolved[{}]", label("Unresolved", unresolved)));
        d.edges
            .push("g_unresolved -.->|\"known at run time\"| svc".to_string());
    }
    Some(d)
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
        .map(|(files, (one, many))| template::count(files.len(), one, many))
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

fn set_by(f: &Finding) -> String {
    let mut s = match &f.env_var {
        Some(e) => format!("env {}", code(e)),
        None => "command-line argument / parameter".to_string(),
    };
    if let Some(d) = &f.defined_at {
        s.push_str(&format!(" ({})", code(d)));
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

/// A violation row of `check --format markdown`.
#[derive(Serialize)]
struct GateRow {
    rule: &'static str,
    severity: &'static str,
    at: String,
    message: String,
}

/// `check --format markdown`: the violations as a table (for a PR comment or a job summary).
pub fn render_gate(result: &crate::gate::GateResult) -> String {
    #[derive(Serialize)]
    struct GateView<'a> {
        s: &'a crate::gate::GateSummary,
        rows: Vec<GateRow>,
    }
    let rows = result
        .active()
        .map(|v| GateRow {
            rule: v.rule.id(),
            severity: v.severity.as_str(),
            at: code_cell(&match v.cell {
                Some(c) => format!("{}:cell {c}:{}", v.path, v.line),
                None => format!("{}:{}", v.path, v.line),
            }),
            message: cell(&crate::engine::secrets::mask_line(&v.message)),
        })
        .collect();
    template::render(
        "gate.md.j2",
        &GateView {
            s: &result.summary,
            rows,
        },
    )
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
