package dev.attn4j.bench.quick;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The representative shapes of {@code ./attn4j bench}: encoder, LLM prefill and decode, projections, softmax. */
final class Cases {
    private Cases() {
    }

    static float[] random(long seed, long n, float lo, float hi) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = lo + (hi - lo) * (float) rnd.nextDouble();
        }
        return a;
    }

    /** The cases of a run; {@code quick} keeps the small ones. */
    static List<BenchCase> all(boolean quick) {
        List<BenchCase> list = new ArrayList<>();
        list.add(new AttentionCase("encoder", AttentionProblem.of(8, 12, 12, 128, 128, 64), Mask.none()));
        if (!quick) {
            list.add(new AttentionCase("encoder", AttentionProblem.of(8, 12, 12, 512, 512, 64), Mask.none()));
            list.add(new AttentionCase("LLM prefill", AttentionProblem.of(1, 32, 8, 2048, 2048, 128), Mask.causalTopLeft()));
        }
        list.add(new AttentionCase("LLM decode", AttentionProblem.of(1, 32, 8, 1, quick ? 1024 : 4096, 128), Mask.causalBottomRight()));
        if (!quick) {
            // every query head with a K/V head of its own (MHA): a quarter of GQA's compute per byte of cache
            list.add(new AttentionCase("MHA decode", AttentionProblem.of(1, 32, 32, 1, 4096, 128), Mask.causalBottomRight()));
        }
        list.add(new LinearCase(quick ? 256 : 1024, 2304, 768));
        list.add(new SoftmaxCase(AttentionProblem.of(8, 12, 12, 128, 128, 64)));
        return list;
    }

    /** Fused attention; the slice is batch 0, one KV group and at most 256 query rows. */
    static final class AttentionCase implements BenchCase {
        final String label;
        final AttentionProblem p;
        final AttentionProblem slice;
        final Mask mask;
        final Tensor q;
        final Tensor k;
        final Tensor v;
        final Tensor out;
        final Tensor sliceOut;

        AttentionCase(String label, AttentionProblem p, Mask mask) {
            this.label = label;
            this.p = p;
            this.mask = mask;
            int sliceRows = Math.min(p.seqQ(), 256);
            this.slice = new AttentionProblem(1, p.groupSize(), 1, sliceRows, p.seqK(), p.headDim(), p.valueDim(), p.scale(), p.softcap());
            q = Tensor.of(random(1, Tensor.count(p.qShape()), -1f, 1f), p.qShape());
            k = Tensor.of(random(2, Tensor.count(p.kShape()), -1f, 1f), p.kShape());
            v = Tensor.of(random(3, Tensor.count(p.vShape()), -1f, 1f), p.vShape());
            out = Tensor.zeros(p.outShape());
            sliceOut = Tensor.zeros(slice.outShape());
        }

        private static Tensor head(Tensor t, int heads, int rows) {
            return t.narrow(0, 0, 1).narrow(1, 0, heads).narrow(2, 0, rows);
        }

        @Override
        public String kernel() {
            return "attention " + label;
        }

        @Override
        public String shape() {
            String kv = p.kvHeads() == p.heads() ? "" : " KVH=" + p.kvHeads();
            String s = p.seqQ() == p.seqK() ? "S=" + p.seqQ() : "Sq=" + p.seqQ() + " Sk=" + p.seqK();
            String m = mask == Mask.none() ? "" : " causal";
            return "B=" + p.batch() + " H=" + p.heads() + kv + " " + s + " D=" + p.headDim() + m;
        }

        @Override
        public double flops() {
            return p.flops();
        }

        @Override
        public double bytes() {
            return 4.0 * (Tensor.count(p.qShape()) + Tensor.count(p.kShape()) + Tensor.count(p.vShape()) + Tensor.count(p.outShape()));
        }

        @Override
        public boolean bandwidthBound() {
            return p.seqQ() < 8;
        }

        @Override
        public void runFull(Kernels kernels) {
            kernels.attention(p, q, k, v, mask, out);
        }

        @Override
        public void runSlice(Kernels kernels) {
            kernels.attention(slice, head(q, slice.heads(), slice.seqQ()), head(k, 1, p.seqK()), head(v, 1, p.seqK()), mask, sliceOut);
        }

        @Override
        public double sliceFlops() {
            return slice.flops();
        }

        @Override
        public double sliceBytes() {
            return bytes() * sliceFlops() / flops();
        }

        @Override
        public Tensor fullOutputSlice() {
            return head(out, slice.heads(), slice.seqQ());
        }

        @Override
        public Tensor outputSlice(float[] fullOutput) {
            return head(Tensor.of(fullOutput, p.outShape()), slice.heads(), slice.seqQ());
        }

        @Override
        public Tensor sliceOutput() {
            return sliceOut;
        }
    }

    /** y = x·Wᵀ + b, the fused QKV projection of a BERT-base layer (768 → 2304); the slice is 32 rows. */
    static final class LinearCase implements BenchCase {
        final int m;
        final int n;
        final int kDim;
        final Tensor x;
        final Tensor w;
        final Tensor bias;
        final Tensor y;
        final Tensor sliceY;
        final int sliceRows;

        LinearCase(int m, int n, int kDim) {
            this.m = m;
            this.n = n;
            this.kDim = kDim;
            x = Tensor.of(random(4, (long) m * kDim, -1f, 1f), m, kDim);
            w = Tensor.of(random(5, (long) n * kDim, -0.1f, 0.1f), n, kDim);
            bias = Tensor.of(random(6, n, -1f, 1f), n);
            y = Tensor.zeros(m, n);
            sliceRows = Math.min(m, 32);
            sliceY = Tensor.zeros(sliceRows, n);
        }

        @Override
        public String kernel() {
            return "projection";
        }

        @Override
        public String shape() {
            return "M=" + m + " " + kDim + "→" + n;
        }

        @Override
        public double flops() {
            return 2.0 * m * n * kDim;
        }

        @Override
        public double bytes() {
            return 4.0 * ((double) m * kDim + (double) n * kDim + (double) m * n + n);
        }

        @Override
        public boolean bandwidthBound() {
            return false;
        }

        @Override
        public void runFull(Kernels k) {
            k.linear(x, w, bias, y);
        }

        @Override
        public void runSlice(Kernels k) {
            k.linear(x.narrow(0, 0, sliceRows), w, bias, sliceY);
        }

        @Override
        public double sliceFlops() {
            return 2.0 * sliceRows * n * kDim;
        }

        @Override
        public double sliceBytes() {
            return 4.0 * ((double) sliceRows * kDim + (double) n * kDim + (double) sliceRows * n + n);
        }

        @Override
        public Tensor fullOutputSlice() {
            return y.narrow(0, 0, sliceRows);
        }

        @Override
        public Tensor outputSlice(float[] fullOutput) {
            return Tensor.of(fullOutput, m, n).narrow(0, 0, sliceRows);
        }

        @Override
        public Tensor sliceOutput() {
            return sliceY;
        }
    }

    /** Fused scale + mask + softmax in place over [B,H,S,S] scores; the slice is one head. */
    static final class SoftmaxCase implements BenchCase {
        final AttentionProblem p;
        final float[] raw;
        final Tensor scores;
        final Tensor sliceScores;

        SoftmaxCase(AttentionProblem p) {
            this.p = p;
            raw = random(7, Tensor.count(p.scoreShape()), -8f, 8f);
            scores = Tensor.of(raw.clone(), p.scoreShape());
            sliceScores = Tensor.zeros(1, 1, p.seqQ(), p.seqK());
        }

        private AttentionProblem sliceProblem() {
            return new AttentionProblem(1, 1, 1, p.seqQ(), p.seqK(), p.headDim(), p.valueDim(), p.scale(), p.softcap());
        }

        @Override
        public String kernel() {
            return "masked softmax";
        }

        @Override
        public String shape() {
            return "B=" + p.batch() + " H=" + p.heads() + " " + p.seqQ() + "×" + p.seqK() + " causal";
        }

        @Override
        public double flops() {
            // max, exp (counted as one), sum, scale: about 5 operations per element
            return 5.0 * Tensor.count(p.scoreShape());
        }

        @Override
        public double bytes() {
            return 8.0 * Tensor.count(p.scoreShape());
        }

        @Override
        public boolean bandwidthBound() {
            return true;
        }

        @Override
        public void runFull(Kernels k) {
            // in place: each run re-softmaxes the previous result, which keeps the same cost
            k.maskedSoftmax(p, Mask.causalTopLeft(), scores);
        }

        @Override
        public void runSlice(Kernels k) {
            // batch 0, head 0 are the first seqQ·seqK raw values
            System.arraycopy(raw, 0, sliceScores.array(), 0, p.seqQ() * p.seqK());
            k.maskedSoftmax(sliceProblem(), Mask.causalTopLeft(), sliceScores);
        }

        @Override
        public double sliceFlops() {
            return 5.0 * p.seqQ() * p.seqK();
        }

        @Override
        public double sliceBytes() {
            return 8.0 * p.seqQ() * p.seqK();
        }

        @Override
        public Tensor fullOutputSlice() {
            return scores.narrow(0, 0, 1).narrow(1, 0, 1);
        }

        @Override
        public Tensor outputSlice(float[] fullOutput) {
            return Tensor.of(fullOutput, p.scoreShape()).narrow(0, 0, 1).narrow(1, 0, 1);
        }

        /** Resets the full scores to the raw values, so that the compared slice is one softmax of them. */
        @Override
        public void beforeCheck() {
            System.arraycopy(raw, 0, scores.array(), 0, raw.length);
        }

        @Override
        public Tensor sliceOutput() {
            return sliceScores;
        }
    }
}
