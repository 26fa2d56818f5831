package dev.attn4j.api;

import dev.attn4j.spi.Backend;
import java.util.Arrays;
import java.util.Objects;

/**
 * Every attn4j kernel, on one backend, with the arguments validated at this edge: each shape,
 * stride, length, head ratio and mask is checked before any kernel runs, and a failed check throws an
 * {@link IllegalArgumentException} naming the argument, the expected and the actual values — nothing
 * is written to any output then. Obtain one with {@link Attn4j#kernels()}.
 *
 * <p>Thread-safe: the kernels are stateless; concurrent calls must not write the same output.
 *
 * <pre>{@code
 * var p = AttentionProblem.of(batch, heads, kvHeads, seq, seq, headDim);
 * Attn4j.kernels().attention(p, Tensor.bhsd(q, ...), Tensor.bhsd(k, ...), Tensor.bhsd(v, ...),
 *         Mask.causalTopLeft(), Tensor.bhsd(out, ...));
 * }</pre>
 */
public final class Kernels {
    private static final String[] Q_AXES = {"batch", "heads", "seqQ", "headDim"};
    private static final String[] K_AXES = {"batch", "kvHeads", "seqK", "headDim"};
    private static final String[] V_AXES = {"batch", "kvHeads", "seqK", "valueDim"};
    private static final String[] OUT_AXES = {"batch", "heads", "seqQ", "valueDim"};
    private static final String[] SCORE_AXES = {"batch", "heads", "seqQ", "seqK"};

    private final Backend backend;

    private Kernels(Backend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** A validating facade over {@code backend} (used by {@link Attn4j} and by backend tests). */
    public static Kernels of(Backend backend) {
        return new Kernels(backend);
    }

    /** The backend the kernels run on. */
    public Backend backend() {
        return backend;
    }

    /** The backend's name. */
    public String backendName() {
        return backend.name();
    }

    // ------------------------------------------------------------------ attention

    /**
     * Fused attention: {@code out [B, H, Sq, Dv]} = softmax(mask(softcap(q·kᵀ·scale)))·v.
     *
     * @param p    the problem
     * @param q    {@code [B, H, Sq, D]}
     * @param k    {@code [B, KVH, Sk, D]}
     * @param v    {@code [B, KVH, Sk, Dv]}
     * @param mask the mask ({@link Mask#none()} for none)
     * @param out  {@code [B, H, Sq, Dv]}, overwritten
     */
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out) {
        attention(p, q, k, v, mask, out, null);
    }

