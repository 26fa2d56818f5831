package dev.attn4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The softmax benchmarks' input rows and their bandwidth yardstick: {@link #copy} moves x → y with plain
 * {@code System.arraycopy}, one contiguous part per core, on a pool of as many threads as the kernels use.
 */
final class CopyYardstick implements AutoCloseable {
    /** The input: rows·cols uniform values in [−8, 8) (seed 3), the same in every softmax benchmark. */
    final float[] x;
    /** The copy's destination, as large as x. */
    final float[] y;
    private final int rows;
    private final int cols;
    private final int threads;
    private final ExecutorService pool;

    CopyYardstick(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        x = AttentionCall.random(new SplittableRandom(3), rows * cols);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 8f;
        }
        y = new float[x.length];
        threads = Runtime.getRuntime().availableProcessors();
        pool = Executors.newFixedThreadPool(threads);
    }

    /** x → y, each thread one contiguous run of whole rows. */
    void copy() throws Exception {
        int per = (rows + threads - 1) / threads * cols;
        Future<?>[] parts = new Future<?>[threads];
        for (int t = 0; t < threads; t++) {
            int from = Math.min(x.length, t * per);
            int len = Math.min(per, x.length - from);
            parts[t] = pool.submit(() -> System.arraycopy(x, from, y, from, len));
        }
        for (Future<?> f : parts) {
            f.get();
        }
    }

    @Override
    public void close() {
        pool.shutdown();
    }
}
