package dev.attn4j.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The one-token cases of {@link KernelSweepBenchmark} beside the least work their result needs on one core of
 * this machine, in the same run: {@code backend=simd} is the sweep's call, {@code backend=roof} only reads the
 * keys the call must read (a vector sum of a K of the same size: 12 heads × 128 × 64 floats for the score matrix,
 * 4 heads for top-k, sampled and local-p) or, for the masked softmax of 12 rows of 128, makes the three passes a
 * softmax needs (the max, 2^x with the sum, the scaling) with the simd backend's exponential and nothing else: no
 * masks, no row bookkeeping, no call overhead. ratio simd / roof says how far a kernel is from that floor; two
 * threads can at best halve the roof, and handing half a call to the other core costs its own time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 4, time = 1)
public class OneTokenRoofBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    @Param({"simd", "roof"})
    public String backend;

    @Param({"scores", "maskedSoftmax", "topK", "sampled", "localP"})
    public String kernel;

    private Runnable call;
    private float[] data;
    private float sink;

    @Setup(Level.Trial)
    public void setup() {
        if (backend.equals("simd")) {
            KernelSweepBenchmark sweep = new KernelSweepBenchmark();
            sweep.backend = "simd";
            sweep.kernel = kernel;
            sweep.tokens = 1;
            sweep.setup();
            call = sweep.call;
            return;
        }
        if (!backend.equals("roof")) {
            throw new IllegalArgumentException("backend must be simd or roof but is " + backend);
        }
        if (kernel.equals("maskedSoftmax")) {
            data = BenchData.random(1, KernelSweepBenchmark.HEADS * KernelSweepBenchmark.KEYS);
            call = () -> softmaxRows(data, KernelSweepBenchmark.HEADS, KernelSweepBenchmark.KEYS);
            return;
        }
        int heads = kernel.equals("scores") ? KernelSweepBenchmark.HEADS : KernelSweepBenchmark.CLASSIC_HEADS;
        data = BenchData.random(2, heads * KernelSweepBenchmark.KEYS * KernelSweepBenchmark.DIM);
        call = () -> sink += sum(data);
    }

    @Benchmark
    public void call() {
        call.run();
    }

    /** All of a, four vector accumulators: the loads are all there is. */
    private static float sum(float[] a) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        for (int i = 0; i < a.length; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + L));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * L));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Softmax of each of {@code rows} rows of n floats (n a multiple of 2L) in place: the max in two chains, then
     * 2^((x − max)·log₂e) stored with its sum, then the scaling by 1/sum.
     */
    private static void softmaxRows(float[] a, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            int off = r * n;
            FloatVector m0 = FloatVector.fromArray(F, a, off);
            FloatVector m1 = FloatVector.fromArray(F, a, off + L);
            for (int i = 2 * L; i < n; i += 2 * L) {
                m0 = m0.max(FloatVector.fromArray(F, a, off + i));
                m1 = m1.max(FloatVector.fromArray(F, a, off + i + L));
            }
            float max = m0.max(m1).reduceLanes(VectorOperators.MAX);
            float c = 1.442695f;
            float shift = max * c;
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < n; i += L) {
                FloatVector e = exp2(FloatVector.fromArray(F, a, off + i).fma(c, -shift));
                e.intoArray(a, off + i);
                acc = acc.add(e);
            }
            float inv = 1f / acc.reduceLanes(VectorOperators.ADD);
            for (int i = 0; i < n; i += L) {
                FloatVector.fromArray(F, a, off + i).mul(inv).intoArray(a, off + i);
            }
        }
    }

    private static final float ROUND_BIASED = 12582912f + 127f;

    /** The simd backend's 2^x (VMath.exp2: the same degree-5 polynomial, scaling and zero below −127). */
    private static FloatVector exp2(FloatVector x) {
        FloatVector t = x.add(ROUND_BIASED);
        FloatVector f = x.sub(t.sub(ROUND_BIASED));
        FloatVector p = f.fma(0.0013264698209241033f, 0.009671509265899658f);
        p = p.fma(f, FloatVector.broadcast(F, 0.05550733953714371f));
        p = p.fma(f, FloatVector.broadcast(F, 0.24022242426872253f));
        p = p.fma(f, FloatVector.broadcast(F, 0.6931470036506653f));
        p = p.fma(f, FloatVector.broadcast(F, 1f));
        FloatVector scale = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale).blend(0f, x.lt(-127f));
    }
}
