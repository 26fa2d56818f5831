package dev.attn4j.langchain4j;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A BERT encoder's forward pass on attn4j's kernels, over one padded batch of token sequences of
 * different lengths ({@code T = B·S} token rows):
 *
 * <pre>
 *   x = LayerNorm(word[ids] + type[typeIds] + position[0..S))               (gather in Java)
 *   per layer:
 *     qkv = linear(x, Wqkv, bqkv)                       [T, 3E]; Q, K and V are [B,S,3,H,D] views of it
 *     ctx = attention(q, k, v, keyLengths(lengths))     written as [B,S,H,D]: the heads already merged
 *     x   = LayerNorm(linearResidual(ctx, Wo, bo, x))   bias and residual added in the SGEMM's epilogue
 *     x   = LayerNorm(linearResidual(gelu(linear(x, W1, b1)), W2, b2, x))   exact GELU
 * </pre>
 *
 * No activation is copied between kernels: every kernel reads its input where the previous one wrote
 * it, in a layout its fast path takes (unit stride along the last axis, heap arrays). Rows of padded
 * positions are computed but never read by the caller; their keys are masked, so the real rows do not
 * depend on them.
 *
 * <p>Thread-safe: each thread works in its own activations, which a platform thread keeps for its next call
 * while they are small ({@link #KEEP_FLOATS}); the hidden states {@link #encode} returns live in them until
 * that thread's next call.
 */
final class BertEncoder {
    /**
     * The most floats of activations a thread keeps between calls (16 MiB: 32 texts of 32 tokens, or one
     * of 512); larger batches allocate theirs per call, where allocation is a smaller share of the time.
     */
    static final int KEEP_FLOATS = 4 << 20;
    private static final ThreadLocal<Activations> KEPT = new ThreadLocal<>();

    private final BertWeights w;
    private final Kernels kernels;
    private final Tensor embNormScale;
    private final Tensor embNormBias;
    private final List<LayerTensors> layers = new ArrayList<>();

    private record LayerTensors(Tensor qkv, Tensor qkvBias, Tensor output, Tensor outputBias, Tensor norm1Scale,
                                Tensor norm1Bias, float norm1Eps, Tensor up, Tensor upBias, Tensor down, Tensor downBias,
                                Tensor norm2Scale, Tensor norm2Bias, float norm2Eps) {
    }

    /** Receives the end of each stage of {@link #encode} (the stage profile in the tests); a no-op by default. */
    interface Laps {
        Laps NONE = stage -> { };

        void lap(String stage);
    }

    BertEncoder(BertWeights weights, Kernels kernels) {
        this.w = Objects.requireNonNull(weights, "weights");
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        int e = w.hidden();
        int f = w.intermediate();
        embNormScale = Tensor.of(w.embeddingNorm().scale(), e);
        embNormBias = Tensor.of(w.embeddingNorm().bias(), e);
        for (BertWeights.Layer l : w.layers()) {
            layers.add(new LayerTensors(
                    outIn(l.qkv(), 3 * e, e), Tensor.of(l.qkvBias(), 3 * e),
                    outIn(l.output(), e, e), Tensor.of(l.outputBias(), e),
                    Tensor.of(l.attentionNorm().scale(), e), Tensor.of(l.attentionNorm().bias(), e), l.attentionNorm().epsilon(),
                    outIn(l.up(), f, e), Tensor.of(l.upBias(), f),
                    outIn(l.down(), e, f), Tensor.of(l.downBias(), e),
                    Tensor.of(l.outputNorm().scale(), e), Tensor.of(l.outputNorm().bias(), e), l.outputNorm().epsilon()));
        }
    }

    /** The {@code [out, in]} weight {@code linear} takes, as a view of the row-major {@code [in, out]} array. */
    private static Tensor outIn(float[] inOut, int out, int in) {
        return Tensor.view(inOut, 0, new int[] {out, in}, new long[] {1, out});
    }

    BertWeights weights() {
        return w;
    }

    Kernels kernels() {
        return kernels;
    }

    /**
     * The last hidden state {@code [B, S, E]} (row-major, offset 0) of a batch: sequence {@code b} is
     * {@code ids[b]} with token types {@code typeIds[b]} (same length), padded to the longest one. It lives in
     * this thread's activations: read it before this thread encodes again.
     */
    Tensor encode(long[][] ids, long[][] typeIds) {
        return encode(ids, typeIds, Laps.NONE);
    }

    /** {@link #encode(long[][], long[][])}, telling {@code laps} where each stage ends. */
    Tensor encode(long[][] ids, long[][] typeIds, Laps laps) {
        int batch = ids.length;
        if (batch == 0 || typeIds.length != batch) {
            throw new IllegalArgumentException("ids and typeIds must hold the same number (>= 1) of sequences but hold "
                    + batch + " and " + typeIds.length);
        }
        int seq = 0;
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = ids[b].length;
            if (lengths[b] < 1 || typeIds[b].length != lengths[b]) {
                throw new IllegalArgumentException("sequence " + b + " must have >= 1 token and as many type ids but has "
                        + ids[b].length + " tokens and " + typeIds[b].length + " type ids");
            }
            seq = Math.max(seq, lengths[b]);
        }
        if (seq > w.maxPositions()) {
            throw new IllegalArgumentException("a sequence has " + seq + " tokens but the model has " + w.maxPositions()
                    + " positions");
        }
        int e = w.hidden();
        int h = w.heads();
        int d = w.headDim();
        int f = w.intermediate();
        int rows = batch * seq;

        Activations a = activations(rows, e, f);
        laps.lap("buffers");
        embed(ids, typeIds, seq, a.x);
        laps.lap("embed");
        Tensor x = Tensor.of(a.x, rows, e);
        Tensor x3 = Tensor.of(a.x, batch, seq, e);
        kernels.layerNorm(x, 1, embNormScale, embNormBias, w.embeddingNorm().epsilon(), x, null, null);
        laps.lap("layerNorm");

        AttentionProblem p = AttentionProblem.of(batch, h, h, seq, seq, d).withScale(w.attentionScale());
        Mask mask = Mask.keyLengths(lengths);
        Tensor qkv = Tensor.of(a.qkv, rows, 3 * e);
        Tensor[] heads = Tensor.packedQkv(a.qkv, batch, seq, h, d);
        Tensor ctx = Tensor.of(a.ctx, rows, e);
        Tensor ctxHeads = Tensor.bshd(a.ctx, batch, seq, h, d);
        Tensor inter = Tensor.of(a.inter, rows, f);
        for (LayerTensors l : layers) {
            kernels.linear(x, l.qkv, l.qkvBias, qkv);
            laps.lap("qkv projection");
            kernels.attention(p, heads[0], heads[1], heads[2], mask, ctxHeads);
            laps.lap("attention");
            kernels.linearResidual(ctx, l.output, l.outputBias, x, x);
            laps.lap("output projection + residual");
            kernels.layerNorm(x, 1, l.norm1Scale, l.norm1Bias, l.norm1Eps, x, null, null);
            laps.lap("layerNorm");
            kernels.linear(x, l.up, l.upBias, inter);
            laps.lap("ffn up");
            kernels.gelu(inter, GeluApproximation.NONE, inter);
            laps.lap("gelu");
            kernels.linearResidual(inter, l.down, l.downBias, x, x);
            laps.lap("ffn down + residual");
            kernels.layerNorm(x, 1, l.norm2Scale, l.norm2Bias, l.norm2Eps, x, null, null);
            laps.lap("layerNorm");
        }
        return x3;
    }

    /** One thread's activations: the hidden state and the buffers between kernels, each at least as large as asked. */
    private static final class Activations {
        final float[] x;
        final float[] qkv;
        final float[] ctx;
        final float[] inter;

        Activations(int rows, int e, int f) {
            x = new float[rows * e];
            qkv = new float[rows * 3 * e];
            ctx = new float[rows * e];
            inter = new float[rows * f];
        }

        boolean fits(int rows, int e, int f) {
            return x.length >= rows * e && inter.length >= rows * f;
        }

        long floats() {
            return (long) x.length + qkv.length + ctx.length + inter.length;
        }
    }

    private static Activations activations(int rows, int e, int f) {
        Activations kept = KEPT.get();
        if (kept != null && kept.fits(rows, e, f)) {
            return kept;
        }
        Activations a = new Activations(rows, e, f);
        // virtual threads are many and short-lived: they allocate per call rather than each keep a copy
        if (a.floats() <= KEEP_FLOATS && !Thread.currentThread().isVirtual()) {
            KEPT.set(a);
        }
        return a;
    }

    /**
     * x[b, s] = word[ids] + type[typeIds] + position[positionIds[s]], in the graph's order of additions; the
     * rows of padded positions are zeros.
     */
    private void embed(long[][] ids, long[][] typeIds, int seq, float[] x) {
        int e = w.hidden();
        float[] word = w.wordEmbeddings();
        float[] type = w.typeEmbeddings();
        float[] pos = w.positionEmbeddings();
        for (int b = 0; b < ids.length; b++) {
            int length = ids[b].length;
            for (int s = 0; s < length; s++) {
                int id = checkId("token id", ids[b][s], w.vocabSize());
                int t = checkId("token type id", typeIds[b][s], w.typeCount());
                int ps = checkId("position id", w.positionIds()[s], pos.length / e);
                int at = (b * seq + s) * e;
                for (int c = 0; c < e; c++) {
                    x[at + c] = (word[id * e + c] + type[t * e + c]) + pos[ps * e + c];
                }
            }
            Arrays.fill(x, (b * seq + length) * e, (b + 1) * seq * e, 0f);
        }
    }

    private static int checkId(String what, long id, int size) {
        if (id < 0 || id >= size) {
            throw new IllegalArgumentException(what + " " + id + " is outside [0, " + size + ")");
        }
        return (int) id;
    }
}
