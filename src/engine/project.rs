//! Project-wide context: what one file cannot know alone. Env values from `.env` files, compose
//! `environment:` and Kubernetes `env:` entries (scoped to the code they apply to), compose service
//! names and published ports, and the values of other Python and Rust modules: the index of who
//! imports what (built from the text the scan read, [`ModuleRefs`]), and each module's facts,
//! lowered once — shared with the module's own analysis when the scan analyses it, else read when
//! first needed — and followed to a bounded depth.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::engine::profile::{self, Counter};

use crate::engine::ir::{FileFacts, Pos, StrExpr};
use crate::engine::lower;
use crate::engine::solve::{EnvOverride, Evaluator, External, Value};
use crate::engine::source;
use crate::engine::source::Language;
use crate::engine::walk;
use crate::rules::RuleSet;

/// Chains of imports followed at most this deep.
const MAX_IMPORT_DEPTH: usize = 6;
/// Values considered for one env var.
const MAX_ENV_VALUES: usize = 8;

/// An env value and where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedEnv {
    pub var: String,
    pub value: String,
    /// `path:line` of the entry.
    pub source: String,
    /// The directory whose code sees this value (`None`: the whole project).
    pub scope: Option<PathBuf>,
}

/// A parsed module of the project.
pub struct Module {
    display: String,
    path: PathBuf,
    language: Language,
    facts: FileFacts,
}

impl Module {
    /// What the file's front end lowered.
    pub fn facts(&self) -> &FileFacts {
        &self.facts
    }
}

/// A file of the scan that other files may look into. Its text is held from the scan's read
/// until it is lowered, once, by whichever needs it first: its own analysis or another file's
/// lookup; both then use the same facts.
struct Shared {
    text: Mutex<Option<Arc<String>>>,
    module: OnceLock<Option<Arc<Module>>>,
}

/// What a file's text says about the project's other modules, found when the scan reads it
/// (without parsing): which modules it imports and which functions of other modules it calls.
/// It decides which files are kept lowered for lookups, and where callers are looked for.
#[derive(Debug, Default)]
pub struct ModuleRefs {
    /// Python `from M import a` → (`M`, `Some(a)`); `import M` → (`M`, `None`).
    pub imports: Vec<(String, Option<String>)>,
    /// Rust `api::history(` → (`api`, `history`) where `api` is a module of the scan; `use
    /// crate::api::…` and `mod api;` → (`api`, ``).
    pub paths: Vec<(String, String)>,
}

impl ModuleRefs {
    pub fn is_empty(&self) -> bool {
        self.imports.is_empty() && self.paths.is_empty()
    }
}

/// A code file as the scan's first phase leaves it, for [`Project::index`].
pub struct IndexedFile {
    /// Canonical path.
    pub path: PathBuf,
    pub language: Language,
    pub refs: ModuleRefs,
    /// Does the scan analyse the file?
    pub analysed: bool,
    /// Its decoded text, when the scan holds it (else it is read again when lowered).
    pub text: Option<Arc<String>>,
}

/// Everything shared by the files of one scan.
#[derive(Default)]
pub struct Project {
    /// Canonical scan roots and the prefix their files' report paths carry.
    roots: Vec<(PathBuf, String)>,
    pub env: Vec<ScopedEnv>,
    /// Compose service and container names: docker-network hosts.
    pub hosts: BTreeSet<String>,
    /// Service id → host ports that publish it (compose `ports:`).
    pub ports: BTreeMap<String, BTreeSet<u16>>,
    /// JSON / TOML configuration values by key path, with the file (report path) they are in.
    pub config_values: Vec<(lower::config::ConfigValue, String)>,
    modules: Mutex<HashMap<PathBuf, Option<Arc<Module>>>>,
    /// Python files of the scan (canonical paths): the only Python files read as other modules.
    python_files: HashSet<PathBuf>,
    /// Rust files of the scan (canonical paths), likewise.
    rust_files: HashSet<PathBuf>,
    /// Module names of the scan's Rust files (`api` for `api.rs` and `api/mod.rs`): a path
    /// `api::history(…)` in another file names one of them.
    rust_names: HashSet<String>,
    /// The scan's size limit (`--max-file-size`): another module is read only within it.
    max_file_size: u64,
    /// A file was named as a scan root: its sibling modules are read even though the walk did
    /// not list them (within the limit); else only the walk's files are.
    file_root: bool,
    /// Name imported with `from MODULE import NAME` → the files that import it, with the module
    /// as written.
    importers: HashMap<String, Vec<(PathBuf, String)>>,
    /// Rust function called as `module::name(…)` → the files with such a call.
    rust_calls: HashMap<String, Vec<PathBuf>>,
    /// Files of the scan that other files may look into, lowered once (see [`Shared`]).
    shared: HashMap<PathBuf, Shared>,
    /// Files the scan analyses itself: a lookup that lowers one of them again is counted.
    scanned: HashSet<PathBuf>,
}

