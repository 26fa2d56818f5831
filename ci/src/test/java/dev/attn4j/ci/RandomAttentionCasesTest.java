package dev.attn4j.ci;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random ONNX Attention cases — 3D and 4D, GQA, Dv ≠ D, past/present, nonpad_kv_seqlen, is_causal,
 * bool and float masks of every rank with broadcast axes and short last axes, scale, softcap, every
 * qk_matmul_output mode — with expected values from {@link OnnxAttentionOracle}, run through the
 * runner on every available backend. The seed of a failing case is in its name;
 * {@code -Dattn4j.test.seed=S -Dattn4j.test.cases=N} runs other or more of them.
 */
class RandomAttentionCasesTest {
    private static final int CASES = Integer.getInteger("attn4j.test.cases", 60);

    @Test
    void randomCasesMatchTheSpecificationOracle(@TempDir Path tmp) throws IOException {
        long base = Long.getLong("attn4j.test.seed", 20260101L);
        List<String> backends = ParityRunner.resolveBackends("all");
        List<String> failures = new ArrayList<>();
        for (int n = 0; n < CASES; n++) {
            long seed = base + n;
            Path dir = write(tmp, seed);
            for (String backend : backends) {
                ParityRunner.Outcome o = ParityRunner.runOne(dir, backend);
                if (!o.passed()) {
                    failures.add(o.line());
                }
            }
        }
        assertTrue(failures.isEmpty(), "base seed " + base + ":\n" + String.join("\n", failures));
    }

