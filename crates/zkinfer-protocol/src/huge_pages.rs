//! An allocator for binaries that prove: the system allocator for small
//! buffers; large ones (codewords, stacked tables, sumcheck tables, Merkle
//! layers: hundreds of MB for large models) mapped by us on transparent huge
//! pages and, once freed, kept mapped for the next large request.
//!
//! - **Huge pages.** Linux backs memory with huge pages only where asked
//!   (`madvise` mode); with 4 KiB pages, first-touching such buffers and
//!   walking them costs page faults and TLB misses (measured: 18.4M-param MLP
//!   prove 2.0 s → 1.4 s).
//! - **Reuse.** Every fresh page is zeroed by the kernel at first touch, and
//!   on a virtual machine whose host reclaims the guest's free memory, that
//!   first touch costs a host fault as well: 4 GB took 16 s here where
//!   rewriting it took 0.2 s. The prover frees and re-allocates buffers of
//!   similar sizes phase after phase, so freed large blocks are kept, split
//!   and gathered (`mremap`: pages move, nothing is copied) for the next
//!   requests. A request takes every kept byte it can before new pages, so
//!   the pool is empty whenever memory grows; what it costs at the peak is
//!   the rounding of each live block to whole huge pages (GPT-2: +0.2 GB).
//!
//! A library does not choose the allocator; a binary opts in with
//! `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};

/// [`System`] below [`THRESHOLD`]; at and above it, huge-page mappings kept for reuse.
pub struct HugePageAlloc;

/// Allocations at least this large are ours.
const THRESHOLD: usize = 4 << 20;