impl Project {
    /// A project over these scan roots; `prefixes[i]` is prepended to report paths under root `i`.
    pub fn new(roots: &[(PathBuf, String)]) -> Project {
        let file_root = roots.iter().any(|(r, _)| r.is_file());
        let roots = roots
            .iter()
            .map(|(r, p)| {
                let dir = if r.is_file() {
                    r.parent().unwrap_or(Path::new(".")).to_path_buf()
                } else {
                    r.clone()
                };
                (std::fs::canonicalize(&dir).unwrap_or(dir), p.clone())
            })
            .collect();
        Project {
            roots,
            file_root,
            max_file_size: crate::engine::walk::DEFAULT_MAX_FILE_SIZE,
            ..Default::default()
        }
    }

    /// The Python and Rust files of the scan, for values passed to a module's functions from
    /// other modules.
    /// Only these files are read as other modules: the walk has applied the ignore files and
    /// the size limit to them.
    pub fn set_code_files(&mut self, python: Vec<PathBuf>, rust: Vec<PathBuf>, max_file_size: u64) {
        self.max_file_size = max_file_size;
        let canonical = |files: Vec<PathBuf>| {
            files
                .into_iter()
                .filter_map(|f| std::fs::canonicalize(&f).ok())
                .collect()
        };
        self.python_files = canonical(python);
        self.rust_files = canonical(rust);
        self.rust_names = self
            .rust_files
            .iter()
            .filter_map(|f| rust_module_name(f))
            .collect();
    }

    /// What `text` (a file of `language`) says about other modules: see [`ModuleRefs`].
    pub fn refs(&self, language: Language, text: &str) -> ModuleRefs {
        match language {
            Language::Python => ModuleRefs {
                imports: python_imports(text),
                paths: Vec::new(),
            },
            Language::Rust if !self.rust_names.is_empty() => ModuleRefs {
                imports: Vec::new(),
                paths: rust_paths(text, &self.rust_names),
            },
            _ => ModuleRefs::default(),
        }
    }

    /// Index the code files the scan read: who imports what (callers are looked for there), and
    /// which analysed files are kept lowered because another file may look into them (an
    /// imported module, a file that imports from another module). Files looked into that the
    /// prefilter passed over are read and lowered when first needed.
    pub fn index(&mut self, files: Vec<IndexedFile>) {
        // Module paths are resolved per directory (files beside each other import alike), and
        // only when the name is one of the scan's modules.
        let python_names: HashSet<String> = self
            .python_files
            .iter()
            .filter_map(|f| python_module_name(f))
            .collect();
        let mut resolved: HashMap<(PathBuf, String, Language), Option<PathBuf>> = HashMap::new();
        let python_files = &self.python_files;
        let mut resolve = |file: &Path, module: String, language: Language| {
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            resolved
                .entry((dir, module, language))
                .or_insert_with_key(|(_, module, _)| {
                    let target = match language {
                        // Only the scan's files count: no need to ask the file system.
                        Language::Python => {
                            python_module_where(file, module, |p| python_files.contains(p))
                        }
                        _ => {
                            let segs: Vec<String> = module.split("::").map(String::from).collect();
                            rust_module(file, &segs)
                        }
                    }?;
                    Some(std::fs::canonicalize(&target).unwrap_or(target))
                })
                .clone()
        };
        let mut importers: HashMap<String, Vec<(PathBuf, String)>> = HashMap::new();
        let mut rust_calls: HashMap<String, Vec<PathBuf>> = HashMap::new();
        // Files some file imports, and files that import from another module of the scan.
        let mut imported: HashSet<PathBuf> = HashSet::new();
        let mut importing: HashSet<PathBuf> = HashSet::new();
        for f in &files {
            for (module, name) in &f.refs.imports {
                if let Some(name) = name {
                    importers
                        .entry(name.clone())
                        .or_default()
                        .push((f.path.clone(), module.clone()));
                }
                // A file the scan does not analyse is looked into only as a caller: what it
                // imports is read when it is.
                if !f.analysed {
                    continue;
                }
                let last = module.rsplit('.').next().unwrap_or("");
                let mut candidates = Vec::new();
                if module.starts_with('.') || python_names.contains(last) {
                    candidates.push(module.clone());
                }
                if let Some(name) = name.as_ref().filter(|n| python_names.contains(*n)) {
                    candidates.push(join_module(module, name));
                }
                for m in candidates {
                    if let Some(target) = resolve(&f.path, m, Language::Python) {
                        imported.insert(target);
                        importing.insert(f.path.clone());
                    }
                }
            }
            for (module, function) in &f.refs.paths {
                let Some(target) = resolve(&f.path, module.clone(), Language::Rust) else {
                    continue;
                };
                imported.insert(target);
                importing.insert(f.path.clone());
                if !function.is_empty() {
                    rust_calls
                        .entry(function.clone())
                        .or_default()
                        .push(f.path.clone());
                }
            }
        }
        for list in importers.values_mut() {
            list.sort();
            list.dedup();
        }
        for list in rust_calls.values_mut() {
            list.sort();
            list.dedup();
        }
        self.importers = importers;
        self.rust_calls = rust_calls;
        for f in files {
            if !f.analysed || !matches!(f.language, Language::Python | Language::Rust) {
                continue;
            }
            if imported.contains(&f.path) || importing.contains(&f.path) {
                self.shared.insert(
                    f.path.clone(),
                    Shared {
                        text: Mutex::new(f.text),
                        module: OnceLock::new(),
                    },
                );
            }
            self.scanned.insert(f.path);
        }
    }

