//! The proof and its file format.
//!
//! Layout (all integers little-endian):
//! ```text
//! "ZKINFPRF"  magic, 8 bytes
//! u32         format version (PROOF_FORMAT_VERSION)
//! [u8; 32]    model id the proof was made for
//! 7 sections, in this order, each: u8 tag, u32 length, bytes
//!   1 activation commitment   (postcard)
//!   2 lookup proofs           (postcard, field elements as fixed 8 bytes: a
//!                             LogUp proof per batch of tables, per table the
//!                             merged members' evaluations)
//!   3 layer proofs            (postcard, idem)
//!   4 weight opening          (per commitment part: the claim reduction, if
//!                             any, and a WHIR proof; its own byte format)
//!   5 activation opening      (idem)
//!   6 zero-knowledge          (postcard: `None` for a plain proof; else
//!                             what it hides, the hiding commitment and the
//!                             zero-knowledge lookup proof)
//!   7 hiding opening          (empty for a plain proof; else the hiding
//!                             WHIR opening, its own byte format)
//! ```
//! A zero-knowledge proof (`zk/`) leaves sections 1, 2 and 5 empty: it
//! commits nothing in the clear.
//! A commitment to nothing (the layout commits no activation, or the model
//! has no weight layer) is explicit: section 1 then holds no root, and the
//! opening (4 or 5) holds no WHIR proof; both sides derive which commitments
//! are empty from the model's layout, and the verifier refuses anything else.
//!
//! Decoding never panics: any truncation, unknown tag, trailing byte or
//! non-canonical field element is a `Malformed` error naming the section.

use serde::{Deserialize, Serialize};
use zkinfer_protocol::logup::zk::ZkLookupProof;
use zkinfer_protocol::logup::LookupProof;
use zkinfer_protocol::pcs::{Commitment, HidingCommitment, HidingOpening, OpeningProof};
use zkinfer_protocol::{VerifyError, EF};

pub use crate::ops::LayerProof;
use crate::zk::Visibility;

pub const PROOF_MAGIC: &[u8; 8] = b"ZKINFPRF";
/// 5: empty commitments (models with nothing committed per proof, or no
/// weight layer) are allowed, with no root and an opening without WHIR proof.
/// 7: clamp ranges of one width share one lookup table (fewer table proofs).
/// 8: an opening part may carry a claim reduction (a sumcheck and the
/// stacked table's value) before its WHIR proof.
/// 9: one LogUp-GKR proof for every large table and one for all small ones;
/// the public input and output absorbed by a BLAKE3 digest.
/// 10: a Dense op sends one evaluation per block of a weight matrix
/// committed as blocks (`weight_blocks.rs`).
/// 11: sections 6 and 7 (zero-knowledge proofs); `LayerProof::Zk`.
/// 12: a committed input's and output's commitments and openings in
/// section 6.
/// 13: a requant's remainder limbs fill their width (its shift rounded up to
/// a multiple of the limb width: other limb values, no scaled top lookup).
/// 14: a committed input's or output's own commitment in WHIR's
/// unique-decoding regime (other digests and openings).
pub const PROOF_FORMAT_VERSION: u32 = 14;

/// What a zero-knowledge proof adds: what it hides, its one hiding
/// commitment (every committed column, the private input, every mask), its
/// lookups, and that commitment's one opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkParts {
    pub visibility: Visibility,
    pub commitment: HidingCommitment,
    pub lookups: Option<ZkLookupProof>,
    /// Per table, per tree, per member, per column: the member's committed
    /// `W` at the tree's leaf point (masked values).
    pub lookup_members: Vec<Vec<Vec<Vec<EF>>>>,
    /// The statement is this many copies of the stated samples (a model
    /// whose tensors are too small to hide their reads proves copies of its
    /// input; the output is the copies' shared output).
    pub copies: usize,
    pub opening: HidingOpening,
    /// A committed input's own commitment and its one opening.
    pub input: Option<(HidingCommitment, HidingOpening)>,
    /// A committed output's, likewise.
    pub output: Option<(HidingCommitment, HidingOpening)>,
}

/// Section 6's encoding.
#[derive(Serialize, Deserialize)]
struct ZkHeader {
    visibility: Visibility,
    commitment: HidingCommitment,
    lookups: Option<ZkLookupProof>,
    lookup_members: Vec<Vec<Vec<Vec<EF>>>>,
    copies: usize,
    /// A committed input's commitment and opening (the opening's own bytes).
    input: Option<(HidingCommitment, Vec<u8>)>,
    output: Option<(HidingCommitment, Vec<u8>)>,
}

/// Every table's lookups: one LogUp-GKR proof per batch of tables
/// (`lookups::batches`), and per table, per witness group, per member, its
/// committed columns at the group's row point.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LookupsProof {
    pub logups: Vec<LookupProof>,
    pub member_evals: Vec<Vec<Vec<Vec<EF>>>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub model_id: [u8; 32],
    pub activation_commitment: Commitment,
    pub lookups: LookupsProof,
    pub layers: Vec<LayerProof>,
    pub weight_opening: OpeningProof,
    pub activation_opening: OpeningProof,
    /// `Some` for a zero-knowledge proof.
    pub zk: Option<ZkParts>,
}

/// Section names, for error messages and tamper tests.
pub const SECTIONS: [&str; 7] = [
    "activation commitment",
    "lookup proofs",
    "layer proofs",
    "weight opening",
    "activation opening",
    "zero-knowledge",
    "hiding opening",
];

