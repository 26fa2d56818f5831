package dev.attn4j.bench.quick;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The engine behind {@code ./attn4j bench}: times each case on each backend (warm-up, then the median
 * of several runs), checks the output against the float64 oracle on a slice, and measures the oracle's
 * own speed on that slice and the peer's on the whole problem, in the same run.
 */
public final class QuickBench {

    private QuickBench() {
    }

    /**
     * One measured kernel × backend × shape.
     *
     * @param kernel             kernel family and case
     * @param backend            backend or peer name
     * @param shape              shape label
     * @param seconds            median seconds per call
     * @param gflops             achieved GFLOP/s (nominal flops)
     * @param gbs                achieved GB/s (minimum bytes moved)
     * @param intensity          flops per byte
     * @param peakFraction       gflops / measured peak, or gbs / measured bandwidth for bandwidth-bound kernels
     * @param speedupVsReference speed over the float64 reference measured on a slice, or null
     * @param ratioVsOrt         speed over ONNX Runtime measured in this run, or null
     * @param maxError           max |Δ|/max(1,|ref|) against the oracle on the slice (end-to-end rows: max |Δ| of
     *                           the embeddings against ONNX Runtime's), or null when not checked
     * @param rate               items per second of an end-to-end row (texts/s), or null
     */
    public record Result(String kernel, String backend, String shape, double seconds, double gflops, double gbs,
                         double intensity, double peakFraction, Double speedupVsReference, Double ratioVsOrt, Double maxError,
                         Rate rate) {

        /** A kernel row: no rate. */
        public Result(String kernel, String backend, String shape, double seconds, double gflops, double gbs, double intensity,
                      double peakFraction, Double speedupVsReference, Double ratioVsOrt, Double maxError) {
            this(kernel, backend, shape, seconds, gflops, gbs, intensity, peakFraction, speedupVsReference, ratioVsOrt, maxError,
                    null);
        }
    }

    /**
     * Items per second of an end-to-end row.
     *
     * @param perSecond items per second
     * @param unit      what an item is, plural ("texts")
     */
    public record Rate(double perSecond, String unit) {
    }

    /**
     * What to run.
     *
     * @param quick    small shapes and short timings (CI's smoke test)
     * @param backends backend names to measure besides the reference
     * @param only     substring a case's kernel or shape must contain (ignoring case), or null
     * @param endToEnd whether to run the end-to-end cases ({@link EndToEnd}; their jars must be on the class path)
     */
    public record Options(boolean quick, List<String> backends, String only, boolean endToEnd) {

        /** Kernels only. */
        public Options(boolean quick, List<String> backends, String only) {
            this(quick, backends, only, false);
        }
    }

    /** Whether a case labelled {@code label} (kernel and shape) is selected by {@code only} (null: every case). */
    static boolean matches(String label, String only) {
        return only == null || label.toLowerCase(Locale.ROOT).contains(only.toLowerCase(Locale.ROOT));
    }