    /// Files that import `name` (`from m import name`, `from m import (a, name as b)`).
    fn importers_of(&self, name: &str) -> &[(PathBuf, String)] {
        self.importers.get(name).map_or(&[], Vec::as_slice)
    }

    /// The facts of a file of the scan that other files may look into (canonical `path`),
    /// lowered once for the scan and the lookups; `None` for another file (the scan lowers it
    /// on its own) or one whose front end failed.
    pub fn shared(&self, path: &Path, rules: &RuleSet) -> Option<Arc<Module>> {
        self.shared_module(path, rules).flatten()
    }

    /// Is `path` (canonical) a file of the scan that other files may look into?
    pub fn is_shared(&self, path: &Path) -> bool {
        self.shared.contains_key(path)
    }

    fn shared_module(&self, path: &Path, rules: &RuleSet) -> Option<Option<Arc<Module>>> {
        let slot = self.shared.get(path)?;
        Some(
            slot.module
                .get_or_init(|| {
                    let held = slot.text.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let text = match held {
                        Some(text) => text,
                        None => Arc::new(read_text(path)?),
                    };
                    profile::count(Counter::Shared);
                    self.lower(path, &text, rules).map(Arc::new)
                })
                .clone(),
        )
    }

    /// Record what a configuration file says: env values and compose services.
    pub fn add_config(
        &mut self,
        file: &Path,
        display: &str,
        cfg: &lower::config::ConfigFacts,
        rules: &RuleSet,
    ) {
        let dir = std::fs::canonicalize(file)
            .ok()
            .and_then(|f| f.parent().map(Path::to_path_buf));
        // Env files apply to the code beside them; Kubernetes / Helm env to the whole project.
        let env_scope = if file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(".env") || n.ends_with("env"))
        {
            dir.clone()
        } else {
            None
        };
        // `${VAR:-default}` interpolation gives the default; secret values are never kept.
        let value_of = |e: &lower::config::EnvEntry| {
            if e.secret {
                None
            } else {
                lower::config::substitute_defaults(&e.value)
            }
        };
        for e in &cfg.env {
            if let Some(value) = value_of(e) {
                self.env.push(ScopedEnv {
                    var: e.var.clone(),
                    value,
                    source: format!("{display}:{}", e.line),
                    scope: env_scope.clone(),
                });
            }
        }
        self.config_values
            .extend(cfg.values.iter().map(|v| (v.clone(), display.to_string())));
        for s in &cfg.services {
            self.hosts.insert(s.name.to_ascii_lowercase());
            if let Some(c) = &s.container_name {
                self.hosts.insert(c.to_ascii_lowercase());
            }
            // Which service this compose service runs: by its container port or its name.
            for svc in &rules.services {
                let by_name = svc.hosts.iter().any(|h| *h == s.name.to_ascii_lowercase())
                    || svc
                        .containers
                        .as_ref()
                        .is_some_and(|re| re.is_match(&s.name));
                for (host, container) in &s.ports {
                    if by_name || svc.ports.contains(container) {
                        self.ports.entry(svc.id.clone()).or_default().insert(*host);
                    }
                }
            }
            // `environment:` applies to the code in the service's build context.
            if let (Some(ctx), Some(dir)) = (&s.build_context, &dir) {
                let scope = std::fs::canonicalize(dir.join(ctx)).unwrap_or_else(|_| dir.join(ctx));
                for e in &s.environment {
                    if let Some(value) = value_of(e) {
                        self.env.push(ScopedEnv {
                            var: e.var.clone(),
                            value,
                            source: format!("{display}:{}", e.line),
                            scope: Some(scope.clone()),
                        });
                    }
                }
            }
        }
    }

    /// Env values for `var` that the code in `file` sees (at most a few, distinct values).
    pub fn env_values(&self, var: &str, file: &Path) -> Vec<EnvOverride> {
        let mut out: Vec<EnvOverride> = Vec::new();
        for e in self
            .env
            .iter()
            .filter(|e| e.var == var && !e.value.is_empty())
        {
            if e.scope.as_ref().is_some_and(|s| !file.starts_with(s)) {
                continue;
            }
            if !out.iter().any(|o| o.value == e.value) && out.len() < MAX_ENV_VALUES {
                out.push(EnvOverride {
                    var: var.to_string(),
                    value: e.value.clone(),
                    source: e.source.clone(),
                });
            }
        }
        out
    }

    /// The value at `key` (`comfyui.base_url`) in a JSON / TOML configuration file: an exact key
    /// path first, else one that ends with it; the first file in report-path order wins.
    pub fn config_value(&self, key: &str) -> Option<Value> {
        let suffix = format!(".{key}");
        let mut candidates: Vec<&(lower::config::ConfigValue, String)> = self
            .config_values
            .iter()
            .filter(|(v, _)| v.key == key || v.key.ends_with(&suffix))
            .collect();
        candidates.sort_by_key(|(v, file)| (v.key != key, file.clone(), v.line));
        let (v, file) = candidates.first()?;
        Some(Value {
            text: v.value.clone(),
            sources: vec![crate::engine::solve::Source {
                name: v.key.clone(),
                kind: crate::engine::solve::SourceKind::Binding,
                // Column 0: the entry's line (findings fold their definition by line).
                pos: Some(Pos {
                    line: v.line,
                    column: 0,
                }),
                has_default: false,
                file: Some(file.clone()),
                span: (0, v.value.len()),
            }],
            env_source: None,
        })
    }

    /// The report path of a file (relative to its root, with the root's prefix).
    fn display(&self, path: &Path) -> String {
        for (root, prefix) in &self.roots {
            if path.starts_with(root) {
                let rel = walk::rel(root, path);
                return if prefix.is_empty() {
                    rel
                } else {
                    format!("{prefix}/{rel}")
                };
            }
        }
        path.display().to_string()
    }

    fn within_roots(&self, path: &Path) -> bool {
        self.roots.iter().any(|(r, _)| path.starts_with(r))
    }

    /// Parse (once) the module at `path`.
    fn module(&self, path: &Path, rules: &RuleSet) -> Option<Arc<Module>> {
        let path = std::fs::canonicalize(path).ok()?;
        if let Some(m) = self.shared_module(&path, rules) {
            return m;
        }
        if let Some(m) = self
            .modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&path)
        {
            return m.clone();
        }
        let loaded = self.load(&path, rules).map(Arc::new);
        self.modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path, loaded.clone());
        loaded
    }

    fn load(&self, path: &Path, rules: &RuleSet) -> Option<Module> {
        let language = walk::language_of(path)?;
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > self.max_file_size || !self.within_roots(path) {
            return None;
        }
        // A file the walk left out (ignored, or another kind) is not read as a module either.
        let listed = match language {
            Language::Python => &self.python_files,
            Language::Rust => &self.rust_files,
            _ => return None,
        };
        if !self.file_root && !listed.contains(path) {
            return None;
        }
        if self.scanned.contains(path) {
            profile::count(Counter::LoweredAgain);
        }
        self.lower(path, &read_text(path)?, rules)
    }

    /// Lower `text`, the file at `path`, as a module.
    fn lower(&self, path: &Path, text: &str, rules: &RuleSet) -> Option<Module> {
        let language = walk::language_of(path)?;
        let facts = match language {
            Language::Python => lower::python::extract(text, rules),
            Language::Rust => lower::rust::extract(text, rules).ok()?,
            _ => return None,
        };
        Some(Module {
            display: self.display(path),
            path: path.to_path_buf(),
            language,
            facts,
        })
    }
}

