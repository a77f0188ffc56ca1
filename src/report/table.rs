//! Terminal table output (comfy-table): one row per finding grouped by group (remote first, the
//! ones that matter), or one row per file; then a one-line summary. Without `color` there are no
//! ANSI escapes and the width is fixed, so output is stable in tests and pipes.

use std::collections::BTreeMap;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table};

use super::{GroupBy, RenderOptions};
use crate::engine::classify::Group;
use crate::engine::finding::{Finding, Report};

/// Table width when neither the terminal nor `COLUMNS` gives one.
const WIDTH: usize = 140;
/// The narrowest width a table is laid out for.
const MIN_WIDTH: usize = 80;
/// Narrowest the URL column gets before other columns are dropped.
const MIN_URL: usize = 32;

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
    let width = width_of(opts);
    let table = match opts.group_by {
        GroupBy::Group => by_group(report, color, width),
        GroupBy::File => by_file(report, color, width),
    };
    out.push_str(&table.to_string());
    out.push('\n');
    // Wrapped only to a known terminal width; otherwise one greppable line.
    match opts.width {
        Some(_) => out.push_str(&wrap(&summary_line(report), width)),
        None => out.push_str(&summary_line(report)),
    }
    out.push('\n');
    out
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split(' ') {
        let n = word.chars().count();
        if line_len > 0 && line_len + 1 + n > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += n;
    }
    out
}

/// The width the table must fit: `opts.width` (the terminal's, or `COLUMNS`), at least
/// [`MIN_WIDTH`]; [`WIDTH`] when unknown.
fn width_of(opts: &RenderOptions) -> usize {
    opts.width.map_or(WIDTH, |w| w.max(MIN_WIDTH))
}

fn new_table(color: bool, width: usize) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        // No terminal probing at all: no styling, the given width.
        table.force_no_tty();
    }
    table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    table
}

/// Columns of the group table, in order. When the table would not fit, the least important go
/// first: Function, then Client; then Tokenized is folded into Group (`remote: no`); then the URL
/// is shortened further. Locations are never shortened and nothing wraps.
const HEADER: [&str; 6] = [
    "Group",
    "Location",
    "URL",
    "Client",
    "Tokenized",
    "Function",
];
/// The URL column's narrowest width once every optional column is gone.
const MIN_URL_NARROW: usize = 16;

fn by_group(report: &Report, color: bool, width: usize) -> Table {
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by_key(|f| (group_rank(f.group), f.path.as_str(), f.line, f.column));
    let tokenized = |f: &Finding| match (f.group, f.tokenized) {
        (Group::Remote, true) => "yes",
        (Group::Remote, false) => "no",
        _ => "-",
    };
    let rows: Vec<[String; 6]> = findings
        .iter()
        .map(|f| {
            [
                f.group.as_str().to_string(),
                super::location(f),
                escape_control(&target(f)).into_owned(),
                f.client.clone().unwrap_or_else(|| "-".to_string()),
                tokenized(f).to_string(),
                escape_control(f.function.as_deref().unwrap_or("-")).into_owned(),
            ]
        })
        .collect();
    let folded: Vec<String> = findings
        .iter()
        .map(|f| match f.group {
            Group::Remote => format!("remote: {}", tokenized(f)),
            g => g.as_str().to_string(),
        })
        .collect();
    let natural = |i: usize, fold: bool| -> usize {
        let cells: Box<dyn Iterator<Item = usize>> = if i == 0 && fold {
            Box::new(folded.iter().map(|c| c.chars().count()))
        } else {
            Box::new(rows.iter().map(move |r| r[i].chars().count()))
        };
        cells.chain([HEADER[i].chars().count()]).max().unwrap_or(0)
    };
    let full_url = natural(2, false);
    let total = |cols: &[usize], fold: bool, url: usize| -> usize {
        cols.iter()
            .map(|&i| if i == 2 { url } else { natural(i, fold) })
            .sum::<usize>()
            + 3 * cols.len()
            + 1
    };
    let mut shown: Vec<usize> = (0..HEADER.len()).collect();
    let mut fold = false;
    for step in [5, 3, 4] {
        if total(&shown, fold, full_url.min(MIN_URL)) <= width {
            break;
        }
        shown.retain(|&i| i != step);
        fold = step == 4;
    }
    let url_width = width
        .saturating_sub(total(&shown, fold, 0))
        .clamp(MIN_URL_NARROW.min(full_url), full_url.max(1));

    let mut table = new_table(color, width);
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(shown.iter().map(|&i| HEADER[i]).collect::<Vec<_>>());
    for ((f, row), group) in findings.iter().zip(rows).zip(folded) {
        let mut cells: Vec<Cell> = Vec::with_capacity(shown.len());
        for &i in &shown {
            let cell = match i {
                0 if fold => Cell::new(group.as_str()),
                2 => Cell::new(shorten(&row[2], url_width)),
                _ => Cell::new(&row[i]),
            };
            let breaks_cell = (i == 4 || (i == 0 && fold)) && f.group == Group::Remote;
            cells.push(if color && breaks_cell {
                cell.fg(if f.tokenized {
                    Color::Green
                } else {
                    Color::Red
                })
            } else {
                cell
            });
        }
        table.add_row(cells);
    }
    table
}

