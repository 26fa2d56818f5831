package dev.attn4j.langchain4j;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A BERT encoder's forward pass on attn4j's kernels, over one padded batch of token sequences of
 * different lengths:
 *
 * <pre>
 *   x = LayerNorm(word[ids] + type[typeIds] + position[0..S))                      (gather in Java)
 *   per layer:
 *     q, k, v = projectQkv(x)                                  straight into [B, H, S, D]
 *     a       = attention(q, k, v, keyLengths(lengths))        padded keys masked
 *     x       = LayerNorm(x + mergeHeads(a, Wo, bo))           residual add in Java
 *     x       = LayerNorm(x + linear(gelu(linear(x, W1, b1)), W2, b2))   exact GELU
 * </pre>
 *
 * Rows of padded positions are computed but never read by the caller; their keys are masked, so the
 * real rows do not depend on them. Thread-safe: each call allocates its own activations.
 */
final class BertEncoder {
    private final BertWeights w;
    private final Kernels kernels;
    private final Tensor embNormScale;
    private final Tensor embNormBias;
    private final List<LayerTensors> layers = new ArrayList<>();

    private record LayerTensors(Tensor qkv, Tensor qkvBias, Tensor output, Tensor outputBias, Tensor norm1Scale,
                                Tensor norm1Bias, float norm1Eps, Tensor up, Tensor upBias, Tensor down, Tensor downBias,
                                Tensor norm2Scale, Tensor norm2Bias, float norm2Eps) {
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
                    Tensor.of(l.qkv(), 3 * e, e), Tensor.of(l.qkvBias(), 3 * e),
                    Tensor.of(l.output(), e, e), Tensor.of(l.outputBias(), e),
                    Tensor.of(l.attentionNorm().scale(), e), Tensor.of(l.attentionNorm().bias(), e), l.attentionNorm().epsilon(),
                    Tensor.of(l.up(), f, e), Tensor.of(l.upBias(), f),
                    Tensor.of(l.down(), e, f), Tensor.of(l.downBias(), e),
                    Tensor.of(l.outputNorm().scale(), e), Tensor.of(l.outputNorm().bias(), e), l.outputNorm().epsilon()));
        }
    }

    BertWeights weights() {
        return w;
    }

    Kernels kernels() {
        return kernels;
    }

    /**
     * The last hidden state {@code [B, S, E]} (row-major) of a batch: sequence {@code b} is
     * {@code ids[b]} with token types {@code typeIds[b]} (same length), padded to the longest one.
     */
    float[] encode(long[][] ids, long[][] typeIds) {
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

        float[] x = new float[rows * e];
        embed(ids, typeIds, seq, x);
        Tensor x3 = Tensor.of(x, batch, seq, e);
        kernels.layerNorm(x3, 2, embNormScale, embNormBias, w.embeddingNorm().epsilon(), x3, null, null);

        AttentionProblem p = AttentionProblem.of(batch, h, h, seq, seq, d).withScale(w.attentionScale());
        Mask mask = Mask.keyLengths(lengths);
        float[] q = new float[rows * e];
        float[] k = new float[rows * e];
        float[] v = new float[rows * e];
        float[] ctx = new float[rows * e];
        float[] y = new float[rows * e];
        float[] inter = new float[rows * f];
        Tensor q4 = Tensor.bhsd(q, batch, h, seq, d);
        Tensor k4 = Tensor.bhsd(k, batch, h, seq, d);
        Tensor v4 = Tensor.bhsd(v, batch, h, seq, d);
        Tensor ctx4 = Tensor.bhsd(ctx, batch, h, seq, d);
        Tensor y3 = Tensor.of(y, batch, seq, e);
        Tensor x2 = Tensor.of(x, rows, e);
        Tensor y2 = Tensor.of(y, rows, e);
        Tensor inter2 = Tensor.of(inter, rows, f);
        for (LayerTensors l : layers) {
            kernels.projectQkv(p, x3, l.qkv, l.qkvBias, q4, k4, v4);
            kernels.attention(p, q4, k4, v4, mask, ctx4);
            kernels.mergeHeads(p, ctx4, l.output, l.outputBias, y3);
            addInPlace(x, y); // x = x + attention output: no residual-add kernel in attn4j's API
            kernels.layerNorm(x3, 2, l.norm1Scale, l.norm1Bias, l.norm1Eps, x3, null, null);
            kernels.linear(x2, l.up, l.upBias, inter2);
            kernels.gelu(inter2, GeluApproximation.NONE, inter2);
            kernels.linear(inter2, l.down, l.downBias, y2);
            addInPlace(x, y);
            kernels.layerNorm(x3, 2, l.norm2Scale, l.norm2Bias, l.norm2Eps, x3, null, null);
        }
        return x;
    }

    /** x[b, s] = word[ids] + type[typeIds] + position[positionIds[s]], in the graph's order of additions. */
    private void embed(long[][] ids, long[][] typeIds, int seq, float[] x) {
        int e = w.hidden();
        float[] word = w.wordEmbeddings();
        float[] type = w.typeEmbeddings();
        float[] pos = w.positionEmbeddings();
        for (int b = 0; b < ids.length; b++) {
            for (int s = 0; s < ids[b].length; s++) {
                int id = checkId("token id", ids[b][s], w.vocabSize());
                int t = checkId("token type id", typeIds[b][s], w.typeCount());
                int ps = checkId("position id", w.positionIds()[s], pos.length / e);
                int at = (b * seq + s) * e;
                for (int c = 0; c < e; c++) {
                    x[at + c] = (word[id * e + c] + type[t * e + c]) + pos[ps * e + c];
                }
            }
        }
    }

    private static int checkId(String what, long id, int size) {
        if (id < 0 || id >= size) {
            throw new IllegalArgumentException(what + " " + id + " is outside [0, " + size + ")");
        }
        return (int) id;
    }

    private static void addInPlace(float[] acc, float[] add) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += add[i];
        }
    }
}
