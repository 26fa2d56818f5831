package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The vector elementary functions against float64 {@code StrictMath}, over their whole float range. */
class VMathTest {

    /** Max relative error of {@link VMath#tanh(FloatVector)} over xs (exactly 0 at 0). */
    static double tanhError(float[] xs) {
        double worst = 0;
        float[] out = new float[L];
        for (int i = 0; i + L <= xs.length; i += L) {
            VMath.tanh(FloatVector.fromArray(F, xs, i)).intoArray(out, 0);
            for (int j = 0; j < L; j++) {
                double ref = StrictMath.tanh(xs[i + j]);
                if (ref == 0) {
                    assertEquals(0f, out[j], "tanh(0)");
                    continue;
                }
                worst = Math.max(worst, Math.abs(out[j] - ref) / Math.abs(ref));
            }
        }
        return worst;
    }

    @Test
    void tanhIsAccurateAndOdd() {
        // a dense grid over [−12, 12] (both branches and the switch at 0.4), then tiny magnitudes
        int n = 2_400_000 / L * L;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = -12f + 24f * i / n;
        }
        double grid = tanhError(xs);
        float[] tiny = new float[4096 / L * L];
        for (int i = 0; i < tiny.length; i++) {
            tiny[i] = (float) ((i % 2 == 0 ? 1 : -1) * Math.pow(10, -30 + 30.0 * i / tiny.length));
        }
        double small = tanhError(tiny);
        System.out.println("tanh max relative error: grid " + grid + ", tiny " + small);
        assertTrue(grid <= 4e-7, "tanh on [-12, 12]: max relative error " + grid);
        assertTrue(small <= 4e-7, "tanh at tiny |x|: max relative error " + small);
        float[] special = new float[L];
        float[] want = new float[L];
        float[] in = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0f, 100f, -100f, 0.4f, -0.4f};
        for (int j = 0; j < L; j++) {
            special[j] = in[j % in.length];
            want[j] = (float) StrictMath.tanh(special[j]);
        }
        float[] got = new float[L];
        VMath.tanh(FloatVector.fromArray(F, special, 0)).intoArray(got, 0);
        for (int j = 0; j < L; j++) {
            if (Float.isNaN(want[j])) {
                assertTrue(Float.isNaN(got[j]), "tanh(NaN)");
            } else {
                assertEquals(want[j], got[j], 4e-7f * Math.abs(want[j]), "tanh(" + special[j] + ")");
            }
        }
    }

    @Test
    void exp2IsAccurateAndZeroBelowItsRange() {
        // a dense grid over [−126, 127] (relative error against float64), then the lanes that must be exactly 0
        int n = 2_530_000 / L * L;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = -126f + 253f * i / n;
        }
        float[] out = new float[L];
        double worst = 0;
        for (int i = 0; i < n; i += L) {
            VMath.exp2(FloatVector.fromArray(F, xs, i)).intoArray(out, 0);
            for (int j = 0; j < L; j++) {
                double ref = Math.pow(2.0, xs[i + j]);
                worst = Math.max(worst, Math.abs(out[j] - ref) / ref);
            }
        }
        System.out.println("exp2 max relative error on [-126, 127]: " + worst);
        assertTrue(worst <= 2.5e-7, "exp2 on [-126, 127]: max relative error " + worst);
        float[] special = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1e30f, -127f, -127.4f, -128f, -200f, Float.NaN};
        float[] in = new float[L];
        for (int j = 0; j < L; j++) {
            in[j] = special[j % special.length];
        }
        VMath.exp2(FloatVector.fromArray(F, in, 0)).intoArray(out, 0);
        for (int j = 0; j < L; j++) {
            if (Float.isNaN(in[j])) {
                assertTrue(Float.isNaN(out[j]), "exp2(NaN)");
            } else {
                assertEquals(0f, out[j], "exp2(" + in[j] + ")");
            }
        }
    }
}