    /** Runs every selected case; {@code progress} receives (done, total, label). */
    public static List<Result> run(Options o, MachineProbe.Machine machine, Peer peer, Progress progress) {
        List<BenchCase> cases = new ArrayList<>();
        for (BenchCase c : Cases.all(o.quick())) {
            if (matches(c.kernel() + " " + c.shape(), o.only())) {
                cases.add(c);
            }
        }
        List<Integer> endToEnd = o.endToEnd() ? EndToEnd.selected(o.quick(), o.only()) : List.of();
        Kernels oracle = Attn4j.kernels("reference");
        List<Result> results = new ArrayList<>();
        int steps = cases.size() * (o.backends().size() + 1 + (peer == null ? 0 : 1))
                + (endToEnd.isEmpty() ? 0 : 1 + endToEnd.size() * (o.backends().size() + (peer == null ? 0 : 1)));
        int done = 0;
        double minSeconds = o.quick() ? 0.3 : 1.5;
        for (int i = 0; i < cases.size(); i++) {
            BenchCase c = cases.get(i);
            // let each case's operands go once it has run: held to the end (the MHA decode's K and V are
            // 134 MB), they slowed the MiniLM rows that run last
            cases.set(i, null);
            String label = c.kernel() + " " + c.shape();
            progress.update(done, steps, label + " · reference");
            // the oracle on the slice: its speed, and the truth
            double refSeconds = median(timeFew(() -> c.runSlice(oracle), o.quick() ? 1 : 3));
            Tensor truth = Tensor.of(c.sliceOutput().toFloatArray(), c.sliceOutput().shape());
            double refRate = c.sliceFlops() / refSeconds;
            results.add(result(c, "reference", refSeconds * c.flops() / c.sliceFlops(), machine, 1.0, null, null));
            progress.update(++done, steps, label);
            double peerSeconds = Double.NaN;
            if (peer != null) {
                progress.update(done, steps, label + " · " + peer.name());
                try {
                    if (peer.prepare(c)) {
                        peerSeconds = median(time(() -> {
                            try {
                                peer.run();
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }, minSeconds, 5));
                        double peerErr = maxError(truth, c.outputSlice(peer.output()));
                        results.add(result(c, peer.name(), peerSeconds, machine, c.flops() / peerSeconds / refRate, 1.0, peerErr));
                    }
                } catch (Exception e) {
                    System.getLogger("dev.attn4j.bench").log(System.Logger.Level.WARNING,
                            peer.name() + " failed on " + label + ": " + e);
                }
                progress.update(++done, steps, label);
            }
            for (String name : o.backends()) {
                progress.update(done, steps, label + " · " + name);
                Kernels k = Attn4j.kernels(name);
                double seconds = median(time(() -> c.runFull(k), minSeconds, 5));
                c.beforeCheck();
                c.runFull(k);
                double err = maxError(truth, c.fullOutputSlice());
                Double ortRatio = Double.isNaN(peerSeconds) ? null : peerSeconds / seconds;
                results.add(result(c, name, seconds, machine, c.flops() / seconds / refRate, ortRatio, err));
                progress.update(++done, steps, label);
            }
        }
        if (!endToEnd.isEmpty()) {
            progress.update(done, steps, EndToEnd.KERNEL + " · loading the models");
            MiniLmBench bench = new MiniLmBench(o.backends(), peer != null);
            progress.update(++done, steps, EndToEnd.KERNEL);
            for (int tokens : endToEnd) {
                String shape = EndToEnd.shape(tokens);
                String label = EndToEnd.KERNEL + " " + shape;
                var texts = MiniLmBench.texts(tokens);
                double peerSeconds = Double.NaN;
                if (peer != null) {
                    progress.update(done, steps, label + " · " + peer.name());
                    peerSeconds = median(time(() -> bench.peer(texts), minSeconds, 5));
                    results.add(endToEndResult(shape, peer.name(), peerSeconds, tokens, machine, 1.0, null));
                    progress.update(++done, steps, label);
                }
                for (String name : o.backends()) {
                    progress.update(done, steps, label + " · " + name);
                    double seconds = median(time(() -> bench.ours(name, texts, tokens), minSeconds, 5));
                    Double err = peer == null ? null : bench.maxDifference(name, texts, tokens);
                    Double ortRatio = Double.isNaN(peerSeconds) ? null : peerSeconds / seconds;
                    results.add(endToEndResult(shape, name, seconds, tokens, machine, ortRatio, err));
                    progress.update(++done, steps, label);
                }
            }
        }
        return results;
    }

    private static Result endToEndResult(String shape, String backend, double seconds, int tokens, MachineProbe.Machine m,
                                         Double ort, Double err) {
        double flops = EndToEnd.flops(tokens);
        double bytes = EndToEnd.bytes(tokens);
        double gflops = flops / seconds / 1e9;
        return new Result(EndToEnd.KERNEL, backend, shape, seconds, gflops, bytes / seconds / 1e9, flops / bytes,
                gflops / m.peakGflops(), null, ort, err, new Rate(EndToEnd.BATCH / seconds, "texts"));
    }

    private static Result result(BenchCase c, String backend, double seconds, MachineProbe.Machine m, Double speedup, Double ort,
                                 Double err) {
        double gflops = c.flops() / seconds / 1e9;
        double gbs = c.bytes() / seconds / 1e9;
        double peak = c.bandwidthBound() ? gbs / m.bandwidthGBs() : gflops / m.peakGflops();
        return new Result(c.kernel(), backend, c.shape(), seconds, gflops, gbs, c.flops() / c.bytes(), peak, speedup, ort, err);
    }

    /** Max |got − want| / max(1, |want|); equal infinities count as 0; a NaN is infinitely wrong. */
    static double maxError(Tensor want, Tensor got) {
        if (!Arrays.equals(want.shape(), got.shape())) {
            throw new IllegalStateException("slice shapes differ: " + Arrays.toString(want.shape()) + " vs " + Arrays.toString(got.shape()));
        }
        double worst = 0;
        long n = want.elementCount();
        for (long i = 0; i < n; i++) {
            double w = want.getFloat(want.indexOfLinear(i));
            double g = got.getFloat(got.indexOfLinear(i));
            if (Double.isNaN(g) || Double.isNaN(w)) {
                return Double.POSITIVE_INFINITY;
            }
            if (w == g) {
                continue;
            }
            worst = Math.max(worst, Math.abs(g - w) / Math.max(1.0, Math.abs(w)));
        }
        return worst;
    }

    /** Warms up, then times runs until {@code minSeconds} have passed and at least {@code minRuns} were made. */
    static double[] time(Runnable r, double minSeconds, int minRuns) {
        // warm-up: Vector API code runs hundreds of times slower until C2 has compiled it, and an
        // interpreted run is as steady as a compiled one, so "two runs agree" alone stops too early. Warm
        // for at least minWarm, then until the best time has not improved by 5 % for three runs (C2 done),
        // at most maxWarm.
        long start = System.nanoTime();
        long minWarm = (long) (Math.max(1.5, 3 * minSeconds) * 1e9);
        long maxWarm = (long) (Math.max(6.0, 12 * minSeconds) * 1e9);
        long best = Long.MAX_VALUE;
        int sinceBest = 0;
        while (true) {
            long t0 = System.nanoTime();
            r.run();
            long now = System.nanoTime();
            long dt = now - t0;
            if (dt < 0.95 * best) {
                best = dt;
                sinceBest = 0;
            } else {
                sinceBest++;
            }
            if (now - start > maxWarm || (now - start > minWarm && sinceBest >= 3)) {
                break;
            }
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (minSeconds * 1e9);
        do {
            long t0 = System.nanoTime();
            r.run();
            times.add((System.nanoTime() - t0) / 1e9);
        } while (System.nanoTime() < end || times.size() < minRuns);
        return times.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** One untimed run, then {@code runs} timed ones: for the slow oracle, whose JIT state matters little. */
    static double[] timeFew(Runnable r, int runs) {
        r.run();
        double[] times = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            times[i] = (System.nanoTime() - t0) / 1e9;
        }
        return times;
    }

    static double median(double[] times) {
        double[] s = times.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Receives progress. */
    @FunctionalInterface
    public interface Progress {
        /** {@code done} of {@code total} steps finished; {@code label} is what runs now. */
        void update(int done, int total, String label);

        /** A progress consumer that ignores updates. */
        static Progress none() {
            return (d, t, l) -> { };
        }

        /** Wraps a line printer. */
        static Progress of(Consumer<String> sink) {
            return (d, t, l) -> sink.accept(d + "/" + t + " " + l);
        }
    }
}
