//! The region map of guest space: which guest ranges are mapped, with
//! which guest protection, and where a new mapping fits.
//!
//! Invariant: regions never overlap, are page-aligned, lie in
//! [`Space::min`, 4 GiB), and adjacent regions of equal protection are
//! merged, so "covered" and "free" are simple walks.

use super::{page_up, Region, Space, GUEST_END, MMAP_TOP, PAGE, STACK_SIZE, STACK_TOP};

impl Space {
    /// The region containing `addr`.
    pub fn region_at(&self, addr: u32) -> Option<(u32, Region)> {
        let (&k, r) = self.regions.range(..=addr).next_back()?;
        (r.end > addr as u64).then_some((k, *r))
    }

    /// Is every byte of [start, end) inside some region?
    pub fn covered(&self, start: u32, end: u64) -> bool {
        let mut pos = start as u64;
        while pos < end {
            match self.region_at(pos as u32) {
                Some((_, r)) => pos = r.end,
                None => return false,
            }
        }
        true
    }

    /// Does no region overlap [start, end)?
    pub fn is_free(&self, start: u32, end: u64) -> bool {
        if self.region_at(start).is_some() {
            return false;
        }
        match self.regions.range(start..).next() {
            Some((&k, _)) => k as u64 >= end,
            None => true,
        }
    }

    /// Is [start, start+len) inside guest space and free? (mmap hints)
    pub fn fits(&self, start: u32, len: u32) -> bool {
        let end = start as u64 + len as u64;
        start.is_multiple_of(PAGE)
            && start >= self.min
            && end <= MMAP_TOP as u64
            && self.is_free(start, end)
    }

    /// See [`find_free`].
    pub fn find_free(&self, len: u32) -> Option<u32> {
        let len = page_up(len as u64);
        if len == 0 {
            return None;
        }
        let floor = (page_up(self.brk as u64) as u32).max(self.min);
        self.find_below(MMAP_TOP, floor, len)
            .or_else(|| self.find_below(MMAP_TOP, self.min, len))
            .or_else(|| self.find_below(STACK_TOP - STACK_SIZE, self.min, len))
    }

    fn find_below(&self, top: u32, floor: u32, len: u64) -> Option<u32> {
        let mut top = top as u64;
        for (&k, r) in self.regions.range(..top as u32).rev() {
            let lo = r.end.max(floor as u64);
            if top >= lo + len {
                return Some((top - len) as u32);
            }
            top = top.min(k as u64);
            if top <= floor as u64 {
                return None;
            }
        }
        (top >= floor as u64 + len).then(|| (top - len) as u32)
    }

    /// Record [start, end) with `prot`, replacing what was there.
    pub fn record(&mut self, start: u32, end: u64, prot: i32) {
        self.forget(start, end);
        let (mut start, mut end) = (start, end);
        if let Some((k, r)) = start.checked_sub(1).and_then(|p| self.region_at(p)) {
            if r.end == start as u64 && r.prot == prot {
                self.regions.remove(&k);
                start = k;
            }
        }
        if end < GUEST_END {
            if let Some(r) = self.regions.get(&(end as u32)).copied() {
                if r.prot == prot {
                    self.regions.remove(&(end as u32));
                    end = r.end;
                }
            }
        }
        self.regions.insert(start, Region { end, prot });
    }

    /// Drop [start, end) from the region map, splitting regions at the edges.
    pub fn forget(&mut self, start: u32, end: u64) {
        let mut hit: Vec<(u32, Region)> = Vec::new();
        if let Some((k, r)) = self.region_at(start).filter(|&(k, _)| k < start) {
            hit.push((k, r));
        }
        let rest = self
            .regions
            .range(start..)
            .take_while(|(&k, _)| (k as u64) < end);
        hit.extend(rest.map(|(&k, r)| (k, *r)));
        for (k, r) in hit {
            self.regions.remove(&k);
            if k < start {
                self.regions.insert(
                    k,
                    Region {
                        end: start as u64,
                        prot: r.prot,
                    },
                );
            }
            if r.end > end {
                self.regions.insert(
                    end as u32,
                    Region {
                        end: r.end,
                        prot: r.prot,
                    },
                );
            }
        }
    }
}