/// The decoded text of a Python or Rust file.
fn read_text(path: &Path) -> Option<String> {
    let language = walk::language_of(path)?;
    source::read_decoded(path, language).ok().map(|d| d.text)
}

/// A file as seen from the project: resolves its imports through other modules.
#[derive(Clone)]
pub struct FileContext<'p> {
    pub project: &'p Project,
    pub rules: &'p RuleSet,
    /// Canonical path of the file.
    pub path: PathBuf,
    pub language: Language,
    pub facts: &'p FileFacts,
    pub depth: usize,
    /// Env values in force for this evaluation (from env files / compose), also for the values
    /// of other modules this file imports.
    pub env: Vec<EnvOverride>,
}

impl FileContext<'_> {
    /// Which module and name `name` refers to through this file's imports.
    fn target(&self, name: &str) -> Option<(PathBuf, String)> {
        match self.language {
            Language::Rust => self.rust_target(name),
            _ => self.python_target(name),
        }
    }

    fn python_target(&self, name: &str) -> Option<(PathBuf, String)> {
        let (root, rest) = name.split_once('.').map_or((name, ""), |(a, b)| (a, b));
        let Some(imp) = self.facts.imports.iter().find(|i| i.local == root) else {
            // `from config import *`: the first star-imported module that binds the name.
            return self
                .facts
                .imports
                .iter()
                .filter(|i| i.name.as_deref() == Some("*"))
                .filter_map(|i| python_module(&self.path, &i.module))
                .find(|file| {
                    self.project.module(file, self.rules).is_some_and(|m| {
                        m.facts
                            .bindings
                            .iter()
                            .any(|b| b.scope == 0 && b.name == root)
                    })
                })
                .map(|file| (file, name.to_string()));
        };
        let (module, target) = match (&imp.name, rest) {
            (Some(n), "") => (imp.module.clone(), n.clone()),
            (Some(n), rest) => (join_module(&imp.module, n), rest.to_string()),
            (None, "") => return None,
            (None, rest) => match rest.rsplit_once('.') {
                Some((sub, last)) => (join_module(&imp.module, sub), last.to_string()),
                None => (imp.module.clone(), rest.to_string()),
            },
        };
        // `from pkg import settings` binds a submodule: `settings.URL` is in pkg/settings.py;
        // else `from settings import SETTINGS` binds an object: `SETTINGS.host` is in settings.py.
        if let Some(file) = python_module(&self.path, &module) {
            return Some((file, target));
        }
        match (&imp.name, rest) {
            (Some(n), rest) if !rest.is_empty() => {
                let file = python_module(&self.path, &imp.module)?;
                Some((file, format!("{n}.{rest}")))
            }
            _ => None,
        }
    }

    fn rust_target(&self, name: &str) -> Option<(PathBuf, String)> {
        let segs: Vec<&str> = name.split("::").collect();
        let (last, head) = segs.split_last()?;
        let module: Vec<String> = if head.is_empty() {
            // `use crate::config::URL;` then `URL`.
            let imp = self
                .facts
                .imports
                .iter()
                .find(|i| i.local == *last && i.name.is_some())?;
            imp.module.split("::").map(str::to_string).collect()
        } else {
            let first = head[0];
            let mut m: Vec<String> = match self.facts.imports.iter().find(|i| i.local == first) {
                Some(imp) => {
                    let mut m: Vec<String> = imp.module.split("::").map(str::to_string).collect();
                    m.push(imp.name.clone().unwrap_or_else(|| first.to_string()));
                    m
                }
                None => vec![first.to_string()],
            };
            m.extend(head[1..].iter().map(|s| s.to_string()));
            m
        };
        let name = self
            .facts
            .imports
            .iter()
            .find(|i| i.local == *last && head.is_empty())
            .and_then(|i| i.name.clone());
        let file = rust_module(&self.path, &module)?;
        Some((file, name.unwrap_or_else(|| last.to_string())))
    }
}

