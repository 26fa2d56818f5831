package dev.attn4j.ci;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps one ONNX node onto attn4j's kernels: Attention (opset 23 and 24), Softmax, LayerNormalization,
 * Gemm, MatMul, RotaryEmbedding and Gelu. float16 inputs are widened to float32 and computed in float32.
 * A node the library cannot express throws {@link Unsupported} with the reason; the runner reports it as
 * a failure, never as a skip.
 */
final class OnnxOps {

    private OnnxOps() {
    }

    /**
     * One computed output, row-major.
     *
     * @param data  the values
     * @param shape the ONNX shape
     */
    record Result(float[] data, int[] shape) {
    }

    /** The library cannot express this node (an unknown op, attribute or input combination). */
    static final class Unsupported extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message);
        }
    }

    /** Runs the case's node on {@code kernels}; returns the outputs by node output slot. */
    static Map<Integer, Result> run(ConformanceCase c, Kernels kernels) throws IOException {
        if (c.multiNode()) {
            throw new Unsupported("a graph of several nodes is not supported (one node per case)");
        }
        if (!c.domain().isEmpty() && !c.domain().equals("ai.onnx")) {
            throw new Unsupported("operator domain '" + c.domain() + "' is not supported (only the default ONNX domain)");
        }
        return switch (c.opType()) {
            case "Attention" -> attention(c, kernels);
            case "Softmax" -> softmax(c, kernels);
            case "LayerNormalization" -> layerNorm(c, kernels);
            case "Gemm" -> gemm(c, kernels);
            case "MatMul" -> matmul(c, kernels);
            case "RotaryEmbedding" -> rotary(c, kernels);
            case "Gelu" -> gelu(c, kernels);
            default -> throw new Unsupported("unknown op_type '" + c.opType() + "' (supported: Attention, Softmax, "
                    + "LayerNormalization, Gemm, MatMul, RotaryEmbedding, Gelu)");
        };
    }

    // ------------------------------------------------------------------ Attention

    private static Map<Integer, Result> attention(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c, "is_causal", "kv_num_heads", "q_num_heads", "qk_matmul_output_mode", "scale", "softcap",
                "softmax_precision");
        if (c.opset() < 23) {
            throw new Unsupported("Attention opset " + c.opset() + " does not exist (23 and 24 do)");
        }
        Npy.Array qa = required(c, 0, "Q");
        Npy.Array ka = required(c, 1, "K");
        Npy.Array va = required(c, 2, "V");
        Npy.Array maskA = c.input(3);
        Npy.Array pastKA = c.input(4);
        Npy.Array pastVA = c.input(5);
        Npy.Array nonpadA = c.input(6);
        if (nonpadA != null && c.opset() < 24) {
            throw new Unsupported("nonpad_kv_seqlen is an opset 24 input but the case is opset " + c.opset());
        }
        int[] qs = qa.shape();
        int[] ks = ka.shape();
        int[] vs = va.shape();
        int rank = qs.length;
        if (rank != 3 && rank != 4 || ks.length != rank || vs.length != rank) {
            throw new Unsupported("Q, K and V must all be 3D or all 4D but have shapes " + Arrays.toString(qs) + ", "
                    + Arrays.toString(ks) + ", " + Arrays.toString(vs));
        }
        int batch = qs[0];
        int heads;
        int kvHeads;
        int seqQ;
        int seqK;
        int headDim;
        int valueDim;
        float[] q = floats(qa);
        float[] k = floats(ka);
        float[] v = floats(va);
        Tensor qt;
        Tensor kt;
        Tensor vt;
        if (rank == 3) {
            long qh = c.intAttr("q_num_heads", 0);
            long kvh = c.intAttr("kv_num_heads", 0);
            if (qh <= 0 || kvh <= 0) {
                throw new Unsupported("3D Attention needs the q_num_heads and kv_num_heads attributes (> 0) but has "
                        + "q_num_heads=" + qh + ", kv_num_heads=" + kvh);
            }
            heads = (int) qh;
            kvHeads = (int) kvh;
            seqQ = qs[1];
            seqK = ks[1];
            headDim = split("Q", qs[2], heads, "q_num_heads");
            int kDim = split("K", ks[2], kvHeads, "kv_num_heads");
            if (kDim != headDim) {
                throw new Unsupported("K's head size " + kDim + " differs from Q's " + headDim);
            }
            valueDim = split("V", vs[2], kvHeads, "kv_num_heads");
            sameDim("K", ks, 0, batch, "batch");
            sameDim("V", vs, 0, batch, "batch");
            sameDim("V", vs, 1, seqK, "K's sequence length");
            // [B, S, H·D] is the logical [B, H, S, D] through strides: no copy
            qt = Tensor.bshd(q, batch, seqQ, heads, headDim);
            kt = Tensor.bshd(k, batch, seqK, kvHeads, headDim);
            vt = Tensor.bshd(v, batch, seqK, kvHeads, valueDim);
        } else {
            heads = qs[1];
            seqQ = qs[2];
            headDim = qs[3];
            kvHeads = ks[1];
            seqK = ks[2];
            if (ks[3] != headDim) {
                throw new Unsupported("K's head size " + ks[3] + " differs from Q's " + headDim);
            }
            sameDim("K", ks, 0, batch, "batch");
            sameDim("V", vs, 0, batch, "batch");
            sameDim("V", vs, 1, kvHeads, "K's heads");
            sameDim("V", vs, 2, seqK, "K's sequence length");
            valueDim = vs[3];
            qt = Tensor.of(q, qs);
            kt = Tensor.of(k, ks);
            vt = Tensor.of(v, vs);
        }

        // past_key / past_value are concatenated in front of K / V along the sequence axis
        int past = 0;
        if ((pastKA == null) != (pastVA == null)) {
            throw new Unsupported("past_key and past_value must be given together");
        }
        if (pastKA != null) {
            int[] pk = pastKA.shape();
            int[] pv = pastVA.shape();
            if (pk.length != 4 || pv.length != 4) {
                throw new Unsupported("past_key and past_value must be 4D [batch, kv_heads, past, head_size] but have "
                        + Arrays.toString(pk) + " and " + Arrays.toString(pv));
            }
            past = pk[2];
            int[] wantK = {batch, kvHeads, past, headDim};
            int[] wantV = {batch, kvHeads, past, valueDim};
            if (!Arrays.equals(pk, wantK) || !Arrays.equals(pv, wantV)) {
                throw new Unsupported("past_key must have shape " + Arrays.toString(wantK) + " and past_value "
                        + Arrays.toString(wantV) + " but have " + Arrays.toString(pk) + " and " + Arrays.toString(pv));
            }
            kt = concatSeq(Tensor.of(floats(pastKA), pk), kt);
            vt = concatSeq(Tensor.of(floats(pastVA), pv), vt);
        }
        int total = past + seqK;

        List<Mask> parts = new ArrayList<>();
        int[] nonpad = null;
        if (nonpadA != null) {
            long[] raw = nonpadA.toLongs();
            if (raw.length != batch) {
                throw new Unsupported("nonpad_kv_seqlen must have one entry per batch (" + batch + ") but has shape "
                        + Arrays.toString(nonpadA.shape()));
            }
            nonpad = new int[batch];
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                nonpad[b] = Math.toIntExact(raw[b]);
                // keys at positions >= nonpad[b] are masked: a length past the end masks nothing, below 0 everything
                lengths[b] = Math.clamp(raw[b], 0, total);
            }
            parts.add(Mask.keyLengths(lengths));
        }
        if (c.intAttr("is_causal", 0) != 0) {
            // query i sees key j when j <= i + offset: the past length, else nonpad[b] - Sq, else 0 (top-left)
            Alignment alignment;
            if (pastKA != null) {
                alignment = Alignment.fixed(past);
            } else if (nonpad != null) {
                int[] offsets = new int[batch];
                for (int b = 0; b < batch; b++) {
                    offsets[b] = nonpad[b] - seqQ;
                }
                alignment = Alignment.perBatch(offsets);
            } else {
                alignment = Alignment.topLeft();
            }
            parts.add(Mask.causal(alignment));
        }
        if (maskA != null) {
            parts.add(denseMask(maskA, total));
        }
        Mask mask = Mask.all(parts.toArray(Mask[]::new));

        float scale = c.hasAttr("scale") ? c.floatAttr("scale", 0f) : AttentionProblem.defaultScale(headDim);
        float softcap = Math.max(0f, c.floatAttr("softcap", 0f));
        AttentionProblem p = new AttentionProblem(batch, heads, kvHeads, seqQ, total, headDim, valueDim, scale, softcap);

        Map<Integer, Result> out = new LinkedHashMap<>();
        float[] y = new float[Math.multiplyExact(Math.multiplyExact(batch, heads), Math.multiplyExact(seqQ, valueDim))];
        Tensor yt = rank == 3 ? Tensor.bshd(y, batch, seqQ, heads, valueDim) : Tensor.bhsd(y, batch, heads, seqQ, valueDim);
        kernels.attention(p, qt, kt, vt, mask, yt);
        out.put(0, new Result(y, rank == 3 ? new int[] {batch, seqQ, heads * valueDim} : new int[] {batch, heads, seqQ, valueDim}));
        if (c.hasOutput(1)) {
            out.put(1, new Result(kt.toFloatArray(), kt.shape()));
        }
        if (c.hasOutput(2)) {
            out.put(2, new Result(vt.toFloatArray(), vt.shape()));
        }
        if (c.hasOutput(3)) {
            long mode = c.intAttr("qk_matmul_output_mode", 0);
            ScoreStage stage = switch ((int) mode) {
                case 0 -> ScoreStage.SCALED;
                case 1 -> ScoreStage.SOFTCAPPED;
                case 2 -> ScoreStage.MASKED;
                case 3 -> ScoreStage.SOFTMAX;
                default -> throw new Unsupported("qk_matmul_output_mode must be 0..3 but is " + mode);
            };
            Tensor scores = Tensor.zeros(p.scoreShape());
            kernels.scores(p, qt, kt, mask, stage, scores);
            out.put(3, new Result(scores.toFloatArray(), scores.shape()));
        }
        return out;
    }

    /**
     * The attention mask as a {@link Mask}: bool (true = attend) or additive float. A last axis shorter
     * than the total key length is padded to it with −∞ (bool: false), as ONNX specifies.
     */
    private static Mask denseMask(Npy.Array m, int totalKeys) {
        int[] shape = m.shape();
        boolean bool = m.kind() == Npy.Kind.BOOL;
        if (!bool && !m.kind().isFloat()) {
            throw new Unsupported("attn_mask must be bool or float but is " + m.kind().descr());
        }
        int last = shape.length == 0 ? totalKeys : shape[shape.length - 1];
        if (last < totalKeys) {
            int rows = Math.toIntExact(Npy.count(Arrays.copyOf(shape, shape.length - 1)));
            int[] padded = shape.clone();
            padded[padded.length - 1] = totalKeys;
            if (bool) {
                byte[] src = m.toBooleanBytes();
                byte[] dst = new byte[rows * totalKeys];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(src, r * last, dst, r * totalKeys, last);
                }
                return Mask.bool(Tensor.ofBooleans(dst, padded));
            }
            float[] src = m.toFloats();
            float[] dst = new float[rows * totalKeys];
            Arrays.fill(dst, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(src, r * last, dst, r * totalKeys, last);
            }
            return Mask.additive(Tensor.of(dst, padded));
        }
        return bool ? Mask.bool(Tensor.ofBooleans(m.toBooleanBytes(), shape)) : Mask.additive(Tensor.of(m.toFloats(), shape));
    }

    /** A new contiguous [B, H, P + S, D] tensor holding {@code past} then {@code cur} along the sequence axis. */
    private static Tensor concatSeq(Tensor past, Tensor cur) {
        int b = cur.dim(0);
        int h = cur.dim(1);
        int p = past.dim(2);
        int s = cur.dim(2);
        int d = cur.dim(3);
        Tensor out = Tensor.zeros(b, h, p + s, d);
        float[] o = out.array();
        int at = 0;
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                for (int t = 0; t < p + s; t++) {
                    for (int di = 0; di < d; di++) {
                        o[at++] = t < p ? past.get(bi, hi, t, di) : cur.get(bi, hi, t - p, di);
                    }
                }
            }
        }
        return out;
    }

    private static int split(String what, int hidden, int heads, String attr) {
        if (hidden % heads != 0) {
            throw new Unsupported(what + "'s hidden size " + hidden + " is not a multiple of " + attr + "=" + heads);
        }
        return hidden / heads;
    }

    private static void sameDim(String what, int[] shape, int axis, int want, String of) {
        if (shape[axis] != want) {
            throw new Unsupported(what + " " + Arrays.toString(shape) + " must have " + of + " " + want + " on axis " + axis);
        }
    }

    // ------------------------------------------------------------------ building blocks

    private static Map<Integer, Result> softmax(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c, "axis");
        Npy.Array xa = required(c, 0, "input");
        int[] shape = xa.shape();
        float[] x = floats(xa);
        float[] y = new float[x.length];
        if (c.opset() >= 13) {
            int axis = (int) c.intAttr("axis", -1);
            kernels.softmax(Tensor.of(x, shape), axis, Tensor.of(y, shape));
        } else {
            // opset 1-12: the input is coerced to 2D [prod(shape[:axis]), prod(shape[axis:])], softmax over axis 1
            int r = shape.length;
            int axis = (int) c.intAttr("axis", 1);
            int a = axis < 0 ? axis + r : axis;
            if (a < 0 || a > r) {
                throw new Unsupported("Softmax axis " + axis + " is out of range for rank " + r);
            }
            int outer = Math.toIntExact(Npy.count(Arrays.copyOf(shape, a)));
            int inner = Math.toIntExact(Npy.count(Arrays.copyOfRange(shape, a, r)));
            kernels.softmax(Tensor.of(x, outer, inner), 1, Tensor.of(y, outer, inner));
        }
        return Map.of(0, new Result(y, shape));
    }

    private static Map<Integer, Result> layerNorm(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c, "axis", "epsilon", "stash_type");
        Npy.Array xa = required(c, 0, "X");
        Npy.Array sa = required(c, 1, "Scale");
        Npy.Array ba = c.input(2);
        int[] shape = xa.shape();
        int r = shape.length;
        int axis = (int) c.intAttr("axis", -1);
        int a = axis < 0 ? axis + r : axis;
        if (a < 0 || a >= r) {
            throw new Unsupported("LayerNormalization axis " + axis + " is out of range for rank " + r);
        }
        float eps = c.floatAttr("epsilon", 1e-5f);
        float[] y = new float[xa.size()];
        int[] statShape = shape.clone();
        Arrays.fill(statShape, a, r, 1);
        int groups = Math.toIntExact(Npy.count(statShape));
        Tensor mean = c.hasOutput(1) ? Tensor.of(new float[groups], statShape) : null;
        Tensor inv = c.hasOutput(2) ? Tensor.of(new float[groups], statShape) : null;
        Tensor bias = ba == null ? null : Tensor.of(floats(ba), ba.shape());
        kernels.layerNorm(Tensor.of(floats(xa), shape), axis, Tensor.of(floats(sa), sa.shape()), bias, eps,
                Tensor.of(y, shape), mean, inv);
        Map<Integer, Result> out = new LinkedHashMap<>();
        out.put(0, new Result(y, shape));
        if (mean != null) {
            out.put(1, new Result(mean.array(), statShape));
        }
        if (inv != null) {
            out.put(2, new Result(inv.array(), statShape));
        }
        return out;
    }

    private static Map<Integer, Result> gemm(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c, "alpha", "beta", "transA", "transB", "broadcast");
        Npy.Array aa = required(c, 0, "A");
        Npy.Array ba = required(c, 1, "B");
        Npy.Array ca = c.input(2);
        if (aa.shape().length != 2 || ba.shape().length != 2) {
            throw new Unsupported("Gemm needs 2D A and B but has " + Arrays.toString(aa.shape()) + " and "
                    + Arrays.toString(ba.shape()));
        }
        Tensor a = Tensor.of(floats(aa), aa.shape());
        Tensor b = Tensor.of(floats(ba), ba.shape());
        if (c.intAttr("transA", 0) != 0) {
            a = a.permute(1, 0);
        }
        if (c.intAttr("transB", 0) != 0) {
            b = b.permute(1, 0);
        }
        Tensor cc = ca == null ? null : Tensor.of(floats(ca), ca.shape());
        int[] shape = {a.dim(0), b.dim(1)};
        float[] y = new float[Math.multiplyExact(shape[0], shape[1])];
        kernels.gemm(c.floatAttr("alpha", 1f), a, b, c.floatAttr("beta", 1f), cc, Tensor.of(y, shape));
        return Map.of(0, new Result(y, shape));
    }

    private static Map<Integer, Result> matmul(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c);
        Npy.Array aa = required(c, 0, "A");
        Npy.Array ba = required(c, 1, "B");
        int[] shape = Kernels.matmulShape(aa.shape(), ba.shape());
        float[] y = new float[Math.toIntExact(Npy.count(shape))];
        kernels.matmul(Tensor.of(floats(aa), aa.shape()), Tensor.of(floats(ba), ba.shape()), Tensor.of(y, shape));
        return Map.of(0, new Result(y, shape));
    }

    private static Map<Integer, Result> rotary(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c, "interleaved", "rotary_embedding_dim", "num_heads");
        Npy.Array xa = required(c, 0, "X");
        Npy.Array cosA = required(c, 1, "cos_cache");
        Npy.Array sinA = required(c, 2, "sin_cache");
        Npy.Array posA = c.input(3);
        int[] shape = xa.shape();
        float[] x = floats(xa);
        float[] y = new float[x.length];
        Tensor xt;
        Tensor yt;
        int batch = shape[0];
        int seq;
        if (shape.length == 3) {
            long heads = c.intAttr("num_heads", 0);
            if (heads <= 0) {
                throw new Unsupported("3D RotaryEmbedding input needs the num_heads attribute (> 0)");
            }
            seq = shape[1];
            int d = split("input", shape[2], (int) heads, "num_heads");
            // [B, S, H·D] is the logical [B, H, S, D] through strides: no copy
            xt = Tensor.bshd(x, batch, seq, (int) heads, d);
            yt = Tensor.bshd(y, batch, seq, (int) heads, d);
        } else if (shape.length == 4) {
            seq = shape[2];
            xt = Tensor.of(x, shape);
            yt = Tensor.of(y, shape);
        } else {
            throw new Unsupported("RotaryEmbedding input must be 3D or 4D but has shape " + Arrays.toString(shape));
        }
        int[] positions = null;
        if (posA != null) {
            int[] ps = posA.shape();
            long[] raw = posA.toLongs();
            if (ps.length != 2 || ps[1] != seq || (ps[0] != batch && ps[0] != 1)) {
                throw new Unsupported("position_ids must have shape [batch=" + batch + ", seq=" + seq + "] but has "
                        + Arrays.toString(ps));
            }
            positions = new int[batch * seq];
            for (int b = 0; b < batch; b++) {
                for (int s = 0; s < seq; s++) {
                    positions[b * seq + s] = Math.toIntExact(raw[(ps[0] == 1 ? 0 : b) * seq + s]);
                }
            }
        }
        int rotaryDim = (int) c.intAttr("rotary_embedding_dim", 0);
        kernels.rotary(xt, Tensor.of(floats(cosA), cosA.shape()), Tensor.of(floats(sinA), sinA.shape()), positions,
                rotaryDim, c.intAttr("interleaved", 0) != 0, yt);
        return Map.of(0, new Result(y, shape));
    }

    private static Map<Integer, Result> gelu(ConformanceCase c, Kernels kernels) throws IOException {
        rejectUnknown(c, "approximate");
        Npy.Array xa = required(c, 0, "X");
        String approx = c.stringAttr("approximate", "none");
        GeluApproximation g = switch (approx) {
            case "none" -> GeluApproximation.NONE;
            case "tanh" -> GeluApproximation.TANH;
            default -> throw new Unsupported("Gelu approximate must be 'none' or 'tanh' but is '" + approx + "'");
        };
        float[] y = new float[xa.size()];
        kernels.gelu(Tensor.of(floats(xa), xa.shape()), g, Tensor.of(y, xa.shape()));
        return Map.of(0, new Result(y, xa.shape()));
    }

    // ------------------------------------------------------------------ helpers

    private static Npy.Array required(ConformanceCase c, int slot, String what) throws IOException {
        Npy.Array a = c.input(slot);
        if (a == null) {
            throw new Unsupported(c.opType() + " needs input " + slot + " (" + what + ")");
        }
        return a;
    }

    /** float32 values of a float input (float16 is widened: the kernels compute in float32). */
    private static float[] floats(Npy.Array a) {
        if (!a.kind().isFloat()) {
            throw new Unsupported("expected a float tensor but got " + a.kind().descr() + " " + Arrays.toString(a.shape()));
        }
        return a.toFloats();
    }

    private static void rejectUnknown(ConformanceCase c, String... known) {
        List<String> unknown = c.unknownAttributes(known);
        if (!unknown.isEmpty()) {
            throw new Unsupported(c.opType() + " attribute(s) " + unknown + " are not supported");
        }
    }
}