// SAFETY: small requests are forwarded to `System` unchanged; large ones are
// whole anonymous mappings of at least the requested size, page-aligned
// (hence aligned for any `align ≤ PAGE`, the only ones taken), released or
// cached only when the caller deallocates them.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if large::ours(layout) {
            large::alloc(layout.size(), false)
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if large::ours(layout) {
            large::alloc(layout.size(), true)
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if large::ours(layout) {
            large::free(ptr, layout.size());
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for `new_size` with `layout`'s alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (large::ours(layout), large::ours(new_layout)) {
            (true, true) => large::resize(ptr, layout.size(), new_size),
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                let q = unsafe { self.alloc(new_layout) };
                if !q.is_null() {
                    // SAFETY: both blocks are live and at least this long.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                q
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod large {
    use std::alloc::Layout;
    use std::sync::Mutex;

    use super::THRESHOLD;

    const PAGE: usize = 4096;
    /// Every block is a whole number of huge pages on a huge-page boundary, so
    /// any piece of one can move (`mremap`) without splitting a huge page.
    const HUGE_PAGE: usize = 2 << 20;
    /// Freed memory kept, at most this many bytes (a long-running server
    /// returns the rest of a large proof's memory).
    const POOL_BYTES: usize = 8 << 30;
    const POOL_SLOTS: usize = 256;

    /// Freed pieces `(address, length)`, sorted by address, neighbours merged.
    struct Pool {
        blocks: [(usize, usize); POOL_SLOTS],
        len: usize,
        bytes: usize,
    }

    impl Pool {
        fn remove(&mut self, i: usize) -> (usize, usize) {
            let b = self.blocks[i];
            self.blocks.copy_within(i + 1..self.len, i);
            self.len -= 1;
            self.bytes -= b.1;
            b
        }

        /// Adds a piece; returns one to unmap if the pool is full.
        fn insert(&mut self, addr: usize, len: usize) -> Option<(usize, usize)> {
            let i = self.blocks[..self.len].partition_point(|b| b.0 < addr);
            let joins_prev = i > 0 && {
                let p = self.blocks[i - 1];
                p.0 + p.1 == addr
            };
            let joins_next = i < self.len && addr + len == self.blocks[i].0;
            self.bytes += len;
            match (joins_prev, joins_next) {
                (true, true) => {
                    let next = self.blocks[i].1;
                    self.blocks[i - 1].1 += len + next;
                    self.blocks.copy_within(i + 1..self.len, i);
                    self.len -= 1;
                }
                (true, false) => self.blocks[i - 1].1 += len,
                (false, true) => self.blocks[i] = (addr, len + self.blocks[i].1),
                (false, false) => {
                    if self.len == POOL_SLOTS {
                        self.bytes -= len;
                        return Some((addr, len));
                    }
                    self.blocks.copy_within(i..self.len, i + 1);
                    self.blocks[i] = (addr, len);
                    self.len += 1;
                }
            }
            None
        }
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool {
        blocks: [(0, 0); POOL_SLOTS],
        len: 0,
        bytes: 0,
    });

    fn pool() -> std::sync::MutexGuard<'static, Pool> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        POOL.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn ours(layout: Layout) -> bool {
        layout.size() >= THRESHOLD && layout.align() <= PAGE
    }

    fn block_len(size: usize) -> usize {
        size.next_multiple_of(HUGE_PAGE)
    }

    fn unmap(addr: usize, len: usize) {
        if len > 0 {
            // SAFETY: `[addr, addr + len)` is memory of ours that no live allocation uses.
            unsafe { libc::munmap(addr as *mut libc::c_void, len) };
        }
    }

    /// A new mapping of `len` bytes (a multiple of [`HUGE_PAGE`]) on a
    /// huge-page boundary, advised onto huge pages; nothing is touched yet.
    fn fresh(len: usize) -> Option<usize> {
        let span = len.checked_add(HUGE_PAGE)?;
        // SAFETY: an anonymous private mapping at an address of the kernel's choice.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                span,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return None;
        }
        let raw = raw as usize;
        let start = raw.next_multiple_of(HUGE_PAGE);
        unmap(raw, start - raw);
        unmap(start + len, raw + span - (start + len));
        // SAFETY: MADV_HUGEPAGE changes how the kernel backs our mapping, never its contents.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
        Some(start)
    }

    /// Moves the pages of `[from, from + len)` to `to`, replacing what is
    /// mapped there: page tables move, nothing is copied or zeroed. A freed
    /// block may span several mappings (pieces moved together earlier), which
    /// one `mremap` refuses; huge page by huge page always works, short of the
    /// kernel's mapping limit — then, half moved, the process cannot go on.
    fn move_pages(from: usize, len: usize, to: usize) {
        let mv = |f: usize, l: usize, t: usize| {
            // SAFETY: both ranges are ours and unused by live allocations;
            // MREMAP_FIXED replaces the untouched pages at the destination.
            let r = unsafe {
                libc::mremap(
                    f as *mut libc::c_void,
                    l,
                    l,
                    libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                    t as *mut libc::c_void,
                )
            };
            r != libc::MAP_FAILED
        };
        let moved = mv(from, len, to)
            || (0..len)
                .step_by(HUGE_PAGE)
                .all(|o| mv(from + o, HUGE_PAGE, to + o));
        if !moved {
            std::process::abort();
        }
    }

    /// A block of `len` bytes and how many of its leading bytes were used
    /// before (the rest is untouched, hence zero): the smallest freed piece
    /// that covers it, else a new range filled with every freed piece, moved.
    fn take(len: usize) -> Option<(usize, usize)> {
        let mut p = pool();
        let covering = (0..p.len)
            .filter(|&i| p.blocks[i].1 >= len)
            .min_by_key(|&i| p.blocks[i].1);
        if let Some(i) = covering {
            let (addr, have) = p.remove(i);
            let spill = (have > len)
                .then(|| p.insert(addr + len, have - len))
                .flatten();
            drop(p);
            if let Some((a, l)) = spill {
                unmap(a, l);
            }
            return Some((addr, len));
        }
        // Not covered: gather the largest pieces first (fewest moves).
        let mut pieces = [(0usize, 0usize); POOL_SLOTS];
        let mut n = 0;
        let mut got = 0;
        while got < len && p.len > 0 {
            let largest = (0..p.len).max_by_key(|&i| p.blocks[i].1).unwrap_or(0);
            pieces[n] = p.remove(largest);
            got += pieces[n].1;
            n += 1;
        }
        drop(p);
        let Some(dest) = fresh(len) else {
            for &(addr, l) in &pieces[..n] {
                unmap(addr, l);
            }
            return None;
        };
        let mut used = 0;
        for &(addr, l) in &pieces[..n] {
            // The last piece may be longer than what is left: its rest stays freed.
            let part = l.min(len - used);
            move_pages(addr, part, dest + used);
            if part < l {
                give_back(addr + part, l - part);
            }
            used += part;
        }
        Some((dest, used))
    }

    pub(super) fn alloc(size: usize, zeroed: bool) -> *mut u8 {
        match take(block_len(size)) {
            Some((addr, used)) => {
                if zeroed {
                    // SAFETY: `[addr, addr + used.min(size))` lies in the block.
                    unsafe { std::ptr::write_bytes(addr as *mut u8, 0, used.min(size)) };
                }
                addr as *mut u8
            }
            None => std::ptr::null_mut(),
        }
    }

    pub(super) fn free(ptr: *mut u8, size: usize) {
        give_back(ptr as usize, block_len(size));
    }

    fn give_back(addr: usize, len: usize) {
        let mut evicted = [(0usize, 0usize); 2];
        let mut n = 0;
        {
            let mut p = pool();
            if let Some(b) = p.insert(addr, len) {
                evicted[n] = b;
                n += 1;
            }
            if p.bytes > POOL_BYTES {
                // Return the lowest piece, which may be the one just freed.
                evicted[n] = p.remove(0);
                n += 1;
            }
        }
        for &(a, l) in &evicted[..n] {
            unmap(a, l);
        }
    }

    pub(super) fn resize(ptr: *mut u8, size: usize, new_size: usize) -> *mut u8 {
        let (old, len) = (block_len(size), block_len(new_size));
        if len <= old {
            if len < old {
                give_back(ptr as usize + len, old - len);
            }
            return ptr;
        }
        // Contents move with their pages; the tail is new, untouched memory.
        let Some(dest) = fresh(len) else {
            return std::ptr::null_mut();
        };
        move_pages(ptr as usize, old, dest);
        dest as *mut u8
    }
}

/// Elsewhere, large blocks are the system allocator's too.
#[cfg(not(target_os = "linux"))]
mod large {
    use std::alloc::{GlobalAlloc, Layout, System};

    pub(super) fn ours(_layout: Layout) -> bool {
        false
    }
    pub(super) fn alloc(_size: usize, _zeroed: bool) -> *mut u8 {
        unreachable!("no large path off Linux")
    }
    pub(super) fn free(_ptr: *mut u8, _size: usize) {
        unreachable!("no large path off Linux")
    }
    pub(super) fn resize(_ptr: *mut u8, _size: usize, _new_size: usize) -> *mut u8 {
        unreachable!("no large path off Linux")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live blocks keep their bytes through every other block's life (freed
    /// pieces split, merged and moved), zeroed blocks read zero, and a
    /// resized block keeps its prefix.
    #[test]
    fn blocks_keep_their_contents_and_zeroed_ones_read_zero() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut live: Vec<(*mut u8, usize, u8)> = Vec::new();
        let check = |p: *mut u8, n: usize, tag: u8| {
            // SAFETY: `p` is a live block of `n` bytes.
            let s = unsafe { std::slice::from_raw_parts(p, n) };
            // Spot checks: first, last and a stride through the block.
            assert!((0..n).step_by(4093).chain([n - 1]).all(|i| s[i] == tag));
        };
        for step in 0..300u32 {
            let size = THRESHOLD + next(6 * THRESHOLD);
            let tag = (step % 250) as u8 + 1;
            match next(4) {
                0 | 1 if live.len() < 12 => {
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    let zeroed = next(2) == 0;
                    // SAFETY: a valid layout; the block is filled within its size.
                    let p = unsafe {
                        if zeroed {
                            HugePageAlloc.alloc_zeroed(layout)
                        } else {
                            HugePageAlloc.alloc(layout)
                        }
                    };
                    assert!(!p.is_null());
                    if zeroed {
                        check(p, size, 0);
                    }
                    unsafe { std::ptr::write_bytes(p, tag, size) };
                    live.push((p, size, tag));
                }
                2 if !live.is_empty() => {
                    let (p, n, t) = live.swap_remove(next(live.len()));
                    let new = if next(2) == 0 { n / 3 + 1 } else { n + size };
                    check(p, n, t);
                    // SAFETY: `p` is live with this layout; `new` is non-zero.
                    let q = unsafe {
                        HugePageAlloc.realloc(p, Layout::from_size_align(n, 8).unwrap(), new)
                    };
                    assert!(!q.is_null());
                    check(q, n.min(new), t);
                    unsafe { std::ptr::write_bytes(q, tag, new) };
                    live.push((q, new, tag));
                }
                _ if !live.is_empty() => {
                    let (p, n, t) = live.swap_remove(next(live.len()));
                    check(p, n, t);
                    // SAFETY: `p` is live with this layout, freed once.
                    unsafe { HugePageAlloc.dealloc(p, Layout::from_size_align(n, 8).unwrap()) };
                }
                _ => {}
            }
        }
        for (p, n, t) in live {
            check(p, n, t);
            unsafe { HugePageAlloc.dealloc(p, Layout::from_size_align(n, 8).unwrap()) };
        }
    }

    /// A request no freed piece covers is filled with the freed pieces, moved
    /// (their old bytes overwritten when zeroed memory is asked for).
    #[test]
    fn freed_pieces_gathered_into_a_larger_block_read_zero() {
        let small = Layout::from_size_align(THRESHOLD, 8).unwrap();
        let big = Layout::from_size_align(5 * THRESHOLD + 123, 8).unwrap();
        // SAFETY: blocks used within their layouts, each freed once.
        unsafe {
            let ps: Vec<*mut u8> = (0..3).map(|_| HugePageAlloc.alloc(small)).collect();
            for &p in &ps {
                std::ptr::write_bytes(p, 0xEE, THRESHOLD);
            }
            // Free the first and the last: two separate pieces.
            HugePageAlloc.dealloc(ps[0], small);
            HugePageAlloc.dealloc(ps[2], small);
            let q = HugePageAlloc.alloc_zeroed(big);
            assert!(std::slice::from_raw_parts(q, big.size())
                .iter()
                .all(|&b| b == 0));
            assert!(std::slice::from_raw_parts(ps[1], THRESHOLD)
                .iter()
                .all(|&b| b == 0xEE));
            HugePageAlloc.dealloc(q, big);
            HugePageAlloc.dealloc(ps[1], small);
        }
    }
}
