//! A small deterministic mutation fuzzer for the file decoders, run as ordinary
//! `cargo test` targets on stable Rust (no cargo-fuzz, no nightly).
//!
//! Every target starts from valid encodings and feeds the decoder mutated
//! copies: every truncation (sampled for long files), bit flips, byte edits,
//! insertions, deletions, splices, length fields set to huge values, numbers
//! replaced by extreme ones. A case passes if the decoder returns (Ok or Err)
//! without panicking, within the time limit, and without any single
//! allocation larger than the input justifies (a counting global allocator).
//! A failure saves the input as a reproducer and names the case, which
//! `ZKINFER_FUZZ_CASE=<n>` replays alone.
//!
//! Budget: `default_iters` per target in CI; `ZKINFER_FUZZ_ITERS=<n>` or
//! `ZKINFER_FUZZ_SECONDS=<s>` run longer (see docs/fuzzing.md).
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Allocation check.

/// Counts nothing but the largest single request while a case is decoded.
struct CountingAlloc;

static ARMED: AtomicBool = AtomicBool::new(false);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static LARGEST: AtomicUsize = AtomicUsize::new(0);
static CASE: AtomicU64 = AtomicU64::new(0);
/// Requests above this fail outright (the process aborts naming the case)
/// instead of swapping the machine to death.
const HARD_CAP: usize = 4 << 30;

impl CountingAlloc {
    fn check(size: usize) -> bool {
        if ARMED.load(Relaxed) && size > LIMIT.load(Relaxed) {
            LARGEST.fetch_max(size, Relaxed);
            if size > HARD_CAP {
                let mut buf = [0u8; 128];
                let msg = fmt_no_alloc(&mut buf, CASE.load(Relaxed), size);
                let _ = std::io::Write::write_all(&mut std::io::stderr(), msg);
                return false;
            }
        }
        true
    }
}

/// "fuzz case N: single allocation of S bytes refused", formatted without
/// allocating (this runs inside the allocator).
fn fmt_no_alloc(buf: &mut [u8; 128], case: u64, size: usize) -> &[u8] {
    fn put(buf: &mut [u8; 128], n: &mut usize, s: &[u8]) {
        buf[*n..*n + s.len()].copy_from_slice(s);
        *n += s.len();
    }
    fn number(buf: &mut [u8; 128], n: &mut usize, mut v: u64) {
        let (mut d, mut i) = ([0u8; 20], 20);
        loop {
            i -= 1;
            d[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        put(buf, n, &d[i..]);
    }
    let mut n = 0;
    put(buf, &mut n, b"\nfuzz case ");
    number(buf, &mut n, case);
    put(buf, &mut n, b": single allocation of ");
    number(buf, &mut n, size as u64);
    put(buf, &mut n, b" bytes refused\n");
    &buf[..n]
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if !Self::check(l.size()) {
            return std::ptr::null_mut();
        }
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if !Self::check(l.size()) {
            return std::ptr::null_mut();
        }
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if !Self::check(new) {
            return std::ptr::null_mut();
        }
        System.realloc(p, l, new)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

// ---------------------------------------------------------------------------
// Randomness and mutations.

/// SplitMix64: tiny, seedable, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Integers that break length fields and arithmetic: zero, one, powers of two
/// around type limits, all-ones.
pub const EXTREMES: [u64; 14] = [
    0,
    1,
    2,
    0x7f,
    0xff,
    0xffff,
    1 << 31,
    u32::MAX as u64,
    1 << 32,
    (1 << 32) + 1,
    1 << 62,
    i64::MAX as u64,
    1 << 63,
    u64::MAX,
];

/// Textual numbers for text formats (JSON, `.npy` headers).
const TEXT_NUMBERS: [&str; 14] = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-320",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999999",
    "NaN",
    "\"inf\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0",
];

/// One random byte-level or number-level edit of `data`; `other` is a splice
/// donor (another valid file of the same kind, or the same file).
pub fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    let at = |rng: &mut Rng, extra: usize| rng.below(len + extra);
    match rng.below(12) {
        0 if len > 0 => {
            let i = at(rng, 0);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = at(rng, 0);
            data[i] = rng.next() as u8;
        }
        2 if len > 0 => {
            let i = at(rng, 0);
            data[i] = *rng.pick(&[0u8, 1, 0x7f, 0x80, 0xff]);
        }
        3 => {
            let n = at(rng, 1);
            data.truncate(n);
        }
        4 => {
            let i = at(rng, 1);
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(i..i, bytes);
        }
        5 if len > 0 => {
            let i = at(rng, 0);
            let n = (1 + rng.below(64)).min(len - i);
            data.drain(i..i + n);
        }
        // A fixed-width little-endian integer (length prefixes, header fields).
        6 if len >= 4 => {
            let v = *rng.pick(&EXTREMES);
            let w = *rng.pick(&[4usize, 8]).min(&len);
            let i = rng.below(len - w + 1);
            data[i..i + w].copy_from_slice(&v.to_le_bytes()[..w]);
        }
        // A LEB128 varint (postcard's lengths), overwriting or inserted.
        7 => {
            let v = *rng.pick(&EXTREMES);
            let mut enc = Vec::new();
            let mut x = v;
            loop {
                let b = (x & 0x7f) as u8;
                x >>= 7;
                if x == 0 {
                    enc.push(b);
                    break;
                }
                enc.push(b | 0x80);
            }
            let i = at(rng, 1);
            if rng.below(2) == 0 {
                data.splice(i..i, enc);
            } else {
                let end = (i + enc.len()).min(len);
                data.splice(i..end, enc);
            }
        }
        // Splice: a chunk of the donor replaces a chunk here.
        8 if !other.is_empty() => {
            let s = rng.below(other.len());
            let n = (1 + rng.below(256)).min(other.len() - s);
            let i = at(rng, 1);
            let end = (i + rng.below(257)).min(len);
            data.splice(i..end, other[s..s + n].iter().copied());
        }
        // Duplicate a chunk in place (repeated elements, nested structures).
        9 if len > 0 => {
            let i = at(rng, 0);
            let n = (1 + rng.below(128)).min(len - i);
            let chunk = data[i..i + n].to_vec();
            data.splice(i..i, chunk);
        }
        // Text formats: replace a run of digits by an extreme number.
        10 | 11 => {
            let digit_runs: Vec<usize> = (0..len)
                .filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit()))
                .collect();
            if digit_runs.is_empty() {
                return mutate_once(rng, data, other);
            }
            let s = *rng.pick(&digit_runs);
            let e = (s..len).find(|&i| !data[i].is_ascii_digit()).unwrap_or(len);
            let t = rng.pick(&TEXT_NUMBERS).as_bytes().to_vec();
            data.splice(s..e, t);
        }
        _ => mutate_once(rng, data, other),
    }
}