impl FileContext<'_> {
    /// Is `callee` (as written in this file) a function of another module that adds the credential?
    pub fn credential_fn(&self, callee: &str) -> bool {
        let Some((file, target)) = self.target(callee) else {
            return false;
        };
        file != self.path
            && self
                .project
                .module(&file, self.rules)
                .is_some_and(|m| m.facts.credential_fns.contains(&target))
    }
}

impl FileContext<'_> {
    /// Another module as seen from this file: one level deeper, with the same env values.
    fn within<'m>(&'m self, module: &'m Module) -> FileContext<'m> {
        FileContext {
            project: self.project,
            rules: self.rules,
            path: module.path.clone(),
            language: module.language,
            facts: &module.facts,
            depth: self.depth + 1,
            env: self.env.clone(),
        }
    }

    /// Values passed by other modules to parameter `param` (positional `index`) of `function`.
    fn callers(&self, function: &str, param: &str, index: usize) -> Vec<Value> {
        if self.depth >= 2 {
            return Vec::new();
        }
        if self.language == Language::Rust {
            return self.rust_callers(function, index);
        }
        if self.language != Language::Python {
            return Vec::new();
        }
        let mut out: Vec<Value> = Vec::new();
        for (file, module) in self.project.importers_of(function) {
            // Tests pass made-up hosts to the code they test: what they pass is not where the
            // code runs. A module whose import names another file is not parsed at all.
            if *file == self.path
                || out.len() >= crate::engine::solve::MAX_VALUES
                || is_test_file(file)
                || python_module(file, module)
                    .and_then(|m| std::fs::canonicalize(m).ok())
                    .is_none_or(|m| m != self.path)
            {
                continue;
            }
            let Some(module) = self.project.module(file, self.rules) else {
                continue;
            };
            let ctx = self.within(&module);
            // The import must lead to this file.
            if ctx
                .target(function)
                .is_none_or(|(f, n)| f != self.path || n != function)
            {
                continue;
            }
            let local: Vec<&str> = module
                .facts
                .imports
                .iter()
                .filter(|i| i.name.as_deref() == Some(function))
                .map(|i| i.local.as_str())
                .collect();
            let ev = Evaluator::new(&module.facts).with_external(&ctx);
            for call in module
                .facts
                .calls
                .iter()
                .filter(|c| local.contains(&c.callee.as_str()))
            {
                let arg = call
                    .kwargs
                    .iter()
                    .find(|(k, _)| k == param)
                    .map(|(_, e)| e)
                    .or_else(|| call.args.get(index));
                let Some(arg) = arg else { continue };
                add_values(&mut out, ev.eval_all(arg, call.scope, call.pos), &module);
            }
        }
        out
    }
}