/// `text` in at most `max` characters: the middle replaced by `…`, so a URL keeps its scheme and
/// host and the end of its path.
fn shorten(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max || max < 2 {
        return text.to_string();
    }
    let keep = max - 1;
    let head = keep - keep / 3;
    let tail = keep - head;
    let chars: Vec<char> = text.chars().collect();
    let mut s: String = chars[..head].iter().collect();
    s.push('…');
    s.extend(&chars[n - tail..]);
    s
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

use super::escape_control;

fn by_file(report: &Report, color: bool, width: usize) -> Table {
    let mut files: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        files.entry(f.path.as_str()).or_default().push(f);
    }
    let rows: Vec<(&str, usize, usize, String)> = files
        .into_iter()
        .map(|(path, fs)| {
            let groups: Vec<&str> = Group::ALL
                .iter()
                .filter(|g| fs.iter().any(|f| f.group == **g))
                .map(|g| g.as_str())
                .collect();
            let breaking = fs.iter().filter(|f| f.breaks()).count();
            (path, fs.len(), breaking, groups.join(", "))
        })
        .collect();
    // Paths and counts stay whole; Groups wraps at `, ` into what is left, or is dropped when
    // not even the longest group name fits.
    let file_w = rows
        .iter()
        .map(|r| r.0.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let fixed = file_w + 4 + 6 + 3 * 4 + 1;
    let longest_group = Group::ALL
        .iter()
        .map(|g| g.as_str().len())
        .max()
        .unwrap_or(15);
    let with_groups = fixed + longest_group <= width;
    let mut table = new_table(color, width);
    let mut header = vec!["File", "Uses", "Breaks"];
    if with_groups {
        header.push("Groups");
    }
    table.set_header(header);
    keep_whole(&mut table, &[0, 1, 2]);
    if with_groups {
        if let Some(c) = table.column_mut(3) {
            let w = u16::try_from(width - fixed).unwrap_or(u16::MAX);
            c.set_constraint(ColumnConstraint::UpperBoundary(comfy_table::Width::Fixed(
                w,
            )));
        }
    }
    for (path, uses, breaking, groups) in rows {
        let mut breaking_cell = Cell::new(breaking);
        if color && breaking > 0 {
            breaking_cell = breaking_cell.fg(Color::Red);
        }
        let mut cells = vec![
            Cell::new(escape_control(path)),
            Cell::new(uses),
            breaking_cell,
        ];
        if with_groups {
            cells.push(Cell::new(groups));
        }
        table.add_row(cells);
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
    use crate::engine::finding::{Diagnostic, Evidence, Language};

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
            ..Default::default()
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