/// 1–4 stacked edits, fewer more often (a single edit is usually caught
/// early; stacking reaches deeper).
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4).saturating_sub(rng.below(2)) {
        mutate_once(rng, &mut d, other);
    }
    d
}

/// Prefix lengths to try (the whole seed included): all of them for short
/// files, else a spread plus both ends.
pub fn truncation_lengths(len: usize) -> Vec<usize> {
    if len <= 4096 {
        return (0..=len).collect();
    }
    let mut v: Vec<usize> = (0..64).chain(len - 64..=len).collect();
    v.extend((0..1024).map(|k| k * len / 1024));
    v.sort_unstable();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------
// The harness.

/// One target's run: how many cases, how many decoded Ok, the wall time.
#[derive(Debug)]
pub struct Outcome {
    pub cases: u64,
    pub accepted: u64,
    pub seconds: f64,
}

/// Targets in one test binary run one at a time: the allocation check is
/// process-wide (decoders may use rayon), so another test building its seeds
/// meanwhile would be charged to the running case. Every fuzz test takes this
/// first, before building its seeds.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Where reproducers go.
pub fn repro_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-repro");
    let _ = std::fs::create_dir_all(&d);
    d
}

fn fail(target: &str, case: u64, input: &[u8], what: &str) -> ! {
    let p = repro_dir().join(format!("{target}-{case}.bin"));
    let _ = std::fs::write(&p, input);
    panic!(
        "fuzz target {target}, case {case}: {what}; input saved to {} (replay: ZKINFER_FUZZ_CASE={case})",
        p.display()
    );
}

/// Rewrites a mutated case before decoding.
pub type Fixup<'a> = &'a dyn Fn(&mut Rng, Vec<u8>) -> Vec<u8>;
/// Makes a case from (seed, donor).
pub type Mutator<'a> = &'a dyn Fn(&mut Rng, &[u8], &[u8]) -> Vec<u8>;

/// Settings of one target.
pub struct Target<'a> {
    pub name: &'a str,
    /// Valid encodings to start from.
    pub seeds: Vec<Vec<u8>>,
    /// Random mutations in CI (after the truncation sweep).
    pub iters: u64,
    /// A single allocation may be `alloc_factor × input + 1 MiB`.
    pub alloc_factor: usize,
    /// Rewrites a mutated case before decoding (e.g. fixes a checksum so the
    /// body is reached); `None` leaves it.
    pub fixup: Option<Fixup<'a>>,
    /// Replaces the byte-level [`mutate`] (seed, donor) for structured inputs.
    pub mutator: Option<Mutator<'a>>,
}

