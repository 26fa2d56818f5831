package dev.attn4j.bench;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Tensor;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The machine's read-bandwidth roof for a memory-bound kernel, measured beside it: every thread of a
 * persistent pool sums its share of some float arrays with four vector accumulators, so the loads are all
 * there is. A kernel that must read the same bytes cannot take less time than this.
 */
final class ReadRoof implements TimedCall {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private final float[][] arrays;
    private final int threads;
    private final ExecutorService pool;

    /** The roof for a decode over {@code p}'s KV cache: two arrays of as many floats as its K and its V. */
    static ReadRoof kvCache(AttentionProblem p) {
        float[] k = new float[Math.toIntExact(Tensor.count(p.kShape()))];
        float[] v = new float[Math.toIntExact(Tensor.count(p.vShape()))];
        Arrays.fill(k, 1f);
        Arrays.fill(v, 1f);
        return new ReadRoof(k, v);
    }

    /** Reads {@code arrays} with all cores. */
    ReadRoof(float[]... arrays) {
        this.arrays = arrays;
        this.threads = Runtime.getRuntime().availableProcessors();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "read-roof");
            t.setDaemon(true);
            return t;
        });
    }

    /** One pass over every array; returns the sum so that nothing is dead code. */
    float read() throws InterruptedException, ExecutionException {
        @SuppressWarnings("unchecked")
        Future<Float>[] parts = new Future[threads];
        for (int t = 0; t < threads; t++) {
            int part = t;
            parts[t] = pool.submit(() -> {
                float s = 0f;
                for (float[] a : arrays) {
                    int share = (a.length / threads) / (4 * F.length()) * (4 * F.length());
                    int from = part * share;
                    int to = part == threads - 1 ? a.length : from + share;
                    s += sum(a, from, to);
                }
                return s;
            });
        }
        float s = 0f;
        for (Future<Float> f : parts) {
            s += f.get();
        }
        return s;
    }

    private static float sum(float[] a, int from, int to) {
        int step = 4 * F.length();
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int i = from;
        for (; i + step <= to; i += step) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + F.length()));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * F.length()));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * F.length()));
        }
        float s = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            s += a[i];
        }
        return s;
    }

    @Override
    public void run(Blackhole bh) throws InterruptedException, ExecutionException {
        bh.consume(read());
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