impl FileContext<'_> {
    /// Values other modules of the crate pass to parameter `index` of `function`
    /// (`api::history(&http, &server, id)` in `main.rs` for `fn history` in `api.rs`).
    fn rust_callers(&self, function: &str, index: usize) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let suffix = format!("::{function}");
        let files = self
            .project
            .rust_calls
            .get(function)
            .map_or(&[][..], Vec::as_slice);
        for file in files {
            // Tests pass made-up hosts.
            if *file == self.path
                || out.len() >= crate::engine::solve::MAX_VALUES
                || is_test_file(file)
            {
                continue;
            }
            let Some(module) = self.project.module(file, self.rules) else {
                continue;
            };
            let ctx = self.within(&module);
            let ev = Evaluator::new(&module.facts).with_external(&ctx);
            for call in module.facts.calls.iter().filter(|c| {
                c.callee.ends_with(&suffix)
                    && ctx
                        .target(&c.callee)
                        .is_some_and(|(f, n)| f == self.path && n == function)
            }) {
                let Some(arg) = call.args.get(index) else {
                    continue;
                };
                add_values(&mut out, ev.eval_all(arg, call.scope, call.pos), &module);
            }
        }
        out
    }
}

/// A value built in another module: its sources without a file are that module's.
fn in_module(v: &mut Value, module: &Module) {
    for s in &mut v.sources {
        if s.file.is_none() {
            s.file = Some(module.display.clone());
        }
    }
}

/// Add the values a caller in `module` passes, each text once.
fn add_values(out: &mut Vec<Value>, values: Vec<Value>, module: &Module) {
    for mut v in values {
        in_module(&mut v, module);
        if !out.iter().any(|o| o.text == v.text) {
            out.push(v);
        }
    }
}

impl External for FileContext<'_> {
    fn call_values(&self, function: &str, param: &str, index: usize) -> Vec<Value> {
        self.callers(function, param, index)
    }

    fn call(&self, callee: &str, args: &[String], kwargs: &[(String, String)]) -> Option<Value> {
        if self.depth >= MAX_IMPORT_DEPTH {
            return None;
        }
        let (file, target) = self.target(callee)?;
        if file == self.path || target.contains('.') {
            return None;
        }
        let module = self.project.module(&file, self.rules)?;
        let ctx = self.within(&module);
        let mut v = Evaluator::new(&module.facts)
            .with_external(&ctx)
            .eval_return(&target, args, kwargs)?;
        in_module(&mut v, &module);
        Some(v)
    }

    fn import(&self, name: &str, depth: usize) -> Option<Value> {
        if self.depth + depth > MAX_IMPORT_DEPTH * 8 || self.depth >= MAX_IMPORT_DEPTH {
            return None;
        }
        // `cfg["comfyui"]["base_url"]` on a loaded JSON / TOML file.
        if let Some((_, keys)) = name.split_once('[') {
            return self
                .project
                .config_value(&keys.trim_end_matches(']').replace("][", "."));
        }
        let (file, target) = self.target(name)?;
        if file == self.path {
            return None;
        }
        let module = self.project.module(&file, self.rules)?;
        let ctx = self.within(&module);
        let ev = Evaluator::new(&module.facts)
            .with_external(&ctx)
            .with_env(self.env.clone());
        let far = Pos {
            line: u32::MAX,
            column: 0,
        };
        let mut value = if ev.lookup(&target, 0, far).is_some() {
            ev.eval(&StrExpr::Ref(target.clone()), 0, far)
        } else {
            // An attribute of an object the module makes (`SETTINGS.host`), else a re-export:
            // `from .settings import URL` in a package's `__init__`.
            let own = target
                .contains('.')
                .then(|| ev.eval(&StrExpr::Ref(target.clone()), 0, far))
                .filter(|v| !v.is_unknown());
            match own {
                Some(v) => v,
                None => ctx.import(&target, depth + 1)?,
            }
        };
        for s in &mut value.sources {
            if s.file.is_none() {
                s.file = Some(module.display.clone());
            }
        }
        Some(value)
    }
}

