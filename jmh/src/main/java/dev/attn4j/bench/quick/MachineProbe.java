package dev.attn4j.bench.quick;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the machine can do, measured on the spot: the FP32 FMA peak with a Vector API loop of 16
 * independent accumulators on every core, and the memory bandwidth of a large array copy.
 */
public final class MachineProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MachineProbe() {
    }

    /**
     * The machine's figures.
     *
     * @param cpu            CPU model
     * @param cores          available processors
     * @param vectorBits     preferred Vector API width
     * @param jdk            java.runtime.version
     * @param gpu            GPU name, or null
     * @param peakGflops     measured FP32 FMA peak, all cores
     * @param bandwidthGBs   measured copy bandwidth (bytes read + written per second), all cores
     */
    public record Machine(String cpu, int cores, int vectorBits, String jdk, String gpu, double peakGflops, double bandwidthGBs) {
    }

    /** Probes the machine; {@code quick} measures for less time. */
    public static Machine probe(boolean quick, int threads) {
        double peak = peakGflops(threads, quick ? 500 : 1500);
        double bw = copyBandwidth(threads, quick ? 3 : 8);
        return new Machine(cpuModel(), Runtime.getRuntime().availableProcessors(), F.vectorBitSize(),
                System.getProperty("java.runtime.version"), gpuName(), peak, bw);
    }

    /** The "model name" line of /proc/cpuinfo, or os.arch. */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /** The first GPU nvidia-smi lists, or null when there is none. */
    public static String gpuName() {
        for (String dir : new String[] {"/usr/bin", "/usr/local/bin", "/usr/local/nvidia/bin"}) {
            Path smi = Path.of(dir, "nvidia-smi");
            if (Files.isExecutable(smi)) {
                try {
                    Process p = new ProcessBuilder(smi.toString(), "--query-gpu=name,driver_version", "--format=csv,noheader")
                            .redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes()).trim();
                    if (p.waitFor() == 0 && !out.isEmpty()) {
                        return out.lines().findFirst().orElse(out);
                    }
                } catch (IOException e) {
                    return null;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        return null;
    }

    /**
     * FMA throughput of {@code threads} threads each running 16 independent vector accumulators: the
     * best rate of short chunks, so that the JIT's warm-up and a passing neighbour do not count.
     */
    static double peakGflops(int threads, long millis) {
        double[] best = new double[threads];
        runOnThreads(threads, t -> {
            long start = System.nanoTime();
            long minEnd = start + millis * 1_000_000L;
            long hardEnd = start + 10_000_000_000L;
            long lastGain = start;
            float sink = 0;
            int chunk = 20_000;
            long now;
            do {
                long t0 = System.nanoTime();
                sink += fmaLoop(chunk);
                now = System.nanoTime();
                double rate = chunk * 16.0 * 2.0 * F.length() / (now - t0);
                if (rate > best[t] * 1.05) {
                    lastGain = now;
                }
                best[t] = Math.max(best[t], rate);
                // until the JIT has compiled the loop and the best rate has stopped rising for 300 ms
                // below 1 GFLOP/s the loop is still interpreted (boxed vectors), whatever the clock says
            } while (now < hardEnd && (now < minEnd || now - lastGain < 300_000_000L || best[t] < 1.0));
            if (sink == 42f) {
                best[t] += 1e-9; // keeps the sum alive
            }
        });
        double total = 0;
        for (double b : best) {
            total += b;
        }
        return total;
    }

    /** 16 independent FMA chains: enough to cover the FMA latency times the number of FMA ports. */
    private static float fmaLoop(int iterations) {
        FloatVector a = FloatVector.broadcast(F, 0.999f);
        FloatVector b = FloatVector.broadcast(F, 1e-6f);
        FloatVector c0 = FloatVector.broadcast(F, 1f);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector c10 = c0;
        FloatVector c11 = c0;
        FloatVector c12 = c0;
        FloatVector c13 = c0;
        FloatVector c14 = c0;
        FloatVector c15 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
            c12 = c12.fma(a, b);
            c13 = c13.fma(a, b);
            c14 = c14.fma(a, b);
            c15 = c15.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).add(c12)
                .add(c13).add(c14).add(c15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** Copy bandwidth over arrays far larger than the caches, bytes read plus bytes written per second. */
    static double copyBandwidth(int threads, int repetitions) {
        int n = 16 << 20; // 64 MiB per array per thread
        float[][] src = new float[threads][n];
        float[][] dst = new float[threads][n];
        double best = 0;
        for (int r = 0; r < repetitions; r++) {
            long[] nanos = new long[threads];
            runOnThreads(threads, t -> {
                long start = System.nanoTime();
                System.arraycopy(src[t], 0, dst[t], 0, n);
                nanos[t] = System.nanoTime() - start;
            });
            long slowest = 0;
            for (long x : nanos) {
                slowest = Math.max(slowest, x);
            }
            best = Math.max(best, 2.0 * 4 * n * threads / slowest);
        }
        return best;
    }

    interface PerThread {
        void run(int thread);
    }

    static void runOnThreads(int threads, PerThread body) {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> list = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                body.run(id);
            }, "attn4j-probe-" + t);
            list.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : list) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