    /**
     * Fused attention that also writes {@code lse [B, H, Sq]}, the natural log-sum-exp of each row's
     * masked scores (−∞ for a fully masked row), when {@code lse} is not null.
     */
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        Objects.requireNonNull(p, "problem must not be null");
        checkQ(p, q);
        checkK(p, k);
        Checks.shape("v", v, p.vShape(), V_AXES);
        Checks.shape("out", out, p.outShape(), OUT_AXES);
        Checks.mask(p, mask);
        Checks.disjoint("out", out, "q", q);
        Checks.disjoint("out", out, "k", k);
        Checks.disjoint("out", out, "v", v);
        Checks.maskDisjoint("out", out, mask);
        if (lse != null) {
            Checks.shape("lse", lse, new int[] {p.batch(), p.heads(), p.seqQ()}, "batch", "heads", "seqQ");
            Checks.disjoint("lse", lse, "out", out);
            Checks.disjoint("lse", lse, "q", q);
            Checks.disjoint("lse", lse, "k", k);
            Checks.disjoint("lse", lse, "v", v);
            Checks.maskDisjoint("lse", lse, mask);
        }
        backend.attention().attention(p, q, k, v, mask, out, lse);
    }

    /**
     * The score matrix {@code scores [B, H, Sq, Sk]} up to {@code stage} of
     * q·kᵀ·scale → softcap → mask → softmax (ONNX's {@code qk_matmul_output}).
     */
    public void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        Objects.requireNonNull(p, "problem must not be null");
        Objects.requireNonNull(stage, "stage must not be null");
        checkQ(p, q);
        checkK(p, k);
        Checks.shape("scores", scores, p.scoreShape(), SCORE_AXES);
        Checks.mask(p, mask);
        Checks.disjoint("scores", scores, "q", q);
        Checks.disjoint("scores", scores, "k", k);
        Checks.maskDisjoint("scores", scores, mask);
        backend.attention().scores(p, q, k, mask, stage, scores);
    }

    /**
     * Fused scale + softcap + mask + softmax over the rows of {@code scores [B, H, Sq, Sk]}, in place;
     * a fully masked row becomes zeros. {@code p}'s head sizes are not used.
     */
    public void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        Objects.requireNonNull(p, "problem must not be null");
        Checks.shape("scores", scores, p.scoreShape(), SCORE_AXES);
        Checks.mask(p, mask);
        Checks.maskDisjoint("scores", scores, mask);
        backend.attention().maskedSoftmax(p, mask, scores);
    }

    private static void checkQ(AttentionProblem p, Tensor q) {
        Checks.shape("q", q, p.qShape(), Q_AXES);
    }

    private static void checkK(AttentionProblem p, Tensor k) {
        Checks.shape("k", k, p.kShape(), K_AXES);
    }

    // ------------------------------------------------------------------ projections

    /** {@code y [M, N]} = {@code x [M, K]}·{@code w [N, K]}ᵀ + {@code bias [N]} ({@code bias} may be null). */
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        Checks.rank("x", x, 2);
        Checks.rank("w", w, 2);
        int m = x.dim(0);
        int kDim = x.dim(1);
        int n = w.dim(0);
        Checks.shape("w", w, new int[] {n, kDim}, "N", "K=x.dim(1)");
        if (bias != null) {
            Checks.shape("bias", bias, new int[] {n}, "N=w.dim(0)");
        }
        Checks.shape("y", y, new int[] {m, n}, "M=x.dim(0)", "N=w.dim(0)");
        Checks.disjoint("y", y, "x", x);
        Checks.disjoint("y", y, "w", w);
        Checks.disjoint("y", y, "bias", bias);
        backend.projections().linear(x, w, bias, y);
    }

    /**
     * Fused QKV projection of {@code x [B, S, E]} straight into heads, with the packed weight
     * {@code w [H·D + KVH·D + KVH·Dv, E]} (rows: the Q heads, then K, then V) and {@code bias} of that
     * length (may be null). Writes {@code q [B, H, S, D]}, {@code k [B, KVH, S, D]} and
     * {@code v [B, KVH, S, Dv]}; {@code p.seqQ()} must equal {@code p.seqK()}.
     */
    public void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v) {
        Objects.requireNonNull(p, "problem must not be null");
        if (p.seqQ() != p.seqK()) {
            throw new IllegalArgumentException("projectQkv needs seqQ == seqK (self-attention) but seqQ=" + p.seqQ()
                    + " and seqK=" + p.seqK());
        }
        Checks.rank("x", x, 3);
        int e = x.dim(2);
        Checks.shape("x", x, new int[] {p.batch(), p.seqQ(), e}, "batch", "seq", "E");
        int rows = qkvRows(p);
        Checks.shape("w", w, new int[] {rows, e}, "H·D+KVH·D+KVH·Dv", "E=x.dim(2)");
        if (bias != null) {
            Checks.shape("bias", bias, new int[] {rows}, "H·D+KVH·D+KVH·Dv");
        }
        checkQ(p, q);
        checkK(p, k);
        Checks.shape("v", v, p.vShape(), V_AXES);
        Checks.disjoint("q", q, "k", k);
        Checks.disjoint("q", q, "v", v);
        Checks.disjoint("k", k, "v", v);
        Checks.disjoint("q", q, "x", x);
        Checks.disjoint("k", k, "x", x);
        Checks.disjoint("v", v, "x", x);
        Checks.disjoint("q", q, "w", w);
        Checks.disjoint("k", k, "w", w);
        Checks.disjoint("v", v, "w", w);
        Checks.disjoint("q", q, "bias", bias);
        Checks.disjoint("k", k, "bias", bias);
        Checks.disjoint("v", v, "bias", bias);
        backend.projections().projectQkv(p, x, w, bias, q, k, v);
    }

    /** Rows of the packed QKV weight: {@code H·D + KVH·D + KVH·Dv}. */
    public static int qkvRows(AttentionProblem p) {
        return Math.addExact(Math.multiplyExact(p.heads(), p.headDim()),
                Math.multiplyExact(p.kvHeads(), p.headDim() + p.valueDim()));
    }

    /**
     * Merges heads through the output projection: {@code y [B, Sq, E]} =
     * concat_h({@code attn [B, H, Sq, Dv]})·{@code wo [E, H·Dv]}ᵀ + {@code bias [E]} (may be null).
     */
    public void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y) {
        Objects.requireNonNull(p, "problem must not be null");
        Checks.shape("attn", attn, p.outShape(), OUT_AXES);
        Checks.rank("wo", wo, 2);
        int e = wo.dim(0);
        Checks.shape("wo", wo, new int[] {e, p.heads() * p.valueDim()}, "E", "heads·valueDim");
        if (bias != null) {
            Checks.shape("bias", bias, new int[] {e}, "E=wo.dim(0)");
        }
        Checks.shape("y", y, new int[] {p.batch(), p.seqQ(), e}, "batch", "seqQ", "E=wo.dim(0)");
        Checks.disjoint("y", y, "attn", attn);
        Checks.disjoint("y", y, "wo", wo);
        Checks.disjoint("y", y, "bias", bias);
        backend.projections().mergeHeads(p, attn, wo, bias, y);
    }

    // ------------------------------------------------------------------ building blocks

    /** {@code y} = softmax of {@code x} along {@code axis} (negative counts from the end); y may be x. */
    public void softmax(Tensor x, int axis, Tensor y) {
        Checks.notNull("x", x);
        Checks.float32("x", x);
        int a = axis(x, axis, "axis");
        Checks.sameShape("y", y, "x", x);
        Checks.inPlaceOrDisjoint("y", y, "x", x);
        backend.blocks().softmax(x, a, y);
    }

    /**
     * Layer normalization over the axes {@code [axis, rank)} (ONNX {@code LayerNormalization}):
     * {@code y = (x − mean)/√(var + epsilon)·scale + bias}; {@code scale} and {@code bias} (may be null)
     * broadcast to {@code x.shape[axis:]}; {@code mean} and {@code invStdDev} (may be null) receive one
     * value per group and must have as many elements as there are groups.
     */
    public void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean,
                          Tensor invStdDev) {
        Checks.notNull("x", x);
        Checks.float32("x", x);
        int a = axis(x, axis, "axis");
        if (!(epsilon >= 0f) || Float.isInfinite(epsilon)) {
            throw new IllegalArgumentException("epsilon must be finite and >= 0 but is " + epsilon);
        }
        int[] inner = Arrays.copyOfRange(x.shape(), a, x.rank());
        Checks.notNull("scale", scale);
        Checks.float32("scale", scale);
        Checks.broadcastsTo("scale", scale, inner);
        if (bias != null) {
            Checks.float32("bias", bias);
            Checks.broadcastsTo("bias", bias, inner);
        }
        Checks.sameShape("y", y, "x", x);
        Checks.inPlaceOrDisjoint("y", y, "x", x);
        Checks.disjoint("y", y, "scale", scale);
        Checks.disjoint("y", y, "bias", bias);
        long groups = Tensor.count(Arrays.copyOfRange(x.shape(), 0, a));
        for (Tensor stat : new Tensor[] {mean, invStdDev}) {
            if (stat != null) {
                String name = stat == mean ? "mean" : "invStdDev";
                Checks.float32(name, stat);
                if (stat.elementCount() != groups) {
                    throw new IllegalArgumentException(name + " must have " + groups + " elements (one per group of x "
                            + Arrays.toString(x.shape()) + " normalized from axis " + a + ") but has shape "
                            + Arrays.toString(stat.shape()));
                }
                Checks.disjoint(name, stat, "x", x);
                Checks.disjoint(name, stat, "y", y);
            }
        }
        backend.blocks().layerNorm(x, a, scale, bias, epsilon, y, mean, invStdDev);
    }

    /**
     * {@code y [M, N]} = alpha·{@code a [M, K]}·{@code b [K, N]} + beta·{@code c} ({@code c} may be null,
     * else broadcast to [M, N]). Transposed operands are strided views ({@code a.permute(1, 0)}).
     */
    public void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y) {
        Checks.rank("a", a, 2);
        Checks.rank("b", b, 2);
        if (a.dim(1) != b.dim(0)) {
            throw new IllegalArgumentException("a " + Arrays.toString(a.shape()) + " and b " + Arrays.toString(b.shape())
                    + " do not chain: a.dim(1) = " + a.dim(1) + " but b.dim(0) = " + b.dim(0));
        }
        int[] out = {a.dim(0), b.dim(1)};
        if (c != null) {
            Checks.float32("c", c);
            Checks.broadcastsTo("c", c, out);
        }
        Checks.shape("y", y, out, "M=a.dim(0)", "N=b.dim(1)");
        Checks.disjoint("y", y, "a", a);
        Checks.disjoint("y", y, "b", b);
        Checks.disjoint("y", y, "c", c);
        backend.blocks().gemm(alpha, a, b, beta, c, y);
    }

    /** numpy {@code matmul}: {@code y} = a @ b, batch axes broadcast; see {@link #matmulShape}. */
    public void matmul(Tensor a, Tensor b, Tensor y) {
        Checks.notNull("a", a);
        Checks.notNull("b", b);
        Checks.float32("a", a);
        Checks.float32("b", b);
        int[] out = matmulShape(a.shape(), b.shape());
        Checks.shape("y", y, out);
        Checks.disjoint("y", y, "a", a);
        Checks.disjoint("y", y, "b", b);
        // numpy's rules are applied here, once: 1-D operands are promoted (and the output view given the
        // matching size-1 axis), batch axes are broadcast, so backends see equal-rank [..., M, K] @ [..., K, N]
        Tensor a2 = a.rank() == 1 ? a.unsqueeze(0) : a;
        Tensor b2 = b.rank() == 1 ? b.unsqueeze(1) : b;
        Tensor y2 = y;
        if (b.rank() == 1) {
            y2 = y2.unsqueeze(y2.rank());
        }
        if (a.rank() == 1) {
            y2 = y2.unsqueeze(Math.max(0, y2.rank() - 1));
        }
        int rank = y2.rank();
        int[] aTarget = y2.shape();
        aTarget[rank - 1] = a2.dim(-1);
        int[] bTarget = y2.shape();
        bTarget[rank - 2] = a2.dim(-1);
        backend.blocks().matmul(a2.broadcastTo(aTarget), b2.broadcastTo(bTarget), y2);
    }

    /** The shape of numpy's {@code matmul(a, b)}, or an exception naming both shapes. */
    public static int[] matmulShape(int[] a, int[] b) {
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException("matmul operands must have rank >= 1 but a is " + Arrays.toString(a)
                    + " and b is " + Arrays.toString(b));
        }
        int[] a2 = a.length == 1 ? new int[] {1, a[0]} : a;
        int[] b2 = b.length == 1 ? new int[] {b[0], 1} : b;
        int kA = a2[a2.length - 1];
        int kB = b2[b2.length - 2];
        if (kA != kB) {
            throw new IllegalArgumentException("matmul a " + Arrays.toString(a) + " and b " + Arrays.toString(b)
                    + " do not chain: " + kA + " != " + kB);
        }
        int[] batch = Checks.broadcastShapes("a", Arrays.copyOf(a2, a2.length - 2), "b", Arrays.copyOf(b2, b2.length - 2));
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = a2[a2.length - 2];
        out[batch.length + 1] = b2[b2.length - 1];
        if (a.length == 1 && b.length == 1) {
            return new int[0];
        }
        if (a.length == 1) {
            int[] squeezed = new int[out.length - 1];
            System.arraycopy(out, 0, squeezed, 0, out.length - 2);
            squeezed[squeezed.length - 1] = out[out.length - 1];
            return squeezed;
        }
        if (b.length == 1) {
            return Arrays.copyOf(out, out.length - 1);
        }
        return out;
    }

    /**
     * Rotary position embedding (ONNX {@code RotaryEmbedding}) of {@code x [B, H, S, D]} into {@code y}
     * (same shape; may be x). With {@code positions} ({@code B·S} entries, row-major over [B, S]),
     * {@code cos} and {@code sin} are caches {@code [maxPos, rotaryDim/2]}; with {@code positions}
     * null they are {@code [B, S, rotaryDim/2]} (a longer last axis is cut). {@code rotaryDim} (even, ≤ D; 0 means D) features rotate.
     */
    public void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y) {
        Checks.rank("x", x, 4);
        int batch = x.dim(0);
        int seq = x.dim(2);
        int d = x.dim(3);
        int rot = rotaryDim == 0 ? d : rotaryDim;
        if (rot < 0 || rot > d || rot % 2 != 0) {
            throw new IllegalArgumentException("rotaryDim must be even and in [2, headDim=" + d + "] (0 = headDim) but is "
                    + rotaryDim);
        }
        int half = rot / 2;
        Checks.notNull("cos", cos);
        Checks.notNull("sin", sin);
        if (positions != null) {
            Checks.rank("cos", cos, 2);
            int maxPos = cos.dim(0);
            if (cos.dim(1) < half) {
                throw new IllegalArgumentException("cos must have shape [maxPos, >= rotaryDim/2=" + half + "] but has "
                        + Arrays.toString(cos.shape()));
            }
            Checks.sameShape("sin", sin, "cos", cos);
            if (positions.length != batch * seq) {
                throw new IllegalArgumentException("positions must have batch·seq = " + batch * seq + " entries but has "
                        + positions.length);
            }
            for (int i = 0; i < positions.length; i++) {
                if (positions[i] < 0 || positions[i] >= maxPos) {
                    throw new IllegalArgumentException("positions[" + i + "] must be in [0, maxPos=" + maxPos + ") but is "
                            + positions[i]);
                }
            }
        } else {
            Checks.rank("cos", cos, 3);
            if (cos.dim(0) != batch || cos.dim(1) != seq || cos.dim(2) < half) {
                throw new IllegalArgumentException("cos must have shape [batch=" + batch + ", seq=" + seq
                        + ", >= rotaryDim/2=" + half + "] but has " + Arrays.toString(cos.shape()));
            }
            Checks.sameShape("sin", sin, "cos", cos);
        }
        Checks.sameShape("y", y, "x", x);
        Checks.inPlaceOrDisjoint("y", y, "x", x);
        Checks.disjoint("y", y, "cos", cos);
        Checks.disjoint("y", y, "sin", sin);
        backend.blocks().rotary(x, cos, sin, positions == null ? null : positions.clone(), rot, interleaved, y);
    }

    /** {@code y} = GELU({@code x}) elementwise; y may be x. */
    public void gelu(Tensor x, GeluApproximation approximation, Tensor y) {
        Checks.notNull("x", x);
        Checks.float32("x", x);
        Objects.requireNonNull(approximation, "approximation must not be null");
        Checks.sameShape("y", y, "x", x);
        Checks.inPlaceOrDisjoint("y", y, "x", x);
        backend.blocks().gelu(x, approximation, y);
    }

    private static int axis(Tensor x, int axis, String name) {
        int r = x.rank();
        int a = axis < 0 ? axis + r : axis;
        if (a < 0 || a >= r) {
            throw new IllegalArgumentException(name + " must be in [" + (-r) + ", " + (r - 1) + "] for x of shape "
                    + Arrays.toString(x.shape()) + " but is " + axis);
        }
        return a;
    }

    @Override
    public String toString() {
        return "Kernels[" + backend.name() + "]";
    }

    // ------------------------------------------------------------------ the attention family from the literature

    /**
     * The score matrix {@code scores [B, H, Sq, Sk]} of score function {@code f} up to {@code stage} of
     * scale·f(q, k) → softcap → mask → softmax (see {@link ScoreFunction} for the formulas and papers).
     */
    public void scores(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        Objects.requireNonNull(p, "problem must not be null");
        Objects.requireNonNull(stage, "stage must not be null");
        checkScoreInputs(p, f, q, k, mask);
        Checks.shape("scores", scores, p.scoreShape(), SCORE_AXES);
        checkOutput("scores", scores, q, k, null, mask, f);
        if (f == ScoreFunction.dot()) {
            backend.attention().scores(p, q, k, mask, stage, scores); // the same function, on the backend's fast path
            return;
        }
        backend.classic().scores(p, f, q, k, mask, stage, scores);
    }

    /** Fused attention with score function {@code f}: {@code out} = softmax(mask(softcap(scale·f(q, k))))·v. */
    public void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out) {
        attention(p, f, q, k, v, mask, out, null);
    }

    /**
     * Fused attention with score function {@code f} (dot, general, additive, cosine), every mask, and
     * {@code lse [B, H, Sq]} (may be null) as in {@link #attention(AttentionProblem, Tensor, Tensor, Tensor, Mask, Tensor, Tensor)}.
     */
    public void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                          Tensor lse) {
        Objects.requireNonNull(p, "problem must not be null");
        checkScoreInputs(p, f, q, k, mask);
        Checks.shape("v", v, p.vShape(), V_AXES);
        Checks.shape("out", out, p.outShape(), OUT_AXES);
        checkOutput("out", out, q, k, v, mask, f);
        if (lse != null) {
            Checks.shape("lse", lse, new int[] {p.batch(), p.heads(), p.seqQ()}, "batch", "heads", "seqQ");
            Checks.disjoint("lse", lse, "out", out);
            checkOutput("lse", lse, q, k, v, mask, f);
        }
        if (f == ScoreFunction.dot()) {
            backend.attention().attention(p, q, k, v, mask, out, lse); // the same function, on the backend's fast path
            return;
        }
        backend.classic().attention(p, f, q, k, v, mask, out, lse);
    }

    /**
     * Deterministic hard attention over the {@code topK} best keys (Xu et al. 2015 "hard" attention,
     * made deterministic; top-1 is argmax attention). Per query row the visible keys are ranked by their
     * masked score {@code s} (ties: the lower key index first); with {@code S} the selected set,
     * {@code out = Σ_{j∈S} w_j·v_j}, {@code w_j = exp(s_j)/Σ_{j'∈S} exp(s_j')} — the softmax renormalized over
     * the selection, so top-1 writes {@code v[argmax]}. A row with fewer visible keys uses those it has;
     * a fully masked row writes zeros.
     *
     * @param topK    keys kept per row, in {@code [1, seqK]}
     * @param indices null, or {@code B·H·Sq·topK} entries (row-major {@code [B, H, Sq, topK]}) receiving the
     *                selected keys by decreasing score, −1 where a row has fewer visible keys
     */
    public void topKAttention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK,
                              Tensor out, int[] indices) {
        Objects.requireNonNull(p, "problem must not be null");
        if (topK < 1 || topK > p.seqK()) {
            throw new IllegalArgumentException("topK must be in [1, seqK=" + p.seqK() + "] but is " + topK);
        }
        checkHard(p, f, q, k, v, mask, out);
        FamilyChecks.indices(indices, rows(p), topK, "batch·heads·seqQ·topK");
        backend.classic().topK(p, f, q, k, v, mask, topK, out, indices);
    }

    /** Argmax (top-1) hard attention: {@code out} = {@code v} at each row's best visible key; see {@link #topKAttention}. */
    public void argmaxAttention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                                int[] indices) {
        topKAttention(p, f, q, k, v, mask, 1, out, indices);
    }

    /**
     * Stochastic hard attention (Xu et al. 2015, "Show, Attend and Tell", §4.1): each query row draws one
     * key {@code j ~ softmax(s)} and writes {@code out = v[j]}. The draw is the inverse CDF of the row's
     * weights in key order at {@link #sampleUniform sampleUniform(seed, row)}, {@code row = (b·H + h)·Sq + i}:
     * reproducible for a seed, independent of the thread count and of the order rows are processed in.
     * A key of weight 0 is never drawn; a fully masked row writes zeros (index −1).
     *
     * @param indices null, or {@code B·H·Sq} entries receiving the drawn keys
     */
    public void sampledAttention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed,
                                 Tensor out, int[] indices) {
        Objects.requireNonNull(p, "problem must not be null");
        checkHard(p, f, q, k, v, mask, out);
        FamilyChecks.indices(indices, rows(p), 1, "batch·heads·seqQ");
        backend.classic().sample(p, f, q, k, v, mask, seed, out, indices);
    }

    /**
     * The uniform in [0, 1) that row {@code row} of {@link #sampledAttention} draws with for {@code seed}:
     * the SplitMix64 finalizer of {@code seed + (row + 1)·0x9E3779B97F4A7C15}, top 53 bits.
     */
    public static double sampleUniform(long seed, long row) {
        long z = seed + (row + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }

    /**
     * Luong's local-p attention (see {@link LocalP} for the formula): the window
     * {@code [p_t − D, p_t + D]} around the predicted centre, intersected with {@code mask}, Gaussian
     * weighting with σ = D/2. {@code centres [B, H, Sq]} (may be null) receives each p_t.
     */
    public void localPAttention(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask,
                                Tensor out, Tensor centres) {
        Objects.requireNonNull(p, "problem must not be null");
        checkHard(p, f, q, k, v, mask, out);
        FamilyChecks.localP(p, local);
        Checks.disjoint("out", out, "local-p weight wp", local.wp());
        Checks.disjoint("out", out, "local-p vector vp", local.vp());
        if (centres != null) {
            Checks.shape("centres", centres, new int[] {p.batch(), p.heads(), p.seqQ()}, "batch", "heads", "seqQ");
            Checks.disjoint("centres", centres, "out", out);
            checkOutput("centres", centres, q, k, v, mask, f);
            Checks.disjoint("centres", centres, "local-p weight wp", local.wp());
            Checks.disjoint("centres", centres, "local-p vector vp", local.vp());
        }
        backend.classic().localP(p, f, local, q, k, v, mask, out, centres);
    }

    /**
     * Adds the sinusoidal positional encoding (Vaswani et al. 2017, §3.5) to {@code x [B, S, E]}:
     * {@code y[b, s, e] = x[b, s, e] + PE(offset + s, e)} with {@code PE(pos, 2i) = sin(pos/10000^(2i/E))},
     * {@code PE(pos, 2i+1) = cos(pos/10000^(2i/E))}; {@code y} may be {@code x}. {@code offset} ≥ 0 is the
     * position of the first row (the cache length when decoding).
     */
    public void addSinusoidal(Tensor x, int offset, Tensor y) {
        Checks.rank("x", x, 3);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0 but is " + offset);
        }
        Checks.sameShape("y", y, "x", x);
        Checks.inPlaceOrDisjoint("y", y, "x", x);
        backend.classic().addSinusoidal(x, offset, y);
    }

    /** Writes the sinusoidal table {@code pe [S, E]}: {@code pe[s, e] = PE(offset + s, e)} (see {@link #addSinusoidal}). */
    public void sinusoidal(int offset, Tensor pe) {
        Checks.rank("pe", pe, 2);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0 but is " + offset);
        }
        int[] shape = {1, pe.dim(0), pe.dim(1)};
        Tensor zeros = Tensor.view(new float[1], 0, shape, new long[3]);
        backend.classic().addSinusoidal(zeros, offset, pe.unsqueeze(0));
    }

    /** Residual add: {@code y = a + b} elementwise, {@code b} broadcast numpy-style to a's shape; y may be a or b. */
    public void add(Tensor a, Tensor b, Tensor y) {
        Checks.notNull("a", a);
        Checks.float32("a", a);
        Checks.notNull("b", b);
        Checks.float32("b", b);
        Checks.broadcastsTo("b", b, a.shape());
        Checks.sameShape("y", y, "a", a);
        Checks.inPlaceOrDisjoint("y", y, "a", a);
        if (!Checks.sameView(y, b)) {
            Checks.disjoint("y", y, "b", b);
        }
        backend.classic().add(a, b, y);
    }

    /**
     * A projection with its epilogue fused: {@code y [M, N]} = {@code x [M, K]}·{@code w [N, K]}ᵀ +
     * {@code bias [N]} (may be null) + {@code residual [M, N]}; {@code y} may be {@code residual} (in place).
     */
    public void linearResidual(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y) {
        Checks.rank("x", x, 2);
        Checks.rank("w", w, 2);
        int m = x.dim(0);
        int kDim = x.dim(1);
        int n = w.dim(0);
        Checks.shape("w", w, new int[] {n, kDim}, "N", "K=x.dim(1)");
        if (bias != null) {
            Checks.shape("bias", bias, new int[] {n}, "N=w.dim(0)");
        }
        Checks.shape("residual", residual, new int[] {m, n}, "M=x.dim(0)", "N=w.dim(0)");
        Checks.shape("y", y, new int[] {m, n}, "M=x.dim(0)", "N=w.dim(0)");
        Checks.disjoint("y", y, "x", x);
        Checks.disjoint("y", y, "w", w);
        Checks.disjoint("y", y, "bias", bias);
        Checks.inPlaceOrDisjoint("y", y, "residual", residual);
        backend.classic().linearResidual(x, w, bias, residual, y);
    }

    private static void checkScoreInputs(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask) {
        FamilyChecks.score(p, f);
        checkQ(p, q);
        checkK(p, k);
        Checks.mask(p, mask);
    }

    private static void checkHard(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out) {
        checkScoreInputs(p, f, q, k, mask);
        Checks.shape("v", v, p.vShape(), V_AXES);
        Checks.shape("out", out, p.outShape(), OUT_AXES);
        checkOutput("out", out, q, k, v, mask, f);
    }

    /** An output must not overlap any input, the mask or a weight of the score function. */
    private static void checkOutput(String name, Tensor out, Tensor q, Tensor k, Tensor v, Mask mask, ScoreFunction f) {
        Checks.disjoint(name, out, "q", q);
        Checks.disjoint(name, out, "k", k);
        Checks.disjoint(name, out, "v", v);
        Checks.maskDisjoint(name, out, mask);
        FamilyChecks.disjointFromScore(name, out, f);
    }

    private static long rows(AttentionProblem p) {
        return (long) p.batch() * p.heads() * p.seqQ();
    }
}