/// A test module: under a `tests` / `test` directory, or named `test_*.py`, `*_test.py`,
/// `conftest.py`.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
        || path
            .components()
            .any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "test")))
}

/// The modules a Python source imports, read from its text without parsing: `from M import a,
/// b as c` → (`M`, `a`), (`M`, `b`), parenthesised lists included; `import M, N as O` → (`M`),
/// (`N`).
fn python_imports(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let ident = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_');
    // Only the lines with `import ` are looked at (a SIMD search finds them).
    let mut next_line = 0;
    for (at, _) in text.match_indices("import ") {
        if at < next_line {
            continue;
        }
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        next_line = end;
        let t = text[start..end].trim_start();
        if let Some(rest) = t.strip_prefix("import ") {
            for m in rest.split('#').next().unwrap_or("").split(',') {
                let m = m.split(" as ").next().unwrap_or(m).trim();
                if !m.is_empty() && m.split('.').all(ident) {
                    out.push((m.to_string(), None));
                }
            }
            continue;
        }
        let Some(rest) = t.strip_prefix("from ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once(" import ") else {
            continue;
        };
        let module = module.trim().to_string();
        // Comments end at the line's end: each line of a parenthesised list loses its own.
        let code = |line: &str| line.split('#').next().unwrap_or("").to_string();
        let mut names = code(names);
        if names.trim_start().starts_with('(') && !names.contains(')') {
            for more in text[end..].lines().skip(1).take(64) {
                let more = code(more);
                names.push(',');
                names.push_str(&more);
                if more.contains(')') {
                    break;
                }
            }
        }
        for n in names.split(',') {
            let n = n.trim().trim_matches(['(', ')', '\\']).trim();
            let n = n.split(" as ").next().unwrap_or(n).trim();
            if ident(n) || n == "*" {
                out.push((module.clone(), Some(n.to_string())));
            }
        }
    }
    out
}

/// The paths of a Rust source into other modules of the scan (`modules`), read from its text
/// without parsing: `api::history(` → (`api`, `history`); `mod api;`, `use crate::api::…` →
/// (`api`, ``).
fn rust_paths(text: &str, modules: &HashSet<String>) -> Vec<(String, String)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |m: &str, f: &str| {
        if modules.contains(m) && !out.iter().any(|(a, b)| a == m && b == f) {
            out.push((m.to_string(), f.to_string()));
        }
    };
    for (at, _) in text.match_indices("::") {
        let before = &text[..at];
        let module = &before[before.rfind(|c: char| !is_ident(c)).map_or(0, |i| i + 1)..];
        let after = &text[at + 2..];
        let end = after.find(|c: char| !is_ident(c)).unwrap_or(after.len());
        let (function, rest) = after.split_at(end);
        if !module.is_empty() && !function.is_empty() && rest.starts_with('(') {
            push(module, function);
        }
    }
    for line in text.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("pub ").unwrap_or(t);
        if let Some(m) = t.strip_prefix("mod ") {
            push(m.trim_end_matches(';').trim(), "");
        } else if let Some(path) = t.strip_prefix("use ") {
            let mut segs = path.split("::").map(str::trim);
            let first = segs.next().unwrap_or("");
            let module = if matches!(first, "crate" | "self" | "super") {
                segs.next().unwrap_or("")
            } else {
                first
            };
            push(module.trim_matches(|c: char| !is_ident(c)), "");
        }
    }
    out
}

/// The name other files import a Python file by: its stem, or its package's for `__init__.py`.
fn python_module_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    if stem == "__init__" {
        return Some(path.parent()?.file_name()?.to_str()?.to_string());
    }
    Some(stem.to_string())
}

