//! GELU as exported: PyTorch writes `nn.GELU()` as `0.5·x·(1 + erf(x/√2))`
//! and `nn.GELU(approximate="tanh")` as `0.5·x·(1 + tanh(√(2/π)·(x +
//! 0.044715·x³)))`, five to nine elementwise nodes whose products each cost
//! a Hadamard sumcheck and a requantization. This pass finds every such
//! subgraph and replaces it by one `Gelu` node (one table lookup, one
//! rounding), whatever the order of its factors: around each `Erf`/`Tanh`
//! it collects the elementwise region between one input `x` and one output
//! `y` (scalar constants only, no intermediate used outside), evaluates it
//! in f64 at points across `[−8, 8]` and fuses when it is GELU there to
//! within 1e-5 (ONNX stores the constants in f32).

use std::collections::{HashMap, HashSet};

use tract_onnx::pb;

use crate::unary::UnaryFn;

/// Elementwise ops a GELU subgraph is made of.
const REGION_OPS: [&str; 8] = ["Add", "Sub", "Mul", "Div", "Pow", "Erf", "Tanh", "Identity"];

/// The nodes, each with its position in `nodes`, with every GELU subgraph
/// replaced by one `Gelu` node (placed where the subgraph's last node was). `scalar` gives the value of a scalar
/// constant (an initializer or a `Constant` node's output), else `None`;
/// `outputs` are the graph's output names.
pub(crate) fn fuse(
    nodes: &[pb::NodeProto],
    scalar: &dyn Fn(&str) -> Option<f64>,
    outputs: &HashSet<String>,
) -> Vec<(usize, pb::NodeProto)> {
    let producer: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for inp in &n.input {
            consumers.entry(inp.as_str()).or_default().push(i);
        }
    }
    let graph = Graph {
        nodes,
        producer,
        consumers,
        scalar,
        outputs,
    };
    let mut removed = HashSet::new();
    let mut replacement: HashMap<usize, pb::NodeProto> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if !matches!(n.op_type.as_str(), "Erf" | "Tanh") || removed.contains(&i) {
            continue;
        }
        if let Some(found) = graph.gelu_around(i) {
            if found.region.iter().any(|r| removed.contains(r)) {
                continue;
            }
            let last = *found.region.iter().max().expect("non-empty region");
            replacement.insert(last, gelu_node(&nodes[last], &found));
            removed.extend(found.region);
        }
    }
    nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match replacement.remove(&i) {
            Some(g) => Some((i, g)),
            None if removed.contains(&i) => None,
            None => Some((i, n.clone())),
        })
        .collect()
}

struct Graph<'a> {
    nodes: &'a [pb::NodeProto],
    producer: HashMap<&'a str, usize>,
    consumers: HashMap<&'a str, Vec<usize>>,
    scalar: &'a dyn Fn(&str) -> Option<f64>,
    outputs: &'a HashSet<String>,
}

/// A matched subgraph: nodes, input, output and form.
struct Found {
    region: Vec<usize>,
    x: String,
    y: String,
    tanh: bool,
}

