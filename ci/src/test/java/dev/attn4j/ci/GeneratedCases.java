package dev.attn4j.ci;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Small cases in the converted ONNX format, with expected values from {@link OnnxAttentionOracle} or a
 * formula in this file (never from attn4j): they cover the mapping's hard parts when the shared
 * conformance folder is missing, and serve as the base of the negative tests.
 */
final class GeneratedCases {
    private GeneratedCases() {
    }

    private static float[] random(Random rnd, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rnd.nextFloat() * 2f - 1f) * scale;
        }
        return x;
    }

    /** Writes every generated case under {@code dir}; returns their folders. */
    static List<Path> writeAll(Path dir) throws IOException {
        return List.of(attention3dGqaCausalBoolMaskPast(dir), attention4dNonpadCausalPaddedMask(dir), softmax(dir),
                gemmTransposed(dir));
    }

    /**
     * Opset 23, 3D inputs, GQA 4/2, Dv ≠ D, past/present (P=2), is_causal (offset = P), softcap, a bool
     * mask [Sq, T] with false entries, and qk_matmul_output mode 2 (holds −∞).
     */
    static Path attention3dGqaCausalBoolMaskPast(Path dir) throws IOException {
        Random rnd = new Random(23);
        int b = 2;
        int h = 4;
        int kvh = 2;
        int sq = 3;
        int sk = 4;
        int p = 2;
        int d = 5;
        int dv = 6;
        int t = p + sk;
        float[] q = random(rnd, b * sq * h * d, 1.5f);
        float[] k = random(rnd, b * sk * kvh * d, 1f);
        float[] v = random(rnd, b * sk * kvh * dv, 1f);
        float[] pk = random(rnd, b * kvh * p * d, 1f);
        float[] pv = random(rnd, b * kvh * p * dv, 1f);
        boolean[] mask = new boolean[sq * t];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = rnd.nextFloat() > 0.3f;
        }
        mask[0] = false; // row 0 keeps key 1 and 2 (causal allows keys 0..2)
        float softcap = 1.5f;

        OnnxAttentionOracle.Call c = new OnnxAttentionOracle.Call();
        c.batch = b;
        c.heads = h;
        c.kvHeads = kvh;
        c.seqQ = sq;
        c.seqK = sk;
        c.past = p;
        c.headDim = d;
        c.valueDim = dv;
        c.q = OnnxAttentionOracle.from3d(q, b, sq, h, d);
        c.k = OnnxAttentionOracle.concat(OnnxAttentionOracle.widen(pk), OnnxAttentionOracle.from3d(k, b, sk, kvh, d), b, kvh, p, sk, d);
        c.v = OnnxAttentionOracle.concat(OnnxAttentionOracle.widen(pv), OnnxAttentionOracle.from3d(v, b, sk, kvh, dv), b, kvh, p, sk, dv);
        c.scale = (float) (1.0 / Math.sqrt(d));
        c.softcap = softcap;
        c.causal = true;
        c.boolMask = true;
        c.maskShape = new int[] {sq, t};
        c.mask = new double[mask.length];
        for (int i = 0; i < mask.length; i++) {
            c.mask[i] = mask[i] ? 1 : 0;
        }
        OnnxAttentionOracle.Out o = OnnxAttentionOracle.run(c);

        return new CaseWriter("gen_attention_3d_gqa_causal_boolmask_past_softcap", "Attention", 23)
                .attr("q_num_heads", h).attr("kv_num_heads", kvh).attr("is_causal", 1).attr("softcap", softcap)
                .attr("qk_matmul_output_mode", 2)
                .nodeInputs("Q", "K", "V", "attn_mask", "past_key", "past_value")
                .nodeOutputs("Y", "present_key", "present_value", "qk_matmul_output")
                .input("Q", q, b, sq, h * d).input("K", k, b, sk, kvh * d).input("V", v, b, sk, kvh * dv)
                .inputBool("attn_mask", mask, sq, t)
                .input("past_key", pk, b, kvh, p, d).input("past_value", pv, b, kvh, p, dv)
                .output("Y", OnnxAttentionOracle.to3d(o.y(), b, h, sq, dv), b, sq, h * dv)
                .output("present_key", OnnxAttentionOracle.narrow(c.k), b, kvh, t, d)
                .output("present_value", OnnxAttentionOracle.narrow(c.v), b, kvh, t, dv)
                .output("qk_matmul_output", OnnxAttentionOracle.narrow(o.masked()), b, h, sq, t)
                .write(dir);
    }

    /**
     * Opset 24, 4D inputs, is_causal with nonpad_kv_seqlen (offsets nonpad − Sq = 2 and −1, so batch 1's
     * first query row is fully masked and must be zeros), a float mask [B, 1, Sq, 4] shorter than the 5
     * keys (padded with −∞), a scale, and qk_matmul_output mode 3 (softmax).
     */
    static Path attention4dNonpadCausalPaddedMask(Path dir) throws IOException {
        Random rnd = new Random(24);
        int b = 2;
        int h = 2;
        int sq = 3;
        int sk = 5;
        int d = 4;
        int maskKeys = 4;
        float[] q = random(rnd, b * h * sq * d, 2f);
        float[] k = random(rnd, b * h * sk * d, 1f);
        float[] v = random(rnd, b * h * sk * d, 1f);
        float[] mask = random(rnd, b * sq * maskKeys, 0.5f);
        long[] nonpad = {5, 2};
        float scale = 0.3f;

        OnnxAttentionOracle.Call c = new OnnxAttentionOracle.Call();
        c.batch = b;
        c.heads = h;
        c.kvHeads = h;
        c.seqQ = sq;
        c.seqK = sk;
        c.headDim = d;
        c.valueDim = d;
        c.q = OnnxAttentionOracle.widen(q);
        c.k = OnnxAttentionOracle.widen(k);
        c.v = OnnxAttentionOracle.widen(v);
        c.scale = scale;
        c.causal = true;
        c.nonpad = nonpad;
        c.mask = OnnxAttentionOracle.widen(mask);
        c.maskShape = new int[] {b, 1, sq, maskKeys};
        OnnxAttentionOracle.Out o = OnnxAttentionOracle.run(c);

        return new CaseWriter("gen_attention_4d_nonpad_causal_padded_mask", "Attention", 24)
                .attr("is_causal", 1).attr("scale", scale).attr("qk_matmul_output_mode", 3)
                .nodeInputs("Q", "K", "V", "attn_mask", "", "", "nonpad_kv_seqlen")
                .nodeOutputs("Y", "", "", "qk_matmul_output")
                .input("Q", q, b, h, sq, d).input("K", k, b, h, sk, d).input("V", v, b, h, sk, d)
                .input("attn_mask", mask, b, 1, sq, maskKeys)
                .inputInt64("nonpad_kv_seqlen", nonpad, b)
                .output("Y", OnnxAttentionOracle.narrow(o.y()), b, h, sq, d)
                .output("qk_matmul_output", OnnxAttentionOracle.narrow(o.softmax()), b, h, sq, sk)
                .write(dir);
    }

    /** Softmax over axis 1 of a [2, 3, 2] tensor. */
    static Path softmax(Path dir) throws IOException {
        float[] x = {1f, -2f, 0.5f, 3f, -1f, 0f, 2f, 2f, -3f, 1f, 0.25f, -0.5f};
        float[] y = new float[x.length];
        for (int a = 0; a < 2; a++) {
            for (int c = 0; c < 2; c++) {
                double sum = 0;
                for (int m = 0; m < 3; m++) {
                    sum += Math.exp(x[a * 6 + m * 2 + c]);
                }
                for (int m = 0; m < 3; m++) {
                    y[a * 6 + m * 2 + c] = (float) (Math.exp(x[a * 6 + m * 2 + c]) / sum);
                }
            }
        }
        return new CaseWriter("gen_softmax_axis1", "Softmax", 13).attr("axis", 1)
                .nodeInputs("x").nodeOutputs("y").input("x", x, 2, 3, 2).output("y", y, 2, 3, 2).write(dir);
    }

    /** Gemm with transA, transB, alpha, beta and a [N] bias. */
    static Path gemmTransposed(Path dir) throws IOException {
        Random rnd = new Random(13);
        int m = 3;
        int n = 2;
        int kk = 4;
        float[] a = random(rnd, kk * m, 1f); // [K, M], transA
        float[] bm = random(rnd, n * kk, 1f); // [N, K], transB
        float[] c = random(rnd, n, 1f);
        float alpha = 0.5f;
        float beta = 2f;
        float[] y = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int e = 0; e < kk; e++) {
                    acc += (double) a[e * m + i] * bm[j * kk + e];
                }
                y[i * n + j] = (float) (alpha * acc + beta * c[j]);
            }
        }
        return new CaseWriter("gen_gemm_transposed", "Gemm", 13).attr("transA", 1).attr("transB", 1)
                .attr("alpha", alpha).attr("beta", beta)
                .nodeInputs("a", "b", "c").nodeOutputs("y")
                .input("a", a, kk, m).input("b", bm, n, kk).input("c", c, n).output("y", y, m, n).write(dir);
    }
}
