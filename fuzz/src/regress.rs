//! Regression files (`fuzz/regressions/NAME.txt`) and the known-failures
//! list (`fuzz/known-failures.txt`).
//!
//! A regression file is text: `#` comments (origin, differences seen), then
//! `mode`, the eight registers by name, `eflags`, `fx` (512 bytes, hex, in
//! memory order), `win` (the window, hex) and one `item` line per item (hex
//! bytes, the subject last; a `;` starts a comment); `faults 1` marks a
//! case whose last item must kill the guest, `strict 1` one compared with
//! `--strict-stack`. Replaying it runs the
//! case natively and in its mode and compares, like the fuzzer.
//!
//! The known-failures list has `code NAME` lines (iced `Code` names: random
//! cases containing that code are tolerated, and the coverage table shows
//! it as failing) and `regression NAME` lines (that regression is expected
//! to fail; once it passes, the test asks for the line to be removed).

use crate::batch::{Batch, Verdict};
use crate::driver::Finding;
use crate::exec::{Mode, Runner};
use crate::gen::{Case, Item};
use crate::layout::{GPR_NAMES, WIN_SIZE};
use crate::shrink::listing;
use crate::state::Init;
use iced_x86::Code;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

pub struct Regression {
    pub name: String,
    pub mode: Mode,
    /// Compare memory below esp too.
    pub strict: bool,
    pub case: Case,
    pub fx: [u8; 512],
    pub win: Vec<u8>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..s.len() / 2)
        .map(|k| u8::from_str_radix(&s[2 * k..2 * k + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

/// The text of a regression file for `f`.
pub fn format(f: &Finding) -> String {
    let mut s = format!(
        "# rehost-fuzz regression\n# origin: {}\n# mode: {}\n",
        f.origin,
        f.mode.name()
    );
    s.push_str("# sequence:\n");
    for l in listing(&f.case.items).lines() {
        s.push_str(&format!("#{l}\n"));
    }
    s.push_str("# differences (expected = native):\n");
    for d in &f.diffs {
        s.push_str(&format!("#   {d}\n"));
    }
    let mode = match f.mode {
        Mode::Run => "run",
        _ => "translated",
    };
    s.push_str(&format!("mode {mode}\n"));
    if f.strict {
        s.push_str("strict 1\n");
    }
    if f.case.faults {
        s.push_str("faults 1\n");
    }
    for (r, name) in GPR_NAMES.iter().enumerate() {
        s.push_str(&format!("{name} {:08x}\n", f.case.init.gprs[r]));
    }
    s.push_str(&format!(
        "eflags {:08x}\nfx {}\nwin {}\n",
        f.case.init.eflags,
        hex(&f.fx),
        hex(&f.win)
    ));
    for it in &f.case.items {
        s.push_str(&format!("item {}\n", hex(&it.bytes())));
    }
    s
}

/// Saves `f` as `dir/NAME.txt`, NAME from its first subject's code.
pub fn save(dir: &Path, f: &Finding) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let first = f
        .case
        .items
        .last()
        .map(|i| format!("{:?}", i.insn.code()))
        .unwrap_or_default();
    let mode = if f.mode == Mode::Run {
        "run"
    } else {
        "translated"
    };
    let mut n = 0;
    loop {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let p = dir.join(format!("{}-{mode}{suffix}.txt", first.to_lowercase()));
        if !p.exists() {
            std::fs::write(&p, format(f)).map_err(|e| e.to_string())?;
            return Ok(p);
        }
        n += 1;
    }
}

pub fn parse(name: &str, text: &str) -> Result<Regression, String> {
    let mut init = Init {
        gprs: [0; 8],
        eflags: 0x202,
        fx: 0,
        pool_off: 0,
    };
    let (mut mode, mut fx, mut win, mut items) = (None, None, None, Vec::new());
    let (mut strict, mut faults) = (false, false);
    for (n, line) in text.lines().enumerate() {
        let line = line.split(['#', ';']).next().unwrap_or("").trim();
        let Some((key, val)) = line.split_once(' ') else {
            continue;
        };
        let err = |e: String| format!("{name}:{}: {e}", n + 1);
        let word = || u32::from_str_radix(val.trim(), 16).map_err(|e| err(e.to_string()));
        match key {
            "mode" => mode = Some(Mode::parse(val.trim()).ok_or_else(|| err("bad mode".into()))?),
            "eflags" => init.eflags = word()?,
            "strict" => strict = word()? != 0,
            "faults" => faults = word()? != 0,
            "fx" => fx = Some(unhex(val).map_err(err)?),
            "win" => win = Some(unhex(val).map_err(err)?),
            "item" => items.push(
                Item::from_bytes(&unhex(val).map_err(err)?)
                    .ok_or_else(|| err("bad item".into()))?,
            ),
            k => match GPR_NAMES.iter().position(|g| *g == k) {
                Some(r) => init.gprs[r] = word()?,
                None => return Err(err(format!("unknown key {k}"))),
            },
        }
    }
    let fx: [u8; 512] = fx
        .ok_or("no fx line")?
        .try_into()
        .map_err(|_| format!("{name}: fx must be 512 bytes"))?;
    let win = win.ok_or("no win line")?;
    if win.len() != WIN_SIZE as usize {
        return Err(format!("{name}: win must be {WIN_SIZE} bytes"));
    }
    Ok(Regression {
        name: name.to_string(),
        mode: mode.ok_or("no mode line")?,
        strict,
        case: Case {
            init,
            items,
            faults,
        },
        fx,
        win,
    })
}

/// Every regression in `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Regression>, String> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(v);
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "txt") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
            v.push(parse(&name, &text)?);
        }
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// Replays `reg`: Ok(()) if native and translated agree, else the
/// differences.
pub fn replay(r: &mut Runner, reg: &Regression) -> Result<(), Vec<String>> {
    let batch = Batch::fixed(vec![reg.case.clone()], reg.fx, &reg.win);
    let native = batch.run(r, Mode::Native, &[0]);
    match batch.check(r, reg.mode, &[0], &native, reg.strict).pop() {
        Some(Verdict::Same) => Ok(()),
        Some(Verdict::Differs(d)) => Err(d),
        Some(Verdict::NativeFailed(e)) => Err(vec![format!("native run failed: {e}")]),
        None => Err(vec!["no verdict".into()]),
    }
}

