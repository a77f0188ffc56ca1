//! Terminal table output (comfy-table): one row per finding grouped by group (remote first, the
//! ones that matter), or one row per file; then a one-line summary. Without `color` there are no
//! ANSI escapes and the width is fixed, so output is stable in tests and pipes.

use std::collections::BTreeMap;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::{GroupBy, RenderOptions};
use crate::classify::Group;
use crate::finding::{Finding, Report};

/// Table width when the output is not a terminal.
const WIDTH: u16 = 140;
/// Narrowest the URL column gets before the table grows past the width.
const MIN_URL: u16 = 32;

pub fn render(report: &Report, opts: &RenderOptions, color: bool) -> String {
    let s = &report.summary;
    let mut out = String::new();
    if report.findings.is_empty() {
        out.push_str(&format!(
            "No service addresses found in {} scanned.\n",
            files(s.files_scanned)
        ));
        if s.diagnostics > 0 {
            out.push_str(&format!("{}\n", diagnostics(s.diagnostics)));
        }
        return out;
    }
    let table = match opts.group_by {
        GroupBy::Group => by_group(report, color),
        GroupBy::File => by_file(report, color),
    };
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        // No terminal probing at all: no styling, fixed width.
        table.force_no_tty();
    }
    if table.width().is_none() {
        table.set_width(WIDTH);
    }
    table
}

fn by_group(report: &Report, color: bool) -> Table {
    let mut table = new_table(color);
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by_key(|f| (group_rank(f.group), f.path.as_str(), f.line, f.column));
    let header = [
        "Group",
        "Location",
        "URL",
        "Client",
        "Tokenized",
        "Function",
    ];
    let rows: Vec<[String; 6]> = findings
        .iter()
        .map(|f| {
            [
                f.group.as_str().to_string(),
                format!("{}:{}:{}", f.path, f.line, f.column),
                target(f),
                f.client.clone().unwrap_or_else(|| "-".to_string()),
                match (f.group, f.tokenized) {
                    (Group::Remote, true) => "yes".to_string(),
                    (Group::Remote, false) => "no".to_string(),
                    _ => "-".to_string(),
                },
                f.function.clone().unwrap_or_else(|| "-".to_string()),
            ]
        })
        .collect();
    // The Function column is shown only when every column fits unwrapped.
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let full = widths.iter().sum::<usize>() + 3 * widths.len() + 1;
    let limit = usize::from(table.width().unwrap_or(WIDTH));
    let columns = if full <= limit { 6 } else { 5 };

    table.set_header(header[..columns].to_vec());
    // Group, Location, Client and Tokenized never wrap; the URL (and Function) take the rest.
    keep_whole(&mut table, &[0, 1, 3, 4]);
    if let Some(c) = table.column_mut(2) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(MIN_URL)));
    }
    for (f, row) in findings.iter().zip(rows) {
        let mut cells: Vec<Cell> = row.into_iter().take(columns).map(Cell::new).collect();
        if color && f.group == Group::Remote {
            let fg = if f.tokenized {
                Color::Green
            } else {
                Color::Red
            };
            cells[4] = Cell::new(if f.tokenized { "yes" } else { "no" }).fg(fg);
        }
        table.add_row(cells);
    }
    table
}

/// What the finding reaches: its URL, or the `docker exec` command line.
fn target(f: &Finding) -> String {
    match &f.url {
        Some(u) => u.clone(),
        None => {
            let mut s = format!("docker exec {}", f.host.as_deref().unwrap_or("?"));
            if let Some(cmd) = f.command.as_deref().filter(|c| !c.is_empty()) {
                s.push(' ');
                s.push_str(cmd);
            }
            s
        }
    }
}

fn by_file(report: &Report, color: bool) -> Table {
    let mut table = new_table(color);
    table.set_header(vec!["File", "Groups", "Addresses", "Remote untokenized"]);
    keep_whole(&mut table, &[0, 2, 3]);
    let mut files: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        files.entry(f.path.as_str()).or_default().push(f);
    }
    for (path, fs) in files {
        let groups: Vec<&str> = Group::ALL
            .iter()
            .filter(|g| fs.iter().any(|f| f.group == **g))
            .map(|g| g.as_str())
            .collect();
        let breaking = fs.iter().filter(|f| f.breaks()).count();
        let mut breaking_cell = Cell::new(breaking);
        if color && breaking > 0 {
            breaking_cell = breaking_cell.fg(Color::Red);
        }
        table.add_row(vec![
            Cell::new(path),
            Cell::new(groups.join(", ")),
            Cell::new(fs.len()),
            breaking_cell,
        ]);
    }
    table
}