    private static float[] random(Random rnd, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rnd.nextFloat() * 2f - 1f) * scale;
        }
        return x;
    }

    static Path write(Path tmp, long seed) throws IOException {
        Random rnd = new Random(seed);
        boolean threeD = rnd.nextBoolean();
        int b = 1 + rnd.nextInt(3);
        int kvh = 1 + rnd.nextInt(3);
        int h = kvh * (1 + rnd.nextInt(3));
        int sq = 1 + rnd.nextInt(7);
        int sk = 1 + rnd.nextInt(9);
        int p = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(4) : 0;
        int d = 1 + rnd.nextInt(9);
        int dv = rnd.nextBoolean() ? d : 1 + rnd.nextInt(9);
        int t = p + sk;
        boolean opset24 = rnd.nextBoolean();
        boolean nonpad = opset24 && rnd.nextBoolean();
        boolean causal = rnd.nextBoolean();
        int maskKind = rnd.nextInt(3); // 0 none, 1 bool, 2 float
        float softcap = rnd.nextInt(3) == 0 ? 0.5f + rnd.nextFloat() * 3f : 0f;
        Float scale = rnd.nextBoolean() ? 0.05f + rnd.nextFloat() : null;
        int qkMode = rnd.nextInt(5) - 1; // -1: no qk output

        float[] q = random(rnd, b * h * sq * d, 2f);
        float[] k = random(rnd, b * kvh * sk * d, 1f);
        float[] v = random(rnd, b * kvh * sk * dv, 1f);
        float[] pk = p > 0 ? random(rnd, b * kvh * p * d, 1f) : null;
        float[] pv = p > 0 ? random(rnd, b * kvh * p * dv, 1f) : null;

        OnnxAttentionOracle.Call c = new OnnxAttentionOracle.Call();
        c.batch = b;
        c.heads = h;
        c.kvHeads = kvh;
        c.seqQ = sq;
        c.seqK = sk;
        c.past = p;
        c.headDim = d;
        c.valueDim = dv;
        double[] q4 = threeD ? OnnxAttentionOracle.from3d(q, b, sq, h, d) : OnnxAttentionOracle.widen(q);
        double[] k4 = threeD ? OnnxAttentionOracle.from3d(k, b, sk, kvh, d) : OnnxAttentionOracle.widen(k);
        double[] v4 = threeD ? OnnxAttentionOracle.from3d(v, b, sk, kvh, dv) : OnnxAttentionOracle.widen(v);
        c.q = q4;
        c.k = p > 0 ? OnnxAttentionOracle.concat(OnnxAttentionOracle.widen(pk), k4, b, kvh, p, sk, d) : k4;
        c.v = p > 0 ? OnnxAttentionOracle.concat(OnnxAttentionOracle.widen(pv), v4, b, kvh, p, sk, dv) : v4;
        c.scale = scale != null ? scale : (float) (1.0 / Math.sqrt(d));
        c.softcap = softcap;
        c.causal = causal;
        long[] lengths = null;
        if (nonpad) {
            lengths = new long[b];
            for (int i = 0; i < b; i++) {
                lengths[i] = rnd.nextInt(t + 1);
            }
            c.nonpad = lengths;
        }
        int[] maskShape = null;
        float[] maskF = null;
        boolean[] maskB = null;
        if (maskKind != 0) {
            int rank = 2 + rnd.nextInt(3);
            int[] full = {b, h, sq, t};
            maskShape = new int[rank];
            for (int a = 0; a < rank; a++) {
                int axis = 4 - rank + a;
                maskShape[a] = axis < 3 && rnd.nextInt(3) == 0 ? 1 : full[axis];
            }
            if (rnd.nextInt(3) == 0) {
                maskShape[rank - 1] = 1 + rnd.nextInt(t); // shorter than the keys: padded with -inf
            }
            int count = 1;
            for (int s : maskShape) {
                count *= s;
            }
            c.maskShape = maskShape;
            c.mask = new double[count];
            if (maskKind == 1) {
                c.boolMask = true;
                maskB = new boolean[count];
                for (int i = 0; i < count; i++) {
                    maskB[i] = rnd.nextFloat() > 0.3f;
                    c.mask[i] = maskB[i] ? 1 : 0;
                }
            } else {
                maskF = random(rnd, count, 1f);
                if (rnd.nextBoolean()) {
                    maskF[rnd.nextInt(count)] = Float.NEGATIVE_INFINITY;
                }
                c.mask = OnnxAttentionOracle.widen(maskF);
            }
        }
        OnnxAttentionOracle.Out o = OnnxAttentionOracle.run(c);

        List<String> ins = new ArrayList<>(List.of("Q", "K", "V", maskKind != 0 ? "attn_mask" : "",
                p > 0 ? "past_key" : "", p > 0 ? "past_value" : ""));
        if (nonpad) {
            ins.add("nonpad_kv_seqlen");
        }
        while (!ins.isEmpty() && ins.getLast().isEmpty()) {
            ins.removeLast();
        }
        List<String> outs = new ArrayList<>(List.of("Y", p > 0 ? "present_key" : "", p > 0 ? "present_value" : "",
                qkMode >= 0 ? "qk_matmul_output" : ""));
        while (outs.getLast().isEmpty()) {
            outs.removeLast();
        }
        CaseWriter w = new CaseWriter("gen_random_attention_seed_" + seed, "Attention", opset24 ? 24 : 23)
                .nodeInputs(ins.toArray(String[]::new)).nodeOutputs(outs.toArray(String[]::new));
        if (threeD) {
            w.attr("q_num_heads", h).attr("kv_num_heads", kvh);
            w.input("Q", q, b, sq, h * d).input("K", k, b, sk, kvh * d).input("V", v, b, sk, kvh * dv);
        } else {
            w.input("Q", q, b, h, sq, d).input("K", k, b, kvh, sk, d).input("V", v, b, kvh, sk, dv);
        }
        if (causal) {
            w.attr("is_causal", 1);
        }
        if (scale != null) {
            w.attr("scale", scale);
        }
        if (softcap > 0) {
            w.attr("softcap", softcap);
        }
        if (qkMode > 0) {
            w.attr("qk_matmul_output_mode", qkMode);
        }
        if (maskKind == 1) {
            w.inputBool("attn_mask", maskB, maskShape);
        } else if (maskKind == 2) {
            w.input("attn_mask", maskF, maskShape);
        }
        if (p > 0) {
            w.input("past_key", pk, b, kvh, p, d).input("past_value", pv, b, kvh, p, dv);
        }
        if (nonpad) {
            w.inputInt64("nonpad_kv_seqlen", lengths, b);
        }
        if (threeD) {
            w.output("Y", OnnxAttentionOracle.to3d(o.y(), b, h, sq, dv), b, sq, h * dv);
        } else {
            w.output("Y", OnnxAttentionOracle.narrow(o.y()), b, h, sq, dv);
        }
        if (p > 0) {
            w.output("present_key", OnnxAttentionOracle.narrow(c.k), b, kvh, t, d);
            w.output("present_value", OnnxAttentionOracle.narrow(c.v), b, kvh, t, dv);
        }
        if (qkMode >= 0) {
            double[] s = switch (qkMode) {
                case 0 -> o.scaled();
                case 1 -> o.softcapped();
                case 2 -> o.masked();
                default -> o.softmax();
            };
            w.output("qk_matmul_output", OnnxAttentionOracle.narrow(s), b, h, sq, t);
        }
        return w.write(tmp);
    }
}
