//! A batch is the cases of one guest program with what they share (fxsave
//! images and the pool), and the per-case outcome of running any subset of
//! them in one mode: a crash in case k costs only case k, because the same
//! program is started again at case k+1 (so every case runs at the same
//! address in every mode); a program `rehost translate` rejects fails all
//! its cases, and the shrinker then runs each alone.

use crate::compare::{diff, Mask};
use crate::exec::{Mode, Runner};
use crate::gen::{simulate, Case, Generator};
use crate::layout::*;
use crate::program::{elf, Program, Spec};
use crate::rng::Rng;
use crate::state::{fx_image, pool, Record};
use iced_x86::InstructionInfoFactory;

pub struct Batch {
    pub fx: Vec<[u8; 512]>,
    pub pool: Vec<u8>,
    pub cases: Vec<Case>,
    pub avx: bool,
}

/// How one case ended in one mode.
#[derive(Clone, Debug)]
pub enum Outcome {
    Done(Box<Record>),
    /// The program died in this case (signal, timeout, translation error).
    Died(String),
}

/// How one case compared in one mode.
#[derive(Clone, Debug)]
pub enum Verdict {
    Same,
    /// The native run itself failed: a generator bug, not a rehost one.
    NativeFailed(String),
    Differs(Vec<String>),
}

/// "killed by signal N" of a death description (without stderr).
fn signal(e: &str) -> &str {
    e.split(':').next().unwrap_or(e)
}

impl Batch {
    pub fn random(rng: &mut Rng, gen: &mut Generator, cases: usize, len: usize) -> Batch {
        let fx = (0..FX_COUNT).map(|_| fx_image(rng)).collect();
        let pool = pool(rng);
        let cases = (0..cases).map(|_| gen.case(rng, len)).collect();
        Batch {
            fx,
            pool,
            cases,
            avx: std::arch::is_x86_feature_detected!("avx"),
        }
    }

    /// A batch of given cases with a given window and fxsave image (every
    /// case starts from them): regressions and shrinking use this.
    pub fn fixed(cases: Vec<Case>, fx: [u8; 512], win: &[u8]) -> Batch {
        let mut pool = vec![0u8; POOL_SIZE as usize];
        pool[..win.len()].copy_from_slice(win);
        let cases = cases
            .into_iter()
            .map(|mut c| {
                c.init.fx = 0;
                c.init.pool_off = 0;
                c
            })
            .collect();
        Batch {
            fx: vec![fx; FX_COUNT as usize],
            pool,
            cases,
            avx: std::arch::is_x86_feature_detected!("avx"),
        }
    }

    /// The window a case starts with.
    pub fn window(&self, c: &Case) -> &[u8] {
        let o = c.init.pool_off as usize;
        &self.pool[o..o + WIN_SIZE as usize]
    }

    fn image(&self, idx: &[usize]) -> Vec<u8> {
        let specs: Vec<Spec> = idx
            .iter()
            .map(|&k| Spec {
                init: self.cases[k].init.clone(),
                code: self.cases[k].bytes(),
            })
            .collect();
        elf(&Program {
            cases: &specs,
            fx: &self.fx,
            pool: &self.pool,
            avx: self.avx,
        })
    }

    /// Runs the cases `idx` in `mode`; one outcome per case, in order. After
    /// a crash the same program (translated once) is started again at the
    /// next case, so every case runs at the same address in every mode.
    pub fn run(&self, r: &mut Runner, mode: Mode, idx: &[usize]) -> Vec<Outcome> {
        let mut out = Vec::with_capacity(idx.len());
        let image = self.image(idx);
        while out.len() < idx.len() {
            let first = out.len();
            let o = match r.run(mode, &image, first as u32) {
                Ok(o) => o,
                Err(e) => {
                    // The program did not start (translation failed): every
                    // case left fails. Not split into smaller programs here:
                    // they would run at other addresses than the native run
                    // they are compared with; the shrinker runs a failing
                    // case alone, natively too.
                    out.extend((first..idx.len()).map(|_| Outcome::Died(e.clone())));
                    break;
                }
            };
            let n = o.records.len().min(idx.len() - first);
            for (k, rec) in o.records.into_iter().take(n).enumerate() {
                if rec.case as usize != first + k {
                    out.push(Outcome::Died(format!("record {k} says case {}", rec.case)));
                } else {
                    out.push(Outcome::Done(Box::new(rec)));
                }
            }
            if out.len() == idx.len() {
                break;
            }
            let why = o
                .failure
                .unwrap_or_else(|| "exited before the case ended".into());
            let err = o.stderr.lines().take(3).collect::<Vec<_>>().join(" | ");
            out.push(Outcome::Died(if err.is_empty() {
                why
            } else {
                format!("{why}: {err}")
            }));
        }
        out
    }

    /// Runs `idx` natively and in `mode` and compares them case by case.
    pub fn check(
        &self,
        r: &mut Runner,
        mode: Mode,
        idx: &[usize],
        native: &[Outcome],
        strict: bool,
    ) -> Vec<Verdict> {
        let got = self.run(r, mode, idx);
        let mut f = InstructionInfoFactory::new();
        idx.iter()
            .zip(native.iter().zip(got))
            .map(|(&k, (n, g))| {
                let c = &self.cases[k];
                let mask = match simulate(&mut f, &c.init, c.checked_items()) {
                    Ok(s) => Mask {
                        undef: s.undef,
                        skip: if strict { vec![] } else { s.scratch },
                        regs: s.unknown,
                    },
                    Err(_) => Mask {
                        undef: !0,
                        skip: vec![(WIN, WIN + WIN_SIZE)],
                        regs: !0,
                    },
                };
                match (n, g) {
                    (Outcome::Died(e), Outcome::Died(g)) if c.faults => {
                        if signal(e) == signal(&g) {
                            Verdict::Same
                        } else {
                            Verdict::Differs(vec![format!("died: expected {}, got {g}", signal(e))])
                        }
                    }
                    (Outcome::Died(e), Outcome::Done(_)) if c.faults => {
                        Verdict::Differs(vec![format!(
                            "died: expected {}, but the case completed",
                            signal(e)
                        )])
                    }
                    (Outcome::Done(_), _) if c.faults => {
                        Verdict::NativeFailed("the faulting case completed".into())
                    }
                    (Outcome::Died(e), _) => Verdict::NativeFailed(e.clone()),
                    (Outcome::Done(_), Outcome::Died(e)) => {
                        Verdict::Differs(vec![format!("died: {e}")])
                    }
                    (Outcome::Done(w), Outcome::Done(g)) => {
                        let d = diff(w, &g, &mask);
                        if d.is_empty() {
                            Verdict::Same
                        } else {
                            Verdict::Differs(d)
                        }
                    }
                }
            })
            .collect()
    }
}