/// The name other modules of a crate use for a Rust file: its stem, or its directory's for
/// `mod.rs`.
fn rust_module_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    if stem == "mod" {
        return Some(path.parent()?.file_name()?.to_str()?.to_string());
    }
    Some(stem.to_string())
}

fn join_module(module: &str, sub: &str) -> String {
    if module.ends_with('.') || module.is_empty() {
        format!("{module}{sub}")
    } else {
        format!("{module}.{sub}")
    }
}

/// The file of Python module `module` (dotted, leading dots relative) imported from `from`.
fn python_module(from: &Path, module: &str) -> Option<PathBuf> {
    python_module_where(from, module, Path::is_file)
}

/// [`python_module`] among the files `exists` says are there.
fn python_module_where(
    from: &Path,
    module: &str,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let level = module.chars().take_while(|c| *c == '.').count();
    let parts: Vec<&str> = module[level..]
        .split('.')
        .filter(|p| !p.is_empty())
        .collect();
    let dir = from.parent()?;
    let bases: Vec<&Path> = if level > 0 {
        let mut d = dir;
        for _ in 1..level {
            d = d.parent()?;
        }
        vec![d]
    } else {
        dir.ancestors().collect()
    };
    for base in bases {
        let mut p = base.to_path_buf();
        for part in &parts {
            p.push(part);
        }
        let file = p.with_extension("py");
        if !parts.is_empty() && exists(&file) {
            return Some(file);
        }
        let init = p.join("__init__.py");
        if exists(&init) {
            return Some(init);
        }
    }
    None
}

/// The file of Rust module path `module` (`crate::config`, `super::x`) used from `from`.
fn rust_module(from: &Path, module: &[String]) -> Option<PathBuf> {
    let (first, rest) = module.split_first()?;
    let mut dir = match first.as_str() {
        "crate" => from
            .ancestors()
            .find(|d| d.join("Cargo.toml").is_file())?
            .join("src"),
        "self" => own_module_dir(from)?,
        "super" => own_module_dir(from)?.parent()?.to_path_buf(),
        other => {
            let src = from
                .ancestors()
                .find(|d| d.join("Cargo.toml").is_file())?
                .join("src");
            let mut dir = src;
            dir.push(other);
            return find_rust_module(dir, rest);
        }
    };
    if rest.is_empty() {
        // `super::URL`: the parent module's own file.
        let file = dir.with_extension("rs");
        if file.is_file() {
            return Some(file);
        }
        return ["mod.rs", "lib.rs", "main.rs"]
            .iter()
            .map(|f| dir.join(f))
            .find(|f| f.is_file());
    }
    dir.push(&rest[0]);
    find_rust_module(dir, &rest[1..])
}

fn find_rust_module(mut dir: PathBuf, rest: &[String]) -> Option<PathBuf> {
    for seg in rest {
        dir.push(seg);
    }
    let file = dir.with_extension("rs");
    if file.is_file() {
        return Some(file);
    }
    let m = dir.join("mod.rs");
    m.is_file().then_some(m)
}

/// The directory that holds the submodules of the module defined by `file`.
fn own_module_dir(file: &Path) -> Option<PathBuf> {
    let name = file.file_stem()?.to_str()?;
    let parent = file.parent()?;
    Some(if matches!(name, "mod" | "lib" | "main") {
        parent.to_path_buf()
    } else {
        parent.join(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_imports_are_read_from_the_text() {
        let text = "import os, config.settings as s\nfrom .client import (\n    queue,  # a comment\n    history as h,\n)\nfrom settings import *\nx = 'import nothing'\n    from pkg import sub\n";
        let got = python_imports(text);
        let want: Vec<(String, Option<String>)> = vec![
            ("os".into(), None),
            ("config.settings".into(), None),
            (".client".into(), Some("queue".into())),
            (".client".into(), Some("history".into())),
            ("settings".into(), Some("*".into())),
            ("pkg".into(), Some("sub".into())),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn rust_paths_name_only_the_scans_modules() {
        let modules: HashSet<String> = ["api", "config"].iter().map(|s| s.to_string()).collect();
        let text = "mod api;\nuse crate::config::URL;\nuse reqwest::Client;\nfn main() {\n    let c = Client::new();\n    api::history(&c, URL);\n    crate::api::queue(&c);\n    std::env::var(\"X\");\n}\n";
        let got = rust_paths(text, &modules);
        let want: Vec<(String, String)> = vec![
            ("api".into(), "history".into()),
            ("api".into(), "queue".into()),
            ("api".into(), String::new()),
            ("config".into(), String::new()),
        ];
        assert_eq!(got, want);
    }
}
