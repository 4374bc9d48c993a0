//! The transformer: BERT as all-MiniLM-L6-v2 is (6 layers, 384 wide, 12 heads, 1536 in
//! the feed-forward), read from its weights in order, run on one text at a time.

pub const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD: usize = HIDDEN / HEADS;
const FEED_FORWARD: usize = 1536;
const LAYERS: usize = 6;
pub(crate) const POSITIONS: usize = 512;
const TYPES: usize = 2;
const EPSILON: f32 = 1e-12;

/// A matrix as int8 rows, each with its scale; the values stay where the model file
/// is (inside the binary), never copied.
struct Matrix {
    values: &'static [u8],
    scales: Vec<f32>,
    columns: usize,
}

impl Matrix {
    /// Row `row`, as f32.
    fn row(&self, row: usize) -> impl Iterator<Item = f32> + '_ {
        let scale = self.scales[row];
        self.values[row * self.columns..(row + 1) * self.columns]
            .iter()
            .map(move |value| f32::from(value.cast_signed()) * scale)
    }
}

/// Reads the model's tensors one after another: `PLM1`, then each tensor as a kind
/// (0: f32 vector, 1: int8 matrix with f32 row scales), its rows and columns, and its
/// numbers.
struct Reader {
    bytes: &'static [u8],
}

impl Reader {
    fn new(bytes: &'static [u8]) -> Result<Self, String> {
        bytes
            .strip_prefix(b"PLM1")
            .map(|bytes| Self { bytes })
            .ok_or_else(|| "not a model file (no PLM1)".to_owned())
    }

    fn bytes(&mut self, count: usize) -> Result<&'static [u8], String> {
        if self.bytes.len() < count {
            return Err("the model file ends too soon".into());
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(head)
    }

