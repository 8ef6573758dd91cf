//! `--probe`: runs a few single-item cases of every generated code natively
//! only, and lists the codes whose native runs fail. Such a code is a
//! generator bug or a CPU that lacks it; either way it must be excluded in
//! `table` before the fuzzer can rely on it.

use crate::batch::{Batch, Outcome};
use crate::exec::{Mode, Runner};
use crate::gen::{build_item, Case};
use crate::rng::Rng;
use crate::sim::Sim;
use crate::state::Init;
use iced_x86::{Code, InstructionInfoFactory};

/// Codes of `codes` whose native runs failed, with the first failure.
pub fn probe(r: &mut Runner, codes: &[Code], per_code: usize, seed: u64) -> Vec<(Code, String)> {
    let mut rng = Rng::new(seed);
    let mut f = InstructionInfoFactory::new();
    let mut cases = Vec::new();
    let mut owner = Vec::new();
    for &code in codes {
        for _ in 0..per_code {
            let init = Init::random(&mut rng);
            let sim = Sim::new(&init);
            let Some(item) = build_item(&mut rng, code, &sim) else {
                continue;
            };
            if sim.clone().item(&mut f, &item).is_ok() {
                cases.push(Case {
                    init,
                    items: vec![item],
                    faults: false,
                });
                owner.push(code);
            }
        }
    }
    let mut batch = Batch::random(&mut rng, &mut crate::gen::Generator::new(vec![]), 0, 0);
    batch.cases = cases;
    let idx: Vec<usize> = (0..batch.cases.len()).collect();
    let mut bad: Vec<(Code, String)> = Vec::new();
    for (k, o) in batch.run(r, Mode::Native, &idx).into_iter().enumerate() {
        if let Outcome::Died(e) = o {
            if bad.last().map(|b| b.0) != Some(owner[k]) {
                let text = crate::shrink::listing(&batch.cases[k].items);
                bad.push((owner[k], format!("{e}\n{text}")));
            }
        }
    }
    bad
}
