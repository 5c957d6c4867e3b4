//! Classical ML (`ai.onnx.ml`, as skl2onnx, onnxmltools and hummingbird
//! export it) lowered onto ops that already prove:
//!
//! * LinearRegressor, LinearClassifier, SVMRegressor (linear kernel),
//!   Scaler: one Dense; Normalizer: a row reduction, a reciprocal table and
//!   a product; Binarizer, Imputer: a comparison table (and a `Where`).
//! * TreeEnsembleRegressor / TreeEnsembleClassifier in GEMM form: every
//!   internal node's test is a comparison table on `Dense(x) − thresholds`
//!   (0/1, scale 1); leaf `l` is reached iff `Σ_{n on its path} ±d_n` equals
//!   the number of true branches on it (an exact integer Dense and an
//!   equality table); the scores are a Dense of the leaf indicators by the
//!   leaf values, plus the base values.
//! * A classifier's label output is the **class index** (the position in
//!   `classlabels_*`, not the label itself; the same when the labels are
//!   `0..C`, as scikit-learn's usually are), computed by ArgMax over the raw
//!   scores ([`crate::onnx_argmax`]), an exact integer.
//! * ZipMap is dropped: its output is its input, the probabilities tensor.
//!
//! Comparisons on quantized values are exact for the integers they see; a
//! feature within half a grid step of a threshold may take the other branch
//! (the grid is the calibrated range of `x − t` over 2^13 steps). Branch
//! modes EQ and NEQ hold within that half step.

use super::{attr, decode_tensor, Importer};
use crate::error::{ModelError, Result};
use crate::float::{FId, FOpKind};
use crate::onnx_argmax::Pick;
use crate::onnx_reduce::{Lowering, Reduce};
use crate::unary::{CmpOp, UnaryFn};
use std::collections::HashMap;
use tract_onnx::pb;

/// The node being lowered (attributes and named errors).
struct Ml<'a> {
    node: &'a pb::NodeProto,
    op: &'a str,
    name: &'a str,
    index: usize,
}