    fn header(&mut self, kind: u8, rows: usize, columns: usize) -> Result<(), String> {
        let head = self.bytes(9)?;
        let number = |at: usize| {
            u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]) as usize
        };
        if head[0] != kind || number(1) != rows || number(5) != columns {
            return Err(format!(
                "a tensor is {}×{} (kind {}), not {rows}×{columns} (kind {kind})",
                number(1),
                number(5),
                head[0]
            ));
        }
        Ok(())
    }

    fn floats(&mut self, count: usize) -> Result<Vec<f32>, String> {
        Ok(self
            .bytes(count * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn vector(&mut self, length: usize) -> Result<Vec<f32>, String> {
        self.header(0, 1, length)?;
        self.floats(length)
    }

    fn matrix(&mut self, rows: usize, columns: usize) -> Result<Matrix, String> {
        self.header(1, rows, columns)?;
        let scales = self.floats(rows)?;
        let values = self.bytes(rows * columns)?;
        Ok(Matrix {
            values,
            scales,
            columns,
        })
    }
}

/// `dot` with eight running sums, which the compiler turns into vector instructions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    sums.iter().sum::<f32>() + tail
}

struct Linear {
    /// `outputs` rows of `inputs`.
    weight: Matrix,
    bias: Vec<f32>,
    inputs: usize,
}

impl Linear {
    fn read(reader: &mut Reader, inputs: usize, outputs: usize) -> Result<Self, String> {
        Ok(Self {
            weight: reader.matrix(outputs, inputs)?,
            bias: reader.vector(outputs)?,
            inputs,
        })
    }

    /// `x` (rows of `inputs`) times the weights, plus the bias.
    fn apply(&self, x: &[f32]) -> Vec<f32> {
        let outputs = self.bias.len();
        let mut out = vec![0f32; x.len() / self.inputs * outputs];
        // Each weight row once, against every token: the weights are read from memory
        // and widened to f32 once per text, not once per token.
        let mut widened = vec![0f32; self.inputs];
        let rows = self.weight.values.chunks_exact(self.inputs);
        let scaled = rows.zip(&self.weight.scales).zip(&self.bias);
        for (o, ((weights, scale), bias)) in scaled.enumerate() {
            for (wide, weight) in widened.iter_mut().zip(weights) {
                *wide = f32::from(weight.cast_signed());
            }
            for (r, row) in x.chunks_exact(self.inputs).enumerate() {
                out[r * outputs + o] = dot(row, &widened) * scale + bias;
            }
        }
        out
    }
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Norm {
    fn read(reader: &mut Reader) -> Result<Self, String> {
        Ok(Self {
            weight: reader.vector(HIDDEN)?,
            bias: reader.vector(HIDDEN)?,
        })
    }

    fn apply(&self, x: &mut [f32]) {
        for row in x.chunks_exact_mut(HIDDEN) {
            let mean = row.iter().sum::<f32>() / HIDDEN as f32;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / HIDDEN as f32;
            let scale = 1.0 / (variance + EPSILON).sqrt();
            for ((value, weight), bias) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *value = (*value - mean) * scale * weight + bias;
            }
        }
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attended: Linear,
    attention_norm: Norm,
    widen: Linear,
    narrow: Linear,
    output_norm: Norm,
}

/// Token `t`'s part of `m` for attention head `head`.
fn head_part(m: &[f32], t: usize, head: usize) -> &[f32] {
    &m[t * HIDDEN + head * HEAD..t * HIDDEN + (head + 1) * HEAD]
}

fn gelu(x: f32) -> f32 {
    // tanh(u) as 1 - 2 / (e^2u + 1): libm's tanhf was a seventh of the model's time.
    let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
    let tanh = 1.0 - 2.0 / ((2.0 * u).exp() + 1.0);
    0.5 * x * (1.0 + tanh)
}

impl Layer {
    fn read(reader: &mut Reader) -> Result<Self, String> {
        Ok(Self {
            query: Linear::read(reader, HIDDEN, HIDDEN)?,
            key: Linear::read(reader, HIDDEN, HIDDEN)?,
            value: Linear::read(reader, HIDDEN, HIDDEN)?,
            attended: Linear::read(reader, HIDDEN, HIDDEN)?,
            attention_norm: Norm::read(reader)?,
            widen: Linear::read(reader, HIDDEN, FEED_FORWARD)?,
            narrow: Linear::read(reader, FEED_FORWARD, HIDDEN)?,
            output_norm: Norm::read(reader)?,
        })
    }

    fn apply(&self, x: &mut [f32]) {
        let tokens = x.len() / HIDDEN;
        let (q, k, v) = (self.query.apply(x), self.key.apply(x), self.value.apply(x));
        let mut context = vec![0f32; x.len()];
        let scale = 1.0 / (HEAD as f32).sqrt();
        let mut weights = vec![0f32; tokens];
        for head in 0..HEADS {
            for t in 0..tokens {
                for (s, weight) in weights.iter_mut().enumerate() {
                    *weight = dot(head_part(&q, t, head), head_part(&k, s, head)) * scale;
                }
                let top = weights.iter().copied().fold(f32::MIN, f32::max);
                let mut total = 0.0;
                for weight in &mut weights {
                    *weight = (*weight - top).exp();
                    total += *weight;
                }
                let out = &mut context[t * HIDDEN + head * HEAD..t * HIDDEN + (head + 1) * HEAD];
                for (s, weight) in weights.iter().enumerate() {
                    for (o, value) in out.iter_mut().zip(head_part(&v, s, head)) {
                        *o += weight / total * value;
                    }
                }
            }
        }
        let attended = self.attended.apply(&context);
        x.iter_mut().zip(&attended).for_each(|(x, a)| *x += a);
        self.attention_norm.apply(x);
        let mut wide = self.widen.apply(x);
        wide.iter_mut().for_each(|w| *w = gelu(*w));
        let narrow = self.narrow.apply(&wide);
        x.iter_mut().zip(&narrow).for_each(|(x, n)| *x += n);
        self.output_norm.apply(x);
    }
}

pub(crate) struct Bert {
    words: Matrix,
    positions: Matrix,
    types: Matrix,
    norm: Norm,
    layers: Vec<Layer>,
}

impl Bert {
    /// From the model file (see [`Reader`]), for a vocabulary of `vocabulary` pieces.
    pub(crate) fn read(bytes: &'static [u8], vocabulary: usize) -> Result<Self, String> {
        let mut reader = Reader::new(bytes)?;
        let words = reader.matrix(vocabulary, HIDDEN)?;
        let positions = reader.matrix(POSITIONS, HIDDEN)?;
        let types = reader.matrix(TYPES, HIDDEN)?;
        let norm = Norm::read(&mut reader)?;
        let layers = (0..LAYERS)
            .map(|_| Layer::read(&mut reader))
            .collect::<Result<Vec<_>, _>>()?;
        if !reader.bytes.is_empty() {
            return Err("the model file is longer than the model".into());
        }
        Ok(Self {
            words,
            positions,
            types,
            norm,
            layers,
        })
    }

    /// The mean of the last layer's outputs over the tokens.
    pub(crate) fn pooled(&self, ids: &[u32]) -> Vec<f32> {
        let mut x = Vec::with_capacity(ids.len() * HIDDEN);
        for (position, id) in ids.iter().enumerate() {
            let word = self.words.row(*id as usize);
            let at = self.positions.row(position);
            x.extend(
                word.zip(at)
                    .zip(self.types.row(0))
                    .map(|((w, p), t)| w + p + t),
            );
        }
        self.norm.apply(&mut x);
        for layer in &self.layers {
            layer.apply(&mut x);
        }
        let mut pooled = vec![0f32; HIDDEN];
        for row in x.chunks_exact(HIDDEN) {
            pooled
                .iter_mut()
                .zip(row)
                .for_each(|(p, v)| *p += v / ids.len() as f32);
        }
        pooled
    }
}