impl Proof {
    pub fn to_bytes(&self) -> Vec<u8> {
        let enc = |v: &dyn erased::Enc| v.enc();
        let header = self.zk.as_ref().map(|z| ZkHeader {
            visibility: z.visibility,
            commitment: z.commitment.clone(),
            lookups: z.lookups.clone(),
            lookup_members: z.lookup_members.clone(),
            copies: z.copies,
            input: z.input.as_ref().map(|(c, o)| (c.clone(), o.to_bytes())),
            output: z.output.as_ref().map(|(c, o)| (c.clone(), o.to_bytes())),
        });
        let sections: [Vec<u8>; 7] = [
            enc(&self.activation_commitment),
            enc(&self.lookups),
            enc(&self.layers),
            self.weight_opening.to_bytes(),
            self.activation_opening.to_bytes(),
            enc(&header),
            self.zk
                .as_ref()
                .map_or_else(Vec::new, |z| z.opening.to_bytes()),
        ];
        let mut out = Vec::new();
        out.extend_from_slice(PROOF_MAGIC);
        out.extend_from_slice(&PROOF_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.model_id);
        for (tag, s) in sections.iter().enumerate() {
            out.push(tag as u8 + 1);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s);
        }
        out
    }

    /// Byte ranges of the header and of each section (for reports and tamper tests).
    pub fn section_ranges(
        bytes: &[u8],
    ) -> Result<Vec<(String, std::ops::Range<usize>)>, VerifyError> {
        let mut r = Reader { bytes, pos: 0 };
        r.header()?;
        let mut out = vec![("header".to_string(), 0..r.pos)];
        for name in SECTIONS {
            let start = r.pos;
            r.section(name)?;
            out.push((name.to_string(), start..r.pos));
        }
        Ok(out)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let mut r = Reader { bytes, pos: 0 };
        let model_id = r.header()?;
        let s: Vec<&[u8]> = SECTIONS
            .iter()
            .map(|name| r.section(name))
            .collect::<Result<_, _>>()?;
        if r.pos != bytes.len() {
            return Err(malformed("trailing bytes after the last section"));
        }
        let header: Option<ZkHeader> = dec(s[5], SECTIONS[5])?;
        let zk = match header {
            None if s[6].is_empty() => None,
            None => return Err(malformed("a plain proof with a hiding opening")),
            Some(h) => Some(ZkParts {
                visibility: h.visibility,
                commitment: h.commitment,
                lookups: h.lookups,
                lookup_members: h.lookup_members,
                copies: h.copies,
                opening: HidingOpening::from_bytes(s[6])
                    .map_err(|e| malformed(&format!("{}: {e}", SECTIONS[6])))?,
                input: own_commitment(h.input, "committed input")?,
                output: own_commitment(h.output, "committed output")?,
            }),
        };
        Ok(Self {
            zk,
            model_id,
            activation_commitment: dec(s[0], SECTIONS[0])?,
            lookups: dec(s[1], SECTIONS[1])?,
            layers: dec(s[2], SECTIONS[2])?,
            weight_opening: OpeningProof::from_bytes(s[3])
                .map_err(|e| malformed(&format!("{}: {e}", SECTIONS[3])))?,
            activation_opening: OpeningProof::from_bytes(s[4])
                .map_err(|e| malformed(&format!("{}: {e}", SECTIONS[4])))?,
        })
    }
}

mod erased {
    pub trait Enc {
        fn enc(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Enc for T {
        fn enc(&self) -> Vec<u8> {
            postcard::to_allocvec(self).expect("in-memory encoding cannot fail")
        }
    }
}

fn dec<T: for<'a> Deserialize<'a>>(bytes: &[u8], name: &str) -> Result<T, VerifyError> {
    let (v, rest) =
        postcard::take_from_bytes(bytes).map_err(|e| malformed(&format!("{name}: {e}")))?;
    if !rest.is_empty() {
        return Err(malformed(&format!("{name}: trailing bytes")));
    }
    Ok(v)
}

/// A committed input's or output's commitment and decoded opening.
fn own_commitment(
    part: Option<(HidingCommitment, Vec<u8>)>,
    what: &str,
) -> Result<Option<(HidingCommitment, HidingOpening)>, VerifyError> {
    part.map(|(c, o)| {
        HidingOpening::from_bytes(&o)
            .map(|o| (c, o))
            .map_err(|e| malformed(&format!("{what}: {e}")))
    })
    .transpose()
}

fn malformed(msg: &str) -> VerifyError {
    VerifyError::Malformed(msg.to_string())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], VerifyError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| malformed(&format!("proof file is truncated (in {what})")))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn header(&mut self) -> Result<[u8; 32], VerifyError> {
        if self.take(8, "header")? != PROOF_MAGIC {
            return Err(malformed("not a zkinfer proof file (bad magic)"));
        }
        let v = u32::from_le_bytes(self.take(4, "header")?.try_into().expect("4 bytes"));
        if v != PROOF_FORMAT_VERSION {
            return Err(malformed(&format!(
                "proof format version {v} is not supported (this build reads version {PROOF_FORMAT_VERSION}; prove again with this build)"
            )));
        }
        Ok(self.take(32, "header")?.try_into().expect("32 bytes"))
    }

    fn section(&mut self, name: &str) -> Result<&'a [u8], VerifyError> {
        let expected = SECTIONS.iter().position(|s| *s == name).expect("known") as u8 + 1;
        let tag = self.take(1, name)?[0];
        if tag != expected {
            return Err(malformed(&format!(
                "expected section '{name}', found tag {tag}"
            )));
        }
        let len = u32::from_le_bytes(self.take(4, name)?.try_into().expect("4 bytes")) as usize;
        self.take(len, name)
    }
}