/// The parsed known-failures list.
#[derive(Default)]
pub struct Known {
    pub codes: BTreeSet<Code>,
    /// (mode, field prefix): differences only in such fields are known.
    pub fields: Vec<(Mode, String)>,
    pub regressions: BTreeSet<String>,
}

impl Known {
    /// Is any of the differing `fields` of a case in `mode` known? (Any,
    /// not all: a wrong register value spreads to what is computed from it.)
    pub fn fields_known(&self, mode: Mode, fields: &BTreeSet<String>) -> bool {
        fields.iter().any(|f| {
            self.fields
                .iter()
                .any(|(m, p)| *m == mode && f.starts_with(p.as_str()))
        })
    }
}

pub fn code_by_name() -> HashMap<String, Code> {
    Code::values().map(|c| (format!("{c:?}"), c)).collect()
}

pub fn load_known(path: &Path) -> Result<Known, String> {
    let mut k = Known::default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(k);
    };
    let names = code_by_name();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            [] => {}
            ["code", c] => {
                k.codes.insert(*names.get(c).ok_or(format!(
                    "{}:{}: unknown code {c}",
                    path.display(),
                    n + 1
                ))?);
            }
            ["field", m, p] => {
                let mode = Mode::parse(m).ok_or(format!(
                    "{}:{}: unknown mode {m}",
                    path.display(),
                    n + 1
                ))?;
                k.fields.push((mode, p.to_string()));
            }
            ["regression", r] => {
                k.regressions.insert(r.to_string());
            }
            _ => {
                return Err(format!(
                    "{}:{}: cannot parse `{line}`",
                    path.display(),
                    n + 1
                ))
            }
        }
    }
    Ok(k)
}