/// Runs `decode` on every truncation of every seed, then on `iters` random
/// mutations (`ZKINFER_FUZZ_ITERS` / `ZKINFER_FUZZ_SECONDS` override).
/// `decode` returns whether the input was accepted; it must not panic.
/// The caller holds [`serial`].
pub fn run(t: Target, decode: impl Fn(&[u8]) -> bool) -> Outcome {
    let start = Instant::now();
    let seconds: Option<f64> = env("ZKINFER_FUZZ_SECONDS");
    let iters: u64 =
        env("ZKINFER_FUZZ_ITERS").unwrap_or(if seconds.is_some() { u64::MAX } else { t.iters });
    let only: Option<u64> = env("ZKINFER_FUZZ_CASE");
    let timeout = Duration::from_secs(env("ZKINFER_FUZZ_TIMEOUT").unwrap_or(60));
    let watchdog = Watchdog::start(t.name, timeout);
    // Panics the decoders catch themselves (a dependency's, behind
    // `catch_unwind`) are printed without a backtrace: with RUST_BACKTRACE
    // set, the default hook's symbolization is one allocation of megabytes,
    // charged to the case as if the decoder had made it.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));

    // Case numbering: truncations first (deterministic; not for structured
    // mutators, whose inputs are text documents), then random cases, each
    // seeded by its own number so any case replays alone.
    let truncs: Vec<(usize, usize)> = t
        .seeds
        .iter()
        .enumerate()
        .filter(|_| t.mutator.is_none())
        .flat_map(|(s, seed)| {
            truncation_lengths(seed.len())
                .into_iter()
                .map(move |n| (s, n))
        })
        .collect();
    let n_trunc = truncs.len() as u64;
    let case_input = |case: u64| -> Vec<u8> {
        if case < n_trunc {
            let (s, n) = truncs[case as usize];
            return t.seeds[s][..n].to_vec();
        }
        let name_hash = t
            .name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) ^ b as u64);
        let mut rng = Rng::new(case ^ name_hash.rotate_left(32));
        let seed = rng.pick(&t.seeds);
        let donor = rng.pick(&t.seeds);
        let m = match t.mutator {
            Some(f) => f(&mut rng, seed, donor),
            None => mutate(&mut rng, seed, donor),
        };
        match t.fixup {
            Some(f) if rng.below(8) != 0 => f(&mut rng, m),
            _ => m,
        }
    };

    let mut out = Outcome {
        cases: 0,
        accepted: 0,
        seconds: 0.0,
    };
    let cases: Box<dyn Iterator<Item = u64>> = match only {
        Some(c) => Box::new(std::iter::once(c)),
        None => Box::new(0..n_trunc.saturating_add(iters)),
    };
    for case in cases {
        if seconds.is_some_and(|s| start.elapsed().as_secs_f64() > s) {
            break;
        }
        let input = case_input(case);
        if only.is_some() {
            let p = repro_dir().join(format!("{}-{case}.bin", t.name));
            let _ = std::fs::write(&p, &input);
            eprintln!("fuzz {}: case {case} saved to {}", t.name, p.display());
        }
        watchdog.begin(case, &input);
        LIMIT.store(t.alloc_factor * input.len() + (1 << 20), Relaxed);
        LARGEST.store(0, Relaxed);
        CASE.store(case, Relaxed);
        ARMED.store(true, Relaxed);
        let r = catch_unwind(AssertUnwindSafe(|| decode(&input)));
        ARMED.store(false, Relaxed);
        watchdog.end();
        match r {
            Ok(ok) => out.accepted += ok as u64,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                fail(t.name, case, &input, &format!("panic: {msg}"));
            }
        }
        let largest = LARGEST.load(Relaxed);
        if largest > 0 {
            fail(
                t.name,
                case,
                &input,
                &format!(
                    "a single allocation of {largest} bytes for a {}-byte input (limit {})",
                    input.len(),
                    LIMIT.load(Relaxed)
                ),
            );
        }
        out.cases += 1;
    }
    out.seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {}: {} cases ({} truncations), {} accepted, {:.1} s, no panic, hang or oversized allocation",
        t.name, out.cases, n_trunc, out.accepted, out.seconds
    );
    out
}

/// Aborts the process (after saving the input) when one case runs longer
/// than the timeout: a hang would otherwise only show as a stuck CI job.
struct Watchdog {
    state: &'static Mutex<Running>,
    stop: &'static AtomicBool,
}

/// The case being decoded (number, start) and its input.
struct Running {
    case: Option<(u64, Instant)>,
    input: Vec<u8>,
}

impl Watchdog {
    fn start(name: &str, timeout: Duration) -> Self {
        let state: &'static Mutex<Running> = Box::leak(Box::new(Mutex::new(Running {
            case: None,
            input: Vec::new(),
        })));
        let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let name = name.to_string();
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let s = state.lock().unwrap_or_else(|e| e.into_inner());
                if let (Some((case, t0)), input) = (&s.case, &s.input) {
                    if t0.elapsed() > timeout {
                        let p = repro_dir().join(format!("{name}-{case}.bin"));
                        let _ = std::fs::write(&p, input);
                        eprintln!(
                            "fuzz target {name}, case {case}: no result after {timeout:?} (hang); input saved to {}",
                            p.display()
                        );
                        std::process::abort();
                    }
                }
            }
        });
        Self { state, stop }
    }
    fn begin(&self, case: u64, input: &[u8]) {
        let mut s = self.state.lock().unwrap();
        s.case = Some((case, Instant::now()));
        s.input.clear();
        s.input.extend_from_slice(input);
    }
    fn end(&self) {
        self.state.lock().unwrap().case = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
    }
}

/// The valid fixture files under `fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