impl Ml<'_> {
    fn bad(&self, reason: impl Into<String>) -> ModelError {
        ModelError::UnsupportedAttr {
            op: self.op.to_string(),
            node: self.name.to_string(),
            index: self.index,
            reason: reason.into(),
        }
    }
    fn ints(&self, name: &str) -> Vec<i64> {
        attr(self.node, name)
            .map(|a| a.ints.clone())
            .unwrap_or_default()
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        attr(self.node, name).map_or(default, |a| a.i)
    }
    fn float(&self, name: &str, default: f64) -> f64 {
        attr(self.node, name).map_or(default, |a| a.f as f64)
    }
    fn string(&self, name: &str) -> Option<String> {
        attr(self.node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
    fn strings(&self, name: &str) -> Vec<String> {
        attr(self.node, name)
            .map(|a| {
                a.strings
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
    /// A float list given as `name` (floats) or `name_as_tensor` (a tensor).
    fn floats(&self, name: &str) -> Result<Vec<f64>> {
        if let Some(t) = attr(self.node, &format!("{name}_as_tensor")).and_then(|a| a.t.as_ref()) {
            return Ok(decode_tensor(t)?.data);
        }
        Ok(attr(self.node, name)
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default())
    }
    fn output(&self, k: usize) -> Option<&str> {
        self.node
            .output
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
    fn at<'b>(&'b self, out: &'b str) -> Lowering<'b> {
        Lowering {
            node: self.name,
            op_type: self.op,
            out_name: out,
        }
    }
    fn post_transform(&self) -> Result<PostTransform> {
        match self.string("post_transform").as_deref().unwrap_or("NONE") {
            "NONE" => Ok(PostTransform::None),
            "LOGISTIC" => Ok(PostTransform::Logistic),
            "SOFTMAX" => Ok(PostTransform::Softmax),
            other => Err(self.bad(format!(
                "post_transform {other} is not supported (NONE, LOGISTIC and SOFTMAX are)"
            ))),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PostTransform {
    None,
    Logistic,
    Softmax,
}

/// One decision node or leaf of a tree ensemble, as the attributes list it.
struct TreeNode {
    feature: usize,
    threshold: f64,
    mode: String,
    yes: usize,
    no: usize,
}

/// The outcome of a node's test, normalized to three comparisons with 0 of
/// `sign·(x_f − t)`: `≤`, `<` and `=` (`≥`, `>` flip the sign; `≠` is the
/// `=` test with its branches swapped).
fn test_of(mode: &str) -> Option<(CmpOp, f64, bool)> {
    Some(match mode {
        "BRANCH_LEQ" => (CmpOp::Le, 1.0, false),
        "BRANCH_LT" => (CmpOp::Lt, 1.0, false),
        "BRANCH_GTE" => (CmpOp::Le, -1.0, false),
        "BRANCH_GT" => (CmpOp::Lt, -1.0, false),
        "BRANCH_EQ" => (CmpOp::Eq, 1.0, false),
        "BRANCH_NEQ" => (CmpOp::Eq, 1.0, true),
        _ => return None,
    })
}

/// The tests on a leaf's path: (test index, the test must hold).
type Path = Vec<(usize, bool)>;

/// A tree ensemble flattened: its tests and, per leaf, the tests on its
/// path (test index, branch taken = the test holds).
struct Flat {
    /// `(feature, threshold, comparison, sign)` per test.
    tests: Vec<(usize, f64, CmpOp, f64)>,
    /// Per leaf: its tree, its node key, and its path.
    leaves: Vec<((i64, i64), Path)>,
}

impl Importer {
    /// An `ai.onnx.ml` node (module docs).
    pub(super) fn ml_node(&mut self, node: &pb::NodeProto, name: &str, index: usize) -> Result<()> {
        let m = Ml {
            node,
            op: node.op_type.as_str(),
            name,
            index,
        };
        let out0 = m
            .output(0)
            .ok_or_else(|| m.bad("node has no output"))?
            .to_string();
        if m.op == "ArrayFeatureExtractor" {
            return self.ml_array_feature_extractor(&m, &out0);
        }
        let x_name = node.input.first().map(String::as_str).unwrap_or("");
        let x = *self
            .values
            .get(x_name)
            .ok_or_else(|| m.bad(format!("input `{x_name}` must be a computed activation")))?;
        if m.op == "ZipMap" {
            // Dropped: the probabilities tensor is the output.
            self.values.insert(out0, x);
            return Ok(());
        }
        let xs = self.shape(x);
        if xs.len() != 2 {
            return Err(m.bad(format!(
                "the input must be a batch of feature rows [N, C], got {xs:?} per sample"
            )));
        }
        let f = xs[1];
        let at = m.at(&out0);
        match m.op {
            "Scaler" => {
                let per = |v: Vec<f64>, what: &str, dflt: f64| match v.len() {
                    0 => Ok(vec![dflt; f]),
                    1 => Ok(vec![v[0]; f]),
                    n if n == f => Ok(v),
                    n => Err(m.bad(format!("{what} has {n} values for {f} features"))),
                };
                let scale = per(m.floats("scale")?, "scale", 1.0)?;
                let offset = per(m.floats("offset")?, "offset", 0.0)?;
                let b = (0..f).map(|i| -offset[i] * scale[i]).collect();
                let y = self.diagonal(&at, x, &scale, b);
                self.finish(&at, y, xs);
            }
            "Normalizer" => {
                let how = match m.string("norm").as_deref().unwrap_or("MAX") {
                    "MAX" => Reduce::Max,
                    "L1" => Reduce::L1,
                    "L2" => Reduce::L2,
                    other => return Err(m.bad(format!("norm {other} (MAX, L1 or L2)"))),
                };
                let norm = self.reduce_last(&at, x, how);
                let inv = self.unary(&at, norm, UnaryFn::Reciprocal, "reciprocal");
                let ib = self.broadcast_last(&at, inv, f);
                let y = self.emit(&at, "normalize", FOpKind::Mul, vec![x, ib], xs.clone());
                self.finish(&at, y, xs);
            }
            "Binarizer" => {
                let t = m.float("threshold", 0.0);
                let d = self.diagonal(&at, x, &vec![1.0; f], vec![-t; f]);
                let y = self.compare(&at, d, CmpOp::Gt);
                self.finish(&at, y, xs);
            }
            "Imputer" => {
                if !m.ints("imputed_value_int64s").is_empty() {
                    return Err(m.bad("integer imputation (imputed_value_int64s) is not supported"));
                }
                let r = m.float("replaced_value_float", 0.0);
                if r.is_nan() {
                    // Inputs are finite: nothing is ever replaced.
                    self.values.insert(out0, x);
                    return Ok(());
                }
                let v = match m.floats("imputed_value_floats")? {
                    v if v.len() == 1 => vec![v[0]; f],
                    v if v.len() == f => v,
                    v => {
                        return Err(m.bad(format!(
                            "{} imputed values for {f} features",
                            v.len()
                        )))
                    }
                };
                let d = self.diagonal(&at, x, &vec![1.0; f], vec![-r; f]);
                let hit = self.compare(&at, d, CmpOp::Eq);
                let fill = self.constant_like(&at, x, v);
                let y = self.select_where(&at, hit, fill, x).map_err(|e| m.bad(e))?;
                self.finish(&at, y, xs);
            }
            "LinearRegressor" => {
                let pt = m.post_transform()?;
                if pt != PostTransform::None {
                    return Err(m.bad("a regressor's post_transform must be NONE"));
                }
                let targets = m.int("targets", 1).max(1) as usize;
                let y = self.ml_linear(&m, &at, x, targets)?;
                self.finish(&at, y, vec![1, targets]);
            }
            "SVMRegressor" => {
                let y = self.ml_svm_regressor(&m, &at, x, f)?;
                self.finish(&at, y, vec![1, 1]);
            }
            "LinearClassifier" => {
                let classes = self.ml_class_count(&m)?;
                let coef = m.floats("coefficients")?;
                if coef.len() != classes * f {
                    return Err(m.bad(format!(
                        "{} coefficients for {classes} classes of {f} features (one row per class is supported; a single row for two classes is not)",
                        coef.len()
                    )));
                }
                let scores = self.ml_linear(&m, &at, x, classes)?;
                self.ml_classify(&m, scores, classes)?;
            }
            "TreeEnsembleRegressor" => {
                let flat = self.ml_flatten_trees(&m, f)?;
                let n = m.int("n_targets", 1).max(1) as usize;
                let (ids, nodes, trees, weights) = (
                    m.ints("target_ids"),
                    m.ints("target_nodeids"),
                    m.ints("target_treeids"),
                    m.floats("target_weights")?,
                );
                let average = match m.string("aggregate_function").as_deref().unwrap_or("SUM") {
                    "SUM" => false,
                    "AVERAGE" => true,
                    other => {
                        return Err(m.bad(format!(
                            "aggregate_function {other} is not supported (SUM and AVERAGE are)"
                        )))
                    }
                };
                if m.post_transform()? != PostTransform::None {
                    return Err(m.bad("a regressor's post_transform must be NONE"));
                }
                let scores = self.ml_trees(&m, &at, x, &flat, n, (&ids, &nodes, &trees, &weights), average)?;
                self.finish(&at, scores, vec![1, n]);
            }
            "TreeEnsembleClassifier" => {
                let classes = self.ml_class_count(&m)?;
                let flat = self.ml_flatten_trees(&m, f)?;
                let (ids, nodes, trees, weights) = (
                    m.ints("class_ids"),
                    m.ints("class_nodeids"),
                    m.ints("class_treeids"),
                    m.floats("class_weights")?,
                );
                let mut used: Vec<i64> = ids.clone();
                used.sort_unstable();
                used.dedup();
                if classes == 2 && used.len() == 1 {
                    // One score `s` for two classes ([`Importer::ml_binary`]).
                    if used[0] != 0 {
                        return Err(m.bad("a binary ensemble scoring class 1 alone is not supported (class 0 is)"));
                    }
                    let non_negative = weights.iter().all(|&w| w >= 0.0);
                    let s = self.ml_trees(&m, &at, x, &flat, 1, (&ids, &nodes, &trees, &weights), false)?;
                    self.ml_binary(&m, s, non_negative)?;
                } else {
                    let scores = self.ml_trees(&m, &at, x, &flat, classes, (&ids, &nodes, &trees, &weights), false)?;
                    self.ml_classify(&m, scores, classes)?;
                }
            }
            "SVMClassifier" => {
                return Err(m.bad(
                    "one-vs-one SVM voting is not supported; a linear SVM exports as LinearClassifier (scikit-learn's LinearSVC)",
                ))
            }
            _ => {
                return Err(ModelError::UnsupportedOp {
                    op: format!("ai.onnx.ml:{}", m.op),
                    node: name.to_string(),
                    index,
                })
            }
        }
        Ok(())
    }

    /// `w ⊙ x + b` along the last axis (a diagonal row-wise Dense).
    fn diagonal(&mut self, at: &Lowering, x: FId, w: &[f64], b: Vec<f64>) -> FId {
        let n = w.len();
        let mut full = vec![0.0; n * n];
        for i in 0..n {
            full[i * n + i] = w[i];
        }
        let shape = self.shape(x);
        let kind = FOpKind::Dense {
            w: full,
            b,
            in_dim: n,
            out_dim: n,
        };
        self.emit(at, "affine", kind, vec![x], shape)
    }

    /// `x · coefficientsᵀ + intercepts` for `n` outputs.
    fn ml_linear(&mut self, m: &Ml, at: &Lowering, x: FId, n: usize) -> Result<FId> {
        let f = *self.shape(x).last().expect("rank 2");
        let w = m.floats("coefficients")?;
        if w.len() != n * f {
            return Err(m.bad(format!(
                "{} coefficients for {n} outputs of {f} features",
                w.len()
            )));
        }
        let b = match m.floats("intercepts")? {
            b if b.is_empty() => vec![0.0; n],
            b if b.len() == n => b,
            b => return Err(m.bad(format!("{} intercepts for {n} outputs", b.len()))),
        };
        let kind = FOpKind::Dense {
            w,
            b,
            in_dim: f,
            out_dim: n,
        };
        Ok(self.emit(at, "linear", kind, vec![x], vec![1, n]))
    }

    /// SVMRegressor with a linear kernel: `Σ_i c_i·(x·sv_i) + ρ`, i.e. one
    /// Dense by `Σ_i c_i·sv_i` (or by the coefficients, with no support vectors).
    fn ml_svm_regressor(&mut self, m: &Ml, at: &Lowering, x: FId, f: usize) -> Result<FId> {
        let kernel = m.string("kernel_type").unwrap_or_else(|| "LINEAR".into());
        if kernel != "LINEAR" {
            return Err(m.bad(format!(
                "kernel {kernel}: only the LINEAR kernel is supported"
            )));
        }
        if m.int("one_class", 0) != 0 {
            return Err(m.bad("one-class SVMs are not supported"));
        }
        if m.post_transform()? != PostTransform::None {
            return Err(m.bad("a regressor's post_transform must be NONE"));
        }
        let coef = m.floats("coefficients")?;
        let sv = m.floats("support_vectors")?;
        let n_sv = m.int("n_supports", 0).max(0) as usize;
        let w = if n_sv == 0 {
            coef
        } else {
            if coef.len() != n_sv || sv.len() != n_sv * f {
                return Err(m.bad(format!(
                    "{} coefficients and {} support vector values for {n_sv} vectors of {f} features",
                    coef.len(),
                    sv.len()
                )));
            }
            (0..f)
                .map(|j| (0..n_sv).map(|i| coef[i] * sv[i * f + j]).sum())
                .collect()
        };
        if w.len() != f {
            return Err(m.bad(format!("{} coefficients for {f} features", w.len())));
        }
        let rho = m.floats("rho")?.first().copied().unwrap_or(0.0);
        let kind = FOpKind::Dense {
            w,
            b: vec![rho],
            in_dim: f,
            out_dim: 1,
        };
        Ok(self.emit(at, "svm", kind, vec![x], vec![1, 1]))
    }

    /// The number of class labels (ints or strings).
    fn ml_class_count(&self, m: &Ml) -> Result<usize> {
        let ints = m.ints(if m.op == "LinearClassifier" {
            "classlabels_ints"
        } else {
            "classlabels_int64s"
        });
        let n = ints.len().max(m.strings("classlabels_strings").len());
        if n < 2 {
            return Err(m.bad(format!("{n} class label(s); a classifier needs at least 2")));
        }
        Ok(n)
    }

    /// A classifier's outputs from its raw class scores `[1, C]`: the label
    /// (the first class of highest score, as its index) and the
    /// post-transformed scores.
    fn ml_classify(&mut self, m: &Ml, scores: FId, classes: usize) -> Result<()> {
        let pt = m.post_transform()?;
        if let Some(label) = m.output(0) {
            let at = m.at(label);
            let pick = Pick {
                min: false,
                last: false,
            };
            self.lower_argmax(&at, scores, 1, false, pick);
        }
        if let Some(out) = m.output(1) {
            let at = m.at(out);
            let y = match pt {
                PostTransform::None => scores,
                PostTransform::Logistic => self.emit(
                    &at,
                    "logistic",
                    FOpKind::Sigmoid,
                    vec![scores],
                    vec![1, classes],
                ),
                PostTransform::Softmax => self.lower_softmax(&at, scores, &[1], false),
            };
            self.finish(&at, y, vec![1, classes]);
        }
        Ok(())
    }

    /// A binary classifier's outputs from its one score `s` (`[1, 1]`), as
    /// onnxruntime defines them: with non-negative leaf weights (a forest's
    /// class-1 probability) `[1 − s, s]` and label `s > 0.5` whatever the
    /// post_transform; otherwise (boosting margins) label `s > 0` and
    /// `[−s, s]`, or `[1 − σ(s), σ(s)]` under LOGISTIC.
    fn ml_binary(&mut self, m: &Ml, s: FId, non_negative: bool) -> Result<()> {
        let pt = m.post_transform()?;
        if pt == PostTransform::Softmax {
            return Err(m.bad("SOFTMAX on a single binary score is not supported"));
        }
        if let Some(label) = m.output(0) {
            let at = m.at(label);
            let t = if non_negative { 0.5 } else { 0.0 };
            let d = self.diagonal(&at, s, &[1.0], vec![-t]);
            let y = self.compare(&at, d, CmpOp::Gt);
            self.finish(&at, y, vec![1]);
        }
        if let Some(out) = m.output(1) {
            let at = m.at(out);
            let (p, b) = match pt {
                _ if non_negative => (s, vec![1.0, 0.0]),
                PostTransform::Logistic => (
                    self.emit(&at, "logistic", FOpKind::Sigmoid, vec![s], vec![1, 1]),
                    vec![1.0, 0.0],
                ),
                _ => (s, vec![0.0, 0.0]),
            };
            let kind = FOpKind::Dense {
                w: vec![-1.0, 1.0],
                b,
                in_dim: 1,
                out_dim: 2,
            };
            let y = self.emit(&at, "two_classes", kind, vec![p], vec![1, 2]);
            self.finish(&at, y, vec![1, 2]);
        }
        Ok(())
    }

    /// The trees of a TreeEnsemble node: tests and leaf paths (roots are
    /// the nodes no other node branches to).
    fn ml_flatten_trees(&self, m: &Ml, f: usize) -> Result<Flat> {
        let trees = m.ints("nodes_treeids");
        let ids = m.ints("nodes_nodeids");
        let feats = m.ints("nodes_featureids");
        let values = m.floats("nodes_values")?;
        let modes = m.strings("nodes_modes");
        let yes = m.ints("nodes_truenodeids");
        let no = m.ints("nodes_falsenodeids");
        let n = trees.len();
        if [
            ids.len(),
            feats.len(),
            values.len(),
            modes.len(),
            yes.len(),
            no.len(),
        ]
        .iter()
        .any(|&l| l != n)
            || n == 0
        {
            return Err(m.bad("the nodes_* attributes must all list the same nodes"));
        }
        let mut by_key: HashMap<(i64, i64), usize> = HashMap::new();
        let mut nodes = Vec::with_capacity(n);
        for k in 0..n {
            if by_key.insert((trees[k], ids[k]), k).is_some() {
                return Err(m.bad(format!(
                    "node {} of tree {} is listed twice",
                    ids[k], trees[k]
                )));
            }
            nodes.push(TreeNode {
                feature: feats[k].max(0) as usize,
                threshold: values[k],
                mode: modes[k].clone(),
                yes: 0,
                no: 0,
            });
        }
        let mut child = vec![false; n];
        for k in 0..n {
            if modes[k] == "LEAF" {
                continue;
            }
            if test_of(&modes[k]).is_none() {
                return Err(m.bad(format!("node mode {} is not supported", modes[k])));
            }
            if feats[k] < 0 || feats[k] as usize >= f {
                return Err(m.bad(format!("a test reads feature {} of {f}", feats[k])));
            }
            let find = |id: i64| {
                by_key.get(&(trees[k], id)).copied().ok_or_else(|| {
                    m.bad(format!(
                        "node {} of tree {} branches to missing node {id}",
                        ids[k], trees[k]
                    ))
                })
            };
            nodes[k].yes = find(yes[k])?;
            nodes[k].no = find(no[k])?;
            child[nodes[k].yes] = true;
            child[nodes[k].no] = true;
        }
        let mut flat = Flat {
            tests: vec![],
            leaves: vec![],
        };
        let mut test_of_node: HashMap<usize, usize> = HashMap::new();
        for root in (0..n).filter(|&k| !child[k]) {
            // Depth-first, with the path so far; a path longer than the node
            // count is a cycle.
            let mut stack = vec![(root, Path::new())];
            while let Some((k, path)) = stack.pop() {
                if path.len() > n {
                    return Err(m.bad("the trees contain a cycle"));
                }
                let nd = &nodes[k];
                if nd.mode == "LEAF" {
                    flat.leaves.push(((trees[k], ids[k]), path));
                    continue;
                }
                let (cmp, sign, swapped) = test_of(&nd.mode).expect("checked");
                let t = *test_of_node.entry(k).or_insert_with(|| {
                    flat.tests.push((nd.feature, nd.threshold, cmp, sign));
                    flat.tests.len() - 1
                });
                let mut y = path.clone();
                y.push((t, !swapped));
                let mut z = path;
                z.push((t, swapped));
                stack.push((nd.no, z));
                stack.push((nd.yes, y));
            }
        }
        if flat.leaves.is_empty() {
            return Err(m.bad("the ensemble has no leaves (every node is a child: a cycle)"));
        }
        Ok(flat)
    }

    /// The ensemble's `n` scores `[1, n]` (module docs): leaf weights
    /// `(ids, nodes, trees, weights)` summed per leaf, averaged over trees
    /// when `average`, plus `base_values`.
    #[allow(clippy::too_many_arguments)]
    fn ml_trees(
        &mut self,
        m: &Ml,
        at: &Lowering,
        x: FId,
        flat: &Flat,
        n: usize,
        (ids, nodes, trees, weights): (&[i64], &[i64], &[i64], &[f64]),
        average: bool,
    ) -> Result<FId> {
        let f = *self.shape(x).last().expect("rank 2");
        if [nodes.len(), trees.len(), weights.len()]
            .iter()
            .any(|&l| l != ids.len())
        {
            return Err(m.bad("the leaf weight attributes must list the same entries"));
        }
        let leaf_of: HashMap<(i64, i64), usize> = flat
            .leaves
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (*k, i))
            .collect();
        let n_trees = {
            let mut t: Vec<i64> = flat.leaves.iter().map(|((t, _), _)| *t).collect();
            t.sort_unstable();
            t.dedup();
            t.len()
        };
        let div = if average { n_trees as f64 } else { 1.0 };
        let n_leaves = flat.leaves.len();
        // Leaf values, row-major [n × leaves]; a leaf on no path (a tree
        // that is a single leaf) is a constant, folded into the bias.
        let mut w = vec![0.0; n * n_leaves];
        let mut bias = match m.floats("base_values")? {
            b if b.is_empty() => vec![0.0; n],
            b if b.len() == n => b,
            b => return Err(m.bad(format!("{} base values for {n} outputs", b.len()))),
        };
        for k in 0..ids.len() {
            let leaf = *leaf_of.get(&(trees[k], nodes[k])).ok_or_else(|| {
                m.bad(format!(
                    "a weight names node {} of tree {}, which is no leaf",
                    nodes[k], trees[k]
                ))
            })?;
            let o = usize::try_from(ids[k])
                .ok()
                .filter(|&o| o < n)
                .ok_or_else(|| m.bad(format!("a weight names output {} of {n}", ids[k])))?;
            if flat.leaves[leaf].1.is_empty() {
                bias[o] += weights[k] / div;
            } else {
                w[o * n_leaves + leaf] += weights[k] / div;
            }
        }
        if flat.tests.is_empty() {
            let zero = self.constant_like(at, x, vec![0.0; f]);
            let kind = FOpKind::Dense {
                w: vec![0.0; n * f],
                b: bias,
                in_dim: f,
                out_dim: n,
            };
            return Ok(self.emit(at, "scores", kind, vec![zero], vec![1, n]));
        }
        // Tests by comparison kind: `Dense(x) − t` (signed), a 0/1 table;
        // the path sums of each group add up (exact integers at scale 1).
        let mut sums: Option<FId> = None;
        for cmp in [CmpOp::Le, CmpOp::Lt, CmpOp::Eq] {
            let group: Vec<usize> = (0..flat.tests.len())
                .filter(|&t| flat.tests[t].2 == cmp)
                .collect();
            if group.is_empty() {
                continue;
            }
            let k = group.len();
            let mut wx = vec![0.0; k * f];
            let mut bx = vec![0.0; k];
            for (j, &t) in group.iter().enumerate() {
                let (feat, thr, _, sign) = flat.tests[t];
                wx[j * f + feat] = sign;
                bx[j] = -sign * thr;
            }
            let kind = FOpKind::Dense {
                w: wx,
                b: bx,
                in_dim: f,
                out_dim: k,
            };
            let diff = self.emit(at, "tests", kind, vec![x], vec![1, k]);
            let d = self.compare(at, diff, cmp);
            // Σ over the path: +d where the test must hold, −d where not;
            // minus the number that must hold (on the first group).
            let pos: HashMap<usize, usize> =
                group.iter().enumerate().map(|(j, &t)| (t, j)).collect();
            let mut wp = vec![0.0; n_leaves * k];
            let mut bp = vec![0.0; n_leaves];
            for (l, (_, path)) in flat.leaves.iter().enumerate() {
                for &(t, holds) in path {
                    if sums.is_none() && holds {
                        bp[l] -= 1.0;
                    }
                    if let Some(&j) = pos.get(&t) {
                        wp[l * k + j] = if holds { 1.0 } else { -1.0 };
                    }
                }
            }
            let kind = FOpKind::Dense {
                w: wp,
                b: bp,
                in_dim: k,
                out_dim: n_leaves,
            };
            let part = self.emit(at, "paths", kind, vec![d], vec![1, n_leaves]);
            sums = Some(match sums {
                None => part,
                Some(acc) => self.emit(
                    at,
                    "paths_sum",
                    FOpKind::Add,
                    vec![acc, part],
                    vec![1, n_leaves],
                ),
            });
        }
        // The path count of the first group's Dense subtracts every true
        // branch of the path, whichever group its test is in.
        let reached = self.compare(at, sums.expect("some test"), CmpOp::Eq);
        let kind = FOpKind::Dense {
            w,
            b: bias,
            in_dim: n_leaves,
            out_dim: n,
        };
        Ok(self.emit(at, "scores", kind, vec![reached], vec![1, n]))
    }

    /// ArrayFeatureExtractor: a constant row indexed by a computed index
    /// (a classifier's label from its class list: the identity when the
    /// list is `0..C`, else `a + b·i` for an evenly spaced list), or a
    /// computed row gathered at constant positions of its last axis.
    fn ml_array_feature_extractor(&mut self, m: &Ml, out: &str) -> Result<()> {
        let (xn, yn) = (
            m.node.input.first().map(String::as_str).unwrap_or(""),
            m.node.input.get(1).map(String::as_str).unwrap_or(""),
        );
        let at = m.at(out);
        if let (Some(c), Some(&idx)) = (self.consts.get(xn).cloned(), self.values.get(yn)) {
            let d = &c.data;
            if c.dims.len() > 1 || d.is_empty() {
                return Err(m.bad("a computed index into a constant needs a 1-D constant"));
            }
            let step = if d.len() > 1 { d[1] - d[0] } else { 0.0 };
            if d.iter()
                .enumerate()
                .any(|(i, &v)| v != d[0] + step * i as f64)
            {
                return Err(m.bad(
                    "a computed index into constant values that are not evenly spaced (a data-dependent gather) is not supported",
                ));
            }
            let shape = self.shape(idx);
            let y = if d[0] == 0.0 && step == 1.0 {
                idx
            } else {
                let l = *shape.last().expect("non-empty");
                self.diagonal(&at, idx, &vec![step; l], vec![d[0]; l])
            };
            self.finish(&at, y, shape);
            return Ok(());
        }
        if let (Some(&x), Some(c)) = (self.values.get(xn), self.consts.get(yn).cloned()) {
            let shape = self.shape(x);
            let l = *shape.last().expect("non-empty");
            let rows = shape.iter().product::<usize>() / l;
            let idx: Vec<usize> = c
                .data
                .iter()
                .map(|&v| {
                    let v = v as i64;
                    let v = if v < 0 { v + l as i64 } else { v };
                    usize::try_from(v).ok().filter(|&v| v < l)
                })
                .collect::<Option<_>>()
                .ok_or_else(|| m.bad(format!("an index outside the last axis of {shape:?}")))?;
            let source = (0..rows)
                .flat_map(|r| idx.iter().map(move |&i| (r * l + i) as i64))
                .collect();
            let mut out_shape = shape.clone();
            *out_shape.last_mut().expect("non-empty") = idx.len();
            let y = self.emit(
                &at,
                "gather",
                FOpKind::Select { source },
                vec![x],
                out_shape.clone(),
            );
            self.finish(&at, y, out_shape);
            return Ok(());
        }
        Err(m.bad("needs a constant and a computed input"))
    }
}
