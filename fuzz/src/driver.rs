//! The fuzzing loop: batch after batch of random cases (program p of seed s
//! draws from `Rng::new(s ^ p * K)`, so any batch can be regenerated alone),
//! each run natively and in every requested mode and compared; a differing
//! case is shrunk, printed, optionally saved as a regression, and its
//! subject codes are recorded as failing. Cases that contain a code listed
//! in the known failures are counted, not reported.

use crate::batch::{Batch, Verdict};
use crate::exec::{Mode, Runner};
use crate::gen::{Case, Generator};
use crate::regress::{self, Known};
use crate::rng::Rng;
use crate::shrink::{listing, shrink};
use iced_x86::Code;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Config {
    pub seed: u64,
    /// Subject instructions to run (set-up instructions not counted).
    pub instructions: u64,
    pub case_len: usize,
    pub per_program: usize,
    pub modes: Vec<Mode>,
    pub shrink: bool,
    /// Write each finding as a regression file into this directory.
    pub save: Option<PathBuf>,
    /// Known failures (cases containing such a code, or differing only in
    /// such fields, are tolerated).
    pub known: Known,
    pub codes: Vec<Code>,
    /// Codes faulting cases end with (empty: no faulting cases).
    pub faults: Vec<Code>,
    pub verbose: bool,
    /// Compare memory below esp too (see `compare`).
    pub strict_stack: bool,
    /// Findings to shrink and report at most; later differences are counted.
    pub max_findings: usize,
}

impl Config {
    /// The defaults of the command line and of the fixed-seed test: every
    /// generated code except the known failures, both translated modes.
    pub fn new(seed: u64, instructions: u64, known: Known) -> Config {
        let codes = crate::table::generated()
            .into_iter()
            .filter(|c| !known.codes.contains(c))
            .collect();
        let faults = crate::table::faulting()
            .into_iter()
            .filter(|c| !known.codes.contains(c))
            .collect();
        Config {
            faults,
            seed,
            instructions,
            case_len: 8,
            per_program: 2000,
            modes: vec![Mode::Translated, Mode::Run],
            shrink: true,
            save: None,
            known,
            codes,
            verbose: false,
            strict_stack: false,
            max_findings: 30,
        }
    }
}

/// One difference found, shrunk.
pub struct Finding {
    pub mode: Mode,
    pub origin: String,
    pub case: Case,
    pub diffs: Vec<String>,
    pub fx: [u8; 512],
    pub win: Vec<u8>,
    /// False if the case did not differ when run alone (then `case` is the
    /// unshrunk case and `diffs` what the batch run saw).
    pub alone: bool,
    pub strict: bool,
}

impl Finding {
    pub fn subjects(&self) -> BTreeSet<Code> {
        self.case.items.iter().map(|i| i.insn.code()).collect()
    }

    /// The state fields that differed (register names, `memory`, `died`).
    pub fn fields(&self) -> BTreeSet<String> {
        fields_of(&self.diffs)
    }

    pub fn report(&self) -> String {
        format!(
            "MISMATCH [{}] {}\n  {} ({} items):\n{}  differences (expected = native):\n{}",
            self.mode.name(),
            self.origin,
            if self.alone {
                "minimal sequence"
            } else {
                "sequence (did NOT differ when run alone)"
            },
            self.case.items.len(),
            listing(&self.case.items),
            self.diffs
                .iter()
                .map(|d| format!("    {d}\n"))
                .collect::<String>()
        )
    }
}

#[derive(Default)]
pub struct Summary {
    pub programs: u64,
    pub cases: u64,
    pub subjects: u64,
    pub instructions: u64,
    /// Subject executions per code, in cases that matched in every mode.
    pub executed: BTreeMap<Code, u64>,
    pub findings: Vec<Finding>,
    /// Differing cases not shrunk: a known code, or a code already found.
    pub known_hits: u64,
    pub duplicate_hits: u64,
    pub native_failures: Vec<String>,
    /// Differences that vanished when the case ran alone, in a mode with a
    /// known context-dependent bug (not counted as findings).
    pub unreproduced: Vec<String>,
    pub elapsed: Duration,
}

impl Summary {
    pub fn failing_codes(&self) -> BTreeSet<Code> {
        self.findings.iter().flat_map(|f| f.subjects()).collect()
    }

    pub fn line(&self) -> String {
        let s = self.elapsed.as_secs_f64().max(1e-9);
        format!(
            "{} programs, {} cases, {} subject instructions ({} with set-up), {:.0} subject instr/s, {} findings, {} known, {} duplicates, {} unreproduced, {} native failures, {:.1}s",
            self.programs,
            self.cases,
            self.subjects,
            self.instructions,
            self.subjects as f64 / s,
            self.findings.len(),
            self.known_hits,
            self.duplicate_hits,
            self.unreproduced.len(),
            self.native_failures.len(),
            s
        )
    }
}

/// The state fields named by difference lines.
pub fn fields_of(diffs: &[String]) -> BTreeSet<String> {
    diffs
        .iter()
        .map(|d| {
            let f = d.split(':').next().unwrap_or("");
            f.split_whitespace().next().unwrap_or("").to_string()
        })
        .collect()
}

