package dev.attn4j.testing;

import static dev.attn4j.testing.Fixtures.ORACLE;
import static dev.attn4j.testing.Fixtures.assertClose;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Parity of a backend's projection family (linear, fused QKV into heads, head merge) with the float64
 * oracle. Every backend extends it and supplies {@link #kernels()}.
 */
public abstract class ProjectionParityTest {

    /** The kernels under test. */
    protected abstract Kernels kernels();

    /** Relative tolerance: sums of up to a few hundred products of values in [-1, 1]. */
    protected double tolerance() {
        return 1e-5;
    }

    private static final int[][] MNK = {
        {1, 1, 1}, {3, 7, 5}, {17, 33, 65}, {129, 65, 31}, {33, 129, 256}, {16, 16, 16}, {63, 127, 17}, {1, 1021, 64},
        {65, 3, 1021},
    };

    @Test
    void linearOnSizesThatHurt() {
        long seed = 1;
        for (int[] mnk : MNK) {
            int m = mnk[0];
            int n = mnk[1];
            int k = mnk[2];
            SplittableRandom rnd = new SplittableRandom(seed);
            Tensor x = Tensor.of(Fixtures.random(rnd, m * k, -1f, 1f), m, k);
            Tensor w = Tensor.of(Fixtures.random(rnd, n * k, -1f, 1f), n, k);
            Tensor bias = Tensor.of(Fixtures.random(rnd, n, -1f, 1f), n);
            for (Tensor b : new Tensor[] {null, bias}) {
                Tensor want = Tensor.zeros(m, n);
                ORACLE.linear(x, w, b, want);
                Tensor got = Tensor.zeros(m, n);
                Fixtures.poison(got);
                kernels().linear(x, w, b, got);
                assertClose(kernels().backendName() + " linear " + m + "x" + n + "x" + k + (b == null ? "" : " +bias"), want, got,
                        tolerance(), seed);
            }
            seed++;
        }
    }

    @Test
    void linearOnStridedAndOffHeapViews() {
        SplittableRandom rnd = new SplittableRandom(77);
        int m = 19;
        int n = 23;
        int k = 37;
        // x as the transpose of a [K, M] array, w inside a padded buffer
        Tensor xt = Tensor.of(Fixtures.random(rnd, k * m, -1f, 1f), k, m).permute(1, 0);
        float[] padded = Fixtures.random(rnd, 5 + n * (k + 3), -1f, 1f);
        Tensor w = Tensor.view(padded, 5, new int[] {n, k}, new long[] {k + 3, 1});
        Tensor want = Tensor.zeros(m, n);
        ORACLE.linear(xt, w, null, want);
        Tensor got = Tensor.zeros(m, n);
        kernels().linear(xt, w, null, got);
        assertClose(kernels().backendName() + " linear strided", want, got, tolerance(), 77);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Fixtures.offHeap(arena, xt.toFloatArray(), m, k);
            Tensor wo = Fixtures.offHeap(arena, w.toFloatArray(), n, k);
            Tensor out = Fixtures.offHeap(arena, new float[m * n], m, n);
            kernels().linear(x, wo, null, out);
            assertClose(kernels().backendName() + " linear off-heap", want, out, tolerance(), 77);
        }
    }

    @Test
    void projectQkvIntoHeads() {
        long seed = 200;
        AttentionProblem[] problems = {
            AttentionProblem.of(2, 4, 2, 17, 17, 8).withValueDim(12),
            AttentionProblem.of(1, 3, 3, 33, 33, 16),
            AttentionProblem.of(3, 8, 1, 1, 1, 64),
        };
        int[] embed = {24, 48, 65};
        for (int c = 0; c < problems.length; c++) {
            AttentionProblem p = problems[c];
            int e = embed[c];
            int rows = Kernels.qkvRows(p);
            SplittableRandom rnd = new SplittableRandom(seed);
            Tensor x = Tensor.of(Fixtures.random(rnd, p.batch() * p.seqQ() * e, -1f, 1f), p.batch(), p.seqQ(), e);
            Tensor w = Tensor.of(Fixtures.random(rnd, rows * e, -1f, 1f), rows, e);
            Tensor bias = Tensor.of(Fixtures.random(rnd, rows, -1f, 1f), rows);
            Tensor[] want = {Tensor.zeros(p.qShape()), Tensor.zeros(p.kShape()), Tensor.zeros(p.vShape())};
            ORACLE.projectQkv(p, x, w, bias, want[0], want[1], want[2]);
            Tensor[] got = {
                Tensor.bshd(new float[(int) Tensor.count(p.qShape())], p.batch(), p.seqQ(), p.heads(), p.headDim()),
                Tensor.zeros(p.kShape()),
                Tensor.bshd(new float[(int) Tensor.count(p.vShape())], p.batch(), p.seqQ(), p.kvHeads(), p.valueDim()),
            };
            for (Tensor t : got) {
                Fixtures.poison(t);
            }
            kernels().projectQkv(p, x, w, bias, got[0], got[1], got[2]);
            for (int t = 0; t < 3; t++) {
                assertClose(kernels().backendName() + " projectQkv " + "qkv".charAt(t) + " " + p, want[t], got[t], tolerance(), seed);
            }
            seed++;
        }
        // straight into a packed [B,S,3,H,D] buffer
        AttentionProblem p = AttentionProblem.of(2, 4, 4, 9, 9, 8);
        int e = 20;
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor x = Tensor.of(Fixtures.random(rnd, 2 * 9 * e, -1f, 1f), 2, 9, e);
        Tensor w = Tensor.of(Fixtures.random(rnd, Kernels.qkvRows(p) * e, -1f, 1f), Kernels.qkvRows(p), e);
        Tensor[] want = {Tensor.zeros(p.qShape()), Tensor.zeros(p.kShape()), Tensor.zeros(p.vShape())};
        ORACLE.projectQkv(p, x, w, null, want[0], want[1], want[2]);
        Tensor[] packed = Tensor.packedQkv(new float[2 * 9 * 3 * 4 * 8], 2, 9, 4, 8);
        kernels().projectQkv(p, x, w, null, packed[0], packed[1], packed[2]);
        for (int t = 0; t < 3; t++) {
            assertClose(kernels().backendName() + " projectQkv packed " + "qkv".charAt(t), want[t], packed[t], tolerance(), seed);
        }
    }

    @Test
    void mergeHeadsThroughOutputProjection() {
        long seed = 300;
        AttentionProblem[] problems = {
            AttentionProblem.of(2, 3, 3, 17, 17, 20),
            AttentionProblem.of(1, 4, 2, 1, 5, 8).withValueDim(33),
            AttentionProblem.of(1, 12, 12, 65, 65, 32),
        };
        int[] embed = {33, 7, 384};
        for (int c = 0; c < problems.length; c++) {
            AttentionProblem p = problems[c];
            int e = embed[c];
            SplittableRandom rnd = new SplittableRandom(seed);
            Tensor attn = Tensor.of(Fixtures.random(rnd, (int) Tensor.count(p.outShape()), -1f, 1f), p.outShape());
            Tensor wo = Tensor.of(Fixtures.random(rnd, e * p.heads() * p.valueDim(), -1f, 1f), e, p.heads() * p.valueDim());
            Tensor bias = Tensor.of(Fixtures.random(rnd, e, -1f, 1f), e);
            Tensor want = Tensor.zeros(p.batch(), p.seqQ(), e);
            ORACLE.mergeHeads(p, attn, wo, bias, want);
            Tensor got = Tensor.zeros(p.batch(), p.seqQ(), e);
            Fixtures.poison(got);
            kernels().mergeHeads(p, attn, wo, bias, got);
            assertClose(kernels().backendName() + " mergeHeads " + p + " E=" + e, want, got, tolerance(), seed);
            seed++;
        }
    }
}
