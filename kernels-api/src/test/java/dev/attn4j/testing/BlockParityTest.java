package dev.attn4j.testing;

import static dev.attn4j.testing.Fixtures.ORACLE;
import static dev.attn4j.testing.Fixtures.assertClose;

import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Parity of a backend's ONNX building blocks (softmax over an axis, layer norm, GEMM, matmul, rotary
 * embedding, GELU) with the float64 oracle. Every backend extends it and supplies {@link #kernels()}.
 */
public abstract class BlockParityTest {

    /** The kernels under test. */
    protected abstract Kernels kernels();

    /** Relative tolerance against the oracle. */
    protected double tolerance() {
        return 1e-5;
    }

    private String name() {
        return kernels().backendName();
    }

    private static Tensor random(long seed, float lo, float hi, int... shape) {
        return Tensor.of(Fixtures.random(new SplittableRandom(seed), (int) Tensor.count(shape), lo, hi), shape);
    }

    @Test
    void softmaxOverEveryAxis() {
        long seed = 1;
        int[][] shapes = {{3, 4, 5}, {7, 1021}, {2, 17, 33}, {1}, {16, 65}};
        for (int[] shape : shapes) {
            for (int axis = -1; axis < shape.length; axis++) {
                Tensor x = random(seed, -30f, 30f, shape);
                Tensor want = Tensor.zeros(shape);
                ORACLE.softmax(x, axis, want);
                Tensor got = Tensor.zeros(shape);
                Fixtures.poison(got);
                kernels().softmax(x, axis, got);
                assertClose(name() + " softmax " + Arrays.toString(shape) + " axis " + axis, want, got, tolerance(), seed);
                Tensor inPlace = Tensor.of(x.toFloatArray(), shape);
                kernels().softmax(inPlace, axis, inPlace);
                assertClose(name() + " softmax in place " + Arrays.toString(shape) + " axis " + axis, want, inPlace, tolerance(), seed);
                seed++;
            }
        }
        float[] withInf = {Float.NEGATIVE_INFINITY, 1f, 2f, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        Tensor x = Tensor.of(withInf, 2, 4);
        Tensor want = Tensor.zeros(2, 4);
        ORACLE.softmax(x, 1, want);
        Tensor got = Tensor.zeros(2, 4);
        kernels().softmax(x, 1, got);
        assertClose(name() + " softmax with -inf rows", want, got, tolerance(), 0);
    }

    /**
     * Many long rows in one call, as a backend that pipelines rows sees them: logits around ±1e4, fully masked
     * rows and rows with a single live key among live rows (first, middle, last), lengths that are not a
     * multiple of any vector width, strided rows (a narrowed view), in place and out of place.
     */
    @Test
    void softmaxOverManyLongRows() {
        long seed = 500;
        int[][] shapes = {{37, 300}, {9, 4096}, {6, 33}, {3, 5, 129}};
        for (int[] shape : shapes) {
            int n = shape[shape.length - 1];
            int rows = (int) (Tensor.count(shape) / n);
            float[] data = Fixtures.random(new SplittableRandom(seed), rows * n, -30f, 30f);
            for (int r = 0; r < rows; r++) {
                float offset = r % 3 == 0 ? 1e4f : r % 3 == 1 ? -1e4f : 0f;
                for (int j = 0; j < n; j++) {
                    data[r * n + j] += offset;
                }
            }
            for (int r : new int[] {0, rows / 2, rows - 1}) {
                Arrays.fill(data, r * n, (r + 1) * n, Float.NEGATIVE_INFINITY);
            }
            if (rows > 4) {
                int r = rows / 2 + 1;
                Arrays.fill(data, r * n, (r + 1) * n, Float.NEGATIVE_INFINITY);
                data[r * n + n / 3] = 5e3f;
            }
            Tensor x = Tensor.of(data, shape);
            Tensor want = Tensor.zeros(shape);
            ORACLE.softmax(x, -1, want);
            Tensor got = Tensor.zeros(shape);
            Fixtures.poison(got);
            kernels().softmax(x, -1, got);
            assertClose(name() + " softmax many rows " + Arrays.toString(shape), want, got, tolerance(), seed);
            Tensor inPlace = Tensor.of(data.clone(), shape);
            kernels().softmax(inPlace, -1, inPlace);
            assertClose(name() + " softmax many rows in place " + Arrays.toString(shape), want, inPlace, tolerance(), seed);
            if (shape.length == 2 && rows > 2) {
                // every other row: a view whose rows are not adjacent
                int half = rows / 2;
                Tensor wide = Tensor.of(data, half, 2 * n).narrow(1, 0, n);
                Tensor wantHalf = Tensor.zeros(half, n);
                ORACLE.softmax(wide, -1, wantHalf);
                Tensor gotHalf = Tensor.zeros(half, n);
                kernels().softmax(wide, -1, gotHalf);
                assertClose(name() + " softmax strided rows " + Arrays.toString(shape), wantHalf, gotHalf, tolerance(), seed);
            }
            seed++;
        }
    }

    @Test
    void layerNormOverEveryAxis() {
        long seed = 100;
        int[] shape = {2, 3, 4, 5};
        for (int axis = 0; axis < shape.length; axis++) {
            int[] inner = Arrays.copyOfRange(shape, axis, shape.length);
            for (boolean broadcastScale : new boolean[] {false, true}) {
                int[] sShape = broadcastScale ? new int[] {shape[3]} : inner;
                Tensor x = random(seed, -3f, 5f, shape);
                Tensor scale = random(seed + 1, 0.5f, 1.5f, sShape);
                Tensor bias = random(seed + 2, -1f, 1f, sShape);
                int groups = (int) Tensor.count(Arrays.copyOf(shape, axis));
                Tensor want = Tensor.zeros(shape);
                Tensor wantMean = Tensor.zeros(groups);
                Tensor wantInv = Tensor.zeros(groups);
                ORACLE.layerNorm(x, axis, scale, bias, 1e-5f, want, wantMean, wantInv);
                Tensor got = Tensor.zeros(shape);
                Tensor mean = Tensor.zeros(groups);
                Tensor inv = Tensor.zeros(groups);
                kernels().layerNorm(x, axis, scale, bias, 1e-5f, got, mean, inv);
                String what = name() + " layerNorm axis " + axis + (broadcastScale ? " broadcast scale" : "");
                assertClose(what, want, got, tolerance(), seed);
                assertClose(what + " mean", wantMean, mean, tolerance(), seed);
                assertClose(what + " invStdDev", wantInv, inv, tolerance(), seed);
                seed += 3;
            }
        }
        // a wide row, as in a transformer, without bias and with a large epsilon
        Tensor x = random(seed, -2f, 2f, 65, 1021);
        Tensor scale = random(seed + 1, 0.5f, 1.5f, 1021);
        Tensor want = Tensor.zeros(65, 1021);
        ORACLE.layerNorm(x, -1, scale, null, 0.1f, want, null, null);
        Tensor got = Tensor.zeros(65, 1021);
        kernels().layerNorm(x, -1, scale, null, 0.1f, got, null, null);
        assertClose(name() + " layerNorm wide rows", want, got, tolerance(), seed);
    }

    @Test
    void gemmWithTransposesAndBias() {
        long seed = 200;
        int[][] mnk = {{3, 4, 5}, {17, 33, 65}, {1, 129, 7}, {64, 64, 64}, {65, 31, 129}};
        for (int[] s : mnk) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (int variant = 0; variant < 4; variant++) {
                boolean transA = (variant & 1) != 0;
                boolean transB = (variant & 2) != 0;
                Tensor a = transA ? random(seed, -1f, 1f, k, m).permute(1, 0) : random(seed, -1f, 1f, m, k);
                Tensor b = transB ? random(seed + 1, -1f, 1f, n, k).permute(1, 0) : random(seed + 1, -1f, 1f, k, n);
                Tensor[] biases = {null, random(seed + 2, -1f, 1f), random(seed + 3, -1f, 1f, n), random(seed + 4, -1f, 1f, m, 1),
                    random(seed + 5, -1f, 1f, m, n)};
                for (Tensor c : biases) {
                    Tensor want = Tensor.zeros(m, n);
                    ORACLE.gemm(0.25f, a, b, 0.35f, c, want);
                    Tensor got = Tensor.zeros(m, n);
                    Fixtures.poison(got);
                    kernels().gemm(0.25f, a, b, 0.35f, c, got);
                    assertClose(name() + " gemm " + m + "x" + n + "x" + k + " transA=" + transA + " transB=" + transB
                            + " c=" + (c == null ? "none" : Arrays.toString(c.shape())), want, got, tolerance(), seed);
                }
                seed += 6;
            }
        }
    }

    @Test
    void matmulWithBroadcasting() {
        long seed = 300;
        int[][][] cases = {
            {{3}, {3}}, {{4}, {2, 4, 1}}, {{3, 4}, {4, 3}}, {{2, 3, 4}, {2, 4, 3}}, {{1, 2, 3, 4}, {1, 2, 4, 3}},
            {{3, 1, 3, 4}, {1, 2, 4, 2}}, {{65, 33}, {33, 17}}, {{2, 3, 4}, {4}}, {{2, 1, 17, 31}, {3, 31, 9}},
        };
        for (int[][] c : cases) {
            Tensor a = random(seed, -1f, 1f, c[0]);
            Tensor b = random(seed + 1, -1f, 1f, c[1]);
            int[] out = Kernels.matmulShape(c[0], c[1]);
            Tensor want = Tensor.zeros(out);
            ORACLE.matmul(a, b, want);
            Tensor got = Tensor.zeros(out);
            Fixtures.poison(got);
            kernels().matmul(a, b, got);
            assertClose(name() + " matmul " + Arrays.toString(c[0]) + " @ " + Arrays.toString(c[1]), want, got, tolerance(), seed);
            seed += 2;
        }
    }

    @Test
    void rotaryEmbedding() {
        long seed = 400;
        int b = 2;
        int h = 4;
        int s = 7;
        int d = 16;
        int[] shape = {b, h, s, d};
        int[] positions = new int[b * s];
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < positions.length; i++) {
            positions[i] = rnd.nextInt(50);
        }
        for (int rotaryDim : new int[] {0, 8, 16}) {
            int half = (rotaryDim == 0 ? d : rotaryDim) / 2;
            for (boolean interleaved : new boolean[] {false, true}) {
                for (boolean withPositions : new boolean[] {true, false}) {
                    Tensor x = random(seed, -2f, 2f, shape);
                    Tensor cos = withPositions ? random(seed + 1, -1f, 1f, 50, half) : random(seed + 1, -1f, 1f, b, s, half);
                    Tensor sin = withPositions ? random(seed + 2, -1f, 1f, 50, half) : random(seed + 2, -1f, 1f, b, s, half);
                    int[] pos = withPositions ? positions : null;
                    Tensor want = Tensor.zeros(shape);
                    ORACLE.rotary(x, cos, sin, pos, rotaryDim, interleaved, want);
                    Tensor got = Tensor.zeros(shape);
                    Fixtures.poison(got);
                    kernels().rotary(x, cos, sin, pos, rotaryDim, interleaved, got);
                    String what = name() + " rotary dim=" + rotaryDim + " interleaved=" + interleaved + " positions=" + withPositions;
                    assertClose(what, want, got, tolerance(), seed);
                    // [B,S,H,D] memory, in place
                    Tensor bshd = Tensor.bshd(new float[b * h * s * d], b, s, h, d);
                    Fixtures.copyInto(x.toFloatArray(), bshd);
                    kernels().rotary(bshd, cos, sin, pos, rotaryDim, interleaved, bshd);
                    assertClose(what + " bshd in place", want, bshd, tolerance(), seed);
                    seed += 3;
                }
            }
        }
    }

    @Test
    void geluBothApproximations() {
        float[] values = new float[2001];
        for (int i = 0; i < values.length; i++) {
            values[i] = -10f + i * 0.01f;
        }
        for (GeluApproximation approx : GeluApproximation.values()) {
            Tensor x = Tensor.of(values.clone(), 3, 667);
            Tensor want = Tensor.zeros(3, 667);
            ORACLE.gelu(x, approx, want);
            Tensor got = Tensor.zeros(3, 667);
            kernels().gelu(x, approx, got);
            assertClose(name() + " gelu " + approx, want, got, tolerance(), 0);
            kernels().gelu(x, approx, x);
            assertClose(name() + " gelu in place " + approx, want, x, tolerance(), 0);
        }
    }
}