pub fn batch_seed(seed: u64, program: u64) -> u64 {
    seed ^ program.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

pub fn fuzz(cfg: &Config, r: &mut Runner) -> Summary {
    let start = Instant::now();
    let mut gen = Generator::new(cfg.codes.clone());
    gen.faults = cfg.faults.clone();
    let mut sum = Summary::default();
    let mut found: BTreeSet<Code> = BTreeSet::new();
    let mut seen_fields: BTreeSet<(Mode, String)> = BTreeSet::new();
    let mut p = 0u64;
    while sum.subjects < cfg.instructions {
        let mut rng = Rng::new(batch_seed(cfg.seed, p));
        let left = (cfg.instructions - sum.subjects) as usize;
        let n = cfg.per_program.min(left.div_ceil(cfg.case_len).max(1));
        // Program p continues the fault codes where p - 1 left off, from
        // p alone (so a batch regenerates the same).
        gen.next_fault = p as usize * cfg.per_program / gen.fault_every as usize;
        let batch = Batch::random(&mut rng, &mut gen, n, cfg.case_len);
        if batch.cases.iter().all(|c| c.items.is_empty()) {
            eprintln!("rehost-fuzz: the generator produced no instructions");
            break;
        }
        let idx: Vec<usize> = (0..n).collect();
        let native = batch.run(r, Mode::Native, &idx);
        let mut bad = vec![false; n];
        for &mode in &cfg.modes {
            for (k, v) in batch
                .check(r, mode, &idx, &native, cfg.strict_stack)
                .into_iter()
                .enumerate()
            {
                let case = &batch.cases[k];
                let origin = format!("seed {} program {p} case {k}", cfg.seed);
                match v {
                    Verdict::Same => {}
                    Verdict::NativeFailed(e) => {
                        if !bad[k] && mode == cfg.modes[0] {
                            sum.native_failures.push(format!("{origin}: {e}"));
                            if cfg.verbose {
                                eprintln!(
                                    "native run failed ({origin}): {e}\n{}",
                                    listing(&case.items)
                                );
                            }
                        }
                        bad[k] = true;
                    }
                    Verdict::Differs(d) => {
                        bad[k] = true;
                        let codes: BTreeSet<Code> =
                            case.items.iter().map(|i| i.insn.code()).collect();
                        if codes.iter().any(|c| cfg.known.codes.contains(c))
                            || cfg.known.fields_known(mode, &fields_of(&d))
                        {
                            sum.known_hits += 1;
                            continue;
                        }
                        if codes.iter().any(|c| found.contains(c)) {
                            sum.duplicate_hits += 1;
                            continue;
                        }
                        if sum.findings.len() >= cfg.max_findings {
                            sum.duplicate_hits += 1;
                            continue;
                        }
                        let fx = batch.fx[case.init.fx as usize];
                        let win = batch.window(case).to_vec();
                        let strict = cfg.strict_stack;
                        let shrunk = if cfg.shrink {
                            shrink(r, fx, &win, case, mode, strict)
                        } else {
                            None
                        };
                        let alone = shrunk.is_some() || !cfg.shrink;
                        let (case, diffs) = shrunk.unwrap_or((case.clone(), d));
                        let f = Finding {
                            mode,
                            origin,
                            case,
                            diffs,
                            fx,
                            win,
                            alone,
                            strict,
                        };
                        let fields = f.fields();
                        if alone
                            && (f.subjects().iter().any(|c| cfg.known.codes.contains(c))
                                || cfg.known.fields_known(mode, &fields))
                        {
                            sum.known_hits += 1;
                            continue;
                        }
                        // A known context-dependent bug (a `field` rule for
                        // this mode) explains differences that vanish alone.
                        if !alone && cfg.known.fields.iter().any(|(m, _)| *m == mode) {
                            sum.unreproduced
                                .push(format!("[{}] {}", mode.name(), f.origin));
                            continue;
                        }
                        if !alone
                            && fields
                                .iter()
                                .all(|x| seen_fields.contains(&(mode, x.clone())))
                        {
                            sum.duplicate_hits += 1;
                            continue;
                        }
                        seen_fields.extend(fields.into_iter().map(|x| (mode, x)));
                        eprintln!("{}", f.report());
                        if let Some(dir) = &cfg.save {
                            match regress::save(dir, &f) {
                                Ok(path) => eprintln!("  saved as {}", path.display()),
                                Err(e) => eprintln!("  could not save: {e}"),
                            }
                        }
                        if alone {
                            found.extend(f.subjects());
                        }
                        sum.findings.push(f);
                    }
                }
            }
        }
        for (k, case) in batch.cases.iter().enumerate() {
            sum.cases += 1;
            sum.subjects += case.items.len() as u64;
            sum.instructions += case.instruction_count() as u64;
            if !bad[k] {
                for it in &case.items {
                    *sum.executed.entry(it.insn.code()).or_default() += 1;
                }
            }
        }
        sum.programs += 1;
        p += 1;
        sum.elapsed = start.elapsed();
        if cfg.verbose {
            eprintln!("{}", sum.line());
        }
    }
    sum.elapsed = start.elapsed();
    sum
}