/// Never wrap these columns (locations must stay greppable as `path:line:column`).
fn keep_whole(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = table.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

fn group_rank(g: Group) -> usize {
    Group::ALL
        .iter()
        .position(|x| *x == g)
        .unwrap_or(Group::ALL.len())
}

fn files(n: usize) -> String {
    format!("{n} {}", if n == 1 { "file" } else { "files" })
}

fn diagnostics(n: usize) -> String {
    format!("{n} {}", if n == 1 { "diagnostic" } else { "diagnostics" })
}

fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut line = format!(
        "{} {} in {}: {} local, {} docker-network, {} private-network, {} container-exec, {} remote ({} tokenized), {} unresolved; {} remote untokenized",
        s.findings,
        if s.findings == 1 { "finding" } else { "findings" },
        files(s.files_with_findings),
        s.local,
        s.docker_network,
        s.private_network,
        s.container_exec,
        s.remote,
        s.remote_tokenized,
        s.unresolved,
        s.remote_untokenized
    );
    if s.diagnostics > 0 {
        line.push_str(&format!("; {}", diagnostics(s.diagnostics)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Diagnostic, Evidence, Language};

    fn finding(
        path: &str,
        line: u32,
        url: Option<&str>,
        host: Option<&str>,
        group: Group,
    ) -> Finding {
        Finding {
            path: path.to_string(),
            line,
            column: 3,
            url: url.map(str::to_string),
            scheme: url
                .and_then(|u| u.split_once("://"))
                .map(|(s, _)| s.to_string()),
            host: host.map(str::to_string),
            port: None,
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

    fn sample() -> Report {
        let mut exec = finding(
            "scripts/direct.py",
            10,
            None,
            Some("comfyui"),
            Group::ContainerExec,
        );
        exec.command = Some("ls /models".to_string());
        let mut tokenized = finding(
            "scripts/remote.py",
            9,
            Some("https://comfyui.datacrew.space/queue"),
            Some("comfyui.datacrew.space"),
            Group::Remote,
        );
        tokenized.tokenized = true;
        let fs = vec![
            finding(
                "scripts/run.py",
                12,
                Some("http://localhost:8188/prompt"),
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
            exec,
            finding(
                "scripts/remote.py",
                7,
                Some("https://comfyui.datacrew.space/prompt"),
                Some("comfyui.datacrew.space"),
                Group::Remote,
            ),
            tokenized,
            finding(
                "scripts/unresolved.py",
                11,
                Some("{COMFYUI_URL}/prompt"),
                None,
                Group::Unresolved,
            ),
        ];
        Report::new(
            fs,
            vec![Diagnostic {
                path: "bad.py".into(),
                message: "parse error".into(),
            }],
            20,
        )
    }

    fn opts(group_by: GroupBy) -> RenderOptions {
        RenderOptions {
            group_by,
            date: None,
            target: "demo".to_string(),
        }
    }

    #[test]
    fn group_table_lists_every_finding_without_ansi() {
        let out = render(&sample(), &opts(GroupBy::Group), false);
        for loc in [
            "scripts/run.py:12:3",
            "ComfyUI/script_examples/basic_api_example.py:42:3",
            "services/worker.py:26:3",
            "scripts/direct.py:10:3",
            "scripts/remote.py:7:3",
            "scripts/remote.py:9:3",
            "scripts/unresolved.py:11:3",
        ] {
            assert!(out.contains(loc), "{loc} missing:\n{out}");
        }
        assert!(!out.contains('\u{1b}'), "ANSI escape in:\n{out}");
        assert!(out.contains("docker exec comfyui ls /models"), "{out}");
        // Remote rows come first, unresolved next, local last.
        let remote = out.find("scripts/remote.py:7:3").unwrap();
        let unresolved = out.find("scripts/unresolved.py:11:3").unwrap();
        let local = out.find("scripts/run.py:12:3").unwrap();
        assert!(remote < unresolved && unresolved < local, "{out}");
        assert!(out.contains("7 findings in 6 files"), "{out}");
        assert!(out.contains("1 remote untokenized"), "{out}");
        assert!(out.contains("1 diagnostic"), "{out}");
        assert_eq!(out, render(&sample(), &opts(GroupBy::Group), false));
    }

    #[test]
    fn color_marks_untokenized() {
        let out = render(&sample(), &opts(GroupBy::Group), true);
        assert!(out.contains('\u{1b}'), "{out}");
        assert!(out.contains("scripts/remote.py:7:3"), "{out}");
    }

    #[test]
    fn file_table_one_row_per_file() {
        let out = render(&sample(), &opts(GroupBy::File), false);
        assert_eq!(out.matches("scripts/remote.py").count(), 1, "{out}");
        assert!(out.contains("services/worker.py"), "{out}");
        assert!(out.contains("remote"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
    }

    #[test]
    fn empty_report() {
        let out = render(
            &Report::new(vec![], vec![], 4),
            &opts(GroupBy::Group),
            false,
        );
        assert_eq!(out, "No service addresses found in 4 files scanned.\n");
    }
}