impl Graph<'_> {
    fn is_region_op(&self, i: usize) -> bool {
        let n = &self.nodes[i];
        REGION_OPS.contains(&n.op_type.as_str()) && n.output.len() == 1 && n.domain.is_empty()
    }

    /// The GELU subgraph around the `Erf`/`Tanh` node `core`, if any: each
    /// value upstream of the core, nearest first, is tried as `x`.
    fn gelu_around(&self, core: usize) -> Option<Found> {
        let mut seen = HashSet::new();
        let mut frontier = vec![core];
        for _ in 0..8 {
            let mut next = Vec::new();
            for i in frontier {
                for inp in &self.nodes[i].input {
                    if (self.scalar)(inp).is_some() || !seen.insert(inp.clone()) {
                        continue;
                    }
                    if let Some(found) = self.gelu_from(core, inp) {
                        return Some(found);
                    }
                    if let Some(&p) = self.producer.get(inp.as_str()) {
                        next.push(p);
                    }
                }
            }
            frontier = next;
        }
        None
    }

    /// The GELU subgraph with input `x` around `core`, if it is one.
    fn gelu_from(&self, core: usize, x: &str) -> Option<Found> {
        // Backwards: the nodes between x and the core, reading only x,
        // scalars and each other.
        let mut region = HashSet::new();
        let mut stack = vec![core];
        while let Some(i) = stack.pop() {
            if region.contains(&i) {
                continue;
            }
            if !self.is_region_op(i) || region.len() >= 24 {
                return None;
            }
            region.insert(i);
            for inp in &self.nodes[i].input {
                if inp != x && (self.scalar)(inp).is_none() {
                    stack.push(*self.producer.get(inp.as_str())?);
                }
            }
        }
        // Forwards: absorb the single consumer while it reads only the
        // region, x and scalars.
        let mut y = self.nodes[core].output[0].clone();
        loop {
            let cons = self
                .consumers
                .get(y.as_str())
                .map_or(&[][..], Vec::as_slice);
            let [next] = cons else { break };
            if !self.is_region_op(*next) || self.outputs.contains(&y) {
                break;
            }
            // An operand from outside may be a side factor of x alone
            // (`x·0.5` multiplied in last): it joins the region.
            let mut side = Vec::new();
            let reads_inside = self.nodes[*next].input.iter().all(|inp| {
                if inp == x || (self.scalar)(inp).is_some() {
                    return true;
                }
                match self.producer.get(inp.as_str()) {
                    Some(p) if region.contains(p) => true,
                    Some(&p) => {
                        let of_x = self.is_region_op(p)
                            && self.nodes[p]
                                .input
                                .iter()
                                .all(|i| i == x || (self.scalar)(i).is_some());
                        if of_x {
                            side.push(p);
                        }
                        of_x
                    }
                    None => false,
                }
            });
            if !reads_inside {
                break;
            }
            region.extend(side);
            region.insert(*next);
            y = self.nodes[*next].output[0].clone();
        }
        // Nothing but y leaves the region.
        for &i in &region {
            let o = &self.nodes[i].output[0];
            if *o == y {
                continue;
            }
            let outside = self
                .consumers
                .get(o.as_str())
                .is_some_and(|c| c.iter().any(|j| !region.contains(j)));
            if outside || self.outputs.contains(o) {
                return None;
            }
        }
        let mut region: Vec<usize> = region.into_iter().collect();
        region.sort_unstable();
        let tanh = self.nodes[core].op_type == "Tanh";
        let reference = UnaryFn::Gelu { tanh };
        let matches = (0..=160).all(|k| {
            let v = -8.0 + 0.1 * k as f64;
            self.eval(&region, x, &y, v)
                .is_some_and(|got| (got - reference.eval(v)).abs() <= 1e-5 * (1.0 + v.abs()))
        });
        matches.then(|| Found {
            region,
            x: x.to_string(),
            y,
            tanh,
        })
    }

    /// The region's output at `x = v` (topological order = node order).
    fn eval(&self, region: &[usize], x: &str, y: &str, v: f64) -> Option<f64> {
        let mut vals: HashMap<&str, f64> = HashMap::new();
        for &i in region {
            let n = &self.nodes[i];
            let arg = |k: usize| -> Option<f64> {
                let name = n.input.get(k)?;
                if name == x {
                    return Some(v);
                }
                vals.get(name.as_str())
                    .copied()
                    .or_else(|| (self.scalar)(name))
            };
            let r = match n.op_type.as_str() {
                "Add" => arg(0)? + arg(1)?,
                "Sub" => arg(0)? - arg(1)?,
                "Mul" => arg(0)? * arg(1)?,
                "Div" => arg(0)? / arg(1)?,
                "Pow" => arg(0)?.powf(arg(1)?),
                "Erf" => UnaryFn::Erf.eval(arg(0)?),
                "Tanh" => arg(0)?.tanh(),
                "Identity" => arg(0)?,
                _ => return None,
            };
            vals.insert(n.output[0].as_str(), r);
        }
        vals.get(y).copied()
    }
}

fn gelu_node(last: &pb::NodeProto, found: &Found) -> pb::NodeProto {
    pb::NodeProto {
        input: vec![found.x.clone()],
        output: vec![found.y.clone()],
        name: format!("{} (fused GELU)", last.name),
        op_type: "Gelu".into(),
        attribute: vec![pb::AttributeProto {
            name: "approximate".into(),
            s: if found.tanh {
                b"tanh".to_vec()
            } else {
                b"none".to_vec()
            },
            r#type: pb::attribute_proto::AttributeType::String as i32,
            ..Default::default()
        }],
        ..Default::default()
    }
}
